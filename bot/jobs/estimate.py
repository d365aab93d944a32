"""When a job's video will probably be ready: from the relay's progress once it reports some,
before that from how long this model's recent jobs took here."""

from __future__ import annotations

from bot.jobs.model import Job, JobState

# Progress this low says little about the rest (relays often jump from 0 to 10 at once).
MIN_PROGRESS = 5
ROUND_TO = 5.0  # seconds: so that re-rendering the same state gives the same text


def ready_at(job: Job, typical: float | None, now: float) -> float | None:
    """The estimated Unix time the video is ready, or None when nothing sensible can be said
    (not sent yet, finished, or no progress and no history for this model)."""
    if job.state.final or job.state is JobState.SUCCEEDED or job.submitted_at is None:
        return None
    if job.state is JobState.RUNNING and job.progress and MIN_PROGRESS <= job.progress < 100:
        begun = job.running_at or job.submitted_at
        estimate = begun + (now - begun) * 100 / job.progress
    elif typical is not None:
        estimate = job.submitted_at + typical
    else:
        return None
    # Never in the past: a job over its estimate is "about now", corrected as progress comes.
    return round(max(estimate, now + ROUND_TO) / ROUND_TO) * ROUND_TO

"""The estimate of when a video will be ready."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from bot.jobs.estimate import ready_at
from bot.jobs.model import Job, JobState

BASE = Job(
    id=1,
    state=JobState.QUEUED,
    created_at=0.0,
    updated_at=0.0,
    channel_id=1,
    user_id=2,
    prompt="p",
    model="m",
    shape="landscape",
    size="1280x720",
    duration=8,
    aspect_ratio="16:9",
    submitted_at=100.0,
)


def test_before_any_progress_the_models_recent_jobs_decide():
    assert ready_at(BASE, 120.0, now=110.0) == 220.0
    assert ready_at(BASE, None, now=110.0) is None  # nothing to go by: no estimate shown


def test_progress_corrects_the_estimate():
    running = replace(BASE, state=JobState.RUNNING, running_at=100.0, progress=50)
    assert ready_at(running, 600.0, now=160.0) == 220.0  # halfway after 60 s: 60 s more


def test_nothing_is_estimated_before_sending_or_after_the_end():
    assert ready_at(replace(BASE, state=JobState.PENDING, submitted_at=None), 60.0, now=1.0) is None
    for state in (JobState.SUCCEEDED, JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED):
        assert ready_at(replace(BASE, state=state), 60.0, now=110.0) is None


@given(
    progress=st.integers(0, 100),
    typical=st.one_of(st.none(), st.floats(1, 10_000)),
    now=st.floats(100, 100_000),
)
def test_an_estimate_is_never_in_the_past(progress, typical, now):
    job = replace(BASE, state=JobState.RUNNING, running_at=100.0, progress=progress)
    estimate = ready_at(job, typical, now)
    assert estimate is None or estimate >= now

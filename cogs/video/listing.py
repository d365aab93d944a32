"""One-line summaries of jobs for /video-queue and /video-history, as plain text."""

from __future__ import annotations

import time

from bot.formatting import elapsed, inert, message_link, truncate
from bot.jobs import Job, JobState

STATE_WORDS = {
    JobState.AWAITING_APPROVAL: "🛂 awaiting approval",
    JobState.PENDING: "⏳ waiting",
    JobState.SUBMITTING: "📨 sending",
    JobState.QUEUED: "🕒 queued at the video service",
    JobState.RUNNING: "🎬 generating",
    JobState.SUCCEEDED: "📦 delivering",
    JobState.DELIVERED: "✅ done",
    JobState.FAILED: "❌ failed",
    JobState.CANCELLED: "🚫 cancelled",
    JobState.REJECTED: "⛔ rejected",
}


def job_line(job: Job, *, now: float | None = None, position: int | None = None) -> str:
    now = time.time() if now is None else now
    state = STATE_WORDS[job.state]
    if job.state is JobState.RUNNING and job.progress is not None:
        state += f" {job.progress}%"
    if position:
        state += f" (#{position} in line)"
    prompt = inert(truncate(" ".join(job.prompt.split()), 60))
    link = message_link(job)
    shown = f"[{prompt}]({link})" if link else prompt
    built = f" · {job.origin} of `#{job.parent_id}`" if job.parent_id else ""
    return f"`#{job.id}` {state} · <@{job.user_id}> · {shown}{built} · {elapsed(now - job.created_at)} ago"


def job_lines(
    jobs: list[Job], *, limit: int = 3900, now: float | None = None, positions: dict[int, int] | None = None
) -> str:
    """Lines until the embed text would overflow, then a count of the rest."""
    out: list[str] = []
    used = 0
    for i, job in enumerate(jobs):
        line = job_line(job, now=now, position=(positions or {}).get(job.id))
        if used + len(line) + 1 > limit:
            out.append(f"… and {len(jobs) - i} more")
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)

"""One-line summaries of jobs for /video-queue and /video-history, as plain text."""

from __future__ import annotations

import time

from bot.jobs.model import Job, JobState
from bot.texts.formatting import elapsed, inert, message_link, truncate
from bot.texts.i18n import N_, tr

STATE_WORDS = {
    JobState.AWAITING_APPROVAL: N_("🛂 awaiting approval"),
    JobState.PENDING: N_("⏳ waiting"),
    JobState.SUBMITTING: N_("📨 sending"),
    JobState.QUEUED: N_("🕒 queued at the video service"),
    JobState.RUNNING: N_("🎬 generating"),
    JobState.SUCCEEDED: N_("📦 delivering"),
    JobState.DELIVERED: N_("✅ done"),
    JobState.FAILED: N_("❌ failed"),
    JobState.CANCELLED: N_("🚫 cancelled"),
    JobState.REJECTED: N_("⛔ rejected"),
}
# A finished job whose message a member deleted: its row stays, its video is gone.
DELETED = N_("🗑️ deleted")
BUILT_ON = {"reroll": N_("reroll of {job}"), "remix": N_("remix of {job}"), "upscale": N_("upscale of {job}")}


def job_line(
    job: Job,
    *,
    now: float | None = None,
    position: int | None = None,
    deleted: bool = False,
    locale: object = None,
) -> str:
    now = time.time() if now is None else now
    state = tr(locale, DELETED if deleted else STATE_WORDS[job.state])
    if job.state is JobState.RUNNING and job.progress is not None:
        state += f" {job.progress}%"
    if position:
        state += tr(locale, " (#{position} in line)", position=position)
    prompt = inert(truncate(" ".join(job.prompt.split()), 60))
    link = None if deleted else message_link(job)
    shown = f"[{prompt}]({link})" if link else prompt
    parent = f"`#{job.parent_id}`"
    origin = BUILT_ON.get(job.origin)
    built = (
        (f" · {tr(locale, origin, job=parent) if origin else f'{job.origin} of {parent}'}")
        if job.parent_id
        else ""
    )
    ago = tr(locale, "{time} ago", time=elapsed(now - job.created_at, locale))
    return f"`#{job.id}` {state} · <@{job.user_id}> · {shown}{built} · {ago}"


def job_lines(
    jobs: list[Job],
    *,
    limit: int = 3900,
    now: float | None = None,
    positions: dict[int, int] | None = None,
    deleted: set[int] | frozenset[int] = frozenset(),
    locale: object = None,
) -> str:
    """Lines until the embed text would overflow, then a count of the rest. `deleted`: the
    jobs whose message was deleted (they show so, with no link to a message that is gone)."""
    out: list[str] = []
    used = 0
    for i, job in enumerate(jobs):
        line = job_line(
            job, now=now, position=(positions or {}).get(job.id), deleted=job.id in deleted, locale=locale
        )
        if used + len(line) + 1 > limit:
            out.append(tr(locale, "… and {count} more", count=len(jobs) - i))
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)

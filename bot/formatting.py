"""Small pure helpers for what members read: progress bars, durations, truncation."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.jobs import Job


def progress_bar(percent: int | None, width: int = 20) -> str:
    if percent is None:
        return "░" * width
    percent = max(0, min(100, percent))
    filled = round(width * percent / 100)
    return "█" * filled + "░" * (width - filled)


def elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` characters, marking the cut so nobody mistakes it for the whole text."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"


def message_link(job: Job) -> str | None:
    """The jump link to a job's message, once it has one."""
    if job.message_id is None or job.guild_id is None:
        return None
    return f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"

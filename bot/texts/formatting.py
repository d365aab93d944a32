"""Small pure helpers for what members read: progress bars, durations, truncation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.texts.i18n import tr

if TYPE_CHECKING:
    from bot.jobs.model import Job


# Characters that change how Discord renders text: emphasis, code, spoilers, quotes, headings,
# lists, masked links [text](url), and <@mentions>, <#channels>, <t:timestamps>.
_MARKUP = re.compile(r"([\\`*_~|>#\[\]()<-])")
_MENTION_WORDS = re.compile(r"@(everyone|here)", re.IGNORECASE)
_NUMBERED_ITEM = re.compile(r"^(\s*\d+)\.", re.MULTILINE)
# Discord turns a bare `https://…` into a link by itself; an escaped colon (shown as a plain
# colon) is no longer the `scheme://` it looks for.
_SCHEME = re.compile(r"([A-Za-z][0-9A-Za-z+.-]*):(?=//)")


def inert(text: str) -> str:
    """Member (or relay) text, shown exactly as written: every markup character is escaped, so
    it can carry no link (masked or bare), formatting, mention or timestamp into the bot's message."""
    text = _NUMBERED_ITEM.sub(r"\1\\.", _MARKUP.sub(r"\\\1", text))
    text = _SCHEME.sub(r"\1\\:", text)
    # A backslash does not stop @everyone in message content; a zero-width space does.
    return _MENTION_WORDS.sub("@\u200b\\1", text)


def progress_bar(percent: int | None, width: int = 20) -> str:
    if percent is None:
        return "░" * width
    percent = max(0, min(100, percent))
    filled = round(width * percent / 100)
    return "█" * filled + "░" * (width - filled)


def elapsed(seconds: float, locale: object = None) -> str:
    """`1m 05s`, with the unit letters from the catalogue (`1分05秒`)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return tr(locale, "{hours}h {minutes:02d}m", hours=hours, minutes=minutes)
    if minutes:
        return tr(locale, "{minutes}m {seconds:02d}s", minutes=minutes, seconds=secs)
    return tr(locale, "{seconds}s", seconds=secs)


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

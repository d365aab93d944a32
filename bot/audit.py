"""The lines a server's audit-log channel receives: one per job event worth auditing.

Plain text with Discord's timestamp and mention markup; the cog sends them with mentions
disabled, so naming a member never pings them.
"""

from __future__ import annotations

from bot.formatting import inert, message_link, truncate
from bot.jobs import Job

EVENTS = {
    "submitted": "📨 submitted",
    "awaiting_approval": "🛂 waiting for approval",
    "approved": "✅ approved",
    "rejected": "⛔ rejected",
    "failed": "❌ failed",
    "cancelled": "🚫 cancelled",
    "deleted": "🗑️ deleted",
}
LINE_LIMIT = 2000  # Discord's message content limit


def job_line(event: str, job: Job, *, by: int | None, at: float) -> str:
    """`<time> · Video #12 submitted by @member in #channel: "prompt…" (model, 8 s)`."""
    who = f" by <@{by}>" if by else ""
    link = message_link(job)
    name = f"[Video #{job.id}]({link})" if link else f"Video #{job.id}"
    prompt = inert(truncate(" ".join(job.prompt.split()), 200))
    detail = f'"{prompt}" ({job.model}, {job.duration} s'
    if job.parent_id:
        detail += f", {job.origin} of #{job.parent_id}"
    detail += ")"
    if event == "failed" and job.failure_reason:
        detail += f" · {truncate(job.failure_reason, 300)}"
    if by != job.user_id:
        detail += f" · requested by <@{job.user_id}>"
    line = f"<t:{int(at)}:f> · {name} {EVENTS.get(event, event)}{who} in <#{job.channel_id}>: {detail}"
    return truncate(line, LINE_LIMIT)


def settings_line(setting: str, shown: str, *, by: int, at: float, reset: bool = False) -> str:
    verb = "reset" if reset else "changed"
    return truncate(f"<t:{int(at)}:f> · ⚙️ setting `{setting}` {verb} by <@{by}>: {shown}", LINE_LIMIT)

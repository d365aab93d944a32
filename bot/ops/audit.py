"""The lines a server's audit-log channel receives: one per job event worth auditing.

Plain text with Discord's timestamp and mention markup; the cog sends them with mentions
disabled, so naming a member never pings them.
"""

from __future__ import annotations

from bot.jobs.model import Job
from bot.texts.formatting import inert, message_link, truncate
from bot.texts.i18n import N_, render, tr

EVENTS = {
    "submitted": N_("📨 submitted"),
    # "sent for approval by @ann": the member asked; "waiting for approval by" read as if ann approves.
    "awaiting_approval": N_("🛂 sent for approval"),
    "approved": N_("✅ approved"),
    "rejected": N_("⛔ rejected"),
    "failed": N_("❌ failed"),
    "cancelled": N_("🚫 cancelled"),
    "deleted": N_("🗑️ deleted"),
}
ORIGINS = {
    "reroll": N_("reroll of #{job}"),
    "remix": N_("remix of #{job}"),
    "upscale": N_("upscale of #{job}"),
}
LINE_LIMIT = 2000  # Discord's message content limit


def job_line(event: str, job: Job, *, by: int | None, at: float) -> str:
    """`<time> · Video #12 submitted by @member in #channel: "prompt…" (model, 8 s)`, in the
    language of the job's server (the audit channel is public: one language for everyone)."""
    locale = job.locale
    who = tr(locale, " by <@{user}>", user=by) if by else ""
    link = message_link(job)
    video = tr(locale, "Video #{id}", id=job.id)
    name = f"[{video}]({link})" if link else video
    prompt = inert(truncate(" ".join(job.prompt.split()), 200))
    detail = f'"{prompt}" ({job.model}, {job.duration} s'
    if job.parent_id:
        origin = ORIGINS.get(job.origin)
        detail += ", " + (
            tr(locale, origin, job=job.parent_id) if origin else f"{job.origin} of #{job.parent_id}"
        )
    detail += ")"
    failure = job.failure()
    if event == "failed" and failure:
        detail += f" · {truncate(render(failure, locale), 300)}"
    if by != job.user_id:
        detail += tr(locale, " · requested by <@{user}>", user=job.user_id)
    what = tr(locale, EVENTS[event]) if event in EVENTS else event
    line = tr(
        locale,
        "<t:{at}:f> · {video} {event}{by} in <#{channel}>: {detail}",
        at=int(at),
        video=name,
        event=what,
        by=who,
        channel=job.channel_id,
        detail=detail,
    )
    return truncate(line, LINE_LIMIT)


def settings_line(
    setting: str, shown: str, *, by: int, at: float, reset: bool = False, locale: object = None
) -> str:
    if reset:
        line = tr(
            locale,
            "<t:{at}:f> · ⚙️ setting `{setting}` reset by <@{user}>: {value}",
            at=int(at),
            setting=setting,
            user=by,
            value=shown,
        )
    else:
        line = tr(
            locale,
            "<t:{at}:f> · ⚙️ setting `{setting}` changed by <@{user}>: {value}",
            at=int(at),
            setting=setting,
            user=by,
            value=shown,
        )
    return truncate(line, LINE_LIMIT)

"""What a job's message looks like, as plain data (embed dicts), so it is testable without Discord.

The cog turns a `Render` into discord.py objects; two renders that compare equal (dataclass
equality) produce the same message, which is how unchanged progress edits are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs.model import RELAY_BUSY, Job, JobState
from bot.relay.models import display_name
from bot.texts.formatting import elapsed, inert, message_link, progress_bar, truncate
from bot.texts.i18n import Text, tr
from bot.texts.i18n import render as localize
from cogs.video.buttons import lineage

# Discord's documented message limits
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
TOTAL_EMBED_LIMIT = 6000
PROMPT_SHOWN = 3000  # leaves room for the fields within the 6,000 characters of all embeds

SHAPE_WORDS = {"landscape": Text("Landscape 16:9 (1280×720)"), "portrait": Text("Portrait 9:16 (720×1280)")}
COLOURS = {
    "waiting": 0x95A5A6,
    "generating": 0x3498DB,
    "done": 0x2ECC71,
    "failed": 0xE74C3C,
    "cancelled": 0x7F8C8D,
    "rejected": 0xE67E22,
}


@dataclass(frozen=True)
class Render:
    content: str
    embeds: tuple[dict, ...]
    cancellable: bool


def phase(job: Job) -> str:
    if job.state in (JobState.AWAITING_APPROVAL, JobState.PENDING, JobState.SUBMITTING, JobState.QUEUED):
        return "waiting"
    if job.state is JobState.RUNNING:
        return "generating"
    if job.state in (JobState.SUCCEEDED, JobState.DELIVERED):
        return "done"
    if job.state is JobState.CANCELLED:
        return "cancelled"
    if job.state is JobState.REJECTED:
        return "rejected"
    return "failed"


def status_line(job: Job, position: int | None = None, locale: object = None) -> str:
    p = phase(job)
    if job.state is JobState.AWAITING_APPROVAL:
        return tr(locale, "🛂 Waiting for approval by a moderator")
    if job.state is JobState.REJECTED:
        return tr(locale, "⛔ Rejected by a moderator")
    if job.state is JobState.PENDING and job.raw_status == RELAY_BUSY:
        # Refused by the relay (429) and waiting to be sent again: busy, not failed.
        if position:
            return tr(
                locale,
                "⏳ The video service is busy, waiting to send: position {position}",
                position=position,
            )
        return tr(locale, "⏳ The video service is busy, waiting to send")
    if job.state is JobState.PENDING:
        if position:
            return tr(locale, "⏳ Waiting in the queue: position {position}", position=position)
        return tr(locale, "⏳ Waiting to be sent")
    if job.state is JobState.SUBMITTING:
        return tr(locale, "📨 Sending to the video service…")
    if p == "waiting":
        return tr(locale, "🕒 Queued at the video service")
    if p == "generating":
        pct = job.progress if job.progress is not None else 0
        return tr(locale, "🎬 Generating… {percent}%", percent=pct) + f"\n`{progress_bar(job.progress)}`"
    if p == "done":
        return tr(locale, "✅ Done")
    if p == "cancelled":
        return tr(locale, "🚫 Cancelled")
    return tr(locale, "❌ Failed")


def render(
    job: Job,
    *,
    link: str | None = None,
    position: int | None = None,
    parent: Job | None = None,
    ready_at: float | None = None,
    footer: str | None = None,
    locale: object = None,
) -> Render:
    """The job message for `job`, in `locale`'s language. `link` puts the video URL in the
    content so it plays inline; `ready_at` is the estimate of when the video will be ready;
    `footer` a line for the member (their quota left today)."""
    p = phase(job)
    shape = SHAPE_WORDS.get(job.shape)
    fields: list[dict] = [
        {"name": tr(locale, "Status"), "value": status_line(job, position, locale), "inline": False},
        {"name": tr(locale, "Model"), "value": display_name(job.model), "inline": True},
        {
            "name": tr(locale, "Shape"),
            "value": localize(shape, locale) if shape else job.shape,
            "inline": True,
        },
        {
            "name": tr(locale, "Duration"),
            "value": tr(locale, "{seconds}s", seconds=job.duration)
            + (tr(locale, " · upsampled") if job.enable_upsample else ""),
            "inline": True,
        },
    ]
    end = _ended_at(job)
    if end and p in ("done", "failed"):
        # How long making it took; a cancelled or rejected job was never made.
        fields.append(
            {"name": tr(locale, "Took"), "value": elapsed(end - job.created_at, locale), "inline": True}
        )
    else:
        # Discord's live timestamp counts up by itself: no edit is needed to keep it true.
        fields.append({"name": tr(locale, "Asked"), "value": f"<t:{int(job.created_at)}:R>", "inline": True})
        if ready_at is not None and not job.state.final:
            # The timestamp reads "in 9 seconds" by itself: the field's name says it is a guess.
            fields.append(
                {"name": tr(locale, "Likely ready"), "value": f"<t:{int(ready_at)}:R>", "inline": True}
            )
    if job.images:
        links = " ".join(f"[{i}]({url})" for i, url in enumerate(job.images, 1))
        fields.append(
            {"name": tr(locale, "Reference images"), "value": truncate(links, FIELD_LIMIT), "inline": True}
        )
    if parent is not None:
        where = message_link(parent)
        name = f"[#{parent.id}]({where})" if where else f"#{parent.id}"
        origin = lineage(job.origin)
        built = tr(locale, origin, job=name) if origin else f"{job.origin.capitalize()} of {name}"
        fields.append({"name": tr(locale, "Built on"), "value": built, "inline": True})
    if job.library_name:
        # Member text, both: shown as written, never pinging.
        source = tr(
            locale,
            "from {author}'s *{name}*",
            author=inert(job.library_author or "?"),
            name=inert(job.library_name),
        )
        fields.append({"name": tr(locale, "Library"), "value": truncate(source, FIELD_LIMIT), "inline": True})
    if job.style:
        fields.append(
            {"name": tr(locale, "Style"), "value": truncate(inert(job.style), FIELD_LIMIT), "inline": True}
        )
    if job.enhanced_prompt:
        fields.append(
            {
                "name": tr(locale, "Enhanced prompt"),
                "value": truncate(inert(job.enhanced_prompt), FIELD_LIMIT),
            }
        )
    failure = job.failure()
    if p == "failed" and failure:
        fields.append(
            {"name": tr(locale, "What happened"), "value": truncate(localize(failure, locale), FIELD_LIMIT)}
        )
    if job.decided_by:
        when = f" <t:{int(job.decided_at)}:R>" if job.decided_at else ""
        if job.state is JobState.REJECTED:
            value = tr(locale, "Rejected by <@{user}>{when}", user=job.decided_by, when=when)
        else:
            value = tr(locale, "Approved by <@{user}>{when}", user=job.decided_by, when=when)
        fields.append({"name": tr(locale, "Approval"), "value": value, "inline": True})
    if p == "cancelled":
        who = f"<@{job.cancelled_by}>" if job.cancelled_by else tr(locale, "a moderator")
        if job.submitted_at is None:
            value = tr(
                locale, "Cancelled by {who} before it was sent; nothing was created or billed.", who=who
            )
        else:
            value = tr(locale, "Cancelled by {who} after it was sent, so it may still be billed.", who=who)
        fields.append({"name": tr(locale, "Cancelled"), "value": value})
    requested = tr(locale, "Requested by {name}", name=job.user_name or job.user_id)
    main: dict = {
        "title": tr(locale, "Video #{id}", id=job.id),
        "description": truncate(inert(job.prompt), PROMPT_SHOWN),
        "color": COLOURS[p],
        "author": {"name": truncate(requested, 256)},
        "fields": fields,
    }
    if footer:
        main["footer"] = {"text": truncate(footer, 2048)}
    if job.images:
        main["thumbnail"] = {"url": job.images[0]}
    embeds = [main]
    # One small embed per further reference image, so every reference shows as a thumbnail.
    for i, url in enumerate(job.images[1:], 2):
        shown = tr(locale, "Reference image {number}", number=i)
        embeds.append({"description": shown, "thumbnail": {"url": url}, "color": COLOURS[p]})
    content = link or ""
    return Render(content=content, embeds=tuple(embeds), cancellable=not job.state.final and p != "done")


def _ended_at(job: Job) -> float | None:
    if job.state is JobState.REJECTED:
        return job.decided_at
    for at in (job.delivered_at, job.succeeded_at, job.failed_at, job.cancelled_at):
        if at:
            return at
    return None

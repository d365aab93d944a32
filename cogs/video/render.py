"""What a job's message looks like, as plain data (embed dicts), so it is testable without Discord.

The cog turns a `Render` into discord.py objects; two renders that compare equal (dataclass
equality) produce the same message, which is how unchanged progress edits are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.formatting import elapsed, inert, message_link, progress_bar, truncate
from bot.jobs import Job, JobState
from bot.models import display_name

# Discord's limits (see shared/discord-notes.md)
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
TOTAL_EMBED_LIMIT = 6000
PROMPT_SHOWN = 3000  # leaves room for the fields within the 6,000 characters of all embeds

SHAPE_WORDS = {"landscape": "Landscape 16:9 (1280×720)", "portrait": "Portrait 9:16 (720×1280)"}
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


def status_line(job: Job, position: int | None = None) -> str:
    p = phase(job)
    if job.state is JobState.AWAITING_APPROVAL:
        return "🛂 Waiting for approval by a moderator"
    if job.state is JobState.REJECTED:
        return "⛔ Rejected by a moderator"
    if job.state is JobState.PENDING:
        if position:
            return f"⏳ Waiting in the queue: position {position}"
        return "⏳ Waiting to be sent"
    if job.state is JobState.SUBMITTING:
        return "📨 Sending to the video service…"
    if p == "waiting":
        return "🕒 Queued at the video service"
    if p == "generating":
        pct = job.progress if job.progress is not None else 0
        return f"🎬 Generating… {pct}%\n`{progress_bar(job.progress)}`"
    if p == "done":
        return "✅ Done"
    if p == "cancelled":
        return "🚫 Cancelled"
    return "❌ Failed"


def render(
    job: Job,
    *,
    link: str | None = None,
    position: int | None = None,
    parent: Job | None = None,
    ready_at: float | None = None,
    footer: str | None = None,
) -> Render:
    """The job message for `job`. `link` puts the video URL in the content so it plays inline;
    `ready_at` is the estimate of when the video will be ready; `footer` a line for the member
    (their quota left today)."""
    p = phase(job)
    fields: list[dict] = [
        {"name": "Status", "value": status_line(job, position), "inline": False},
        {"name": "Model", "value": display_name(job.model), "inline": True},
        {"name": "Shape", "value": SHAPE_WORDS.get(job.orientation, job.orientation), "inline": True},
        {
            "name": "Duration",
            "value": f"{job.duration}s" + (" · upsampled" if job.enable_upsample else ""),
            "inline": True,
        },
    ]
    end = _ended_at(job)
    if end:
        fields.append({"name": "Took", "value": elapsed(end - job.created_at), "inline": True})
    else:
        # Discord's live timestamp counts up by itself: no edit is needed to keep it true.
        fields.append({"name": "Asked", "value": f"<t:{int(job.created_at)}:R>", "inline": True})
        if ready_at is not None:
            fields.append({"name": "Ready", "value": f"about <t:{int(ready_at)}:R>", "inline": True})
    if job.images:
        links = " ".join(f"[{i}]({url})" for i, url in enumerate(job.images, 1))
        fields.append({"name": "Reference images", "value": truncate(links, FIELD_LIMIT), "inline": True})
    if parent is not None:
        where = message_link(parent)
        name = f"#{parent.id}"
        fields.append(
            {
                "name": "Built on",
                "value": f"{job.origin.capitalize()} of [{name}]({where})"
                if where
                else f"{job.origin.capitalize()} of {name}",
                "inline": True,
            }
        )
    if job.enhanced_prompt:
        fields.append({"name": "Enhanced prompt", "value": truncate(inert(job.enhanced_prompt), FIELD_LIMIT)})
    if p == "failed" and job.failure_reason:
        fields.append({"name": "What happened", "value": truncate(job.failure_reason, FIELD_LIMIT)})
    if job.decided_by:
        verdict = "Rejected" if job.state is JobState.REJECTED else "Approved"
        when = f" <t:{int(job.decided_at)}:R>" if job.decided_at else ""
        value = f"{verdict} by <@{job.decided_by}>{when}"
        fields.append({"name": "Approval", "value": value, "inline": True})
    if p == "cancelled":
        who = f"<@{job.cancelled_by}>" if job.cancelled_by else "a moderator"
        if job.submitted_at is None:
            value = f"Cancelled by {who} before it was sent; nothing was created or billed."
        else:
            value = (
                f"Cancelled by {who}. The video service has no cancel route, so the task may "
                "still finish (and be billed) upstream; the bot stopped tracking it."
            )
        fields.append({"name": "Cancelled", "value": value})
    main: dict = {
        "title": f"Video #{job.id}",
        "description": truncate(inert(job.prompt), PROMPT_SHOWN),
        "color": COLOURS[p],
        "author": {"name": truncate(f"Requested by {job.user_name or job.user_id}", 256)},
        "fields": fields,
    }
    if footer:
        main["footer"] = {"text": truncate(footer, 2048)}
    if job.images:
        main["thumbnail"] = {"url": job.images[0]}
    embeds = [main]
    # One small embed per further reference image, so every reference shows as a thumbnail.
    for i, url in enumerate(job.images[1:], 2):
        embeds.append({"description": f"Reference image {i}", "thumbnail": {"url": url}, "color": COLOURS[p]})
    content = link or ""
    return Render(content=content, embeds=tuple(embeds), cancellable=not job.state.final and p != "done")


def _ended_at(job: Job) -> float | None:
    if job.state is JobState.REJECTED:
        return job.decided_at
    for at in (job.delivered_at, job.succeeded_at, job.failed_at, job.cancelled_at):
        if at:
            return at
    return None

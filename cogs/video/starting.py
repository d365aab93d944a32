"""From a checked request to a job on its way: the job written (by the tracker), its message
posted as the command's answer, and the job queued or sent to the moderators. `/video`, "Make
a video" and the buttons that build on a job (Reroll, Upscale, Remix) all start jobs here."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.app.acks import alone, answered_publicly, defer_publicly, placeholder_used
from bot.app.answers import reply_privately
from bot.app.discord_internals import edit_unread, respond_unread
from bot.errors import QuotaExceeded
from bot.jobs.model import Job, JobState
from bot.jobs.tracker import JobTracker
from bot.log import job_fields
from bot.rules.guild_settings import GuildSettings
from bot.rules.intake import Intake, JobRequest, Member
from bot.texts.i18n import render
from cogs.common.audit import audit_job, post_audit
from cogs.video.approval import Approvals
from cogs.video.inputs import REF_PREFIX, Files, attachment_info, member_of, read_images
from cogs.video.messages import JobMessages
from cogs.video.notices import NO_MENTIONS, embeds, interaction_webhook
from cogs.video.sender import RETRY_DELAYS, post_job_message, uploads
from cogs.video.views import job_view

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)

# Of Discord's 3 seconds to acknowledge a command, how long reading the images may take first.
IMAGES_BEFORE_DEFER = 2.0
# A refused answer is tried again only within those 3 seconds.
ANSWER_RETRIES = (0.5,)


class JobStarter:
    def __init__(self, bot: VideoBot, messages: JobMessages, approvals: Approvals) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.intake: Intake = bot.intake
        self.tracker: JobTracker = bot.tracker
        self.messages = messages
        self.approvals = approvals

    async def read(self, interaction: discord.Interaction, attachments: list[discord.Attachment]) -> Files:
        """Read and check the images before answering (so a bad file is refused privately, with
        nothing shown to the channel, and the job message itself is the answer), unless that
        takes too long for Discord's 3 seconds: then a public "thinking…" first, and the same
        read finishes after."""
        files: Files = ()
        if attachments:
            reading = asyncio.create_task(read_images(attachments, max_bytes=self.settings.max_image_bytes))
            done, _pending = await asyncio.wait({reading}, timeout=IMAGES_BEFORE_DEFER)
            if not done:
                await defer_publicly(interaction)
                return await reading
            files = reading.result()  # a bad file raises here, before anything is shown
        if not alone(interaction) and not interaction.response.is_done():
            # Other commands wait for their answers (a burst): a quick "thinking…" now, the
            # job message once they have theirs.
            await defer_publicly(interaction)
        return files

    async def check(
        self, interaction: discord.Interaction, member: Member, rules: GuildSettings, request: JobRequest
    ) -> None:
        """Intake's checks of a finished request (`Intake.check`), which read the store. In a
        burst, when those reads wait on a database server (`JobStore.reads_wait`), "thinking…"
        first: each read's answer would otherwise queue behind the whole burst's work, and the
        acknowledgement with it; a refusal found after takes the placeholder back and answers
        privately (`reply_privately`). On a local file the reads answer in place, and a refusal
        never shows in public at all."""
        if self.bot.store.reads_wait and not alone(interaction):
            await defer_publicly(interaction)
        await self.intake.check(member, rules, request)

    async def from_images(
        self, interaction: discord.Interaction, images: list[discord.Attachment], model: str, prompt: str
    ) -> None:
        member = member_of(interaction)
        rules = await self.intake.rules(member.guild_id, member.scope)
        request = self.intake.new_request(
            rules, prompt=prompt, model=model, attachments=tuple(attachment_info(a) for a in images)
        )
        await self.check(interaction, member, rules, request)
        files = await self.read(interaction, images)
        await self.start(interaction, member, rules, replace(request, files=files))

    # --- from a checked request to a job on its way -----------------------------------------

    async def start(
        self,
        interaction: discord.Interaction,
        member: Member,
        rules: GuildSettings,
        request: JobRequest,
        *,
        parent: Job | None = None,
        origin: str = "new",
    ) -> Job | None:
        """Write the job, turn the deferred reply into its message, and queue it (or ask the
        moderators first, in a moderated channel). None when a quota refused it at the last moment.

        The job message is the interaction's answer, or replaces its `defer_publicly` "thinking…".
        """
        moderated = self.intake.needs_approval(member, rules)
        try:
            job = await self.tracker.create(
                check=self.intake.quota_check(member, rules, request.model),
                price_micros=self.intake.price(request.model),
                guild_id=member.guild_id,
                channel_id=member.channel_id,
                user_id=member.user_id,
                scope=member.scope,
                user_name=interaction.user.display_name,
                interaction_id=interaction.id,
                interaction_token=interaction.token,
                token_issued_at=interaction.created_at.timestamp(),
                application_id=interaction.application_id,
                parent_id=parent.id if parent else None,
                origin=origin,
                # Its public messages (job message, notifications, audit lines) use the server's language.
                locale=str(interaction.guild_locale or interaction.locale),
                state=JobState.AWAITING_APPROVAL if moderated else JobState.PENDING,
                **request.job_fields(),
            )
        except QuotaExceeded as exc:
            await reply_privately(interaction, exc.text)
            return None
        job = await self._post(interaction, job, request, rules)
        warning = await self.intake.spend_warning(job)
        if warning is not None:
            await post_audit(self.bot, job.guild_id, render(warning, job.locale))
        return job

    async def _post(
        self, interaction: discord.Interaction, job: Job, request: JobRequest, rules: GuildSettings
    ) -> Job:
        self.messages.remember_upload_limit(job.id, interaction.filesize_limit)
        moderated = job.state is JobState.AWAITING_APPROVAL
        # Moderators decide on the job message itself unless the server has an audit channel.
        decide_here = moderated and rules.audit_channel is None

        # Not answered yet: the job message is the answer (no "thinking…" first).
        answering = not interaction.response.is_done()

        async def post() -> dict[str, Any]:
            with uploads(request.files) as files:
                fields: dict[str, Any] = {
                    "embeds": embeds(await self.messages.render(job)),
                    "view": job_view(job.id, cancellable=True, decidable=decide_here, locale=job.locale),
                    "allowed_mentions": NO_MENTIONS,
                    "attachments": files,
                }
                if answering:
                    return await respond_unread(interaction, **fields)
                await self.messages.budgets.take([f"webhook:{job.id}"])
                return await edit_unread(interaction_webhook(self.bot, job), None, content=None, **fields)

        try:
            # A 429 or 5xx is retried: nothing was sent upstream yet, so the job just waits (an
            # answer only while Discord's 3 seconds last).
            message = await post_job_message(
                post, job_id=job.id, delays=ANSWER_RETRIES if answering else RETRY_DELAYS
            )
        except discord.HTTPException:
            # No message to track the job in: give up before anything is sent upstream.
            await self.tracker.not_posted(job.id)
            raise
        placeholder_used(interaction)
        refs = [a["url"] for a in message.get("attachments", []) if a["filename"].startswith(REF_PREFIX)]
        job = await self.bot.store.update(
            job.id, message_id=int(message["id"]), images=refs or request.images
        )
        if answering:
            # (After the message id is stored: a stop while waiting here must not lose it.)
            await answered_publicly(interaction)
        log.info(
            "job %d (%s): submitted by %s in channel %s%s",
            job.id,
            job.origin,
            job.user_id,
            job.channel_id,
            " for approval" if moderated else "",
            extra=job_fields(job),
        )
        if moderated:
            job = await self.approvals.ask(job, request.files, rules)
            await audit_job(self.bot, "awaiting_approval", job, by=job.user_id)
            return job
        await audit_job(self.bot, "submitted", job, by=job.user_id)
        await self.tracker.enqueue(job)
        return job

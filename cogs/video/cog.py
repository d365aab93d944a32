"""`/video` and "Make a video": Discord in and out for new jobs. The checks are `bot.intake`'s,
the life cycle `bot.tracker`'s; the buttons on a job are `cogs.video.actions`'."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.acks import alone, answered_publicly, defer_publicly, placeholder_used
from bot.answers import reply_privately
from bot.errors import InputError, QuotaExceeded
from bot.guild_settings import GuildSettings
from bot.i18n import Text, ntr
from bot.intake import Intake, JobRequest, Member
from bot.jobs import Job, JobState
from bot.log import job_fields
from bot.models import describe
from bot.tracker import JobTracker, Timing
from cogs.audit import audit_job
from cogs.video.actions import JobActions
from cogs.video.approval import Approvals
from cogs.video.inputs import (
    REF_PREFIX,
    Files,
    anywhere,
    attachment_info,
    limit_text_option,
    member_of,
    read_images,
    scope_of,
)
from cogs.video.messages import JobMessages
from cogs.video.modals import PromptModal
from cogs.video.notices import NO_MENTIONS, embeds, interaction_webhook
from cogs.video.options import request_values, with_request_options
from cogs.video.sender import RETRY_DELAYS, edit_unread, post_job_message, respond_unread, uploads
from cogs.video.views import PERSISTENT_ITEMS, job_view

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)

# Of Discord's 3 seconds to acknowledge a command, how long reading the images may take first.
IMAGES_BEFORE_DEFER = 2.0
# A refused answer is tried again only within those 3 seconds.
ANSWER_RETRIES = (0.5,)


class VideoCog(commands.Cog, name="Video"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        s = bot.settings
        self.settings = s
        self.intake = Intake(s, bot.store)
        self.messages = JobMessages(bot)
        self.tracker = JobTracker(
            bot.store,
            bot.api,
            self.messages,
            Timing(
                poll_interval=s.poll_interval,
                poll_max_interval=s.poll_max_interval,
                failure_deadline=s.poll_failure_deadline,
                job_timeout=s.job_timeout,
                max_running=s.max_running_jobs,
                max_running_per_member=s.max_running_per_member,
                # Queue positions are re-shown a few progress edits apart at most.
                queue_refresh=2.5 * s.progress_edit_interval,
            ),
        )
        self.messages.positions = self.tracker.queue_position
        self.messages.durations = self.tracker.durations.get
        self.approvals = Approvals(bot, self.tracker, self.messages)
        self.actions = JobActions(self)
        self._menu = app_commands.ContextMenu(name="Make a video", callback=self.make_video_from_message)
        limit_text_option(self.video, "prompt", s.max_prompt_length)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self._menu)
        # Buttons on job messages posted before this start keep working.
        self.bot.add_dynamic_items(*PERSISTENT_ITEMS)
        # Polling starts at once; delivery waits for the guild cache (see `JobMessages.finish`).
        self.tracker.start()

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self._menu.name, type=self._menu.type)
        self.bot.remove_dynamic_items(*PERSISTENT_ITEMS)
        await self.tracker.stop()
        await self.messages.aclose()

    # --- the command -------------------------------------------------------------------------

    @app_commands.command(name="video")
    @anywhere
    @app_commands.describe(
        prompt="What the video shows (any language)",
        image="A reference image or first frame (PNG, JPEG, WebP or GIF)",
        image2="A second reference image (models that take several)",
        image3="A third reference image (components models)",
        model="The video model (default: one that takes the images you attach)",
        shape="Landscape 16:9 or portrait 9:16 (default set by the bot owner)",
        duration="Length in seconds",
        upsample="HD upscale (landscape only)",
    )
    @app_commands.choices(
        shape=[
            app_commands.Choice(name="Landscape 16:9 (1280×720)", value="landscape"),
            app_commands.Choice(name="Portrait 9:16 (720×1280)", value="portrait"),
        ]
    )
    @with_request_options
    async def video(
        self,
        interaction: discord.Interaction,
        # 6000: MAX_PROMPT_LENGTH's highest; `limit_text_option` narrows it to the setting.
        prompt: app_commands.Range[str, 1, 6000],
        image: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        model: str | None = None,
        shape: str | None = None,
        duration: int | None = None,
        upsample: bool = False,
        **extra: Any,
    ) -> None:
        """Generate a video from a prompt and up to three reference images."""
        # Everything that needs no I/O is checked before deferring, so refusals stay private.
        member = member_of(interaction)
        rules = self.intake.rules(member.guild_id, member.scope)
        attachments = [a for a in (image, image2, image3) if a is not None]
        request = self.intake.new_request(
            rules,
            prompt=prompt,
            model=model,
            orientation=shape,
            duration=duration,
            upsample=upsample,
            attachments=tuple(attachment_info(a) for a in attachments),
            extra=request_values(extra),
        )
        self.intake.check(member, rules, request)
        files = await self._images(interaction, attachments)
        await self.start_job(interaction, member, rules, replace(request, files=files))

    async def _images(self, interaction: discord.Interaction, attachments: list[discord.Attachment]) -> Files:
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
        if not alone(interaction):
            # Other commands wait for their answers (a burst): a quick "thinking…" now, the
            # job message once they have theirs.
            await defer_publicly(interaction)
        return files

    @video.autocomplete("model")
    async def _model_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        offered = self.intake.rules(interaction.guild_id, scope_of(interaction)).offered_models(
            self.intake.defaults
        )
        wanted = current.lower()
        locale = interaction.locale
        return [
            app_commands.Choice(name=described[:100], value=m)
            for m, described in ((m, describe(m, self.settings.capability(m), locale)) for m in offered)
            if wanted in m.lower() or wanted in described.lower()
        ][:25]

    @video.autocomplete("duration")
    async def _duration_choices(
        self, interaction: discord.Interaction, current: int | str
    ) -> list[app_commands.Choice[int]]:
        # Only what this server allows (its max_duration), so no choice is refused afterwards.
        most = self.intake.rules(interaction.guild_id, scope_of(interaction)).max_duration
        allowed = [d for d in self.settings.durations if most is None or d <= most]
        return [
            app_commands.Choice(name=ntr(interaction.locale, "{n} second", "{n} seconds", n=d), value=d)
            for d in allowed or self.settings.durations[:1]
        ]

    # --- "Make a video" on any message with images ------------------------------------------

    @anywhere
    async def make_video_from_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        images = [a for a in message.attachments if (a.content_type or "image/").startswith("image/")]
        if not images:
            raise InputError(Text("That message has no images to make a video from."))
        member = member_of(interaction)
        rules = self.intake.rules(member.guild_id, member.scope)
        model = self.intake.model_for_images(rules, len(images))
        # The prompt comes from the modal; everything else is checked before it opens.
        self.intake.check_images(model, tuple(attachment_info(a) for a in images))
        self.intake.admit_member(member, rules)
        await interaction.response.send_modal(PromptModal(self, images, model, interaction.locale))

    async def make_video(
        self, interaction: discord.Interaction, images: list[discord.Attachment], model: str, prompt: str
    ) -> None:
        member = member_of(interaction)
        rules = self.intake.rules(member.guild_id, member.scope)
        request = self.intake.new_request(
            rules, prompt=prompt, model=model, attachments=tuple(attachment_info(a) for a in images)
        )
        self.intake.check(member, rules, request)
        files = await self._images(interaction, images)
        await self.start_job(interaction, member, rules, replace(request, files=files))

    # --- from a checked request to a job on its way -----------------------------------------

    async def start_job(
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
            job = self.tracker.create(
                check=self.intake.quota_check(member, rules),
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
        return await self._post_job(interaction, job, request, rules)

    async def _post_job(
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
                    "embeds": embeds(self.messages.render(job)),
                    "view": job_view(job.id, cancellable=True, decidable=decide_here, locale=job.locale),
                    "allowed_mentions": NO_MENTIONS,
                    "attachments": files,
                }
                if answering:
                    return await respond_unread(interaction, **fields)
                await self.messages.budgets.take([f"webhook:{job.id}"], urgent=True)
                return await edit_unread(interaction_webhook(self.bot, job), None, content=None, **fields)

        try:
            # A 429 or 5xx is retried: nothing was sent upstream yet, so the job just waits (an
            # answer only while Discord's 3 seconds last).
            message = await post_job_message(
                post, job_id=job.id, delays=ANSWER_RETRIES if answering else RETRY_DELAYS
            )
        except discord.HTTPException:
            # No message to track the job in: give up before anything is sent upstream.
            self.tracker.not_posted(job.id)
            raise
        placeholder_used(interaction)
        refs = [a["url"] for a in message.get("attachments", []) if a["filename"].startswith(REF_PREFIX)]
        job = self.bot.store.update(job.id, message_id=int(message["id"]), images=refs or request.images)
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
        await self.tracker.admit(job)
        return job

    # --- components (persistent: they reach the cog through `cogs.video.views`) ----------------

    async def job_button(self, interaction: discord.Interaction, action: str, job_id: int) -> None:
        await self.actions.job_button(interaction, action, job_id)

    async def cancel_from_button(self, interaction: discord.Interaction, job_id: int) -> None:
        await self.actions.cancel(interaction, job_id)

    async def decide(self, interaction: discord.Interaction, verdict: str, job_id: int) -> None:
        await self.approvals.decide(interaction, verdict, job_id)

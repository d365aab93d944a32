"""`/video`: Discord input and output for video jobs. The life cycle itself is `bot.tracker`."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import metrics, quota
from bot.errors import InputError, PermissionDenied
from bot.guild_settings import Defaults, GuildSettings
from bot.log import job_fields
from bot.models import aspect_for, check_upsample, max_images, min_images, resolve_shape, size_for
from bot.store import Job, JobState
from bot.tracker import JobTracker, Timing
from bot.validation import (
    AttachmentInfo,
    check_attachment_metadata,
    check_image_bytes,
    check_image_count,
    clean_prompt,
)
from cogs.audit import audit_job
from cogs.errors import answering_errors, refuse_after_defer, role_ids
from cogs.video.approval import Approvals
from cogs.video.messages import NO_MENTIONS, REF_PREFIX, JobMessages, embeds
from cogs.video.modals import PromptModal, RemixModal
from cogs.video.views import job_view

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)

IMAGE_READ_TIMEOUT = 30.0


@dataclass(frozen=True)
class JobRequest:
    """What a member asked for, checked; the shape fields follow from `orientation`."""

    prompt: str
    model: str
    images: tuple[str, ...]
    image_names: tuple[str, ...]
    orientation: str
    duration: int
    enable_upsample: bool = False
    # The reference images themselves, attached to the job message so they can be fetched
    # again later (Discord's signed attachment URLs expire after about a day).
    files: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def like(cls, job: Job, **changes: Any) -> JobRequest:
        base = cls(
            job.prompt,
            job.model,
            job.images,
            job.image_names,
            job.orientation,
            job.duration,
            job.enable_upsample,
        )
        return replace(base, **changes)


class VideoCog(commands.Cog, name="Video"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        s = bot.settings
        self.settings = s
        self.defaults = Defaults.from_settings(s)
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
            ),
        )
        self.approvals = Approvals(bot, self.tracker, self.messages)
        self._menu = app_commands.ContextMenu(name="Make a video", callback=self.make_video_from_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self._menu)
        # Polling starts at once; delivery waits for the guild cache (see `finish`).
        self.tracker.start()

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self._menu.name, type=self._menu.type)
        await self.tracker.stop()
        await self.messages.aclose()

    # --- the command -------------------------------------------------------------------------

    @app_commands.command(name="video")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What the video shows (any language)",
        image="A reference image or first frame (PNG, JPEG, WebP or GIF)",
        image2="A second reference image (models that take several)",
        image3="A third reference image (components models)",
        model="The video model (default set by the server owner)",
        orientation="Landscape (1280x720, 16:9) or portrait (720x1280, 9:16)",
        duration="Length in seconds",
        aspect_ratio="16:9 (landscape) or 9:16 (portrait)",
        upsample="HD upscale (landscape only)",
    )
    async def video(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 6000],
        image: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        model: str | None = None,
        orientation: Literal["landscape", "portrait"] | None = None,
        duration: int | None = None,
        aspect_ratio: Literal["16:9", "9:16"] | None = None,
        upsample: bool = False,
    ) -> None:
        """Generate a video from a prompt and up to three reference images."""
        s = self.settings
        # Everything that needs no I/O is checked before deferring, so refusals stay private.
        text = clean_prompt(prompt, max_length=s.max_prompt_length)
        rules = self.bot.store.guild_rules(interaction.guild_id)
        model = model or rules.model_default(self.defaults)
        if model not in s.models:
            raise InputError(f"Unknown model {model!r}. Choose one of: {', '.join(s.models)}.")
        duration = duration or rules.pick_duration(s.durations, s.default_duration)
        if duration not in s.durations:
            raise InputError(f"Duration must be one of {', '.join(map(str, s.durations))} seconds.")
        orientation_, _size, _aspect = resolve_shape(orientation, aspect_ratio, s.default_orientation)
        check_upsample(upsample, orientation_)
        attachments = [a for a in (image, image2, image3) if a is not None]
        check_image_count(model, len(attachments))
        for a in attachments:
            check_attachment_metadata(
                AttachmentInfo(a.filename, a.size, a.content_type, a.url), max_bytes=s.max_image_bytes
            )

        self._enforce_server_rules(
            interaction, rules, prompt=text, duration=duration, upsample=upsample, model=model
        )
        self._check_queue_cap(interaction.user.id)
        await interaction.response.defer(thinking=True)
        files = await self._read_images_or_refuse(interaction, attachments)
        if files is None:
            return

        await self.start_job(
            interaction,
            JobRequest(
                prompt=text,
                model=model,
                images=tuple(a.url for a in attachments),
                image_names=tuple(a.filename for a in attachments),
                orientation=orientation_,
                duration=duration,
                enable_upsample=upsample,
                files=files,
            ),
        )

    def _enforce_server_rules(
        self,
        interaction: discord.Interaction,
        rules: GuildSettings,
        *,
        prompt: str | None = None,
        duration: int | None = None,
        upsample: bool = False,
        model: str | None = None,
    ) -> None:
        """The server's own rules (channels, roles, models, limits, blocked words, quotas), checked
        before anything is spent. The quota is checked again, exactly, when the job is written."""
        assert interaction.channel_id is not None
        rules.check_member(
            channel_id=interaction.channel_id,
            role_ids=role_ids(interaction),
            is_admin=interaction.permissions.manage_guild,
        )
        if model is not None:
            rules.check_model(model, self.defaults)
        if prompt is not None and duration is not None:
            rules.check_request(prompt=prompt, duration=duration, upsample=upsample)
        self._quota_check(interaction, rules)()

    def _quota_check(self, interaction: discord.Interaction, rules: GuildSettings) -> Callable[[], None]:
        """A check of the member's and the server's daily quota and cooldown, run inside the
        store's write transaction by `Store.add_job` (and once early, to refuse privately)."""
        limits = rules.limits(self.defaults)
        guild_id, user_id = interaction.guild_id, interaction.user.id
        exempt = interaction.permissions.manage_guild

        def check() -> None:
            if guild_id is None:
                return
            now = time.time()
            since = quota.day_start(now, limits.timezone)
            store = self.bot.store
            member, server = store.quota_usage(guild_id=guild_id, user_id=user_id, since=since)
            usage = quota.Usage(
                member=member,
                server=server,
                last_job_at=(
                    store.last_job_at(guild_id=guild_id, user_id=user_id) if limits.cooldown else None
                ),
            )
            try:
                quota.check(usage, limits, now=now, cooldown_exempt=exempt)
            except quota.QuotaExceeded as exc:
                metrics.quota_refused(exc.scope)
                raise

        return check

    def _check_queue_cap(self, user_id: int) -> None:
        # Jobs waiting for a moderator count too, so nobody can flood an approval channel.
        states = [JobState.PENDING, JobState.AWAITING_APPROVAL]
        waiting = self.bot.store.count_jobs(since=0, user_id=user_id, states=states)
        if waiting >= self.settings.max_waiting_per_member:
            raise InputError(
                f"You already have {waiting} videos waiting (in the queue or for approval); "
                "wait for one of them to start before asking for more."
            )

    async def start_job(
        self,
        interaction: discord.Interaction,
        request: JobRequest,
        *,
        parent: Job | None = None,
        kind: str = "new",
    ) -> Job | None:
        """Write the job, turn the deferred reply into its message, and queue it (or ask the
        moderators first, in a moderated channel). None when a quota refused it at the last moment.

        The interaction must already be deferred with a public "thinking" reply.
        """
        rules = self.bot.store.guild_rules(interaction.guild_id)
        assert interaction.channel_id is not None
        moderated = rules.needs_approval(interaction.channel_id) and not rules.can_approve(
            role_ids=role_ids(interaction), manage_messages=interaction.permissions.manage_messages
        )
        try:
            job = self._add_job(interaction, request, rules, parent=parent, kind=kind, moderated=moderated)
        except quota.QuotaExceeded as exc:
            await refuse_after_defer(interaction, exc.user_message)
            return None
        return await self._post_job(interaction, job, request, rules)

    def _add_job(
        self,
        interaction: discord.Interaction,
        request: JobRequest,
        rules: GuildSettings,
        *,
        parent: Job | None,
        kind: str,
        moderated: bool,
    ) -> Job:
        assert interaction.channel_id is not None
        return self.bot.store.add_job(
            check=self._quota_check(interaction, rules),
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=interaction.user.id,
            user_name=interaction.user.display_name,
            interaction_id=interaction.id,
            interaction_token=interaction.token,
            token_issued_at=interaction.created_at.timestamp(),
            application_id=interaction.application_id,
            prompt=request.prompt,
            model=request.model,
            images=request.images,
            image_names=request.image_names,
            orientation=request.orientation,
            size=size_for(request.orientation),
            duration=request.duration,
            aspect_ratio=aspect_for(request.orientation),
            enable_upsample=request.enable_upsample,
            parent_id=parent.id if parent else None,
            kind=kind,
            state=JobState.AWAITING_APPROVAL if moderated else JobState.PENDING,
        )

    async def _post_job(
        self, interaction: discord.Interaction, job: Job, request: JobRequest, rules: GuildSettings
    ) -> Job:
        self.messages.remember_upload_limit(job.id, interaction.filesize_limit)
        first = self.messages.render(job)
        moderated = job.state is JobState.AWAITING_APPROVAL
        # Moderators decide on the job message itself unless the server has an audit channel.
        decide_here = moderated and rules.audit_channel is None
        try:
            message = await interaction.edit_original_response(
                content=None,
                embeds=embeds(first),
                view=job_view(job.id, cancellable=True, decidable=decide_here),
                allowed_mentions=NO_MENTIONS,
                attachments=[discord.File(io.BytesIO(data), filename=name) for name, data in request.files],
            )
        except discord.HTTPException:
            # No message to track the job in: give up before anything is sent upstream.
            self.bot.store.transition(
                job.id,
                JobState.FAILED,
                failure_reason="The job message could not be posted.",
                failure_kind="discord",
                expect=[JobState.PENDING, JobState.AWAITING_APPROVAL],
            )
            self.bot.store.mark_notified(job.id)
            raise
        refs = [a.url for a in message.attachments if a.filename.startswith(REF_PREFIX)]
        job = self.bot.store.update(job.id, message_id=message.id, images=refs or request.images)
        log.info(
            "job %d (%s): submitted by %s in channel %s%s",
            job.id,
            job.kind,
            interaction.user.id,
            job.channel_id,
            " for approval" if moderated else "",
            extra=job_fields(job),
        )
        if moderated:
            job = await self.approvals.ask(job, request.files, rules.audit_channel)
            await audit_job(self.bot, "awaiting_approval", job, by=job.user_id)
            return job
        await audit_job(self.bot, "submitted", job, by=job.user_id)
        await self.tracker.enqueue(job.id)
        return job

    @video.autocomplete("model")
    async def _model_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        offered = self.bot.store.guild_rules(interaction.guild_id).offered_models(self.defaults)
        return [app_commands.Choice(name=m, value=m) for m in offered if current.lower() in m][:25]

    @video.autocomplete("duration")
    async def _duration_choices(
        self, interaction: discord.Interaction, current: int | str
    ) -> list[app_commands.Choice[int]]:
        return [app_commands.Choice(name=f"{d} seconds", value=d) for d in self.settings.durations]

    async def _read_images_or_refuse(
        self, interaction: discord.Interaction, attachments: list[discord.Attachment]
    ) -> tuple[tuple[str, bytes], ...] | None:
        """The checked images, or None after telling the member privately what is wrong with one."""
        try:
            return await self._check_image_bytes(attachments)
        except InputError as exc:
            await refuse_after_defer(interaction, exc.user_message)
            return None

    async def _check_image_bytes(
        self, attachments: list[discord.Attachment]
    ) -> tuple[tuple[str, bytes], ...]:
        """Read and check each image; returns them named `ref1.png`… to attach to the job message."""
        files = []
        for i, a in enumerate(attachments, 1):
            try:
                async with asyncio.timeout(IMAGE_READ_TIMEOUT):
                    data = await a.read()
            except (discord.HTTPException, TimeoutError):
                raise InputError(f"{a.filename} could not be downloaded from Discord; try again.") from None
            kind = check_image_bytes(
                a.filename, data, a.content_type, max_bytes=self.settings.max_image_bytes
            )
            files.append((f"{REF_PREFIX}{i}.{kind.split('/')[1]}", data))
        return tuple(files)

    # --- "Make a video" on any message with images ------------------------------------------

    @app_commands.guild_only()
    async def make_video_from_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        images = [a for a in message.attachments if (a.content_type or "image/").startswith("image/")]
        if not images:
            raise InputError("That message has no images to make a video from.")
        rules = self.bot.store.guild_rules(interaction.guild_id)
        model = self._model_for_images(rules, len(images))
        for a in images:
            check_attachment_metadata(
                AttachmentInfo(a.filename, a.size, a.content_type, a.url),
                max_bytes=self.settings.max_image_bytes,
            )
        self._enforce_server_rules(interaction, rules)
        self._check_queue_cap(interaction.user.id)
        await interaction.response.send_modal(PromptModal(self, images, model))

    def _model_for_images(self, rules: GuildSettings, count: int) -> str:
        """The server's default model when it takes this many images, else the first offered one that does."""
        default = rules.model_default(self.defaults)
        for model in (default, *rules.offered_models(self.defaults)):
            if min_images(model) <= count <= max_images(model):
                return model
        check_image_count(default, count)  # raises with the clear message
        return default

    async def make_video(
        self, interaction: discord.Interaction, images: list[discord.Attachment], model: str, prompt: str
    ) -> None:
        text = clean_prompt(prompt, max_length=self.settings.max_prompt_length)
        rules = self.bot.store.guild_rules(interaction.guild_id)
        duration = rules.pick_duration(self.settings.durations, self.settings.default_duration)
        self._enforce_server_rules(
            interaction, rules, prompt=text, duration=duration, upsample=False, model=model
        )
        await interaction.response.defer(thinking=True)
        files = await self._read_images_or_refuse(interaction, images)
        if files is None:
            return
        orientation = self.settings.default_orientation
        request = JobRequest(
            text,
            model,
            tuple(a.url for a in images),
            tuple(a.filename for a in images),
            orientation,
            duration,
            files=files,
        )
        await self.start_job(interaction, request)

    # --- buttons on finished jobs ------------------------------------------------------------

    async def job_button(self, interaction: discord.Interaction, action: str, job_id: int) -> None:
        await answering_errors(interaction, self._job_button(interaction, action, job_id))

    async def _job_button(self, interaction: discord.Interaction, action: str, job_id: int) -> None:
        job = self.bot.store.get(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            raise InputError("This job is not known to the bot.")
        if action == "delete":
            await self._delete(interaction, job)
            return
        rules = self.bot.store.guild_rules(interaction.guild_id)
        if action == "remix":
            if not rules.allow_remix_others and interaction.user.id != job.user_id:
                raise PermissionDenied("This server does not allow remixing other members' videos.")
            self._enforce_server_rules(interaction, rules)
            await interaction.response.send_modal(RemixModal(self, job))
            return
        upsample = job.enable_upsample or action == "upscale"
        if action == "upscale":
            check_upsample(True, job.orientation)
        self._enforce_server_rules(
            interaction, rules, prompt=job.prompt, duration=job.duration, upsample=upsample, model=job.model
        )
        request = JobRequest.like(job, files=await self._reference_files(job), enable_upsample=upsample)
        self._check_queue_cap(interaction.user.id)
        await interaction.response.defer(thinking=True)
        await self.start_job(interaction, request, parent=job, kind=action)

    async def remix(self, interaction: discord.Interaction, parent: Job, prompt: str) -> None:
        text = clean_prompt(prompt, max_length=self.settings.max_prompt_length)
        self._enforce_server_rules(
            interaction,
            self.bot.store.guild_rules(interaction.guild_id),
            prompt=text,
            duration=parent.duration,
            upsample=parent.enable_upsample,
            model=parent.model,
        )
        self._check_queue_cap(interaction.user.id)
        await interaction.response.defer(thinking=True)
        request = JobRequest.like(parent, prompt=text, files=await self._reference_files(parent))
        await self.start_job(interaction, request, parent=parent, kind="remix")

    async def _reference_files(self, job: Job) -> tuple[tuple[str, bytes], ...]:
        if not job.images:
            return ()
        refs = await self.messages.reference_attachments(job)
        if len(refs) != len(job.images):
            raise InputError(f"The reference images of video #{job.id} are no longer available.")
        try:
            return tuple([(a.filename, await a.read()) for a in refs])
        except discord.HTTPException:
            raise InputError(
                f"The reference images of video #{job.id} could not be fetched; try again."
            ) from None

    async def _delete(self, interaction: discord.Interaction, job: Job) -> None:
        if interaction.user.id != job.user_id and not interaction.permissions.manage_messages:
            raise PermissionDenied(
                "Only the member who asked for this video, or a member with Manage Messages, can delete it."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        if job.message_id is not None:
            channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
            with contextlib.suppress(discord.NotFound):
                await channel.get_partial_message(job.message_id).delete()
        self.bot.store.note(job.id, f"message deleted by {interaction.user.id}")
        await interaction.followup.send(f"Deleted video #{job.id}.", ephemeral=True)
        await audit_job(self.bot, "deleted", job, by=interaction.user.id)

    # --- cancel ----------------------------------------------------------------------------------

    async def cancel_from_button(self, interaction: discord.Interaction, job_id: int) -> None:
        job = self.bot.store.get(job_id)
        if job is None:
            await interaction.response.send_message("This job is not known to the bot.", ephemeral=True)
            return
        perms = interaction.permissions
        if interaction.user.id != job.user_id and not perms.manage_messages:
            await interaction.response.send_message(
                "Only the member who asked for this video, or a member with Manage Messages, can cancel it.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        cancelled = await self.tracker.cancel(job_id, by_user=interaction.user.id)
        if cancelled is None:
            await interaction.followup.send("This job has already finished.", ephemeral=True)
        elif cancelled.submitted_at is None:
            await interaction.followup.send(
                "Cancelled before it was sent; nothing was billed.", ephemeral=True
            )
        else:
            await interaction.followup.send(
                "Cancelled. The video service has no cancel route, so the task may still finish upstream.",
                ephemeral=True,
            )
        if cancelled is not None and job.state is JobState.AWAITING_APPROVAL:
            outcome = f"🚫 Cancelled by <@{interaction.user.id}> before a decision."
            await self.approvals.close(cancelled, outcome)

    # --- moderated channels -------------------------------------------------------------------

    async def decide(self, interaction: discord.Interaction, verdict: str, job_id: int) -> None:
        await self.approvals.decide(interaction, verdict, job_id)

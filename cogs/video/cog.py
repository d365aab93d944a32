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

from bot import audit, quota
from bot.delivery import download
from bot.errors import BotError, DownloadError, InputError, PermissionDenied
from bot.guild_settings import Defaults, GuildSettings
from bot.models import aspect_for, check_upsample, max_images, min_images, resolve_shape, size_for
from bot.store import Job, JobState
from bot.throttle import EditThrottle
from bot.tracker import JobTracker, Timing
from bot.validation import (
    AttachmentInfo,
    check_attachment_metadata,
    check_image_bytes,
    check_image_count,
    clean_prompt,
)
from cogs.audit import post_audit
from cogs.errors import reply_privately
from cogs.video.listing import message_link
from cogs.video.render import Render, render
from cogs.video.views import decision_view, finished_view, job_view

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # Discord's limit for servers without boosts (and DMs)
IMAGE_READ_TIMEOUT = 30.0
UPLOAD_TOO_LARGE = 40005
INVALID_WEBHOOK_TOKEN = 50027
UNKNOWN_MESSAGE = 10008
REF_PREFIX = "ref"


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


@dataclass(frozen=True)
class Edit:
    """One edit of a job message: what it shows, and the video file on the final one."""

    render: Render
    video: bytes | None = None
    link_render: Render | None = None  # shown instead when the upload is refused as too large
    progress: bool = True


class VideoCog(commands.Cog, name="Video"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        s = bot.settings
        self.settings = s
        self.defaults = Defaults.from_settings(s)
        self.tracker = JobTracker(
            bot.store,
            bot.api,
            self,
            Timing(
                poll_interval=s.poll_interval,
                poll_max_interval=s.poll_max_interval,
                failure_deadline=s.poll_failure_deadline,
                job_timeout=s.job_timeout,
                max_running=s.max_running_jobs,
                max_running_per_member=s.max_running_per_member,
            ),
        )
        self._throttles: dict[int, EditThrottle[Edit]] = {}
        self._dead_tokens: set[int] = set()
        self._upload_limits: dict[int, int] = {}
        self._modes: dict[int, str] = {}
        self._menu = app_commands.ContextMenu(name="Make a video", callback=self.make_video_from_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self._menu)
        # Polling starts at once; delivery waits for the guild cache (see `finish`).
        self.tracker.start()

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self._menu.name, type=self._menu.type)
        await self.tracker.stop()
        for throttle in self._throttles.values():
            await throttle.aclose()

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
        rules = self._server_rules(interaction.guild_id)
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
            interaction, prompt=text, duration=duration, upsample=upsample, model=model
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

    def _server_rules(self, guild_id: int | None) -> GuildSettings:
        return GuildSettings.from_json(self.bot.store.guild_settings(guild_id) if guild_id else None)

    def _enforce_server_rules(
        self,
        interaction: discord.Interaction,
        *,
        prompt: str | None = None,
        duration: int | None = None,
        upsample: bool = False,
        model: str | None = None,
    ) -> None:
        """The server's own rules (channels, roles, models, limits, blocked words, quotas), checked
        before anything is spent. The quota is checked again, exactly, when the job is written."""
        rules = self._server_rules(interaction.guild_id)
        assert interaction.channel_id is not None
        rules.check_member(
            channel_id=interaction.channel_id,
            role_ids=_role_ids(interaction),
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
            usage = quota.Usage(
                member=store.quota_usage(guild_id=guild_id, since=since, user_id=user_id)
                if limits.member_daily
                else 0,
                server=store.quota_usage(guild_id=guild_id, since=since) if limits.server_daily else 0,
                last_job_at=(
                    store.last_job_at(guild_id=guild_id, user_id=user_id) if limits.cooldown else None
                ),
            )
            quota.check(usage, limits, now=now, cooldown_exempt=exempt)

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
        rules = self._server_rules(interaction.guild_id)
        assert interaction.channel_id is not None
        moderated = rules.needs_approval(interaction.channel_id) and not rules.can_approve(
            role_ids=_role_ids(interaction), manage_messages=interaction.permissions.manage_messages
        )
        try:
            job = self._add_job(interaction, request, rules, parent=parent, kind=kind, moderated=moderated)
        except quota.QuotaExceeded as exc:
            await _refuse_after_defer(interaction, exc.user_message)
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
        self._upload_limits[job.id] = interaction.filesize_limit
        first = self._render(job)
        moderated = job.state is JobState.AWAITING_APPROVAL
        # Moderators decide on the job message itself unless the server has an audit channel.
        decide_here = moderated and rules.audit_channel is None
        try:
            message = await interaction.edit_original_response(
                content=None,
                embeds=_embeds(first),
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
        )
        if moderated:
            job = await self._ask_moderators(job, request, rules, decide_here=decide_here)
            await self._audit("awaiting_approval", job, by=job.user_id)
            return job
        await self._audit("submitted", job, by=job.user_id)
        await self.tracker.enqueue(job.id)
        return job

    async def _ask_moderators(
        self, job: Job, request: JobRequest, rules: GuildSettings, *, decide_here: bool
    ) -> Job:
        """Post the approval request in the audit channel, with the full prompt and the images.

        When there is no audit channel, or the bot cannot post there, the Approve and Reject
        buttons sit on the job message itself, so a decision is always possible.
        """
        if not decide_here and rules.audit_channel is not None:
            channel = self.bot.get_partial_messageable(rules.audit_channel, guild_id=job.guild_id)
            try:
                message = await channel.send(
                    content=f"🛂 <@{job.user_id}> asks for a video in <#{job.channel_id}>. "
                    "A member with Manage Messages (or an approver role) can approve or reject it.",
                    embeds=_embeds(self._render(job)),
                    files=[discord.File(io.BytesIO(data), filename=name) for name, data in request.files],
                    view=decision_view(job.id),
                    allowed_mentions=NO_MENTIONS,
                )
                return self.bot.store.update(
                    job.id, approval_channel_id=channel.id, approval_message_id=message.id
                )
            except discord.HTTPException as exc:
                log.warning("job %d: approval request not posted in %s (%s)", job.id, channel.id, exc)
        assert job.message_id is not None
        job = self.bot.store.update(
            job.id, approval_channel_id=job.channel_id, approval_message_id=job.message_id
        )
        if not decide_here:
            await self.show(job)  # adds the buttons to the job message
        return job

    async def _audit(self, event: str, job: Job, *, by: int | None) -> None:
        line = audit.job_line(event, job, by=by, at=time.time(), link=message_link(job))
        await post_audit(self.bot, job.guild_id, line)

    @video.autocomplete("model")
    async def _model_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        offered = self._server_rules(interaction.guild_id).offered_models(self.defaults)
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
            await _refuse_after_defer(interaction, exc.user_message)
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
        model = self._model_for_images(interaction.guild_id, len(images))
        for a in images:
            check_attachment_metadata(
                AttachmentInfo(a.filename, a.size, a.content_type, a.url),
                max_bytes=self.settings.max_image_bytes,
            )
        self._enforce_server_rules(interaction)
        self._check_queue_cap(interaction.user.id)
        await interaction.response.send_modal(PromptModal(self, images, model))

    def _model_for_images(self, guild_id: int | None, count: int) -> str:
        """The server's default model when it takes this many images, else the first offered one that does."""
        rules = self._server_rules(guild_id)
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
        duration = self._server_rules(interaction.guild_id).pick_duration(
            self.settings.durations, self.settings.default_duration
        )
        self._enforce_server_rules(interaction, prompt=text, duration=duration, upsample=False, model=model)
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
        try:
            await self._job_button(interaction, action, job_id)
        except BotError as exc:
            # Component callbacks bypass the tree's error handler; answer the same way it does.
            await reply_privately(interaction, exc.user_message)

    async def _job_button(self, interaction: discord.Interaction, action: str, job_id: int) -> None:
        job = self.bot.store.get(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            raise InputError("This job is not known to the bot.")
        if action == "delete":
            await self._delete(interaction, job)
            return
        if action == "remix":
            rules = self._server_rules(interaction.guild_id)
            if not rules.allow_remix_others and interaction.user.id != job.user_id:
                raise PermissionDenied("This server does not allow remixing other members' videos.")
            self._enforce_server_rules(interaction)
            await interaction.response.send_modal(RemixModal(self, job))
            return
        upsample = job.enable_upsample or action == "upscale"
        if action == "upscale":
            check_upsample(True, job.orientation)
        self._enforce_server_rules(
            interaction, prompt=job.prompt, duration=job.duration, upsample=upsample, model=job.model
        )
        request = JobRequest.like(job, files=await self._reference_files(job), enable_upsample=upsample)
        self._check_queue_cap(interaction.user.id)
        await interaction.response.defer(thinking=True)
        await self.start_job(interaction, request, parent=job, kind=action)

    async def remix(self, interaction: discord.Interaction, parent: Job, prompt: str) -> None:
        text = clean_prompt(prompt, max_length=self.settings.max_prompt_length)
        self._enforce_server_rules(
            interaction,
            prompt=text,
            duration=parent.duration,
            upsample=parent.enable_upsample,
            model=parent.model,
        )
        self._check_queue_cap(interaction.user.id)
        await interaction.response.defer(thinking=True)
        request = JobRequest.like(parent, prompt=text, files=await self._reference_files(parent))
        await self.start_job(interaction, request, parent=parent, kind="remix")

    async def _reference_attachments(self, job: Job) -> list[discord.Attachment]:
        """The reference images attached to the job message, with freshly signed URLs."""
        if not job.images or job.message_id is None:
            return []
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        try:
            message = await channel.fetch_message(job.message_id)
        except discord.HTTPException:
            return []
        return [a for a in message.attachments if a.filename.startswith(REF_PREFIX)]

    async def _reference_files(self, job: Job) -> tuple[tuple[str, bytes], ...]:
        if not job.images:
            return ()
        refs = await self._reference_attachments(job)
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
        await self._audit("deleted", job, by=interaction.user.id)

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
            await self._close_approval(cancelled, outcome)

    # --- approval in moderated channels ----------------------------------------------------------

    async def decide(self, interaction: discord.Interaction, verdict: str, job_id: int) -> None:
        try:
            await self._decide(interaction, verdict, job_id)
        except BotError as exc:
            await reply_privately(interaction, exc.user_message)

    async def _decide(self, interaction: discord.Interaction, verdict: str, job_id: int) -> None:
        job = self.bot.store.get(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            raise InputError("This job is not known to the bot.")
        rules = self._server_rules(interaction.guild_id)
        if not rules.can_approve(
            role_ids=_role_ids(interaction), manage_messages=interaction.permissions.manage_messages
        ):
            raise PermissionDenied(
                "Only members with Manage Messages or one of this server's approver roles can approve "
                "or reject videos."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        me = interaction.user.id
        if verdict == "approve":
            decided = await self.tracker.approve(job_id, by_user=me)
        else:
            decided = await self.tracker.reject(job_id, by_user=me)
        if decided is None:
            current = self.bot.store.get(job_id)
            state = current.state.value.replace("_", " ") if current else "gone"
            await interaction.followup.send(f"Video #{job_id} was already decided ({state}).", ephemeral=True)
            return
        word = "Approved" if verdict == "approve" else "Rejected"
        log.info("job %d: %s by %s", job_id, word.lower(), me)
        await interaction.followup.send(f"{word} video #{job_id}.", ephemeral=True)
        if verdict == "approve":
            await self.show(decided)
        await self._close_approval(decided, f"{'✅' if verdict == 'approve' else '⛔'} {word} by <@{me}>.")
        await self._audit("approved" if verdict == "approve" else "rejected", decided, by=me)

    async def _close_approval(self, job: Job, outcome: str) -> None:
        """Take the buttons off an approval request in the audit channel and say what happened."""
        if job.approval_message_id is None or job.approval_message_id == job.message_id:
            return  # decided on the job message, which the tracker re-renders
        assert job.approval_channel_id is not None
        channel = self.bot.get_partial_messageable(job.approval_channel_id, guild_id=job.guild_id)
        try:
            await channel.get_partial_message(job.approval_message_id).edit(
                content=outcome, view=None, allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException as exc:
            log.warning("job %d: approval request not updated: %s", job.id, exc)

    # --- Presenter (called by the tracker) ---------------------------------------------------

    async def show(self, job: Job) -> None:
        self._throttle(job.id).submit(Edit(self._render(job)))

    def _render(self, job: Job, *, link: str | None = None) -> Render:
        position = self.bot.store.queue_position(job.id) if job.state is JobState.PENDING else None
        parent = self.bot.store.get(job.parent_id) if job.parent_id else None
        return render(job, position=position, link=link, parent=parent)

    async def finish(self, job: Job) -> str | None:
        # The upload limit of a resumed job comes from the guild cache, filled by READY.
        await self.bot.wait_until_ready()
        throttle = self._throttle(job.id)
        if job.state is JobState.SUCCEEDED:
            edit = await self._video_edit(job)
        else:
            edit = Edit(self._render(job), progress=False)
        try:
            await throttle.final(edit)
        finally:
            # A failed final send is retried by the tracker with a fresh throttle.
            self._throttles.pop(job.id, None)
        self._upload_limits.pop(job.id, None)
        self._dead_tokens.discard(job.id)
        if job.state is JobState.FAILED:
            await self._audit("failed", job, by=None)
        elif job.state is JobState.CANCELLED:
            await self._audit("cancelled", job, by=job.cancelled_by)
        return self._modes.pop(job.id, None) if job.state is JobState.SUCCEEDED else None

    async def _video_edit(self, job: Job) -> Edit:
        assert job.video_url is not None
        link = self._render(job, link=job.video_url)
        limit = self._upload_limit(job)
        try:
            data = await download(
                self.bot.session,
                job.video_url,
                max_bytes=min(limit, self.settings.max_video_bytes),
                time_limit=self.settings.video_download_timeout,
            )
        except DownloadError as exc:
            # Too large to upload, or the download failed: the link still plays inline.
            log.info("job %d: linking the video instead of uploading (%s)", job.id, exc)
            return Edit(link, progress=False)
        return Edit(self._render(job), video=data, link_render=link, progress=False)

    def _upload_limit(self, job: Job) -> int:
        if job.id in self._upload_limits:
            return self._upload_limits[job.id]
        guild = self.bot.get_guild(job.guild_id) if job.guild_id else None
        return guild.filesize_limit if guild else DEFAULT_UPLOAD_LIMIT

    def _throttle(self, job_id: int) -> EditThrottle[Edit]:
        throttle = self._throttles.get(job_id)
        if throttle is None:
            throttle = EditThrottle(
                lambda edit: self._send(job_id, edit), interval=self.settings.progress_edit_interval
            )
            self._throttles[job_id] = throttle
        return throttle

    async def _send(self, job_id: int, edit: Edit) -> None:
        job = self.bot.store.get(job_id)
        if job is None:
            return
        if edit.progress and (job.state.final or job.notified_at is not None):
            return  # a progress render that lost the race with the final one
        if edit.progress and job.message_id is None:
            return  # the command is still posting the message; only a final edit posts anew
        cancellable = edit.render.cancellable and not job.state.final
        decidable = job.state is JobState.AWAITING_APPROVAL and job.approval_message_id == job.message_id
        view = job_view(job.id, cancellable=cancellable, decidable=decidable)
        if not edit.progress:
            view = finished_view(job)
        kwargs: dict[str, Any] = {
            "content": edit.render.content or None,
            "embeds": _embeds(edit.render),
            "view": view,
            "allowed_mentions": NO_MENTIONS,
        }
        refs: list[Any] = await self._reference_attachments(job) if not edit.progress else []
        if edit.video is None:
            if not edit.progress:
                kwargs["attachments"] = refs
            shown = await self._edit_message(job, **kwargs)
            if not edit.progress:
                self._modes[job.id] = "link" if shown else "undeliverable"
            return
        kwargs["attachments"] = [*refs, discord.File(io.BytesIO(edit.video), filename=f"video-{job.id}.mp4")]
        try:
            shown = await self._edit_message(job, **kwargs)
            self._modes[job.id] = "upload" if shown else "undeliverable"
        except discord.HTTPException as exc:
            if exc.status != 413 and exc.code != UPLOAD_TOO_LARGE:
                raise
            log.info("job %d: upload refused as too large; posting the link", job.id)
            assert edit.link_render is not None
            kwargs.update(content=edit.link_render.content, attachments=refs)
            shown = await self._edit_message(job, **kwargs)
            self._modes[job.id] = "link" if shown else "undeliverable"

    async def _edit_message(self, job: Job, **kwargs: Any) -> bool:
        """Edit the job message: through the interaction token while it lasts, then as the bot.

        Returns False when the message cannot be shown at all (channel deleted, no permission):
        the job still ends, with its result recorded, instead of retrying forever.
        """
        if job.message_id is None:
            return await self._repost(job, kwargs)
        if self._token_usable(job):
            assert job.interaction_token and job.application_id
            webhook = discord.Webhook.partial(job.application_id, job.interaction_token, client=self.bot)
            try:
                await webhook.edit_message(job.message_id, **kwargs)
                return True
            except discord.HTTPException as exc:
                if exc.status == 401 or exc.code == INVALID_WEBHOOK_TOKEN:
                    log.info("job %d: interaction token expired; editing through the channel", job.id)
                    self._dead_tokens.add(job.id)
                elif exc.status != 404:
                    raise
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        try:
            await channel.get_partial_message(job.message_id).edit(**kwargs)
            return True
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_MESSAGE:
                log.warning("job %d: channel %s is gone; the result stays recorded", job.id, job.channel_id)
                return False
            log.info("job %d: job message was deleted; posting a new one", job.id)
            return await self._repost(job, kwargs)
        except discord.Forbidden:
            log.warning(
                "job %d: no permission to edit in channel %s; result recorded", job.id, job.channel_id
            )
            return False

    async def _repost(self, job: Job, kwargs: dict[str, Any]) -> bool:
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        send_kwargs = dict(kwargs)
        files = send_kwargs.pop("attachments", None)
        if files:
            send_kwargs["files"] = files
        if send_kwargs.get("view") is None:
            send_kwargs.pop("view", None)
        try:
            message = await channel.send(**send_kwargs)
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning(
                "job %d: cannot post in channel %s (%s); result recorded", job.id, job.channel_id, exc
            )
            return False
        self.bot.store.update(job.id, message_id=message.id)
        return True

    def _token_usable(self, job: Job) -> bool:
        if job.id in self._dead_tokens or not job.interaction_token or not job.token_issued_at:
            return False
        return time.time() - job.token_issued_at < self.settings.interaction_token_ttl


class RemixModal(discord.ui.Modal, title="Remix this video"):
    """The parent's prompt, prefilled, to change before sending a new job with its settings."""

    def __init__(self, cog: VideoCog, parent: Job) -> None:
        super().__init__(custom_id=f"video:remix-modal:{parent.id}", timeout=900)
        self.cog = cog
        self.parent = parent
        self.prompt: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
            label="Prompt",
            style=discord.TextStyle.paragraph,
            default=parent.prompt[:4000],
            max_length=min(4000, cog.settings.max_prompt_length),
            custom_id="prompt",
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.remix(interaction, self.parent, self.prompt.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await _modal_error(interaction, error)


class PromptModal(discord.ui.Modal, title="Make a video from these images"):
    def __init__(self, cog: VideoCog, images: list[discord.Attachment], model: str) -> None:
        super().__init__(timeout=900)
        self.cog = cog
        self.images = images
        self.model = model
        self.prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label="Prompt",
            style=discord.TextStyle.paragraph,
            placeholder="What should happen in the video?",
            max_length=min(4000, cog.settings.max_prompt_length),
            custom_id="prompt",
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.make_video(interaction, self.images, self.model, self.prompt.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await _modal_error(interaction, error)


async def _modal_error(interaction: discord.Interaction, error: Exception) -> None:
    if isinstance(error, BotError):
        await reply_privately(interaction, error.user_message)
        return
    log.error("a modal failed", exc_info=error)
    await reply_privately(interaction, "Something went wrong on the bot's side; it has been logged.")


async def _refuse_after_defer(interaction: discord.Interaction, text: str) -> None:
    """The deferred reply is public; replace it with a private explanation."""
    with contextlib.suppress(discord.HTTPException):
        await interaction.delete_original_response()
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def _role_ids(interaction: discord.Interaction) -> set[int]:
    return {r.id for r in getattr(interaction.user, "roles", [])}


def _embeds(r: Render) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in r.embeds]

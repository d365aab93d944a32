"""The job message: how a job is shown in Discord as it moves (the tracker's `Presenter`).

Every edit goes through one `EditThrottle` per job, so progress edits are spaced and the final
edit always wins, and each request first takes a slot of its Discord rate-limit bucket from the
bot's one `Budgets` (`bot.pacing.budgets`): final results first, then the notification, then
queue positions, then progress, which is dropped when superseded or when its channel is saturated;
no bucket overdrawn. Edits use the interaction token while it lasts, then the bot's own channel
routes (`cogs.video.routes`); a deleted message is posted again, a deleted channel ends the job
with its result kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import discord

from bot.errors import LinkOnly
from bot.jobs import estimate
from bot.jobs.delivery import SHOWN
from bot.jobs.model import Job, JobState
from bot.pacing.budgets import FINAL, PING, PROGRESS, Budgets
from bot.pacing.throttle import EditThrottle
from bot.relay.download import download
from bot.rules import quota
from bot.rules.guild_settings import Defaults
from cogs.common.audit import audit_job
from cogs.video.inputs import reference_attachments
from cogs.video.notices import NO_MENTIONS, embeds, followup, notify, tell_member
from cogs.video.render import Render, render
from cogs.video.routes import JobMessageRoutes
from cogs.video.sender import uploads
from cogs.video.views import finished_view, job_view

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # Discord's limit for servers without boosts (and DMs)
UPLOAD_TOO_LARGE = 40005
# Progress edits a second, all job messages together, before each message's progress is shown
# less often than PROGRESS_EDIT_INTERVAL: in a burst of a thousand jobs every progress edit
# costs a render and a request, and members gain little from seeing 25 % then 50 % while the
# results, which never wait for this, keep arriving.
PROGRESS_EDITS_PER_SECOND = 20.0


@dataclass(frozen=True)
class Edit:
    """One edit of a job message: what it shows, and the video file on the final one."""

    render: Render
    video: bytes | None = None
    link: str | None = None  # the video's URL, shown instead when the upload is refused
    progress: bool = True


class Progress(Edit):
    """A progress edit rendered only when the throttle gets to it (its `prepare` step,
    `JobMessages._prepare`), from the job as it is then: in a burst most are superseded by a
    newer state (or by the result) before their turn, and would be rendered for nothing. Until
    then it has only its job's id."""

    job_id: int

    def __init__(self, job_id: int) -> None:
        object.__setattr__(self, "job_id", job_id)  # (frozen, as Edit is)


class Figures(Protocol):
    """What a job message shows besides the job: its place in the queue, how long its model
    usually takes. The tracker knows both in memory; the store can count them."""

    async def queue_position(self, job_id: int) -> int: ...
    async def typical_duration(self, model: str) -> float | None: ...


class JobMessages(JobMessageRoutes):
    def __init__(self, bot: VideoBot, figures: Figures | None = None) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.defaults = Defaults.from_settings(bot.settings)
        self._throttles: dict[int, EditThrottle[Edit]] = {}
        self._dead_tokens: set[int] = set()  # jobs whose token Discord refused before its time
        self._unsure_reposts: set[int] = set()  # jobs whose last repost got no answer
        self._upload_limits: dict[int, int] = {}
        # The bot's one pacing of what it sends (its own, for a bot built without it).
        self.budgets: Budgets = getattr(bot, "budgets", None) or Budgets()
        # Queue positions and a model's typical duration (for the estimate): the tracker's
        # in-memory figures; the store counts the same where there is no tracker.
        self.figures: Figures = figures or bot.store

    def remember_upload_limit(self, job_id: int, limit: int) -> None:
        """The interaction's own upload limit, known only while its command runs."""
        self._upload_limits[job_id] = limit

    async def aclose(self) -> None:
        for throttle in self._throttles.values():
            await throttle.aclose()

    async def show(self, job_id: int) -> None:
        (await self._throttle(job_id)).submit(Progress(job_id))

    async def _prepare(self, edit: Edit) -> Edit:
        """A progress edit's render, from the job as stored when the throttle gets to it."""
        if isinstance(edit, Progress):
            return Edit(await self.render(await self.bot.store.require(edit.job_id)))
        return edit

    async def render(self, job: Job, *, link: str | None = None) -> Render:
        """The job message: what it shows besides the job (its place in the queue, the job it
        was built on, how long its model usually takes, the quota left) is read first, then
        the message is made from it (`cogs.video.render`, pure)."""
        position = None
        if job.state is JobState.PENDING:
            position = await self.figures.queue_position(job.id)
        parent = await self.bot.store.get(job.parent_id) if job.parent_id else None
        typical = None
        if job.submitted_at and not job.state.final:
            typical = await self.figures.typical_duration(job.model)
        footer = await self._quota_left(job)
        return render(
            job,
            position=position,
            link=link,
            parent=parent,
            ready_at=estimate.ready_at(job, typical, time.time()),
            footer=footer,
            locale=job.locale,
        )

    async def _quota_left(self, job: Job) -> str | None:
        """The requester's quota left today: the server's where it added the bot, the owner's
        user quota anywhere else (DMs, user installs)."""
        if job.scope != "guild":
            daily = self.settings.user_daily_quota
            used, _last = await self.bot.store.user_scope_usage(
                job.user_id, quota.day_start(time.time(), quota.USER_ZONE)
            )
            return quota.left_today(used, daily, job.locale)
        if job.guild_id is None:
            return None
        limits = (await self.bot.store.guild_rules(job.guild_id)).limits(self.defaults)
        if not limits.member_daily:
            return None
        since = quota.day_start(time.time(), limits.timezone)
        used, _server = await self.bot.store.quota_usage(
            guild_id=job.guild_id, user_id=job.user_id, since=since
        )
        return quota.left_today(used, limits.member_daily, job.locale)

    async def finish(self, job: Job) -> str | None:
        # The upload limit of a resumed job comes from the guild cache, filled by READY.
        await self.bot.wait_until_ready()
        throttle = await self._throttle(job.id)
        if job.state is JobState.SUCCEEDED:
            edit = await self._video_edit(job)
        else:
            edit = Edit(await self.render(job), progress=False)
        try:
            mode: str | None = await throttle.final(edit)
        finally:
            # A failed final send is retried by the tracker with a fresh throttle.
            self._throttles.pop(job.id, None)
            self.budgets.vacate(job.id)  # its final no longer needs its channel's edits
            self.budgets.forget(f"webhook:{job.id}")
        if mode == "undeliverable":
            shown = await self.render(job, link=edit.link) if edit.link else edit.render
            mode = await tell_member(self.bot, job, shown, token_usable=self._token_usable(job))
        elif job.state not in (JobState.CANCELLED, JobState.SUCCEEDED):
            # Edits never notify anyone: a job that ended gets one new message for its requester
            # (for a video, `announce`, once the tracker has recorded the delivery).
            await notify(self.bot, job, token_usable=self._token_usable(job))
        self._upload_limits.pop(job.id, None)
        if not (job.state is JobState.SUCCEEDED and mode in SHOWN):
            self._dead_tokens.discard(job.id)  # else `announce` still needs to know
        self._unsure_reposts.discard(job.id)
        if job.state is JobState.FAILED:
            await audit_job(self.bot, "failed", job, by=None)
        elif job.state is JobState.CANCELLED:
            await audit_job(self.bot, "cancelled", job, by=job.cancelled_by)
        return mode if job.state is JobState.SUCCEEDED else None

    async def announce(self, job: Job) -> None:
        try:
            await notify(self.bot, job, token_usable=self._token_usable(job))
        finally:
            self._dead_tokens.discard(job.id)

    async def _video_edit(self, job: Job) -> Edit:
        assert job.video_url is not None
        limit = self._upload_limit(job)
        try:
            data = await download(
                self.bot.session,
                job.video_url,
                max_bytes=min(limit, self.settings.max_video_bytes),
                time_limit=self.settings.video_download_timeout,
            )
        except LinkOnly as exc:
            # Too large to upload, or too slow to fetch: the link still plays inline. (A dead
            # link raises on, and the tracker fails the job with the reason.)
            log.info("job %d: linking the video instead of uploading (%s)", job.id, exc)
            return Edit(await self.render(job, link=job.video_url), progress=False)
        # The link version is rendered only if the upload is refused (rarely).
        return Edit(await self.render(job), video=data, link=job.video_url, progress=False)

    async def delete_job_message(self, job: Job) -> bool:
        """Delete a job's message: through the channel, or (where the bot is only
        user-installed) through the interaction's webhook while its token lives. False when
        it cannot be reached any more."""
        if job.message_id is None:
            return True
        try:
            if self._token_usable(job):
                await followup(self.bot, job).delete_message(job.message_id)
            elif job.scope == "user":
                return False
            else:
                channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
                await channel.get_partial_message(job.message_id).delete()
        except discord.NotFound:
            pass  # already gone
        return True

    def _upload_limit(self, job: Job) -> int:
        if job.id in self._upload_limits:
            return self._upload_limits[job.id]
        guild = self.bot.get_guild(job.guild_id) if job.guild_id else None
        return guild.filesize_limit if guild else DEFAULT_UPLOAD_LIMIT

    async def _throttle(self, job_id: int) -> EditThrottle[Edit]:
        throttle = self._throttles.get(job_id)
        if throttle is None:
            throttle = EditThrottle(
                lambda edit: self._send(job_id, edit),
                interval=self.settings.progress_edit_interval,
                settle=True,
                stretch=self._progress_interval,
                prepare=self._prepare,
            )
            # Kept before the read below: a second show meanwhile finds it, not a throttle of its own.
            self._throttles[job_id] = throttle
            job = await self.bot.store.get(job_id)
            if job is not None and job.scope != "user" and self._throttles.get(job_id) is throttle:
                # Its final may need a slot of its channel's edit bucket (once its token is too
                # old): how the bucket knows its channel is saturated (bot.pacing.budgets).
                self.budgets.occupy(f"edit:{job.channel_id}", job_id)
        return throttle

    def _progress_interval(self) -> float:
        """How often one message's progress may be shown for the edit rate to stay within
        PROGRESS_EDITS_PER_SECOND, with this many job messages being shown."""
        return len(self._throttles) / PROGRESS_EDITS_PER_SECOND

    async def _send(self, job_id: int, edit: Edit) -> str | None:
        """Edit the job message; for a final edit, say how the result was shown: "upload",
        "link", or "undeliverable" (the message could not be shown at all)."""
        job = await self.bot.store.get(job_id)
        if job is None:
            return None
        over = job.state.final or job.state is JobState.SUCCEEDED
        if edit.progress and (over or job.notified_at is not None):
            # A progress render that lost the race with the final one: once the video is
            # there, only the final edit (video and buttons) shows it, never a bare "Done".
            return None
        if edit.progress and job.message_id is None:
            return None  # the command is still posting the message; only a final edit posts anew
        cancellable = edit.render.cancellable and not job.state.final
        if edit.progress:
            decidable = job.state is JobState.AWAITING_APPROVAL and job.approval_message_id == job.message_id
            view = job_view(job.id, cancellable=cancellable, decidable=decidable, locale=job.locale)
        else:
            view = finished_view(job)
        kwargs: dict[str, Any] = {
            "content": edit.render.content or None,
            "embeds": embeds(edit.render),
            "view": view,
            "allowed_mentions": NO_MENTIONS,
        }
        refs: list[Any] = []
        if not edit.progress:  # the reference images stay attached next to the result
            webhook = followup(self.bot, job) if self._token_usable(job) else None
            refs = await reference_attachments(self.bot, job, webhook)
        if edit.video is None:
            if not edit.progress:
                kwargs["attachments"] = refs
            shown = await self._edit_message(job, progress=edit.progress, **kwargs)
            return "link" if shown else "undeliverable"
        with uploads([(f"video-{job.id}.mp4", edit.video)]) as video:
            try:
                shown = await self._edit_message(job, progress=False, **kwargs, attachments=[*refs, *video])
                return "upload" if shown else "undeliverable"
            except discord.HTTPException as exc:
                if exc.status != 413 and exc.code != UPLOAD_TOO_LARGE:
                    raise
        log.info("job %d: upload refused as too large; posting the link", job.id)
        assert edit.link is not None
        kwargs.update(content=(await self.render(job, link=edit.link)).content, attachments=refs)
        shown = await self._edit_message(job, progress=False, **kwargs)
        return "link" if shown else "undeliverable"

    def _pacing(self, job: Job, progress: bool) -> tuple[int, Callable[[], bool]]:
        """How an edit of this job's message is paced: the final first; a waiting job's queue
        position (or approval state) before other progress; progress given up when a newer
        render of this message arrived meanwhile."""
        if not progress:
            return FINAL, lambda: True
        throttle = self._throttles.get(job.id)
        waiting = job.state in (JobState.PENDING, JobState.AWAITING_APPROVAL)
        return (PING if waiting else PROGRESS), (lambda: throttle is None or not throttle.superseded())

    async def _slot(self, job: Job, progress: bool, *buckets: str) -> None:
        """A request slot in each of `buckets` (`bot.pacing.budgets`), for the routes discord.py's
        HTTP client does not carry (interaction webhooks); raises `Superseded` for progress that
        a newer render replaced meanwhile."""
        priority, wanted = self._pacing(job, progress)
        await self.budgets.take(buckets, priority=priority, wanted=wanted)

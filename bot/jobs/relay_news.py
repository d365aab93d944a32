"""What the relay says of a job, applied: a poll, its failure, and the job moved by the answer.

Part of `JobTracker` (a mixin, as the store's reads are): the tracker is still the only code that
moves a job between states; this is the half that listens to the relay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.errors import RateLimited, VideoAPIError
from bot.jobs.model import ACTIVE_UPSTREAM, Job, JobState
from bot.jobs.polling import DurationCache, Timing, poll_delay, poll_news
from bot.jobs.presenter import Presenter
from bot.jobs.relay_limits import Aimd
from bot.jobs.relay_queue import RelayQueue
from bot.jobs.schedule import Schedule
from bot.log import job_fields
from bot.relay.client import RelayClient
from bot.relay.task_status import TaskState, TaskStatus, classify_failure, explain_failure
from bot.storage.interface import JobStore
from bot.texts.i18n import Message, Text

log = logging.getLogger(__name__)


class RelayNews:
    # The tracker's (bot.jobs.tracker.JobTracker), which this is part of.
    store: JobStore
    api: RelayClient
    presenter: Presenter
    timing: Timing
    clock: Callable[[], float]
    durations: DurationCache
    _schedule: Schedule
    _queue: RelayQueue
    _poll_rate: Aimd

    def schedule(self, job_id: int, delay: float) -> None:
        raise NotImplementedError

    async def _fail(self, job: Job, reason: Message, failure: str) -> Job:
        raise NotImplementedError

    async def _finish(self, job: Job) -> None:
        raise NotImplementedError

    async def _poll(self, job: Job) -> Job | None:
        """The job after asking the relay (None when the poll failed)."""
        now = self.clock()
        assert job.task_id is not None
        try:
            status = await self.api.query(job.task_id)
        except VideoAPIError as exc:
            await self._poll_failed(job, exc, now)
            return None
        if self._poll_rate.lowered:  # the relay answers again: back up, one a second per poll
            self._poll_rate.succeeded()
            self._schedule.rate = self._poll_rate.value
        return await self._apply(job, status, polled_at=now)

    async def _poll_failed(self, job: Job, exc: VideoAPIError, now: float) -> None:
        failures = job.poll_failures + 1
        job = await self.store.update(job.id, last_poll_at=now, poll_failures=failures)
        last_ok = job.last_poll_ok_at or job.submitted_at or job.created_at
        if isinstance(exc, RateLimited):
            pause = exc.retry_after if exc.retry_after is not None else self.timing.poll_interval * 2
            self._schedule.pause_until(now + pause)
            # And fewer polls a second after the pause, while the relay keeps refusing.
            self._poll_rate.refused()
            self._schedule.rate = self._poll_rate.value
            log.warning(
                "video API rate limited; pausing polls for %.1fs, then %.0f a second",
                pause,
                self._poll_rate.value,
            )
        if now - last_ok > self.timing.failure_deadline:
            reason = Text(
                "The video service has not answered about this job for {minutes} minutes (last error: "
                "{error}). The bot stopped waiting; the video may still finish upstream.",
                minutes=round(self.timing.failure_deadline / 60),
                error=exc.text,
            )
            await self._fail(job, reason, "timeout")
            return
        log.warning("job %d: poll failed (%d in a row): %s", job.id, failures, exc, extra=job_fields(job))
        backoff = self.timing.poll_interval * 2 ** min(failures, 6)
        self.schedule(job.id, self._schedule.jitter(min(backoff, self.timing.poll_max_interval)))

    async def _apply(self, job: Job, status: TaskStatus, *, polled_at: float | None = None) -> Job:
        """Record what the relay said, then show it; reschedule or finish. A poll that brings
        no news writes nothing, except its bookkeeping every `poll_record_every` seconds."""
        state = status.state
        news = poll_news(job, status, polled_at, self.timing.poll_record_every)
        if state is TaskState.SUCCEEDED and status.video_url:
            moved = await self.store.transition(
                job.id,
                JobState.SUCCEEDED,
                expect=ACTIVE_UPSTREAM,
                video_url=status.video_url,
                thumbnail_url=status.thumbnail_url,
                enhanced_prompt=status.enhanced_prompt,
                progress=100,
                raw_status=status.raw_status,
            )
            if moved is not None:
                self.durations.forget(moved.model)
                await self._queue.left(moved.id)
                # Delivered by the caller once the poll's slot is free (JobTracker._step): a
                # delivery can wait long on Discord's buckets, and polls must not wait with it.
            return moved or job
        if state is TaskState.FAILED:
            failure = classify_failure(status.failure_reason)
            return await self._fail(job, explain_failure(failure, status.failure_reason), failure)
        if state is TaskState.CANCELLED:
            return await self._fail(job, Text("The video service cancelled this job."), "upstream")
        updated: Job | None = job
        running = state is TaskState.RUNNING or (
            state is TaskState.SUCCEEDED and job.state is JobState.QUEUED
        )
        if running and (news or job.state is not JobState.RUNNING):
            updated = await self.store.transition(job.id, JobState.RUNNING, expect=ACTIVE_UPSTREAM, **news)
        elif news:
            # waiting, unknown words, or "done" without a video yet: keep polling
            updated = await self.store.update(job.id, **news)
        if updated is None:
            return job  # cancelled meanwhile
        age = self.clock() - (updated.submitted_at or updated.created_at)
        if age > self.timing.job_timeout:
            reason = Text(
                "The video service was still working after {minutes} minutes, so the bot stopped "
                "waiting. The video may still finish upstream.",
                minutes=round(self.timing.job_timeout / 60),
            )
            return await self._fail(updated, reason, "timeout")
        if (updated.state, updated.progress, updated.raw_status) != (job.state, job.progress, job.raw_status):
            await self.presenter.show(updated.id)
        self.schedule(job.id, await self._next_poll(updated, age))
        return updated

    async def _next_poll(self, job: Job, age: float) -> float:
        return poll_delay(
            self.timing,
            age=age,
            history=await self.durations.get(job.model),
            progress=job.progress,
            active=len(self._schedule),
            jitter=self._schedule.jitter,
        )

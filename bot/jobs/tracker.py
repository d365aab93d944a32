"""The job life cycle: submit once, poll on one schedule, finish exactly once.

One `JobTracker` owns every unfinished job. It is the only code that moves a job between
states, always writing the store first and telling Discord (through a `Presenter`) second, so
a crash at any point leaves a row the next start can finish from.

When each job is next looked at is `bot.jobs.schedule`'s, how soon `bot.jobs.polling`'s; who goes to
the relay next is `bot.jobs.relay_queue`'s, in memory, rebuilt from the store at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.errors import RateLimited, VideoAPIError
from bot.jobs.delivery import Delivery
from bot.jobs.model import ACTIVE_UPSTREAM, AT_RELAY, CANCELLABLE, NOT_SENT, RELAY_BUSY, Job, JobState
from bot.jobs.owner import EVERYTHING, Ownership
from bot.jobs.polling import DurationCache, Timing
from bot.jobs.presenter import NotStarted, Presenter
from bot.jobs.relay_limits import Aimd, CreateGate, RelayLimits
from bot.jobs.relay_news import RelayNews
from bot.jobs.relay_queue import RelayQueue
from bot.jobs.schedule import Background, Schedule
from bot.log import job_fields
from bot.ops import metrics
from bot.relay.client import RelayClient
from bot.relay.request import request_of
from bot.storage.interface import JobStore
from bot.texts.formatting import inert
from bot.texts.i18n import Message, Text

log = logging.getLogger(__name__)

UNCONFIRMED_REASON = Text(
    "The bot stopped while sending this job to the video service, so it cannot tell whether the "
    "job was accepted. It was not sent again, because that could pay twice: please run /video again."
)

DEFAULT_TIMING = Timing()


class JobTracker(Delivery, RelayNews):
    def __init__(
        self,
        store: JobStore,
        api: RelayClient,
        timing: Timing = DEFAULT_TIMING,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        owner: Ownership = EVERYTHING,
    ) -> None:
        self.store = store
        self.api = api
        # With several processes on one database, this process's jobs are its shards' only:
        # Discord sends the others' buttons and commands elsewhere (bot/jobs/owner.py).
        self.owner = owner
        # Discord's side, handed in by `start` (the presenter reads the tracker's queue positions
        # and durations, so it is built after the tracker); nothing is shown before that.
        self.presenter: Presenter = NotStarted()
        self.timing = timing
        self.clock = clock
        self.rng = rng
        self._schedule = Schedule(clock, rng, rate=timing.polls_cap)
        self.durations = DurationCache(store.typical_duration, clock)
        self._locks: dict[int, asyncio.Lock] = {}
        self._finish_attempts: dict[int, int] = {}
        self._slots = asyncio.Semaphore(timing.concurrency)  # polls at once
        # Deliveries at once, apart from the polls: a busy channel's finals wait on Discord's
        # buckets, and holding poll slots meanwhile left finished jobs unnoticed for seconds.
        self._deliveries = asyncio.Semaphore(timing.concurrency)
        self._background = Background()
        # The relay's own limits: creates paused after a 429 and sent fewer at once, polls
        # slowed (`bot.jobs.relay_limits`).
        self._poll_rate = Aimd(timing.polls_cap)
        self._queue = RelayQueue(
            store,
            max_running=timing.max_running,
            max_per_member=timing.max_running_per_member,
            send=lambda job: self._background.spawn(self._create(job), f"create-{job.id}"),
            show=lambda job: self.presenter.show(job.id),
            clock=clock,
            refresh=timing.queue_refresh,
            gate=CreateGate(timing.max_running, max_pause=timing.busy_max_pause),
        )
        metrics.watch_relay_limits(self.relay_limits)
        self._started_at = 0.0
        self._loop_task: asyncio.Task[None] | None = None
        self._refresh_task: asyncio.Task[None] | None = None

    # --- life of the tracker -------------------------------------------------------------

    async def start(self, presenter: Presenter) -> None:
        """Resume every unfinished job from the store, then run the schedule, showing jobs
        through `presenter`."""
        self.presenter = presenter
        self._started_at = self.clock()
        unfinished = [j for j in await self.store.unfinished() if self.owner.owns(j.guild_id)]
        # Resumed jobs are looked at again spread over the time the poll budget needs for them
        # all, so ten thousand of them do not all query the relay in the first second.
        spread = len(unfinished) / self.timing.polls_per_second
        for job in unfinished:
            if job.state is JobState.SUBMITTING:
                # The create call may or may not have reached the relay; sending it again
                # could bill twice, so the member is asked to retry instead.
                await self.store.transition(
                    job.id,
                    JobState.FAILED,
                    expect=[JobState.SUBMITTING],
                    failure_reason=UNCONFIRMED_REASON,
                    failure_kind="unconfirmed",
                    detail="found unconfirmed at start-up",
                )
                self.schedule(job.id, 0)  # its final message
                continue
            if job.state in AT_RELAY:
                self._queue.at_relay(job)
            elif job.state is JobState.PENDING:
                self._queue.enqueue(job)
            if job.state not in NOT_SENT:
                self.schedule(job.id, self.rng() * spread)
        log.info("tracker started with %d unfinished jobs", len(self._schedule))
        self._loop_task = asyncio.create_task(
            self._schedule.run(lambda job_id: self._background.spawn(self._step(job_id), f"job-{job_id}")),
            name="job-tracker",
        )
        self._refresh_task = asyncio.create_task(self._queue.refresh_positions(), name="queue-positions")
        await self._queue.send_next()

    async def stop(self, grace: float = 3.0) -> None:
        for task in (self._loop_task, self._refresh_task):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        # Each store write is atomic (one transaction, or one statement), so cancelling a step
        # mid-await loses no state: the next start picks the job up where its row says it is.
        self._queue.close()
        await self._background.drain(grace)

    def schedule(self, job_id: int, delay: float) -> None:
        self._schedule.at(job_id, delay)

    # --- member actions ------------------------------------------------------------------

    async def create(self, check: Callable[[], Awaitable[None]] | None = None, **fields: Any) -> Job:
        """Write a new job (waiting, or awaiting approval); `check`, the quota's last word, runs
        in the same transaction. Raises what `check` raises, and then nothing is written."""
        return await self.store.add_job(check=check, **fields)

    async def not_posted(self, job_id: int) -> None:
        """The job's message could not be posted: with nowhere to show it, the job fails before
        anything is sent upstream (and nobody is notified of a message nobody saw)."""
        await self.store.transition(
            job_id,
            JobState.FAILED,
            failure_reason=Text("The job message could not be posted."),
            failure_kind="discord",
            expect=NOT_SENT,
        )
        await self.store.mark_notified(job_id)

    async def enqueue(self, job: Job | None = None) -> None:
        """Queue `job` (its message is posted, or a moderator approved it), then move waiting
        jobs to the relay, first come first served, within the global and per-member limits.

        Without a job, any waiting row of the store not queued yet is picked up (tools and
        tests that write rows directly). The create call itself runs in the background, after
        the job is marked as being sent (PENDING -> SUBMITTING) durably in the store: a crash
        from then on is treated as "may have been billed" and never resubmitted."""
        if job is not None:
            self._queue.enqueue(job)
        else:
            for waiting in await self.store.waiting():
                # A job without a message, made since this start, is still being posted.
                if not self.owner.owns(waiting.guild_id):
                    continue
                if waiting.message_id is not None or waiting.created_at < self._started_at:
                    self._queue.enqueue(waiting)
        await self._queue.send_next()

    async def typical_duration(self, model: str) -> float | None:
        """How long `model` usually takes (remembered; the store's figure at most a minute old)."""
        return await self.durations.get(model)

    async def queue_position(self, job_id: int) -> int:
        """1 for the next waiting job to be sent (see `Admission.position`)."""
        return self._queue.position(job_id)

    async def _create(self, job: Job) -> Job:
        try:
            status = await self.api.create(request_of(job))
        except RateLimited as exc:
            # A 429 proves nothing was created: the job waits again, never failed for it.
            return await self._refused(job, exc)
        except VideoAPIError as exc:
            await self._queue.landed(accepted=False)
            return await self._fail_submit(job, exc)
        await self._queue.landed(accepted=True)
        moved = await self.store.transition(
            job.id,
            JobState.QUEUED,
            expect=[JobState.SUBMITTING],
            task_id=status.task_id,
            raw_status=status.raw_status,
            progress=status.progress,
            detail=f"created upstream as {status.task_id}",
        )
        if moved is None:
            # Cancelled while the create call was in flight. The task exists upstream (and is
            # billed), so keep its id on the row for the record.
            return await self.store.update(job.id, task_id=status.task_id)
        log.info("job %d created upstream as %s", job.id, status.task_id, extra=job_fields(moved))
        await self.presenter.show(moved.id)
        applied = await self._apply(moved, status)
        if applied.state is JobState.SUCCEEDED:
            self.schedule(applied.id, 0)  # done at once: delivered by its next step
        return applied

    async def _refused(self, job: Job, exc: RateLimited) -> Job:
        """The relay refused the create (429): pause every create, and put the job back in
        the queue, shown as waiting for a busy service. It fails only when the relay has
        refused every create for `busy_deadline` seconds."""
        now = self.clock()
        pause = self._queue.gate.refused(now, exc.retry_after)
        if self._queue.gate.busy_for(now) >= self.timing.busy_deadline:
            minutes = round(self.timing.busy_deadline / 60)
            reason = Text(
                "The video service was too busy to take this job for {minutes} minutes, so the bot "
                "stopped trying. Nothing was created, so nothing was billed: please try again later.",
                minutes=minutes,
            )
            log.warning("job %d: the relay refused it for %d minutes; failing it", job.id, minutes)
            return await self._fail(job, reason, "busy")
        moved = await self.store.transition(
            job.id,
            JobState.PENDING,
            expect=[JobState.SUBMITTING],
            raw_status=RELAY_BUSY,
            submitted_at=None,  # not at the relay: no estimate of when it is ready
            detail="refused by the relay (429); waiting to be sent again",
        )
        if moved is None:
            return await self.store.get(job.id) or job  # cancelled while the call was out
        log.info(
            "job %d: the relay is busy (429); creates paused %.1fs, up to %d at once",
            job.id,
            pause,
            self._queue.gate.limit.value,
            extra=job_fields(moved),
        )
        await self._queue.refused(moved)
        await self.presenter.show(moved.id)
        return moved

    def relay_limits(self) -> RelayLimits:
        """How hard the bot presses the relay now (for /video-queue and the metrics)."""
        return RelayLimits.of(self._queue.gate, self._poll_rate, self.clock())

    async def cancel(self, job_id: int, *, by_user: int) -> Job | None:
        """Stop tracking a job. None when it had already finished."""
        job = await self.store.transition(
            job_id,
            JobState.CANCELLED,
            expect=CANCELLABLE,
            cancelled_by=by_user,
            detail=f"cancelled by {by_user}",
        )
        if job is not None:
            self._schedule.drop(job_id)
            await self._queue.left(job_id)
            await self._finish(job)
        return job

    async def approve(self, job_id: int, *, by_user: int) -> Job | None:
        """A moderator approved: the job joins the queue. None when it was no longer waiting."""
        job = await self.store.transition(
            job_id,
            JobState.PENDING,
            expect=[JobState.AWAITING_APPROVAL],
            decided_by=by_user,
            decided_at=self.clock(),
            detail=f"approved by {by_user}",
        )
        if job is not None:
            await self.enqueue(job)
            # Sent at once, or still waiting for a slot: either way no longer "awaiting approval".
            await self.presenter.show(job_id)
        return job

    async def reject(self, job_id: int, *, by_user: int) -> Job | None:
        """A moderator rejected: nothing is sent, the job ends. None when it was no longer waiting."""
        job = await self.store.transition(
            job_id,
            JobState.REJECTED,
            expect=[JobState.AWAITING_APPROVAL],
            decided_by=by_user,
            detail=f"rejected by {by_user}",
        )
        if job is not None:
            await self._finish(job)
        return job

    # --- the schedule -------------------------------------------------------------------------

    async def _step(self, job_id: int) -> None:
        try:
            async with self._lock(job_id):
                job = await self.store.get(job_id)
                if job is not None and job.state in ACTIVE_UPSTREAM:
                    async with self._slots:
                        await self._poll(job)
                    # As stored now: a failure the poll met was finished (and announced) there.
                    job = await self.store.get(job_id)
                if job is not None and job.state is JobState.DELIVERED and job.notified_at is None:
                    # Delivered, but the process stopped before its requester was told.
                    await self._announce(job)
                elif job is not None and (
                    job.state is JobState.SUCCEEDED or (job.state.final and job.notified_at is None)
                ):
                    async with self._deliveries:
                        await self._finish(job)
        except Exception:
            # A bug in one job must not stop the others; retry it later rather than drop it.
            log.exception("job %d: step failed; retrying later", job_id, extra={"job_id": job_id})
            self.schedule(job_id, self.timing.poll_max_interval)

    async def _fail(self, job: Job, reason: Message, failure: str) -> Job:
        moved = await self.store.transition(
            job.id,
            JobState.FAILED,
            expect=(*CANCELLABLE, JobState.SUCCEEDED),
            failure_reason=reason,
            failure_kind=failure,
        )
        if moved is None:
            return job
        log.info("job %d failed (%s)", job.id, failure, extra=job_fields(moved))
        await self._queue.left(moved.id)
        await self._finish(moved)
        return moved

    async def _fail_submit(self, job: Job, exc: VideoAPIError) -> Job:
        reason = exc.text
        if exc.failure_kind == "bad_parameters" and str(exc) and str(exc) != exc.user_message:
            reason = Text("{message} It said: {detail}", message=exc.text, detail=inert(str(exc)[:300]))
        if exc.failure_kind != "unconfirmed":
            reason = Text("{reason} Nothing was created, so nothing was billed.", reason=reason)
        log.warning("job %d: create failed (%s): %s", job.id, exc.failure_kind, exc, extra=job_fields(job))
        return await self._fail(job, reason, exc.failure_kind)

    # --- helpers -----------------------------------------------------------------------------

    def _lock(self, job_id: int) -> asyncio.Lock:
        return self._locks.setdefault(job_id, asyncio.Lock())

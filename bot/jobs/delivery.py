"""A job's end, shown: its final message written once (retried with backoff while Discord
fails), the delivery recorded, and the requester told apart from it.

Part of `JobTracker` (a mixin, as `bot.jobs.relay_news` is): the tracker is still the only code
that moves a job between states; this is the half that ends a job in Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.errors import DeadLink
from bot.jobs.model import Job, JobState
from bot.jobs.polling import Timing
from bot.jobs.presenter import Presenter
from bot.jobs.relay_queue import RelayQueue
from bot.jobs.schedule import Background
from bot.log import job_fields
from bot.ops import metrics
from bot.storage.interface import JobStore
from bot.texts.i18n import Message

log = logging.getLogger(__name__)

# How `Presenter.finish` says the video is in the job message (then announced apart).
SHOWN = frozenset({"upload", "link"})


class Delivery:
    # The tracker's (bot.jobs.tracker.JobTracker), which this is part of.
    store: JobStore
    presenter: Presenter
    timing: Timing
    clock: Callable[[], float]
    _background: Background
    _queue: RelayQueue
    _locks: dict[int, asyncio.Lock]
    _finish_attempts: dict[int, int]

    def schedule(self, job_id: int, delay: float) -> None:
        raise NotImplementedError

    async def _fail(self, job: Job, reason: Message, failure: str) -> Job:
        raise NotImplementedError

    async def _finish(self, job: Job) -> None:
        """Write the final message once; retry with backoff when Discord fails."""
        try:
            mode = await self.presenter.finish(job)
        except DeadLink as exc:
            log.warning("job %d: the video link is dead: %s", job.id, exc)
            await self._fail(job, exc.text, "dead_link")
            return
        except Exception as exc:
            self._retry_later(job, "final message", exc)
            return
        self._finish_attempts.pop(job.id, None)
        now, delivered = self.clock(), None
        if job.state is JobState.SUCCEEDED:
            # A video shown in the job message is announced apart, after this write (`_announce`):
            # done inside the delivery, each notification (a message create, paced per channel)
            # kept the next final waiting for a delivery slot. Shown another way, the member was
            # told already.
            shown = mode in SHOWN
            done: dict[str, Any] = {"delivery_mode": mode, "notified_at": None if shown else now}
            if not shown:
                done["interaction_token"] = None
            delivered = await self.store.transition(
                job.id, JobState.DELIVERED, expect=[JobState.SUCCEEDED], **done
            )
            metrics.delivered(delivered)
            if delivered is not None:
                # The end of a job's story in the log, as its start and failures are.
                after = now - (delivered.succeeded_at or now)
                log.info(
                    "job %d delivered (%s) %.1fs after the relay finished",
                    job.id,
                    mode,
                    after,
                    extra=job_fields(delivered),
                )
            if delivered is not None and shown:
                # The job as it was, with its interaction token: the notification may use it.
                self._background.spawn(self._announce(job), f"announce-{job.id}")
        if delivered is None:
            await self.store.mark_notified(job.id, now=now)
        self._locks.pop(job.id, None)
        await self._queue.left(job.id)

    async def _announce(self, job: Job) -> None:
        """Tell the requester their video is there, then record that they were told (a stop in
        between tells them at the next start; the notification's nonce keeps Discord from
        showing it twice)."""
        try:
            await self.presenter.announce(job)
        except Exception as exc:
            self._retry_later(job, "notification", exc)  # back through `_step`, as delivered
            return
        self._finish_attempts.pop(job.id, None)
        self._locks.pop(job.id, None)  # taken again by `_step` when told after a restart
        await self.store.mark_notified(job.id)

    def _retry_later(self, job: Job, what: str, exc: Exception) -> None:
        """Discord failed (not refused: those are handled where they happen): try again later,
        backing off."""
        attempts = self._finish_attempts.get(job.id, 0) + 1
        self._finish_attempts[job.id] = attempts
        delay = min(self.timing.finish_retry_max, self.timing.poll_interval * 2**attempts)
        log.error(
            "job %d: %s failed (attempt %d); retrying in %.0fs",
            job.id,
            what,
            attempts,
            delay,
            exc_info=exc,
            extra=job_fields(job),
        )
        self.schedule(job.id, delay)

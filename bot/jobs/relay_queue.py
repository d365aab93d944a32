"""The queue in front of the relay: `Admission` (in memory) plus the store writes and the
position display around it.

Jobs join when their message is posted (or a moderator approves them) and leave when sent,
cancelled or failed; every join and leave is O(log n). A job chosen to be sent is written as
SUBMITTING, durably, in one transaction with the others chosen with it, before `send` starts
its create call. Waiting jobs are shown their position coarsely: every `refresh` seconds at
most, and only when it fell to two thirds of what their message shows or reached the front
three, so a long queue costs a few edits per job rather than one per job per departure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.jobs.admission import Admission
from bot.jobs.model import Job, JobState
from bot.storage.store import Store

log = logging.getLogger(__name__)


def position_worth_showing(shown: int, now: int) -> bool:
    """Whether a waiting job's displayed position is stale enough for an edit."""
    return now != shown and (now <= 3 or now <= shown * 2 // 3)


class RelayQueue:
    def __init__(
        self,
        store: Store,
        *,
        max_running: int,
        max_per_member: int,
        send: Callable[[Job], None],
        show: Callable[[Job], Awaitable[None]],
        clock: Callable[[], float],
        refresh: float,
    ) -> None:
        self.store = store
        self.admission = Admission(max_running, max_per_member)
        self._send = send
        self._show = show
        self._clock = clock
        self.refresh = refresh
        self._shown: dict[int, int] = {}  # waiting job -> the position its message shows
        self._moved = False

    def position(self, job_id: int) -> int:
        """1 for the next waiting job to be sent (see `Admission.position`)."""
        return self.admission.position(job_id)

    def at_relay(self, job: Job) -> None:
        """A job found at the relay (start-up): it holds a slot until it leaves."""
        self.admission.started(job.id, job.user_id)

    def enqueue(self, job: Job) -> None:
        if job.state is JobState.PENDING:
            self.admission.enqueue(job.id, job.user_id)
            self._shown[job.id] = self.admission.position(job.id)

    def left(self, job_id: int) -> None:
        """A job is no longer waiting or at the relay: free its place, let the next one in."""
        self.admission.remove(job_id)
        self._shown.pop(job_id, None)
        self.admission.release(job_id)
        self.send_next()

    def send_next(self) -> None:
        """Send what the limits allow now. Synchronous, so no other admission interleaves."""
        while taken := self.admission.take():
            try:
                moved = self.store.submit([job_id for job_id, _ in taken], now=self._clock())
            except Exception:
                # Nothing was written: the jobs are still waiting; try again on the next event.
                log.exception("could not mark %d jobs as being sent; they keep waiting", len(taken))
                for job_id, user_id in taken:
                    self.admission.release(job_id)
                    self.admission.enqueue(job_id, user_id)
                return
            sent = {job.id for job in moved}
            for job_id, _ in taken:
                self._shown.pop(job_id, None)
                if job_id not in sent:
                    self.admission.release(job_id)  # cancelled or failed meanwhile
            for job in moved:
                self._send(job)
            self._moved = True

    async def refresh_positions(self) -> None:
        """Every `refresh` seconds, re-show the waiting jobs whose position moved enough."""
        while True:
            await asyncio.sleep(self.refresh)
            if not self._moved:
                continue
            self._moved = False
            try:
                await self._refresh_once()
            except Exception:
                log.exception("re-showing queue positions failed; trying again")

    async def _refresh_once(self) -> None:
        for position, job_id in enumerate(self.admission.waiting_ids(), 1):
            shown = self._shown.get(job_id, 0)
            if shown and not position_worth_showing(shown, position):
                continue
            job = self.store.get(job_id)
            if job is not None and job.state is JobState.PENDING and job.message_id is not None:
                self._shown[job_id] = position
                await self._show(job)

"""The queue in front of the relay: `Admission` (in memory) plus the store writes and the
position display around it.

Jobs join when their message is posted (or a moderator approves them) and leave when sent,
cancelled or failed; every join and leave is O(log n). A job chosen to be sent is written as
SUBMITTING, durably, in one transaction with the others chosen with it, before `send` starts
its create call. Waiting jobs are shown their position coarsely: every `refresh` seconds at
most, and only when it fell to two thirds of what their message shows or reached the front
three, so a long queue costs a few edits per job rather than one per job per departure.

Creates also wait for the relay's own limits (`bot.jobs.relay_limits.CreateGate`): none leave
while a 429 pauses them, and no more are in flight than the adaptive limit allows. A job the
relay refused comes back here, to its old place (positions are by job id), and is sent again
when the pause ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.jobs.admission import Admission
from bot.jobs.model import Job, JobState
from bot.jobs.relay_limits import CreateGate
from bot.storage.interface import JobStore

log = logging.getLogger(__name__)


def position_worth_showing(shown: int, now: int) -> bool:
    """Whether a waiting job's displayed position is stale enough for an edit."""
    return now != shown and (now <= 3 or now <= shown * 2 // 3)


class RelayQueue:
    def __init__(
        self,
        store: JobStore,
        *,
        max_running: int,
        max_per_member: int,
        send: Callable[[Job], None],
        show: Callable[[Job], Awaitable[None]],
        clock: Callable[[], float],
        refresh: float,
        gate: CreateGate | None = None,
    ) -> None:
        self.store = store
        self.admission = Admission(max_running, max_per_member)
        self.gate = gate or CreateGate(max_running)
        self._send = send
        self._show = show
        self._clock = clock
        self.refresh = refresh
        self._shown: dict[int, int] = {}  # waiting job -> the position its message shows
        self._moved = False
        self._resume: asyncio.TimerHandle | None = None
        self._resuming: asyncio.Task[None] | None = None
        # One `send_next` at a time: the store write it awaits between taking jobs from the
        # admission and sending them may suspend (PostgreSQL), and a second one running then
        # would see room the first has already promised.
        self._sending = asyncio.Lock()

    def position(self, job_id: int) -> int:
        """1 for the next waiting job to be sent (see `Admission.position`)."""
        return self.admission.position(job_id)

    def at_relay(self, job: Job) -> None:
        """A job found at the relay (start-up): it holds a slot until it leaves."""
        self.admission.started(job.id, job.user_id)

    def enqueue(self, job: Job) -> None:
        if job.state is JobState.PENDING:
            # Its message was posted showing the last place (`Admission.position` of a job not
            # queued yet); where fair turns put it is shown by the next refresh of positions.
            self._shown[job.id] = self.admission.waiting + 1
            self.admission.enqueue(job.id, job.user_id, job.guild_id)

    async def left(self, job_id: int) -> None:
        """A job is no longer waiting or at the relay: free its place, let the next one in."""
        self.admission.remove(job_id)
        self._shown.pop(job_id, None)
        self.admission.release(job_id)
        await self.send_next()

    async def landed(self, *, accepted: bool) -> None:
        """A create call ended, the job created upstream (`accepted`) or failed: its place
        in flight is free, and an accepted one lets the limit grow."""
        if accepted:
            self.gate.accepted()
        else:
            self.gate.failed()
        await self.send_next()

    async def refused(self, job: Job) -> None:
        """The relay refused `job`'s create (the gate has counted it and paused) and the job
        is waiting again (PENDING): it takes its old place, and is sent when the pause ends."""
        self.admission.put_back(job.id)
        if job.state is JobState.PENDING:
            self._shown[job.id] = self.admission.position(job.id)
        self._moved = True
        await self.send_next()

    async def send_next(self) -> None:
        """Send what the limits allow now. Under a lock, so no other admission interleaves
        with the store write between taking the jobs and sending them."""
        async with self._sending:
            now = self._clock()
            paused = self.gate.paused_for(now)
            if paused and self.admission.waiting:
                self._wake_in(paused)
            while (room := self.gate.room(now)) and (taken := self.admission.take(room)):
                try:
                    moved = await self.store.submit([job_id for job_id, _ in taken], now=self._clock())
                except Exception:
                    # Nothing was written: the jobs are still waiting; try again on the next event.
                    log.exception("could not mark %d jobs as being sent; they keep waiting", len(taken))
                    for job_id, _ in taken:
                        self.admission.put_back(job_id)
                    return
                sent = {job.id for job in moved}
                for job_id, _ in taken:
                    self._shown.pop(job_id, None)
                    if job_id not in sent:
                        self.admission.release(job_id)  # cancelled or failed meanwhile
                self.gate.sent(len(moved))
                for job in moved:
                    self._send(job)
                self._moved = True

    def _wake_in(self, delay: float) -> None:
        """Try again when the pause ends (one timer, however many jobs wait)."""
        # A timer already set fires no later than this pause ends (pauses only grow), and
        # sets itself again if the pause is still on then.
        if self._resume is None:
            self._resume = asyncio.get_running_loop().call_later(delay, self._resumed)

    def _resumed(self) -> None:
        self._resume = None
        # A timer callback cannot await: the send runs as a task, kept so `close` can stop it.
        self._resuming = asyncio.get_running_loop().create_task(self.send_next(), name="relay-resume")

    def close(self) -> None:
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self._resuming is not None:
            self._resuming.cancel()
            self._resuming = None

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
            job = await self.store.get(job_id)
            if job is not None and job.state is JobState.PENDING and job.message_id is not None:
                self._shown[job_id] = position
                await self._show(job)

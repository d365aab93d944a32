"""When each job is next looked at: one heap of due times, one loop, one pause for everyone.

One loop over a heap rather than one task per job: a thousand waiting jobs cost a heap entry
each, and a 429 from the relay pauses every poll at once (`pause_until`). At most `rate` jobs
fall due per second (a token bucket one second deep): ten thousand jobs at the relay cost a
bounded number of queries, and a backlog is worked off in due order.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Schedule:
    def __init__(
        self, clock: Callable[[], float], rng: Callable[[], float], rate: float = float("inf")
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.rate = rate
        self._tokens = min(rate, 1e9)
        self._refilled = clock()
        self._heap: list[tuple[float, int]] = []
        self._due: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._paused_until = 0.0

    def __len__(self) -> int:
        return len(self._due)

    def at(self, job_id: int, delay: float) -> None:
        """Look at `job_id` after `delay` seconds, unless it is already due sooner."""
        due = self.clock() + max(0.0, delay)
        if self._due.get(job_id, float("inf")) <= due:
            return
        self._due[job_id] = due
        # The loop sleeps until the soonest entry: only a new soonest one needs to wake it (in
        # a burst, waking it for every poll scheduled cost a task per wake-up).
        sooner = not self._heap or due < self._heap[0][0]
        heapq.heappush(self._heap, (due, job_id))
        if sooner:
            self._wake.set()

    def jitter(self, delay: float) -> float:
        # ±20 % so jobs created together do not poll together forever.
        return delay * (0.8 + 0.4 * self.rng())

    def drop(self, job_id: int) -> None:
        self._due.pop(job_id, None)

    def pause_until(self, when: float) -> None:
        self._paused_until = max(self._paused_until, when)

    async def run(self, on_due: Callable[[int], None]) -> None:
        """Call `on_due(job_id)` for each job as it falls due; runs until cancelled."""
        while True:
            now = self.clock()
            self._refill(now)
            while self._heap and self._heap[0][0] <= now and self._tokens >= 1:
                due, job_id = heapq.heappop(self._heap)
                if self._due.get(job_id) != due:
                    continue  # superseded by a sooner or later schedule
                del self._due[job_id]
                if now < self._paused_until:
                    self.at(job_id, self._paused_until - now + self.rng())
                    continue
                self._tokens -= 1
                on_due(job_id)
            timeout = max(0.0, self._heap[0][0] - now) if self._heap else None
            if timeout is not None and self._tokens < 1:
                timeout = max(timeout, (1 - self._tokens) / self.rate)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _refill(self, now: float) -> None:
        if self.rate == float("inf"):
            self._tokens = 1e9
            return
        self._tokens = min(self.rate, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now


class Background:
    """Tasks started on someone's behalf: kept referenced, failures logged, stopped together."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._reap)

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, grace: float) -> None:
        """Let running tasks finish for up to `grace` seconds, then cancel the rest."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

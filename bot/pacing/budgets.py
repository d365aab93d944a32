"""Request budgets per Discord rate-limit bucket, so the bot never meets a 429 it could foresee.

Discord limits message edits and creates per channel (about 5 per 5 s), interaction webhook
routes per token (about 5 per 5 s) and everything that is not an interaction route globally
(50 per second). discord.py waits out a 429 after the fact, holding up whatever is queued
behind it, final results included; here every send first takes a slot from each bucket it
will use, and waits for one when there is none:

- urgent sends (final results) go before any progress edit waiting on the same bucket;
- a progress edit that something newer superseded while it waited gives up its turn without
  spending a slot (`wanted` says so), so only the newest progress of a message is sent.

The windows are sliding and a little longer than Discord's (`margin`), so a burst that Discord
counts in a fixed window, starting when its first request arrives, always fits. Pure asyncio;
the cog names the buckets (`cogs.video.messages`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Discord's documented figures (docs/performance.md); a bucket's name says which applies.
ROUTE = (5, 5.0)
GLOBAL = (50, 1.0)


def limit_for(bucket: str) -> tuple[int, float]:
    return GLOBAL if bucket == "global" else ROUTE


@dataclass
class _Bucket:
    limit: int
    per: float
    sent: deque[float] = field(default_factory=deque)
    urgent_waiting: int = 0

    def free_in(self, now: float) -> float:
        while self.sent and now - self.sent[0] >= self.per:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit else self.sent[0] + self.per - now


class Superseded(Exception):
    """The progress edit waiting for a slot is no longer wanted (a newer one, or the final)."""


class Budgets:
    def __init__(
        self,
        *,
        limits: Callable[[str], tuple[int, float]] = limit_for,
        margin: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._margin = margin
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._changed = asyncio.Event()
        self.waited = 0.0  # seconds spent waiting for slots, all sends together

    def _bucket(self, name: str) -> _Bucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            if len(self._buckets) > 1024:
                self.forget_idle()
            limit, per = self._limits(name)
            # A global limit counted per second needs less margin than a 5 s window.
            bucket = _Bucket(limit - 1 if limit > 10 else limit, per + self._margin)
            self._buckets[name] = bucket
        return bucket

    async def take(
        self, buckets: Sequence[str], *, urgent: bool, wanted: Callable[[], bool] = lambda: True
    ) -> None:
        """Wait until every bucket has a slot, then spend one in each. Raises `Superseded` when
        `wanted()` turns false first (a non-urgent send only)."""
        chosen = [self._bucket(name) for name in buckets]
        started = self._clock()
        if urgent:
            for bucket in chosen:
                bucket.urgent_waiting += 1
        try:
            while True:
                if not urgent and not wanted():
                    raise Superseded()
                now = self._clock()
                wait = max((b.free_in(now) for b in chosen), default=0.0)
                if not urgent and any(b.urgent_waiting for b in chosen):
                    wait = max(wait, 0.05)  # final results first
                if wait <= 0:
                    for bucket in chosen:
                        bucket.sent.append(now)
                    return
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
        finally:
            if urgent:
                for bucket in chosen:
                    bucket.urgent_waiting -= 1
                self._changed.set()
            self.waited += self._clock() - started

    def forget_idle(self) -> None:
        """Drop buckets with nothing in their window (interaction tokens come and go)."""
        now = self._clock()
        for name in [n for n, b in self._buckets.items() if not b.urgent_waiting and b.free_in(now) == 0]:
            if not self._buckets[name].sent:
                del self._buckets[name]

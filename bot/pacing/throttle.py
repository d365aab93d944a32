"""Coalesces edits of one message: Discord rate-limits edits per message, and a stale progress
edit queued behind others would show old news. The final render always goes out first.

The send may raise `bot.pacing.budgets.Superseded` while it waits for a request slot and a newer
render arrived (`superseded()`): that send is skipped without counting as one.

A render may be only a promise of one (a progress edit made from the job as it is when its turn
comes): `prepare` turns it into the real render, reading what it needs, just before it is
compared with the last one and sent; the final render is sent as given."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from bot.pacing.budgets import Superseded

log = logging.getLogger(__name__)

T = TypeVar("T")


class EditThrottle(Generic[T]):
    """At most one send per `interval` (or per `stretch()`, when that is longer: the caller's
    say on how busy it is); only the latest pending render is kept; equal renders are skipped;
    `final()` cancels what is pending, sends at once and closes the throttle."""

    def __init__(
        self,
        send: Callable[[T], Awaitable[Any]],
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        settle: bool = False,
        stretch: Callable[[], float] | None = None,
        prepare: Callable[[T], Awaitable[T]] | None = None,
    ) -> None:
        self._send = send
        self._prepare = prepare
        self.interval = interval
        self._stretch = stretch
        self._clock = clock
        self._pending: T | None = None
        self._has_pending = False
        self._last: T | None = None
        self._has_last = False
        # Created when a job is first shown, just after its message was posted: that post
        # counts as the last edit, so a state that changes at once is coalesced, not sent twice.
        self._last_at = clock() if settle else float("-inf")
        self._worker: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self.sent = 0

    def superseded(self) -> bool:
        """A newer render (or the final one) is waiting: the one being sent is old news."""
        return self._has_pending or self._closed

    def submit(self, render: T) -> None:
        if self._closed:
            return
        self._pending, self._has_pending = render, True
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._has_pending and not self._closed:
            interval = self.interval if self._stretch is None else max(self.interval, self._stretch())
            wait = self._last_at + interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            render, self._has_pending = self._pending, False
            try:
                # (A render may be made only now, prepared or when compared: one that fails is
                # dropped like a failed send, and the next one still goes.)
                if self._prepare is not None:
                    render = await self._prepare(render)  # type: ignore[arg-type]
                if self._has_last and render == self._last:
                    continue
            except Exception:
                log.warning("a progress render failed", exc_info=True)
                continue
            async with self._lock:
                if self._closed:
                    return
                try:
                    await self._send(render)  # type: ignore[arg-type]
                except Superseded:
                    continue  # nothing was sent; the newer render goes next
                except Exception:
                    # Progress is best effort; the final render is what must land.
                    log.warning("a progress edit failed", exc_info=True)
                    self._last_at = self._clock()
                    continue
                self._last_at = self._clock()
                self._last, self._has_last = render, True
                self.sent += 1

    async def final(self, render: T) -> Any:
        """Send `render` now and close; returns what the send returned."""
        self._closed = True
        self._has_pending = False
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        # An in-flight send holds the lock; the final one waits for it rather than racing it.
        async with self._lock:
            result = await self._send(render)
            self._last, self._has_last = render, True
            self.sent += 1
        return result

    async def aclose(self) -> None:
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

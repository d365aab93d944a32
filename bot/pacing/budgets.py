"""Request budgets per Discord rate-limit bucket, so the bot never meets a 429 it could foresee.

Discord limits message edits and creates per channel (about 5 per 5 s, in fixed windows that
open on their first request), interaction webhook routes per token (about 5 per 5 s) and
everything that is not an interaction route globally (50 per second per bot token, shared by
every process of the bot). discord.py waits out a 429 after the fact, holding up whatever is
queued behind it, final results included, and learns the global limit only from 429s; here
every send first takes a slot from each bucket it will use, and waits for one when there is none.

- Limits: the documented figures until Discord's `X-RateLimit-*` answer headers say otherwise
  (`observe`); a route bucket's window is then mirrored from `Remaining` and `Reset-After`,
  so its whole allowance is used. The global limit never comes in headers: 50 a second times
  this process's share of the token (`global_share`, for sharded bots), counted in a sliding
  window a little longer than Discord's, so requests delayed on their way still fit.
- Order: waiting sends are served by priority (`FINAL`, `NOTICE`, `PING`, `PROGRESS`), first
  come first served within one; a send waits only for the buckets it uses, so a busy channel
  holds back nothing elsewhere.
- Progress (`droppable`) gives way: it is dropped (`Superseded`) when something newer replaced
  it (`wanted`), or when its channel is saturated (as many jobs live on the bucket as it has
  slots per window: their finals alone can fill it), and it never takes a window's last slot,
  which stays for a final.

Pure asyncio; the cog names the buckets and the priorities (`cogs.video.messages`), and
`bot.app.discord_internals` paces every request discord.py sends on the bot's own routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

# Discord's documented figures (docs/performance.md), used until its headers say otherwise.
ROUTE = (5, 5.0)
GLOBAL = (50, 1.0)

# The order in which a bucket serves waiting sends.
FINAL, NOTICE, PING, PROGRESS = 0, 1, 2, 3

_CHANNEL_MESSAGES = re.compile(r"/channels/(\d+)/messages(/\d+)?$")


def limit_for(bucket: str) -> tuple[int, float]:
    return GLOBAL if bucket == "global" else ROUTE


def buckets_of(method: str, path: str) -> list[str]:
    """The buckets a request on the bot's own routes counts against (`path` after the API's
    base): every one the global limit, message creates and edits their channel's too."""
    if path.startswith(("/interactions/", "/webhooks/")):
        return []  # interaction routes: exempt from the global limit, paced per token by callers
    hit = _CHANNEL_MESSAGES.search(path)
    if hit and method == "POST" and hit[2] is None:
        return [f"create:{hit[1]}", "global"]
    if hit and method == "PATCH" and hit[2] is not None:
        return [f"edit:{hit[1]}", "global"]
    return ["global"]


@dataclass(frozen=True)
class Send:
    """How the request about to be sent is paced (set around a send with `sending`)."""

    priority: int = PING
    wanted: Callable[[], bool] = lambda: True
    droppable: bool = False


SENDING: ContextVar[Send | None] = ContextVar("pacing_send", default=None)  # None: Send()


@contextlib.contextmanager
def sending(
    priority: int, wanted: Callable[[], bool] | None = None, *, droppable: bool = False
) -> Iterator[None]:
    """Requests sent within this block (through discord.py, in this task) are paced thus."""
    token = SENDING.set(Send(priority, wanted or (lambda: True), droppable))
    try:
        yield
    finally:
        SENDING.reset(token)


@dataclass
class _Bucket:
    limit: int
    per: float
    sliding: bool  # the global bucket: no window to mirror, our own sends are counted
    sent: deque[float] = field(default_factory=deque)
    # A route bucket's current window as Discord counts it: when it ends at the latest (None:
    # no window open, the next request opens one), and how many of its requests were used.
    ends: float | None = None
    used: int = 0
    generation: int = 0  # which window; an answer about an older one changes nothing
    paused_until: float = 0.0  # after a 429 met anyway
    tenants: set[int] = field(default_factory=set)

    def free_in(self, now: float, keep: int = 0) -> float:
        """Seconds until this bucket has a slot (leaving `keep` of its window unused)."""
        if now < self.paused_until:
            return self.paused_until - now
        if self.sliding:
            while self.sent and now - self.sent[0] >= self.per:
                self.sent.popleft()
            return 0.0 if len(self.sent) + keep < self.limit else self.sent[0] + self.per - now
        if self.ends is not None and now >= self.ends:
            self.ends, self.used, self.generation = None, 0, self.generation + 1
        if self.used + keep < self.limit:
            return 0.0
        return self.ends - now if self.ends is not None else self.per

    def spend(self, now: float, margin: float) -> None:
        if self.sliding:
            self.sent.append(now)
            return
        if self.ends is None:
            # Discord opens the window when this request arrives; until its answer says when
            # the window ends, assume the latest it can.
            self.ends = now + self.per + margin
        self.used += 1


@dataclass(eq=False)
class _Waiter:
    buckets: list[_Bucket]
    send: Send
    seq: int
    done: asyncio.Future[None]


class Superseded(Exception):
    """The progress edit waiting for a slot is no longer wanted (a newer one, or the final), or
    its channel is saturated: nothing was sent."""


class Budgets:
    def __init__(
        self,
        *,
        global_share: float = 1.0,
        limits: Callable[[str], tuple[int, float]] = limit_for,
        margin: float = 0.3,
        skew: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._share = global_share
        self._margin = margin
        self._skew = skew  # added to a window's end read from headers (their rounding, clocks)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self.waited = 0.0  # seconds spent waiting for slots, all sends together
        self.dropped = 0  # progress edits dropped for a saturated channel

    def _bucket(self, name: str) -> _Bucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            if len(self._buckets) > 1024:
                self.forget_idle()
            limit, per = self._limits(name)
            if name == "global":
                # Counted in a sliding window a little longer than Discord's, one under the
                # limit: a request delayed on its way must not land in the next second's count.
                limit = max(1, int(limit * self._share))
                bucket = _Bucket(limit - 1 if limit > 10 else limit, per + self._margin, sliding=True)
            else:
                bucket = _Bucket(limit, per, sliding=False)
            self._buckets[name] = bucket
        return bucket

    # --- taking slots ---------------------------------------------------------------------

    async def take(
        self,
        buckets: Sequence[str],
        *,
        priority: int = FINAL,
        wanted: Callable[[], bool] = lambda: True,
        droppable: bool = False,
    ) -> dict[str, int]:
        """Wait for a slot in every bucket, in priority order, and spend it. Returns each
        bucket's window generation (for `observe`). Raises `Superseded` for a droppable send
        no longer wanted, or whose channel is saturated."""
        if not buckets:
            return {}
        waiter = _Waiter(
            [self._bucket(n) for n in buckets],
            Send(priority, wanted, droppable),
            next(self._seq),
            asyncio.get_running_loop().create_future(),
        )
        started = self._clock()
        self._waiting.append(waiter)
        self._waiting.sort(key=lambda w: (w.send.priority, w.seq))
        self._serve()
        try:
            await waiter.done
        finally:
            if waiter in self._waiting:  # cancelled while waiting
                self._waiting.remove(waiter)
                self._serve()
            self.waited += self._clock() - started
        return {name: self._buckets[name].generation for name in buckets if name in self._buckets}

    def wake(self) -> None:
        """Look at the waiting sends now (they are looked at whenever something changes, and
        when the first blocked one could go)."""
        self._serve()

    def _serve(self) -> None:
        """Grant every waiter that can go now, most urgent first; wake up again when the first
        blocked one could."""
        now = self._clock()
        wake: float | None = None
        for waiter in list(self._waiting):
            send = waiter.send
            unwanted = not send.wanted()
            if unwanted or (send.droppable and self._saturated(waiter)):
                self.dropped += not unwanted
                self._waiting.remove(waiter)
                waiter.done.set_exception(Superseded())
                continue
            keep = 1 if send.droppable else 0
            wait = max(b.free_in(now, 0 if b.sliding else keep) for b in waiter.buckets)
            if wait > 0:
                wake = wait if wake is None else min(wake, wait)
                continue
            for bucket in waiter.buckets:
                bucket.spend(now, self._margin)
            self._waiting.remove(waiter)
            waiter.done.set_result(None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiting:
            # A droppable waiter may be superseded meanwhile: look again soon in any case.
            soon = 0.25 if any(w.send.droppable for w in self._waiting) else None
            delay = min(x for x in (wake, soon) if x is not None) if (wake or soon) else 0.25
            self._timer = asyncio.get_running_loop().call_later(delay, self._serve)

    def _saturated(self, waiter: _Waiter) -> bool:
        return any(not b.sliding and len(b.tenants) >= b.limit for b in waiter.buckets)

    # --- what Discord says --------------------------------------------------------------

    def observe(self, bucket: str, headers: Mapping[str, str], generation: int | None = None) -> None:
        """Read a route bucket's `X-RateLimit-*` answer headers: its limit, how many requests
        its window has left and when it ends. An answer about an earlier window is ignored."""
        current = self._buckets.get(bucket)
        if current is None or current.sliding:
            return
        with contextlib.suppress(KeyError, ValueError):
            current.limit = int(headers["X-RateLimit-Limit"])
        if generation is not None and generation != current.generation:
            return
        try:
            remaining = int(headers["X-RateLimit-Remaining"])
            reset_after = float(headers["X-RateLimit-Reset-After"])
        except (KeyError, ValueError):
            return
        now = self._clock()
        # The answer left Discord before it arrived: the window ends no later than this.
        current.ends = now + reset_after + self._skew
        current.used = max(current.used, current.limit - remaining)  # requests we did not count
        self._serve()

    def refused(self, bucket: str, retry_after: float) -> None:
        """A 429 met anyway (another process on the token, a limit lower than documented):
        nothing more goes through that bucket until Discord's `Retry-After`."""
        current = self._bucket(bucket)
        current.paused_until = max(current.paused_until, self._clock() + retry_after)
        if not current.sliding:
            current.used = current.limit

    # --- saturation ---------------------------------------------------------------------

    def occupy(self, bucket: str, job_id: int) -> None:
        """`job_id` lives on `bucket` (its final edit will need a slot there)."""
        self._bucket(bucket).tenants.add(job_id)

    def vacate(self, job_id: int) -> None:
        for bucket in self._buckets.values():
            bucket.tenants.discard(job_id)

    def forget(self, name: str) -> None:
        """Drop a bucket that will not be used again (a finished job's interaction webhook),
        unless a send still waits on it. Kept, one per job, they were RSS growing with every
        job until `forget_idle` cleared them a thousand at a time."""
        bucket = self._buckets.get(name)
        if bucket is not None and not any(bucket in w.buckets for w in self._waiting):
            del self._buckets[name]

    def forget_idle(self) -> None:
        """Drop buckets with nothing in their window (interaction tokens come and go)."""
        now = self._clock()
        busy = {id(b) for w in self._waiting for b in w.buckets}
        for name, bucket in list(self._buckets.items()):
            if id(bucket) in busy or bucket.tenants or bucket.free_in(now) > 0:
                continue
            if not bucket.sent and bucket.ends is None:
                del self._buckets[name]

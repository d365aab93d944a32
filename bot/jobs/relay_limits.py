"""How hard the bot may press the relay right now: adaptive limits and the pause after a 429.

A 429 is the relay asking the bot to slow down, not a verdict on a job. So the bot sends less
at once while the relay keeps refusing and more again as it accepts, AIMD-style as TCP does:
the limit is halved on a refusal and grows by one per success, up to its ceiling. The halving
starts from what was actually in use (RFC 5681 halves the flight size, not the window), so a
ceiling raised to "no limit" still drops to a useful figure on the first refusal. Refusals that
arrive together (several calls in flight met the same overload) halve the limit once.

Pure logic: the clock is handed in, nothing here sleeps or sends.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelayLimits:
    """What the bot allows itself at the relay now (for /video-queue and the metrics)."""

    creates_at_once: int
    creates_ceiling: int
    creates_paused_for: float  # seconds; 0 when creates may leave
    polls_per_second: float
    polls_ceiling: float
    refusals: int  # creates the relay refused (429) since start

    @classmethod
    def of(cls, gate: CreateGate, polls: Aimd, now: float) -> RelayLimits:
        return cls(
            creates_at_once=int(gate.limit.value),
            creates_ceiling=int(gate.limit.ceiling),
            creates_paused_for=gate.paused_for(now),
            polls_per_second=polls.value,
            polls_ceiling=polls.ceiling,
            refusals=gate.refusals,
        )

    @property
    def lowered(self) -> bool:
        return (
            self.creates_paused_for > 0
            or self.creates_at_once < self.creates_ceiling
            or self.polls_per_second < self.polls_ceiling
        )


class Aimd:
    """A limit between `floor` and `ceiling`: halved on a refusal, one more per success."""

    def __init__(self, ceiling: float, floor: float = 1.0) -> None:
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self.value = ceiling

    @property
    def lowered(self) -> bool:
        return self.value < self.ceiling

    def refused(self, in_use: float | None = None) -> None:
        used = self.value if in_use is None else min(self.value, in_use)
        self.value = max(self.floor, used // 2)

    def succeeded(self) -> None:
        self.value = min(self.ceiling, self.value + 1)


class CreateGate:
    """Whether a create may leave now: none while paused, at most `limit` in flight.

    A refusal pauses every create for the relay's `Retry-After`, or without one for a backoff
    that doubles with each refusal in a row (`backoff`, `2 × backoff`, … up to `max_pause`);
    an accepted create ends the streak."""

    def __init__(self, ceiling: int, *, backoff: float = 2.0, max_pause: float = 120.0) -> None:
        self.limit = Aimd(ceiling)
        self.backoff = backoff
        self.max_pause = max_pause
        self.in_flight = 0
        self.paused_until = 0.0
        self.streak = 0  # refusals since the last accepted create
        self.busy_since: float | None = None  # the first of them
        self.refusals = 0  # every refusal met (for reports and metrics)

    def busy_for(self, now: float) -> float:
        """Seconds the relay has refused every create (0 once one is accepted). Measured for
        the relay, not per job: the job sent first after each pause meets most refusals, and
        must not fail for that while the relay accepts the others."""
        return 0.0 if self.busy_since is None else now - self.busy_since

    def paused_for(self, now: float) -> float:
        """Seconds left of the pause (0 when creates may leave)."""
        return max(0.0, self.paused_until - now)

    def room(self, now: float) -> int:
        """How many creates may leave now."""
        if now < self.paused_until:
            return 0
        return max(0, int(self.limit.value) - self.in_flight)

    def sent(self, count: int) -> None:
        self.in_flight += count

    def accepted(self) -> None:
        self._landed()
        self.streak = 0
        self.busy_since = None
        self.limit.succeeded()

    def failed(self) -> None:
        """A create ended without telling anything about the relay's load (a refusal of the
        request itself, or an unknown outcome): it no longer counts as in flight."""
        self._landed()

    def refused(self, now: float, retry_after: float | None) -> float:
        """The relay refused a create (429): nothing was made. Returns the pause, in seconds."""
        in_use = self.in_flight
        self._landed()
        self.refusals += 1
        self.streak += 1
        if self.busy_since is None:
            self.busy_since = now
        if now >= self.paused_until:  # refusals of one overload halve the limit once
            self.limit.refused(in_use)
        wait = retry_after if retry_after is not None else self.backoff * 2 ** (self.streak - 1)
        pause = min(self.max_pause, max(0.0, wait))
        self.paused_until = max(self.paused_until, now + pause)
        return pause

    def _landed(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)

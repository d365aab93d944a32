"""Acknowledging commands first in a burst: every command's answer to Discord before the
commands' slower work (`AckFirst`), and the helpers a command calls around its answer.

Discord forgets an interaction not acknowledged within 3 s; the error path that answers a
failed command is `bot.app.answers`'.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

import discord

PUBLIC_DEFER = "public_defer"  # key in `Interaction.extras`: answered with a public "thinking…"
ACK_WINDOW = 3.0  # Discord forgets an interaction not answered within this


class AckFirst:
    """In a burst, every command's answer to Discord before the commands' slower work.

    An interaction not acknowledged within 3 s is lost (10062), while what a command does after
    deferring (store, job message, relay) can wait. asyncio runs ready work first come first
    served, so without this the follow-up work of the first commands of a burst delays the
    acknowledgement of the later ones. Commands register on arrival (`VideoTree`). After
    deferring, `defer_publicly` waits for its turn: at once when no command arrived for `quiet`
    seconds and none is unanswered; while commands keep arriving, `rate` follow-ups a second
    (so the burst's own work still moves); never longer than `limit` seconds.
    """

    def __init__(self, *, rate: float = 50.0, quiet: float = 0.5, limit: float = 10.0) -> None:
        self.rate = rate
        self.quiet = quiet
        self.limit = limit
        self._last_arrival = float("-inf")
        self._alone_since = True  # the last command to arrive came after a quiet spell
        # Unanswered interactions in arrival order, with when they arrived (monotonic).
        self._open: dict[int, tuple[discord.Interaction, float]] = {}
        self._waiters: deque[tuple[asyncio.Future[None], float]] = deque()
        self._releaser: asyncio.Task[None] | None = None

    def arrived(self, interaction: discord.Interaction) -> None:
        now = time.monotonic()
        self._alone_since = now - self._last_arrival >= self.quiet
        self._last_arrival = now
        self._open[interaction.id] = (interaction, now)

    def alone(self, interaction: discord.Interaction) -> bool:
        """No other command is waiting for its answer and none came just before this one: a
        slower answer (the job message itself, instead of a quick "thinking…") delays nobody."""
        busy = self.busy()  # (also forgets the answered ones)
        if interaction.id not in self._open:
            return not busy  # not a command AckFirst counts (a modal's answer)
        return len(self._open) == 1 and self._alone_since

    def answered(self, interaction: discord.Interaction) -> None:
        self._open.pop(interaction.id, None)

    def busy(self) -> bool:
        now = time.monotonic()
        # From the oldest: answered some other way (a refusal), or past saving. Amortised O(1).
        while self._open:
            key = next(iter(self._open))
            other, since = self._open[key]
            if not (other.response.is_done() or now - since > ACK_WINDOW):
                break
            del self._open[key]
        return bool(self._open) or now - self._last_arrival < self.quiet

    async def wait(self) -> None:
        if not self.busy() and not self._waiters:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((future, time.monotonic() + self.limit))
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.create_task(self._release(), name="ack-first")
        await future

    async def _release(self) -> None:
        # One task lets waiters go, a few per tick while busy, all once calm; sleeping
        # commands cost nothing meanwhile.
        while self._waiters:
            now, calm = time.monotonic(), not self.busy()
            allowance = max(1, round(self.rate / 20))
            while self._waiters and (calm or allowance > 0 or self._waiters[0][1] <= now):
                future, _ = self._waiters.popleft()
                allowance -= 1
                if not future.done():
                    future.set_result(None)
            await asyncio.sleep(0.05)


async def defer_publicly(interaction: discord.Interaction) -> None:
    """Defer with a public "thinking…" placeholder that will become the job message, then let
    the other commands of a burst be acknowledged before this one goes on (`AckFirst`)."""
    await interaction.response.defer(thinking=True)
    interaction.extras[PUBLIC_DEFER] = True
    await answered_publicly(interaction)


async def answered_publicly(interaction: discord.Interaction) -> None:
    """The interaction is answered in public (deferred, or answered with its job message): let
    the other commands of a burst be acknowledged before this one goes on (`AckFirst`)."""
    acks = getattr(getattr(interaction.client, "tree", None), "acks", None)
    if isinstance(acks, AckFirst):
        acks.answered(interaction)
        await acks.wait()


def alone(interaction: discord.Interaction) -> bool:
    """Whether `interaction` may take its time to answer (see `AckFirst.alone`); True without
    an `AckFirst` (nothing to wait for)."""
    acks = getattr(getattr(interaction.client, "tree", None), "acks", None)
    return not isinstance(acks, AckFirst) or acks.alone(interaction)


def placeholder_used(interaction: discord.Interaction) -> None:
    """The public placeholder now shows the job: an error must no longer take it back."""
    interaction.extras[PUBLIC_DEFER] = False

"""The one error path: every failure a member causes reaches only that member, privately.

Slash commands reach it through `VideoTree.on_error` (the bot's `tree_cls`); buttons, selects
and modals, which bypass the tree, through `answering_errors` and `report_error`. Whether the
interaction was answered yet, and how, decides how the answer is sent: a private reply, a
private followup, or (after a public "thinking…" defer) the public placeholder taken back first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable
from typing import Any

import discord
from discord import app_commands

from bot.errors import BotError
from bot.i18n import Message, Text, english, render

log = logging.getLogger(__name__)

UNEXPECTED = Text("Something went wrong on the bot's side; it has been logged. Nothing was charged twice.")
PUBLIC_DEFER = "public_defer"  # key in `Interaction.extras`


def error_text(error: BaseException) -> Message | None:
    """The text a member sees for `error`, or None for a bug (logged, then a generic message)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, BotError):
        return error.text
    if isinstance(error, app_commands.NoPrivateMessage):
        return Text("This command only works in a server.")
    if isinstance(error, app_commands.MissingPermissions):
        return Text(
            "You need the {permissions} permission.",
            permissions=", ".join(p.replace("_", " ") for p in error.missing_permissions),
        )
    if isinstance(error, app_commands.CommandOnCooldown):
        return Text("Slow down: try again in {seconds:.0f}s.", seconds=error.retry_after)
    if isinstance(error, app_commands.CheckFailure | app_commands.TransformerError):
        # A check may raise with a `Text` (see cogs/admin.py); discord.py's own are English.
        return error.args[0] if error.args and isinstance(error.args[0], Text) else str(error)
    return None


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


def user_message(error: BaseException) -> str | None:
    """`error_text` in English, for logs and for code that reads it."""
    text = error_text(error)
    return None if text is None else english(text)


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


async def reply_privately(interaction: discord.Interaction, message: Message) -> None:
    """Answer the member alone, in their own language (the interaction's locale)."""
    none = discord.AllowedMentions.none()
    text = render(message, interaction.locale)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=none)
            return
        if interaction.extras.get(PUBLIC_DEFER):
            # Everyone saw "thinking…": take it back, then answer the member alone.
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
            placeholder_used(interaction)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=none)
    except discord.HTTPException:
        log.warning("could not tell %s about an error", interaction.user.id)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    text = error_text(error)
    if text is None:
        data: dict[str, Any] = dict(interaction.data or {})
        command = interaction.command
        where = command.qualified_name if command else data.get("custom_id", "?")
        log.error("unexpected error in %s for user %s", where, interaction.user.id, exc_info=error)
        text = UNEXPECTED
    await reply_privately(interaction, text)


async def answering_errors(interaction: discord.Interaction, action: Awaitable[None]) -> None:
    """Run a component or modal callback through the same path as slash commands."""
    try:
        await action
    except Exception as exc:
        await report_error(interaction, exc)


class VideoTree(app_commands.CommandTree):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acks = AckFirst()

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        self.acks.arrived(interaction)
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        await report_error(interaction, error)

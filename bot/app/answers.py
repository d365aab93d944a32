"""The one error path: every failure a member causes reaches only that member, privately.

Slash commands reach it through `VideoTree.on_error` (the bot's `tree_cls`); buttons, selects
and modals, which bypass the tree, through `answering_errors` and `report_error`. Whether the
interaction was answered yet, and how, decides how the answer is sent: a private reply, a
private followup, or (after a public "thinking…" defer) the public placeholder taken back first.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

import discord
from discord import app_commands

from bot.app.acks import PUBLIC_DEFER, AckFirst, placeholder_used
from bot.errors import BotError
from bot.texts.i18n import Message, Text, english, render

log = logging.getLogger(__name__)

UNEXPECTED = Text("Something went wrong on the bot's side; it has been logged. Nothing was charged twice.")


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


def user_message(error: BaseException) -> str | None:
    """`error_text` in English, for logs and for code that reads it."""
    text = error_text(error)
    return None if text is None else english(text)


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

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

from bot.errors import BotError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on the bot's side; it has been logged. Nothing was charged twice."
PUBLIC_DEFER = "public_defer"  # key in `Interaction.extras`


def user_message(error: BaseException) -> str | None:
    """The text a member sees for `error`, or None for a bug (logged, then a generic message)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, BotError):
        return error.user_message
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.MissingPermissions):
        return (
            "You need the "
            + ", ".join(p.replace("_", " ") for p in error.missing_permissions)
            + " permission."
        )
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f}s."
    if isinstance(error, app_commands.CheckFailure | app_commands.TransformerError):
        return str(error)
    return None


async def defer_publicly(interaction: discord.Interaction) -> None:
    """Defer with a public "thinking…" placeholder that will become the job message."""
    await interaction.response.defer(thinking=True)
    interaction.extras[PUBLIC_DEFER] = True


def placeholder_used(interaction: discord.Interaction) -> None:
    """The public placeholder now shows the job: an error must no longer take it back."""
    interaction.extras[PUBLIC_DEFER] = False


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    none = discord.AllowedMentions.none()
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
    text = user_message(error)
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
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        await report_error(interaction, error)

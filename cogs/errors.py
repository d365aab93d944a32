"""The one error path: expected failures become a short private message, anything else is logged."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import BotError

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on the bot's side; it has been logged. Nothing was charged twice."


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


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException:
        log.warning("could not tell %s about an error", interaction.user.id)


async def answering_errors(interaction: discord.Interaction, action: Awaitable[None]) -> None:
    """Run a component callback: they bypass the tree's error handler, so expected failures are
    answered here the same way (unexpected ones propagate to discord.py's view error logging)."""
    try:
        await action
    except BotError as exc:
        await reply_privately(interaction, exc.user_message)


async def refuse_after_defer(interaction: discord.Interaction, text: str) -> None:
    """After a public defer ("thinking…"), take the public reply back and answer privately."""
    with contextlib.suppress(discord.HTTPException):
        await interaction.delete_original_response()
    await reply_privately(interaction, text)


def role_ids(interaction: discord.Interaction) -> set[int]:
    return {r.id for r in getattr(interaction.user, "roles", [])}


class ErrorHandler(commands.Cog):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        text = user_message(error)
        if text is None:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("unexpected error in /%s for user %s", command, interaction.user.id, exc_info=error)
            text = UNEXPECTED
        await reply_privately(interaction, text)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(ErrorHandler(bot))

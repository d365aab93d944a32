"""/video-admin: a server's moderators change its video rules (Manage Server by default)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.guild_settings import PARSERS, GuildSettings

if TYPE_CHECKING:
    from bot.client import VideoBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
SETTING_HELP = {
    "allowed_channels": "channel mentions, or none for every channel",
    "generator_roles": "role mentions, or none for every member",
    "max_duration": "seconds, or none",
    "allow_upsample": "yes or no",
    "blocked_patterns": "comma-separated words or /regular expressions/, or none",
    "reveal_blocked_words": "yes or no: tell members which rule their prompt matched",
    "allow_remix_others": "yes or no: may members remix other members' videos",
}


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class VideoAdmin(commands.GroupCog, group_name="video-admin"):
    """Change how this server may use the video bot."""

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        super().__init__()

    def settings_for(self, guild_id: int) -> GuildSettings:
        return GuildSettings.from_json(self.bot.store.guild_settings(guild_id))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Discord hides the group from others by default, but a server can change that:
        # the bot checks again.
        if not interaction.permissions.manage_guild:
            raise app_commands.CheckFailure("Only members with Manage Server can change the video settings.")
        return True

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show this server's video settings."""
        assert interaction.guild_id is not None
        current = self.settings_for(interaction.guild_id)
        embed = discord.Embed(title="Video settings", colour=0x95A5A6)
        for name, value in current.describe():
            embed.add_field(name=name, value=value, inline=True)
        if current.blocked_patterns:
            embed.add_field(
                name="blocked patterns", value="`" + "`, `".join(current.blocked_patterns)[:1000] + "`"
            )
        env = self.bot.settings
        embed.set_footer(
            text=f"Models: {', '.join(env.models)} (default {env.default_model}), set by the bot owner"
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="set")
    @app_commands.describe(setting="What to change", value="The new value (see the setting's hint)")
    @app_commands.choices(
        setting=[app_commands.Choice(name=f"{n}: {h}"[:100], value=n) for n, h in SETTING_HELP.items()]
    )
    async def set_(self, interaction: discord.Interaction, setting: str, value: str) -> None:
        """Change one setting."""
        assert interaction.guild_id is not None
        updated = self.settings_for(interaction.guild_id).with_value(setting, value)
        self.bot.store.set_guild_settings(interaction.guild_id, updated.to_json(), by=interaction.user.id)
        log.info("guild %s: %s changed %s", interaction.guild_id, interaction.user.id, setting)
        shown = dict(updated.describe())[setting]
        await interaction.response.send_message(
            f"{setting} is now: {shown}", ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="reset")
    @app_commands.describe(setting="What to put back to the default")
    @app_commands.choices(setting=[app_commands.Choice(name=n, value=n) for n in PARSERS])
    async def reset(self, interaction: discord.Interaction, setting: str) -> None:
        """Put one setting back to its default."""
        assert interaction.guild_id is not None
        current = self.settings_for(interaction.guild_id)
        updated = replace(current, **{setting: getattr(GuildSettings(), setting)})
        self.bot.store.set_guild_settings(interaction.guild_id, updated.to_json(), by=interaction.user.id)
        await interaction.response.send_message(
            f"{setting} is back to its default: {dict(updated.describe())[setting]}",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VideoAdmin(bot))

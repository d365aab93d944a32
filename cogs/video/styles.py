"""`/video-style`: a server's styles (`bot.rules.styles`), listed for everyone and changed by its
moderators (Manage Messages, as for the rest of the bot's moderation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InputError
from bot.relay.models import display_name
from bot.rules.styles import Style, clean_style_name
from bot.texts.formatting import inert, truncate
from bot.texts.i18n import Text, tr
from cogs.video.inputs import SHAPE_CHOICES

if TYPE_CHECKING:
    from bot.app.client import VideoBot

NO_MENTIONS = discord.AllowedMentions.none()
COLOUR = 0x9B59B6


def describe_style(style: Style, locale: object) -> str:
    extras = [display_name(style.model)] if style.model else []
    extras += [style.shape] if style.shape else []
    extras += [tr(locale, "{seconds}s", seconds=style.duration)] if style.duration else []
    shown = f"**{inert(style.name)}**: {inert(style.text)}"
    return shown + (f" ({', '.join(extras)})" if extras else "")


@app_commands.guild_only()
@app_commands.allowed_installs(guilds=True, users=False)  # a server's styles: where it added the bot
class StylesCog(commands.GroupCog, group_name="video-style"):
    """This server's styles, offered by /video style:."""

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.styles = bot.intake.styles
        super().__init__()

    @app_commands.command(name="list")
    async def list_styles(self, interaction: discord.Interaction) -> None:
        """The styles /video style: offers here."""
        locale = interaction.locale
        lines = [describe_style(s, locale) for s in await self.styles.offered(interaction.guild_id)]
        embed = discord.Embed(
            title=tr(locale, "Styles"),
            description=truncate("\n".join(lines) or tr(locale, "none"), 4096),
            colour=COLOUR,
        )
        embed.set_footer(text=tr(locale, "Moderators change them with /video-style set and remove."))
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="set")
    @app_commands.describe(
        name="The style's name (a shipped one is replaced)",
        text="Words added to the prompt",
        model="A model it uses when the member picks none",
        shape="A shape it uses when the member picks none",
        duration="A length in seconds it uses when the member picks none",
    )
    @app_commands.choices(shape=SHAPE_CHOICES)
    async def set_style(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 32],
        text: app_commands.Range[str, 1, 500],
        model: str | None = None,
        shape: str | None = None,
        duration: int | None = None,
    ) -> None:
        """Add or change a style of this server (Manage Messages)."""
        assert interaction.guild_id is not None
        self.styles.check_moderator(interaction.permissions.manage_messages)
        settings = self.bot.settings
        if model is not None and model not in settings.models:
            raise InputError(
                Text(
                    "Unknown model {model!r}. Choose one of: {models}.",
                    model=model,
                    models=", ".join(settings.models),
                )
            )
        if duration is not None and duration not in settings.durations:
            raise InputError(
                Text(
                    "Duration must be one of {durations} seconds.",
                    durations=", ".join(map(str, settings.durations)),
                )
            )
        style = Style(clean_style_name(name), text.strip(), model, shape, duration)
        await self.styles.set(interaction.guild_id, style, by=interaction.user.id)
        await interaction.response.send_message(
            tr(interaction.locale, "Style saved: {style}", style=describe_style(style, interaction.locale)),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="remove")
    @app_commands.describe(name="The style to remove")
    async def remove_style(self, interaction: discord.Interaction, name: str) -> None:
        """Remove a style of this server (Manage Messages)."""
        assert interaction.guild_id is not None
        self.styles.check_moderator(interaction.permissions.manage_messages)
        gone = await self.styles.remove(interaction.guild_id, name, by=interaction.user.id)
        await interaction.response.send_message(
            tr(interaction.locale, "Removed the style {name}.", name=inert(gone.name)),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @remove_style.autocomplete("name")
    async def _names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        wanted = current.strip().casefold()
        return [
            app_commands.Choice(name=s.name, value=s.name)
            for s in await self.styles.offered(interaction.guild_id)
            if wanted in s.key
        ][:25]

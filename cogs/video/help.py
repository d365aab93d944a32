"""`/video-help`, `/video-settings` (a member's own choices) and the welcome a new server gets."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.rules import budget, quota
from bot.rules.guild_settings import Defaults
from bot.rules.quota import Limits
from bot.texts import guide
from bot.texts.i18n import render, tr
from cogs.video.inputs import anywhere, member_of

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
COLOUR = 0x3498DB


class HelpCog(commands.Cog, name="Video help"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.defaults = Defaults.from_settings(bot.settings)

    @app_commands.command(name="video-help")
    @anywhere
    async def help(self, interaction: discord.Interaction) -> None:
        """How to make a video here: the options, the models, and this server's rules for you."""
        member = member_of(interaction)
        store = self.bot.store
        defaults = self.defaults
        if member.scope == "guild" and member.guild_id is not None:
            rules = await store.guild_rules(member.guild_id)
            since = quota.day_start(time.time(), rules.limits(defaults).timezone)
            mine, server = await store.quota_usage(
                guild_id=member.guild_id, user_id=member.user_id, since=since
            )
        else:
            # Outside servers that added the bot: the owner's defaults and the user quota.
            rules = await store.guild_rules(None)
            defaults = replace(defaults, limits=Limits(member_daily=self.bot.settings.user_daily_quota))
            today = quota.day_start(time.time(), quota.USER_ZONE)
            mine, _last = await store.user_scope_usage(member.user_id, today)
            server = 0
        now = time.time()
        budgets = tuple(
            [
                (cap, await budget.spent(store, cap, now) if cap.limit else 0)
                for cap in self.bot.intake.budgets(member, rules)
            ]
        )
        asker = guide.Asker(
            channel_id=member.channel_id,
            role_ids=member.role_ids,
            manage_guild=member.manage_guild,
            manage_messages=member.manage_messages,
            member_used=mine,
            server_used=server,
            notify=await store.notify_pref(member.user_id),
            budgets=budgets,
            now=now,
        )
        locale = interaction.locale
        embed = discord.Embed(title=tr(locale, "Making videos here"), colour=COLOUR)
        durations = self.bot.settings.durations
        styles = await self.bot.intake.styles.offered(member.guild_id if member.scope == "guild" else None)
        offered = tuple(s.name for s in styles)
        for name, value in guide.member_fields(rules, defaults, durations, asker, locale, offered):
            embed.add_field(name=name, value=value[:1024], inline=False)
        if member.manage_guild and member.scope == "guild":
            checklist = guide.setup_checklist(rules, self.defaults, member.bot_missing, locale)
            embed.add_field(
                name=tr(locale, "Set-up checklist (Manage Server)"), value=checklist[:1024], inline=False
            )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="video-settings")
    @anywhere
    @app_commands.describe(notify="How you are told that one of your videos is done, failed or was rejected")
    @app_commands.choices(
        notify=[
            app_commands.Choice(name="Mention me in a reply (default)", value="mention"),
            app_commands.Choice(name="Send me a direct message", value="dm"),
            app_commands.Choice(name="Nothing", value="off"),
        ]
    )
    async def settings(self, interaction: discord.Interaction, notify: str | None = None) -> None:
        """Your own choices for the video bot."""
        store = self.bot.store
        if notify is not None:
            await store.set_notify_pref(interaction.user.id, notify)
        current = await store.notify_pref(interaction.user.id)
        locale = interaction.locale
        how = render(guide.NOTIFY_WORDS[current], locale)
        text = tr(locale, "When a video of yours is done you get {how}.", how=how)
        await interaction.response.send_message(
            (tr(locale, "Saved. ") if notify else "") + text, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A short welcome with the set-up checklist, where the bot may post; silence elsewhere."""
        channel = guild.system_channel
        if channel is None or not channel.permissions_for(guild.me).send_messages:
            log.info("joined guild %s; no system channel to greet in", guild.id)
            return
        rules = await self.bot.store.guild_rules(guild.id)
        locale = guild.preferred_locale  # a public welcome: the server's language
        embed = discord.Embed(
            title=tr(locale, "Thanks for adding the video bot"),
            description=tr(locale, "Members make videos with `/video`; `/video-help` explains the rest."),
            colour=COLOUR,
        )
        embed.add_field(
            name=tr(locale, "Set-up checklist (for Manage Server)"),
            value=guide.setup_checklist(rules, self.defaults, None, locale)[:1024],
            inline=False,
        )
        try:
            await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.info("joined guild %s; welcome not posted (%s)", guild.id, exc)

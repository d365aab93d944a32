"""/video-admin: a server's moderators change its video rules (Manage Server by default)."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InputError
from bot.ops import audit, report
from bot.rules.guild_settings import ID_LISTS, PARSERS, PICKED, Defaults, GuildSettings
from bot.texts.i18n import N_, Text, tr
from cogs.common.audit import post_audit

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# Rows in one report: about 100 bytes each, so the CSV stays under Discord's smallest upload limit.
REPORT_MAX_JOBS = 50_000
SETTING_HELP = {
    "allowed_channels": "channel mentions, or none for every channel",
    "generator_roles": "role mentions, or none for every member",
    "models": "comma-separated models this server offers, or all",
    "default_model": "the model used when a member picks none",
    "max_duration": "seconds, or none",
    "allow_upsample": "yes or no",
    "member_daily_quota": "videos per member per day; 0 for no limit",
    "server_daily_quota": "videos for the whole server per day; 0 for no limit",
    "cooldown_seconds": "seconds between one member's videos; 0 for none",
    "timezone": "whose midnight resets the quotas, e.g. Europe/Berlin",
    "monthly_budget": "most this server may spend per month, e.g. 25; 0 for none",
    "blocked_patterns": "comma-separated words or /regular expressions/, or none",
    "reveal_blocked_words": "yes or no: tell members which rule their prompt matched",
    "allow_remix_others": "yes or no: may members remix other members' videos",
    "approval_channels": "channels where moderators approve each video, or none",
    "approver_roles": "roles that may approve, besides Manage Messages",
    "audit_channel": "a channel for the audit log and approval requests, or none",
}
# The settings' names as /video-admin show labels them.
LABELS = {
    "allowed_channels": N_("Allowed channels"),
    "generator_roles": N_("Generator roles"),
    "models": N_("Models"),
    "default_model": N_("Default model"),
    "max_duration": N_("Max duration"),
    "allow_upsample": N_("Allow upsample"),
    "member_daily_quota": N_("Member daily quota"),
    "server_daily_quota": N_("Server daily quota"),
    "cooldown_seconds": N_("Cooldown seconds"),
    "timezone": N_("Timezone"),
    "monthly_budget": N_("Monthly budget"),
    "blocked_patterns": N_("Blocked patterns"),
    "reveal_blocked_words": N_("Reveal blocked words"),
    "allow_remix_others": N_("Allow remix others"),
    "approval_channels": N_("Approval channels"),
    "approver_roles": N_("Approver roles"),
    "audit_channel": N_("Audit channel"),
}


@app_commands.guild_only()
@app_commands.allowed_installs(guilds=True, users=False)  # a server's rules: only where it added the bot
@app_commands.default_permissions(manage_guild=True)
class VideoAdmin(commands.GroupCog, group_name="video-admin"):
    """Change how this server may use the video bot."""

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.defaults = Defaults.from_settings(bot.settings)
        # One change of a server's rules at a time (`_edit`).
        self._editing: dict[int, asyncio.Lock] = {}
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Discord hides the group from others by default, but a server can change that:
        # the bot checks again.
        if not interaction.permissions.manage_guild:
            raise app_commands.CheckFailure(
                Text("Only members with Manage Server can change the video settings.")
            )
        return True

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show this server's video settings and where each comes from."""
        assert interaction.guild_id is not None
        current = await self.bot.store.guild_rules(interaction.guild_id)
        locale = interaction.locale
        embed = discord.Embed(title=tr(locale, "Video settings"), colour=0x95A5A6)
        for name, value in current.describe(self.defaults, locale):
            label = tr(locale, LABELS[name]) if name in LABELS else name.replace("_", " ").capitalize()
            embed.add_field(name=label, value=f"{value}\n*{current.source(name, locale)}*", inline=True)
        if current.blocked_patterns:
            embed.add_field(
                name=tr(locale, "blocked patterns"),
                value="`" + "`, `".join(current.blocked_patterns)[:1000] + "`",
            )
        env = self.bot.settings
        embed.set_footer(
            text=tr(
                locale,
                "The bot owner offers: {models}. Change settings with /video-admin set, "
                "channels, roles and audit-channel; /video-admin reset puts one back.",
                models=", ".join(env.models),
            )
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="set")
    @app_commands.describe(setting="What to change", value="The new value (see the setting's hint)")
    @app_commands.choices(
        setting=[
            app_commands.Choice(name=f"{n}: {h}"[:100], value=n)
            for n, h in SETTING_HELP.items()
            if n not in PICKED
        ]
    )
    async def set_(self, interaction: discord.Interaction, setting: str, value: str) -> None:
        """Change one setting (channels and roles: /video-admin channels, roles, audit-channel)."""
        assert interaction.guild_id is not None
        if setting in PICKED:
            raise InputError(
                Text(
                    "{setting} is chosen with Discord's pickers: see /video-admin channels and roles.",
                    setting=setting,
                )
            )
        before, updated = await self._edit(
            interaction, lambda rules: rules.with_value(setting, value, self.defaults)
        )
        await self._change(interaction, setting, before, updated)

    @app_commands.command(name="channels")
    @app_commands.describe(
        setting="Which list of channels",
        add="A channel to add",
        remove="A channel to take out",
        clear="Empty the list first (allowed_channels: every channel; approval_channels: none)",
    )
    @app_commands.choices(
        setting=[app_commands.Choice(name=f"{n}: {SETTING_HELP[n]}"[:100], value=n) for n in ID_LISTS[:2]]
    )
    async def channels(
        self,
        interaction: discord.Interaction,
        setting: str,
        add: discord.TextChannel | None = None,
        remove: discord.TextChannel | None = None,
        clear: bool = False,
    ) -> None:
        """Where videos may be made, or where a moderator approves each one."""
        await self._change_ids(interaction, setting, add, remove, clear)

    @app_commands.command(name="roles")
    @app_commands.describe(
        setting="Which list of roles",
        add="A role to add",
        remove="A role to take out",
        clear="Empty the list first",
    )
    @app_commands.choices(
        setting=[app_commands.Choice(name=f"{n}: {SETTING_HELP[n]}"[:100], value=n) for n in ID_LISTS[2:]]
    )
    async def roles(
        self,
        interaction: discord.Interaction,
        setting: str,
        add: discord.Role | None = None,
        remove: discord.Role | None = None,
        clear: bool = False,
    ) -> None:
        """Who may make videos, or who may approve them (besides Manage Messages)."""
        await self._change_ids(interaction, setting, add, remove, clear)

    @app_commands.command(name="audit-channel")
    @app_commands.describe(channel="Where audit lines and approval requests go; leave empty to turn it off")
    async def audit_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        """The channel for the audit log and approval requests."""
        assert interaction.guild_id is not None
        before, updated = await self._edit(
            interaction, lambda rules: replace(rules, audit_channel=channel.id if channel else None)
        )
        await self._change(interaction, "audit_channel", before, updated)

    async def _change_ids(
        self,
        interaction: discord.Interaction,
        setting: str,
        add: discord.abc.Snowflake | None,
        remove: discord.abc.Snowflake | None,
        clear: bool,
    ) -> None:
        assert interaction.guild_id is not None
        if add is None and remove is None and not clear:
            raise InputError(Text("Pick a channel or role to add or remove, or choose clear."))
        before, updated = await self._edit(
            interaction,
            lambda rules: rules.with_ids(
                setting, add=add.id if add else None, remove=remove.id if remove else None, clear=clear
            ),
        )
        await self._change(interaction, setting, before, updated)

    async def _edit(
        self, interaction: discord.Interaction, change: Callable[[GuildSettings], GuildSettings]
    ) -> tuple[GuildSettings, GuildSettings]:
        """Read the server's rules, `change` them and write them back: (before, after). Under
        the server's lock, as the store calls await between the read and the write: two
        moderators' changes at once must not each write over the other's. (This process's
        lock only: a server's commands reach only the process that runs its shard.)"""
        assert interaction.guild_id is not None
        async with self._editing.setdefault(interaction.guild_id, asyncio.Lock()):
            before = await self.bot.store.guild_rules(interaction.guild_id)
            updated = change(before)
            await self.bot.store.set_guild_rules(interaction.guild_id, updated, by=interaction.user.id)
        return before, updated

    async def _change(
        self, interaction: discord.Interaction, setting: str, before: GuildSettings, updated: GuildSettings
    ) -> None:
        """Say what a stored change made the setting, audit it, and warn about an unusable audit channel."""
        assert interaction.guild_id is not None
        log.info("guild %s: %s changed %s", interaction.guild_id, interaction.user.id, setting)
        locale = interaction.locale
        shown = self._shown(updated, setting, locale)
        await interaction.response.send_message(
            tr(locale, "{setting} is now: {value}", setting=setting, value=shown),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        posted = await self._audit(interaction, setting, reset=False, before=before, after=updated)
        if setting == "audit_channel" and updated.audit_channel and not posted:
            await interaction.followup.send(
                tr(
                    locale,
                    "⚠️ I could not post in <#{channel}>: give me View Channel, Send Messages "
                    "and Attach Files there, or approval requests will appear on the job messages instead.",
                    channel=updated.audit_channel,
                ),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )

    def _shown(self, rules: GuildSettings, setting: str, locale: object) -> str:
        """A setting's value in words, as the reply and the audit line say it."""
        described = dict(rules.describe(self.defaults, locale))
        shown = described[setting]
        if setting == "models":
            shown += tr(locale, " (default: {model})", model=described["default_model"])
        return shown

    @app_commands.command(name="reset")
    @app_commands.describe(setting="What to put back to the default")
    @app_commands.choices(setting=[app_commands.Choice(name=n, value=n) for n in PARSERS])
    async def reset(self, interaction: discord.Interaction, setting: str) -> None:
        """Put one setting back to its default."""
        assert interaction.guild_id is not None
        current, updated = await self._edit(
            interaction, lambda rules: replace(rules, **{setting: getattr(GuildSettings(), setting)})
        )
        shown = dict(updated.describe(self.defaults, interaction.locale))[setting]
        await interaction.response.send_message(
            tr(interaction.locale, "{setting} is back to its default: {value}", setting=setting, value=shown),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await self._audit(interaction, setting, reset=True, before=current, after=updated)

    @app_commands.command(name="report")
    @app_commands.describe(
        days=f"The last N days (1-{report.MAX_DAYS}; default {report.DEFAULT_DAYS}); or use since/until",
        since="First day, like 2025-01-31 (UTC), instead of days",
        until="Last day, included (UTC; default today); needs since",
    )
    async def report_(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, report.MAX_DAYS] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        """This server's videos for a period, as a CSV file with a summary per member."""
        assert interaction.guild_id is not None
        start, end, label = report.period(
            time.time(), days=days, since=since, until=until, locale=interaction.locale
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        jobs = await self.bot.store.jobs_between(interaction.guild_id, start, end, limit=REPORT_MAX_JOBS + 1)
        truncated = len(jobs) > REPORT_MAX_JOBS
        prices = self.defaults.prices
        jobs = jobs[:REPORT_MAX_JOBS]
        text = report.summary_text(
            report.summarize(jobs),
            label,
            escape=discord.utils.escape_markdown,
            truncated=truncated,
            locale=interaction.locale,
            show=prices.show if prices.per_video else None,
        )
        day = datetime.fromtimestamp(time.time(), UTC).date().isoformat()
        # UTF-8 with a byte-order mark, so spreadsheets read members' names in any script.
        data = report.build_csv(jobs).encode("utf-8-sig")
        file = discord.File(io.BytesIO(data), filename=f"video-report-{interaction.guild_id}-{day}.csv")
        await interaction.followup.send(text[:2000], file=file, ephemeral=True, allowed_mentions=NO_MENTIONS)
        log.info(
            "guild %s: %s downloaded a report of %d jobs",
            interaction.guild_id,
            interaction.user.id,
            len(jobs),
        )

    async def _audit(
        self,
        interaction: discord.Interaction,
        setting: str,
        *,
        reset: bool,
        before: GuildSettings,
        after: GuildSettings,
    ) -> bool:
        """Post the change in the audit channel, in the server's language; False when it could
        not be posted there."""
        locale = interaction.guild_locale
        shown = (
            dict(after.describe(self.defaults, locale))[setting]
            if reset
            else self._shown(after, setting, locale)
        )
        line = audit.settings_line(
            setting, shown, by=interaction.user.id, at=time.time(), reset=reset, locale=locale
        )
        posted = await post_audit(self.bot, interaction.guild_id, line)
        if before.audit_channel and before.audit_channel != after.audit_channel:
            # The old channel learns where the audit log went (or that it was turned off).
            await post_audit(self.bot, interaction.guild_id, line, channel_id=before.audit_channel)
        return posted


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VideoAdmin(bot))

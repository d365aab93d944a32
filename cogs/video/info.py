"""Read-only commands about jobs: what is running here, one job's status, a member's history."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import DeadLink, InputError, LinkOnly, PermissionDenied
from bot.jobs.model import IN_PROGRESS, Job, JobState
from bot.jobs.relay_limits import RelayLimits
from bot.relay.download import download, is_web_url
from bot.rules import budget, quota
from bot.rules.guild_settings import Defaults
from bot.texts.guide import FAIR_TURNS
from bot.texts.i18n import N_, Text, ntr, tr
from bot.texts.i18n import render as localize
from cogs.video.inputs import anywhere, scope_of
from cogs.video.listing import job_lines
from cogs.video.render import render
from cogs.video.sender import uploads
from cogs.video.views import finished_view

if TYPE_CHECKING:
    from bot.app.client import VideoBot

NO_MENTIONS = discord.AllowedMentions.none()
SOMEONE_ELSES = {
    "history": N_("Only members with Manage Messages can see someone else's history."),
    "use": N_("Only members with Manage Messages can see someone else's use."),
}


class JobInfoCog(commands.Cog, name="Video info"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @app_commands.command(name="video-queue")
    @app_commands.guild_only()
    @app_commands.allowed_installs(guilds=True, users=False)
    async def queue(self, interaction: discord.Interaction) -> None:
        """What is being generated and what is waiting in this server."""
        store = self.bot.store
        assert interaction.guild_id is not None
        running = list(
            reversed(await store.jobs_for_guild(interaction.guild_id, states=IN_PROGRESS, limit=50))
        )
        # Positions are global (the relay limit is shared) and in the queue's fair order.
        here = [j for j in await store.waiting() if j.guild_id == interaction.guild_id]
        positions = {j.id: await self.bot.tracker.queue_position(j.id) for j in here}
        waiting = sorted(here, key=lambda j: positions[j.id])
        locale = interaction.locale
        embed = discord.Embed(title=tr(locale, "Video queue"), colour=0x3498DB)
        embed.add_field(
            name=tr(locale, "Running ({count})", count=len(running)),
            value=job_lines(running, limit=1000, locale=locale) or tr(locale, "nothing"),
            inline=False,
        )
        lines = (
            job_lines(waiting, limit=1000, positions=positions, locale=locale)
            if waiting
            else tr(locale, "nobody is waiting")
        )
        embed.add_field(name=tr(locale, "Waiting ({count})", count=len(waiting)), value=lines, inline=False)
        held = list(
            reversed(
                await store.jobs_for_guild(
                    interaction.guild_id, states=[JobState.AWAITING_APPROVAL], limit=50
                )
            )
        )
        if held:
            embed.add_field(
                name=tr(locale, "Awaiting approval ({count})", count=len(held)),
                value=job_lines(held, limit=1000, locale=locale),
                inline=False,
            )
        busy = relay_line(self.bot.tracker.relay_limits(), locale)
        embed.set_footer(text="\n".join(filter(None, (busy, localize(FAIR_TURNS, locale)))))
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="video-status")
    @anywhere
    @app_commands.describe(job="A video number like #12 (or, for moderators, its task id)")
    async def status(self, interaction: discord.Interaction, job: str) -> None:
        """Show one job's current state."""
        store = self.bot.store
        found = await self._find(interaction, job)
        position = await store.queue_position(found.id) if found.state is JobState.PENDING else None
        # A finished video is shown again: also how a member finds a result that could not be
        # posted in its channel.
        done = found.state in (JobState.SUCCEEDED, JobState.DELIVERED) and is_web_url(found.video_url)
        # Task ids are for moderators (who may need them with the relay's support), not members.
        moderator = interaction.permissions.manage_messages
        task = (
            tr(interaction.locale, "Task {task}", task=found.task_id) if found.task_id and moderator else None
        )
        video: bytes | None = None
        link: str | None = None
        if done:
            # Fetching the video may outlast Discord's 3 seconds to answer.
            await interaction.response.defer(ephemeral=True, thinking=True)
            video, link = await self._video(interaction, found)
        parent = await store.get(found.parent_id) if found.parent_id else None
        # A private answer: in the asker's language, buttons too.
        shown = render(
            found,
            position=position,
            # As in the job message: the video uploaded, or its link (which Discord plays) when
            # it is too large or slow to fetch.
            link=link,
            parent=parent,
            footer=task,
            locale=interaction.locale,
        )
        embeds = [discord.Embed.from_dict(e) for e in shown.embeds]
        # Like Midjourney's /show: a finished job comes back with its buttons (Reroll, Remix…).
        view = finished_view(found, interaction.locale).view() if found.state.final else discord.utils.MISSING
        if not done:
            await interaction.response.send_message(
                content=shown.content or None,
                embeds=embeds,
                view=view,
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        files = [(f"video-{found.id}.mp4", video)] if video is not None else []
        with uploads(files) as attached:
            await interaction.followup.send(
                content=shown.content or discord.utils.MISSING,
                embeds=embeds,
                view=view,
                files=attached,
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )

    async def _video(self, interaction: discord.Interaction, job: Job) -> tuple[bytes | None, str | None]:
        """The finished video to upload, or (too large or slow to fetch) its link to show
        instead, or neither when the link is dead."""
        assert job.video_url is not None
        settings = self.bot.settings
        try:
            data = await download(
                self.bot.session,
                job.video_url,
                max_bytes=min(interaction.filesize_limit, settings.max_video_bytes),
                time_limit=settings.video_download_timeout,
            )
        except LinkOnly:
            return None, job.video_url
        except DeadLink:
            return None, None
        return data, None

    @app_commands.command(name="video-history")
    @anywhere
    @app_commands.describe(
        member="Whose jobs (moderators with Manage Messages may look at anyone's)",
        job="Instead: one job's lineage, what it was built on and what was built on it (#12 or task id)",
    )
    async def history(
        self, interaction: discord.Interaction, member: discord.Member | None = None, job: str | None = None
    ) -> None:
        """Your recent video jobs in this server, with links to their messages, or one job's lineage."""
        if job is not None:
            await self._lineage(interaction, await self._find(interaction, job))
            return
        target = _target(interaction, member, "history")
        jobs = await self.bot.store.jobs_for_user(target.id, guild_id=interaction.guild_id, limit=15)
        locale = interaction.locale
        embed = discord.Embed(
            title=tr(locale, "Recent videos of {name}", name=target.display_name),
            description=job_lines(
                jobs, deleted=await self.bot.store.deleted(j.id for j in jobs), locale=locale
            )
            if jobs
            else tr(locale, "No videos yet."),
            colour=0x2ECC71,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _lineage(self, interaction: discord.Interaction, job: Job) -> None:
        store = self.bot.store
        chain = list(reversed(await store.lineage(job.id)))  # oldest first: who started it, who built on it
        built = await store.children(job.id)
        deleted = await store.deleted(j.id for j in [*chain, *built])
        locale = interaction.locale
        embed = discord.Embed(title=tr(locale, "Lineage of video #{id}", id=job.id), colour=0x9B59B6)
        embed.add_field(
            name=tr(locale, "Built on (oldest first)"),
            value=job_lines(chain, limit=1000, deleted=deleted, locale=locale),
            inline=False,
        )
        embed.add_field(
            name=tr(locale, "Built on this ({count})", count=len(built)),
            value=job_lines(built, limit=1000, deleted=deleted, locale=locale)
            if built
            else tr(locale, "nothing yet"),
            inline=False,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _find(self, interaction: discord.Interaction, key: str) -> Job:
        """A job of this server by number (#12) or by the task id in its footer."""
        store = self.bot.store
        key = key.strip()
        found = (
            await store.get(int(key.lstrip("#")))
            if key.lstrip("#").isdigit()
            else await store.get_by_task(key)
        )
        # A server's jobs in that server; a member's own jobs wherever they ask (DMs included).
        if found is None or (found.guild_id != interaction.guild_id and found.user_id != interaction.user.id):
            raise InputError(Text("No job {key!r} here.", key=key))
        return found

    @app_commands.command(name="video-usage")
    @anywhere
    @app_commands.describe(member="Whose use (moderators with Manage Messages may look at anyone's)")
    async def usage(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        """Videos made today against this server's daily quotas, and when they reset."""
        target = _target(interaction, member, "use")
        store = self.bot.store
        if interaction.guild_id is None or scope_of(interaction) != "guild":
            await self._user_usage(interaction, target)
            return
        rules = await store.guild_rules(interaction.guild_id)
        defaults = Defaults.from_settings(self.bot.settings)
        limits = rules.limits(defaults)
        now = time.time()
        since = quota.day_start(now, limits.timezone)
        mine, server = await store.quota_usage(guild_id=interaction.guild_id, user_id=target.id, since=since)
        locale = interaction.locale
        who = tr(locale, "You") if target.id == interaction.user.id else target.display_name
        lines = [
            f"**{who}:** {quota.describe(mine, limits.member_daily, locale)}",
            tr(locale, "**This server:** {usage}", usage=quota.describe(server, limits.server_daily, locale)),
            tr(
                locale,
                "Quotas reset <t:{reset}:R> (midnight, {timezone}).",
                reset=int(quota.next_reset(now, limits.timezone)),
                timezone=limits.timezone,
            )
            + " "
            + localize(quota.COUNTING_RULE, locale),
        ]
        if limits.cooldown:
            lines.append(
                ntr(
                    locale,
                    "One video every {n} second per member.",
                    "One video every {n} seconds per member.",
                    n=limits.cooldown,
                )
            )
        if defaults.prices.per_video or limits.monthly_budget:
            month = budget.month_start(now, limits.timezone)
            mine_today = await store.spend(since=since, guild_id=interaction.guild_id, user_id=target.id)
            mine_month = await store.spend(since=month, guild_id=interaction.guild_id, user_id=target.id)
            server_month = await store.spend(since=month, guild_id=interaction.guild_id)
            show = defaults.prices.show
            lines.append(
                tr(
                    locale,
                    "**Spent:** {who}, {today} today and {month} this month; "
                    "this server, {server} this month.",
                    who=who,
                    today=show(mine_today),
                    month=show(mine_month),
                    server=show(server_month),
                )
            )
            if limits.monthly_budget:
                lines.append(
                    tr(
                        locale,
                        "This server's monthly budget is {budget}; it resets <t:{reset}:R> "
                        "(the 1st, midnight {timezone}).",
                        budget=show(limits.monthly_budget),
                        reset=int(budget.next_month(now, limits.timezone)),
                        timezone=limits.timezone,
                    )
                )
        embed = discord.Embed(
            title=tr(locale, "Video usage today"), description="\n".join(lines), colour=0x3498DB
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _user_usage(self, interaction: discord.Interaction, target: discord.abc.User) -> None:
        """Use outside servers that added the bot: the owner's USER_DAILY_QUOTA, per UTC day."""
        now = time.time()
        since = quota.day_start(now, quota.USER_ZONE)
        used, _last = await self.bot.store.user_scope_usage(target.id, since)
        locale = interaction.locale
        who = tr(locale, "You") if target.id == interaction.user.id else target.display_name
        lines = [
            tr(
                locale,
                "**{who}, outside servers that added the bot:** {usage}",
                who=who,
                usage=quota.describe(used, self.bot.settings.user_daily_quota, locale),
            ),
            tr(
                locale,
                "Resets <t:{reset}:R> (midnight UTC). {rule}",
                reset=int(quota.next_reset(now, quota.USER_ZONE)),
                rule=localize(quota.COUNTING_RULE, locale),
            ),
        ]
        prices = Defaults.from_settings(self.bot.settings).prices
        if prices.per_video:
            lines.append(
                tr(
                    locale,
                    "**Spent outside servers that added the bot:** {today} today and "
                    "{month} this month (UTC).",
                    today=prices.show(
                        await self.bot.store.spend(since=since, user_id=target.id, outside=True)
                    ),
                    month=prices.show(
                        await self.bot.store.spend(
                            since=budget.month_start(now, quota.USER_ZONE), user_id=target.id, outside=True
                        )
                    ),
                )
            )
        embed = discord.Embed(
            title=tr(locale, "Video usage today"), description="\n".join(lines), colour=0x3498DB
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


def relay_line(limits: RelayLimits, locale: object) -> str | None:
    """One line on how hard the bot presses a busy relay now; None while all is calm."""
    n = limits.creates_at_once
    if limits.creates_paused_for > 0:
        return ntr(
            locale,
            "The video service is busy: sending resumes in {seconds} s, then {n} job at a time.",
            "The video service is busy: sending resumes in {seconds} s, then {n} jobs at a time.",
            n=n,
            seconds=math.ceil(limits.creates_paused_for),
        )
    if limits.lowered:
        return ntr(
            locale,
            "The video service was busy: the bot sends {n} job at a time until it keeps up.",
            "The video service was busy: the bot sends up to {n} jobs at a time until it keeps up.",
            n=n,
        )
    return None


def _target(
    interaction: discord.Interaction, member: discord.Member | None, what: str
) -> discord.Member | discord.User:
    """The member asked about: oneself, or anyone for members with Manage Messages."""
    target = member or interaction.user
    if target.id != interaction.user.id and not interaction.permissions.manage_messages:
        raise PermissionDenied(Text(SOMEONE_ELSES[what]))
    return target

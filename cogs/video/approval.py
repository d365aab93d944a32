"""Moderated channels: asking moderators, their Approve / Reject, and closing the request.

The state change itself (AWAITING_APPROVAL -> PENDING or REJECTED, compare-and-set so two
moderators clicking at once make one decision) is the tracker's; this module is the Discord side.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord

from bot.errors import JobNotFound, PermissionDenied
from bot.jobs.model import Job, JobState
from bot.jobs.tracker import JobTracker
from bot.rules.guild_settings import GuildSettings
from bot.texts.i18n import Text, tr
from cogs.common.audit import audit_job
from cogs.video.inputs import member_of
from cogs.video.messages import JobMessages
from cogs.video.notices import NO_MENTIONS, embeds
from cogs.video.views import decision_view

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)


class Approvals:
    def __init__(self, bot: VideoBot, tracker: JobTracker, messages: JobMessages) -> None:
        self.bot = bot
        self.tracker = tracker
        self.messages = messages

    async def ask(self, job: Job, files: tuple[tuple[str, bytes], ...], rules: GuildSettings) -> Job:
        """Post the approval request in the audit channel, with the full prompt and the images,
        pinging the server's approver roles (and only them).

        When there is no audit channel, or the bot cannot post there, the Approve and Reject
        buttons sit on the job message itself, so a decision is always possible; the ping is
        then a reply to the job message.
        """
        ping = " ".join(f"<@&{r}>" for r in rules.approver_roles)
        approvers = discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(r) for r in rules.approver_roles]
        )
        if rules.audit_channel is not None:
            channel = self.bot.get_partial_messageable(rules.audit_channel, guild_id=job.guild_id)
            try:
                asks = tr(
                    job.locale,
                    "<@{user}> asks for a video in <#{channel}>. A member with Manage Messages (or an "
                    "approver role) can approve or reject it.",
                    user=job.user_id,
                    channel=job.channel_id,
                )
                message = await channel.send(
                    content=f"🛂 {ping + ': ' if ping else ''}{asks}",
                    embeds=embeds(await self.messages.render(job)),
                    files=[discord.File(io.BytesIO(data), filename=name) for name, data in files],
                    view=decision_view(job.id, job.locale),
                    allowed_mentions=approvers,
                )
                return await self.bot.store.update(
                    job.id, approval_channel_id=channel.id, approval_message_id=message.id
                )
            except discord.HTTPException as exc:
                log.warning("job %d: approval request not posted in %s (%s)", job.id, channel.id, exc)
        assert job.message_id is not None
        job = await self.bot.store.update(
            job.id, approval_channel_id=job.channel_id, approval_message_id=job.message_id
        )
        if rules.audit_channel is not None:
            await self.messages.show(job.id)  # the job message was posted without the buttons
        if ping:
            assert job.message_id is not None
            channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
            try:
                await channel.send(
                    f"🛂 {ping}: " + tr(job.locale, "video #{id} waits for your decision.", id=job.id),
                    reference=channel.get_partial_message(job.message_id).to_reference(
                        fail_if_not_exists=False
                    ),
                    allowed_mentions=approvers,
                )
            except discord.HTTPException as exc:
                log.warning("job %d: approvers not pinged (%s)", job.id, exc)
        return job

    async def check_approver(self, interaction: discord.Interaction, job: Job) -> None:
        """May the member who pressed Approve or Reject decide on `job`?"""
        if job.guild_id is None:
            raise JobNotFound()  # approval exists only in servers
        rules = await self.bot.store.guild_rules(job.guild_id)
        member = member_of(interaction)
        if not rules.can_approve(role_ids=set(member.role_ids), manage_messages=member.manage_messages):
            raise PermissionDenied(
                Text(
                    "Only members with Manage Messages or one of this server's approver roles can approve "
                    "or reject videos."
                )
            )

    async def decide(self, interaction: discord.Interaction, job: Job, verdict: str) -> None:
        """Approve or Reject was pressed by a member `check_approver` let through."""
        job_id = job.id
        await interaction.response.defer(ephemeral=True, thinking=True)
        me = interaction.user.id
        approve = verdict == "approve"
        if approve:
            decided = await self.tracker.approve(job_id, by_user=me)
        else:
            decided = await self.tracker.reject(job_id, by_user=me)
        locale = interaction.locale
        if decided is None:
            await interaction.followup.send(
                already_decided(await self.bot.store.require(job_id), locale), ephemeral=True
            )
            return
        log.info("job %d: %s by %s", job_id, "approved" if approve else "rejected", me)
        if approve:
            said = tr(locale, "Approved video #{id}.", id=job_id)
            outcome = tr(decided.locale, "✅ Approved by <@{user}>.", user=me)
        else:
            said = tr(locale, "Rejected video #{id}.", id=job_id)
            outcome = tr(decided.locale, "⛔ Rejected by <@{user}>.", user=me)
        await interaction.followup.send(said, ephemeral=True)
        await self.close(decided, outcome)
        await audit_job(self.bot, "approved" if approve else "rejected", decided, by=me)

    async def close(self, job: Job, outcome: str) -> None:
        """Take the buttons off an approval request in the audit channel and say what happened."""
        if job.approval_message_id is None or job.approval_message_id == job.message_id:
            return  # decided on the job message, which the tracker re-renders
        assert job.approval_channel_id is not None
        channel = self.bot.get_partial_messageable(job.approval_channel_id, guild_id=job.guild_id)
        # The embed shows the decision too, so the request reads right wherever one looks.
        shown = await self.bot.store.require(job.id)
        try:
            await channel.get_partial_message(job.approval_message_id).edit(
                content=outcome,
                embeds=embeds(await self.messages.render(shown)),
                view=None,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.warning("job %d: approval request not updated: %s", job.id, exc)


def already_decided(job: Job, locale: object = None) -> str:
    """What a moderator who clicked too late is told: who decided, in words."""
    if job.state is JobState.REJECTED:
        if job.decided_by:
            return tr(
                locale, "Video #{id} was already rejected by <@{user}>.", id=job.id, user=job.decided_by
            )
        return tr(locale, "Video #{id} was already rejected.", id=job.id)
    if job.state is JobState.CANCELLED and job.decided_by is None:
        if job.cancelled_by == job.user_id:
            return tr(locale, "Video #{id} was already withdrawn by the member who asked.", id=job.id)
        return tr(locale, "Video #{id} was already cancelled.", id=job.id)
    if job.decided_by:
        return tr(locale, "Video #{id} was already approved by <@{user}>.", id=job.id, user=job.decided_by)
    return tr(locale, "Video #{id} was already decided.", id=job.id)

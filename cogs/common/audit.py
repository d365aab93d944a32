"""Sends audit lines to a server's audit-log channel (a helper, not an extension).

Auditing is best effort: a missing channel or permission is logged, never shown to the member
whose action is being audited, and never stops that action.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import discord

from bot.jobs.model import Job
from bot.ops import audit

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)


async def post_audit(
    bot: VideoBot, guild_id: int | None, line: str, *, channel_id: int | None = None
) -> bool:
    """Post `line` in the server's audit channel (or in `channel_id`, e.g. the one being replaced).

    False when there is a channel but the line could not be posted there."""
    if guild_id is None:
        return True
    if channel_id is None:
        channel_id = (await bot.store.guild_rules(guild_id)).audit_channel
    if channel_id is None:
        return True
    channel = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    try:
        await channel.send(line, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as exc:
        log.warning("guild %s: audit line not posted in channel %s: %s", guild_id, channel_id, exc)
        return False
    return True


async def audit_job(bot: VideoBot, event: str, job: Job, *, by: int | None) -> None:
    if job.guild_id is None or (await bot.store.guild_rules(job.guild_id)).audit_channel is None:
        return  # most servers have no audit channel: no line to build for every job event
    await post_audit(bot, job.guild_id, audit.job_line(event, job, by=by, at=time.time()))

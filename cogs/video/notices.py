"""What reaches a member outside the job message: the one notification when a job ends, and the
private word when the job message cannot show a result at all; and the interaction webhooks
these and the job message's edits go through while the interaction token lives.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.app.discord_internals import application_webhook
from bot.jobs.model import Job, JobState
from bot.pacing.budgets import NOTICE, sending
from bot.texts.formatting import message_link
from bot.texts.i18n import N_, tr
from cogs.video.render import Render
from cogs.video.sender import nonce

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
ENDINGS = {
    JobState.SUCCEEDED: N_("your video #{id} is ready."),
    JobState.DELIVERED: N_("your video #{id} is ready."),
    JobState.FAILED: N_("your video #{id} could not be made; the message says why."),
    JobState.REJECTED: N_("your video #{id} was not approved by a moderator."),
}
CANNOT_DM = 50007  # Discord's "Cannot send messages to this user": DMs closed to the bot
DMS_CLOSED = N_("You asked to be told by DM, but your DMs are closed to me, so I am telling you here.")


def embeds(r: Render) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in r.embeds]


def interaction_webhook(bot: VideoBot, job: Job) -> discord.Webhook:
    """The job's interaction webhook, as a plain webhook: it edits the job message, and sends
    without reading Discord's answer back (`wait=False`)."""
    assert job.application_id and job.interaction_token
    return discord.Webhook.partial(job.application_id, job.interaction_token, client=bot)


def followup(bot: VideoBot, job: Job) -> discord.Webhook:
    """The interaction's followup webhook: an application webhook (type 3), as discord.py
    builds for `interaction.followup`; only those may send ephemeral messages."""
    assert job.interaction_token and job.application_id
    return application_webhook(bot, job.application_id, job.interaction_token)


async def notify(bot: VideoBot, job: Job, *, token_usable: bool) -> None:
    """Tell the requester the job ended, their way: a reply that pings only them (the
    default), a DM, or nothing. Best effort: the result itself is already shown.

    A member who chose DMs but closed them is pinged instead, once, with a word on why."""
    how = await bot.store.notify_pref(job.user_id)
    if how == "off":
        return
    if how == "mention" and job.scope == "user" and not token_usable:
        how = "dm"  # no channel access once the token is gone: a DM is the only way
    what = tr(job.locale, ENDINGS.get(job.state, ENDINGS[JobState.FAILED]), id=job.id)
    try:
        # After the final edits of its channel, before anyone's queue position or progress.
        with sending(NOTICE):
            await _notify(bot, job, what, how, token_usable=token_usable)
    except discord.HTTPException as exc:
        log.info("job %d: the requester could not be notified (%s)", job.id, exc)


async def _notify(bot: VideoBot, job: Job, what: str, how: str, *, token_usable: bool) -> None:
    if how == "dm":
        if await _dm(bot, job, what):
            return
        if job.scope == "user" and not token_usable:
            log.info("job %d: the requester's DMs are closed and no channel is reachable", job.id)
            return
        what = f"{what}\n{tr(job.locale, DMS_CLOSED)}"
    await _mention(bot, job, what, token_usable=token_usable)


async def _dm(bot: VideoBot, job: Job, what: str) -> bool:
    """The notification by DM; False when the member's DMs are closed to the bot."""
    where = message_link(job)
    try:
        dm = await bot.create_dm(discord.Object(job.user_id))
        await dm.send(
            f"{what} {where or ''}".strip(), allowed_mentions=NO_MENTIONS, nonce=nonce(job.id, "notify")
        )
    except discord.HTTPException as exc:
        if exc.code != CANNOT_DM:
            raise
        return False
    return True


async def _mention(bot: VideoBot, job: Job, what: str, *, token_usable: bool) -> None:
    """The notification as a new message in the job's channel that pings only its requester."""
    only_them = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(job.user_id)])
    text = f"<@{job.user_id}> {what}"
    if token_usable:
        # A followup is a new message (it notifies) and needs no channel permission.
        # Nothing reads it back: through the plain webhook discord.py lets `wait=False`
        # skip building a Message from Discord's answer (one per job in a burst). (A webhook
        # takes no nonce: a followup whose answer was lost may show twice.)
        where = message_link(job)
        hook = interaction_webhook(bot, job)
        try:
            await hook.send(f"{text} {where or ''}".strip(), allowed_mentions=only_them, wait=False)
            return
        except discord.HTTPException as exc:
            # The token died before its time (Discord's own clock): the channel still works,
            # except for a user install, where it is all there was.
            if exc.status not in (401, 404) or job.scope == "user":
                raise
    channel = bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
    reference = (
        channel.get_partial_message(job.message_id).to_reference(fail_if_not_exists=False)
        if job.message_id
        else None
    )
    await channel.send(
        text,
        allowed_mentions=only_them,
        reference=reference,  # type: ignore[arg-type]
        nonce=nonce(job.id, "notify"),
    )


async def tell_member(bot: VideoBot, job: Job, shown: Render, *, token_usable: bool) -> str:
    """The job message cannot show the result (permission removed, channel locked): tell the
    member privately while the interaction token lives, by DM after that. Returns how."""
    text = tr(
        job.locale,
        "I could not post the result of video #{id} in <#{channel}>, so here it is.",
        id=job.id,
        channel=job.channel_id,
    )
    content = f"{text}\n{shown.content}" if shown.content else text
    kwargs: dict[str, Any] = {"content": content, "embeds": embeds(shown), "allowed_mentions": NO_MENTIONS}
    try:
        if token_usable:
            await followup(bot, job).send(ephemeral=True, **kwargs)
            return "private"
        dm = await bot.create_dm(discord.Object(job.user_id))
        await dm.send(**kwargs, nonce=nonce(job.id, "told"))
        return "dm"
    except discord.HTTPException as exc:
        log.warning("job %d: the member could not be told either (%s); /video-status has it", job.id, exc)
        return "undeliverable"

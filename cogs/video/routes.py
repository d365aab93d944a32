"""Which way a job message is edited: through the interaction's webhook while its token lasts,
then through the bot's own channel routes; a deleted message is posted again (under one nonce
per try, so a lost answer is not a second job message), and a channel the bot cannot reach ends
the job with its result kept.

Part of `JobMessages` (`cogs.video.messages`), which decides what a message shows and when.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.app.discord_internals import edit_unread
from bot.jobs.model import Job
from bot.pacing.budgets import FINAL, PROGRESS, Budgets, sending
from bot.settings import Settings
from cogs.video.notices import interaction_webhook
from cogs.video.sender import nonce
from cogs.video.views import as_view

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)

INVALID_WEBHOOK_TOKEN = 50027
UNKNOWN_MESSAGE = 10008


class JobMessageRoutes:
    # JobMessages' (cogs.video.messages), which this is part of.
    bot: VideoBot
    settings: Settings
    budgets: Budgets
    _dead_tokens: set[int]
    _unsure_reposts: set[int]

    def _pacing(self, job: Job, progress: bool) -> tuple[int, Callable[[], bool]]:
        raise NotImplementedError

    async def _slot(self, job: Job, progress: bool, *buckets: str) -> None:
        raise NotImplementedError

    async def _edit_message(self, job: Job, *, progress: bool = False, **kwargs: Any) -> bool:
        """Edit the job message: through the interaction token while it lasts, then as the bot.

        Returns False when the message cannot be shown at all (channel deleted, no permission):
        the job still ends, with its result recorded, instead of retrying forever.
        """
        if job.message_id is None:
            return await self._repost(job, kwargs)
        if self._token_usable(job):
            webhook = interaction_webhook(self.bot, job)
            await self._slot(job, progress, f"webhook:{job.id}")
            try:
                await edit_unread(webhook, job.message_id, **kwargs)
                return True
            except discord.HTTPException as exc:
                if exc.status == 401 or exc.code == INVALID_WEBHOOK_TOKEN:
                    log.info("job %d: interaction token expired; editing through the channel", job.id)
                    self._dead_tokens.add(job.id)
                elif exc.status != 404:
                    raise
        if job.scope == "user":
            return False  # the bot is not in that server: nothing goes to its channels
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        priority, wanted = self._pacing(job, progress)
        try:
            with sending(priority, wanted, droppable=priority == PROGRESS):
                await channel.get_partial_message(job.message_id).edit(
                    **{**kwargs, "view": as_view(kwargs["view"])}
                )
            return True
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_MESSAGE:
                log.warning("job %d: channel %s is gone; the result stays recorded", job.id, job.channel_id)
                return False
            log.info("job %d: job message was deleted; posting a new one", job.id)
            return await self._repost(job, kwargs)
        except discord.Forbidden:
            log.warning(
                "job %d: no permission to edit in channel %s; result recorded", job.id, job.channel_id
            )
            return False

    async def _repost(self, job: Job, kwargs: dict[str, Any]) -> bool:
        if job.scope == "user":
            return False  # no channel access where the bot is only user-installed
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        send_kwargs = dict(kwargs)
        files = send_kwargs.pop("attachments", None)
        if files:
            send_kwargs["files"] = files
        send_kwargs["view"] = as_view(send_kwargs.get("view"))
        if send_kwargs["view"] is None:
            del send_kwargs["view"]
        # Each try to replace this message carries one nonce: a try whose answer was lost is
        # not a second job message (a later deletion is a new replacement, a new nonce).
        send_kwargs["nonce"] = nonce(job.id, "job", job.message_id or 0)
        try:
            with sending(FINAL):
                message = await channel.send(**send_kwargs)
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning(
                "job %d: cannot post in channel %s (%s); result recorded", job.id, job.channel_id, exc
            )
            return False
        except BaseException:
            # No answer (lost, or a progress send cancelled by the final edit): the message may
            # exist, and the next try's nonce would then be answered with it.
            self._unsure_reposts.add(job.id)
            raise
        await self.bot.store.update(job.id, message_id=message.id)
        if job.id in self._unsure_reposts:
            # Possibly the message an earlier try made, showing that try's render: show this one.
            self._unsure_reposts.discard(job.id)
            for file in files or ():
                if isinstance(file, discord.File):
                    file.reset()
            with sending(FINAL):
                await message.edit(**{**kwargs, "view": as_view(kwargs.get("view"))})
        return True

    def _token_usable(self, job: Job) -> bool:
        if job.id in self._dead_tokens or not job.interaction_token or not job.token_issued_at:
            return False
        return time.time() - job.token_issued_at < self.settings.interaction_token_ttl

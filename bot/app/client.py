"""The bot: resources and the extensions to load come in through the constructor; `setup_hook`
loads the extensions (which register their own commands and persistent components) and syncs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass

import aiohttp
import discord
from discord.ext import commands

from bot.app.answers import VideoTree
from bot.app.discord_internals import pace_requests
from bot.app.translator import CatalogueTranslator
from bot.jobs.tracker import JobTracker
from bot.ops import health, invite
from bot.pacing.budgets import Budgets
from bot.relay.client import RelayClient
from bot.rules.intake import Intake
from bot.settings import Settings
from bot.storage.interface import JobStore
from bot.storage.store import CHECKPOINT_EVERY

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 15.0
IDENTIFY_WINDOW = 5.0  # Discord's: max_concurrency IDENTIFYs per this many seconds


@dataclass(frozen=True)
class ShardPlan:
    """The shards this process runs: `count` in all (Discord's recommendation or SHARD_COUNT),
    `ids` of them here (None: all), and how many may IDENTIFY at once (GET /gateway/bot)."""

    count: int
    ids: tuple[int, ...] | None = None
    max_concurrency: int = 1


# Connections to Discord at once. discord.py opens one per concurrent request, without limit:
# a burst of a thousand commands opened a thousand, each with its buffers (docs/performance.md),
# for requests the rate limits would spread out anyway. Requests beyond this wait for
# a free connection; interaction callbacks are quick and keep their place in that line.
DISCORD_CONNECTIONS = 50

# The permissions the invite link asks for (listed, with why, in bot/ops/invite.py).
INVITE_PERMISSIONS = discord.Permissions(invite.PERMISSIONS)


class VideoBot(commands.AutoShardedBot):
    def __init__(
        self,
        *,
        settings: Settings,
        session: aiohttp.ClientSession,
        store: JobStore,
        api: RelayClient,
        intake: Intake,
        tracker: JobTracker,
        extensions: tuple[str, ...] = (),
        http_trace: aiohttp.TraceConfig,
        connector: aiohttp.BaseConnector | None = None,
        shards: ShardPlan | None = None,
    ) -> None:
        # Slash commands only: no privileged intents, no message content.
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=VideoTree,
            # How long READY waits for the guilds it announced as unavailable to arrive.
            guild_ready_timeout=settings.guild_ready_timeout,
            http_trace=http_trace,
            # Nothing here reads messages back from discord.py's cache (the bot sees no message
            # events, and job messages are found by id): keeping the last 1,000 only costs memory.
            max_messages=None,
            connector=connector,
            # No member list, no presences: a bot in ten thousand servers keeps only what it uses.
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            shard_count=shards.count if shards else None,
            # None: every shard of the count (discord.py's default, though typed as a list).
            shard_ids=list(shards.ids) if shards and shards.ids is not None else None,  # type: ignore[arg-type]
        )
        self.max_concurrency = shards.max_concurrency if shards else 1
        # One pacing for every request on the bot's own routes (bot/pacing/budgets.py).
        self.budgets = Budgets(global_share=settings.discord_global_share)
        pace_requests(self, self.budgets, http_trace)
        self.extensions_to_load = extensions
        self.settings = settings
        self.session = session
        self.store = store
        self.api = api
        # The domain's services, built once in __main__; the video extension starts the tracker.
        self.intake = intake
        self.tracker = tracker
        self.gateway_connected = False
        self._background: list[asyncio.Task[None]] = []
        self._announced = False

    async def setup_hook(self) -> None:
        # The extensions register their commands and persistent components as they load.
        await self._load_extensions()
        await self._sync_commands()
        self._background = [
            asyncio.create_task(self._beat(), name="heartbeat"),
            asyncio.create_task(self._store_upkeep(), name="store-upkeep"),
        ]
        settle_memory()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Discord lets `max_concurrency` shards IDENTIFY per 5 s (shards in buckets of
        # shard_id % max_concurrency); discord.py's default waits 5 s before every shard, which
        # costs a big bot minutes at start for nothing.
        if not initial and (shard_id or 0) % self.max_concurrency == 0:
            await asyncio.sleep(IDENTIFY_WINDOW)

    async def _load_extensions(self) -> None:
        for extension in self.extensions_to_load:
            try:
                await self.load_extension(extension)
            except commands.ExtensionError:
                log.exception("extension %s failed to load; the bot runs without it", extension)

    async def _sync_commands(self) -> None:
        # Command names and descriptions in every shipped language (reads the catalogues now).
        await self.tree.set_translator(CatalogueTranslator())
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild:
            self.tree.copy_global_to(guild=guild)
        # The translated payload, as `tree.sync` sends it: a changed translation syncs too.
        translator = self.tree.translator
        assert translator is not None
        payload = [
            await c.get_translated_payload(self.tree, translator) for c in self.tree.get_commands(guild=guild)
        ]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"commands:{guild.id if guild else 'global'}"
        # Global sync is rate limited and slow to propagate: only sync what changed.
        if await self.store.get_meta(key) == digest:
            log.info("application commands unchanged; not syncing")
            return
        synced = await self.tree.sync(guild=guild)
        await self.store.set_meta(key, digest)
        where = f"guild {guild.id}" if guild else "globally"
        log.info(
            "synced %d application commands %s: %s", len(synced), where, ", ".join(c.name for c in synced)
        )

    async def on_ready(self) -> None:
        self.gateway_connected = True
        assert self.user is not None
        log.info("connected as %s (%s) to %d guilds", self.user, self.user.id, len(self.guilds))
        if not self._announced and self.application_id is not None:
            self._announced = True  # once a process, not at every new gateway session
            log.info("invite the bot with: %s", invite.bot_invite_url(self.application_id))
            log.info("install it on your own account with: %s", invite.user_install_url(self.application_id))

    async def on_resumed(self) -> None:
        self.gateway_connected = True
        log.info("gateway session resumed")

    async def on_disconnect(self) -> None:
        self.gateway_connected = False

    async def _beat(self) -> None:
        while True:
            try:
                health.write(
                    self.settings.health_file,
                    health.Heartbeat(
                        at=time.time(),
                        pid=os.getpid(),
                        gateway_connected=self.gateway_connected and not self.is_closed(),
                        latency=None if self.latency != self.latency else round(self.latency, 3),
                        api_last_success=self.api.last_success,
                        unfinished_jobs=await self.store.count_unfinished(),
                    ),
                )
            except Exception:
                log.exception("could not write the heartbeat file")
            await asyncio.sleep(HEARTBEAT_EVERY)

    async def _store_upkeep(self) -> None:
        """The write-ahead log checkpoint a burst of blanked interaction tokens left over
        (`Store._blanked`): within a second of the last one."""
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            try:
                await self.store.flush_checkpoint()
            except Exception:
                log.exception("store checkpoint failed; trying again")

    async def close(self) -> None:
        log.info("shutting down")
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Unloading the cogs stops the tracker, which lets in-flight store writes finish.
        for extension in reversed(list(self.extensions)):
            with contextlib.suppress(Exception):
                await self.unload_extension(extension)
        await super().close()


def settle_memory() -> None:
    """After start-up: what it loaded (modules, catalogues, commands) lives as long as the
    process, so it leaves the collector's generations; each full collection then skips it and
    comes cheaper and sooner, and a burst's cyclic garbage (request objects, views) goes sooner."""
    gc.collect()
    gc.freeze()
    # A young collection every 7,000 allocations instead of 700: a burst of a thousand jobs
    # allocates millions of short-lived objects that die young anyway (docs/performance.md).
    gc.set_threshold(7000, 10, 10)

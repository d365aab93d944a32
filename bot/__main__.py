"""`python -m bot`: load settings, own the long-lived resources, run until SIGTERM or Ctrl-C.

`python -m bot --check` tells whether the set-up works without starting the bot;
`python -m bot backup PATH` copies the live database; `python -m bot migrate --to URL` copies it
into an empty PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

import aiohttp
import discord

from bot.app.client import DISCORD_CONNECTIONS, ShardPlan, VideoBot
from bot.app.discord_internals import point_gateway_at, point_rest_at
from bot.errors import BackupError, ConfigError, StoreError
from bot.jobs.owner import Ownership
from bot.jobs.polling import Timing
from bot.jobs.tracker import JobTracker
from bot.log import setup_logging
from bot.ops import check, metrics
from bot.relay.unified import VideoAPI
from bot.rules.intake import Intake
from bot.settings import Settings, load_settings, postgres_url
from bot.storage.backup import backup
from bot.storage.interface import JobStore
from bot.storage.opening import open_store

log = logging.getLogger("bot")

# The features, loaded in this order; each registers its own commands and persistent buttons.
EXTENSIONS = ("cogs.video", "cogs.admin")


async def plan_shards(settings: Settings, session: aiohttp.ClientSession) -> ShardPlan:
    """Ask Discord (`GET /gateway/bot`) how many shards it recommends and how many may start at
    once, and point discord.py at `DISCORD_API_BASE_URL` when it is another server (a test one):
    its REST base is `Route.BASE`, and a set shard count connects to a fixed gateway URL."""
    base = settings.discord_api_base_url
    custom = settings.uses_custom_discord
    if custom:
        point_rest_at(base)
    headers = {"Authorization": f"Bot {settings.discord_token}"}
    where = "the Discord server at DISCORD_API_BASE_URL" if custom else "Discord"
    async with session.get(f"{base}/gateway/bot", headers=headers) as response:
        if response.status == 401:
            raise ConfigError(f"DISCORD_TOKEN was refused by {where}")
        response.raise_for_status()
        gateway = await response.json()
    if custom:
        point_gateway_at(gateway["url"])
        log.info("using the Discord API at %s (gateway %s)", base, gateway["url"])
    limit = gateway.get("session_start_limit") or {}
    plan = ShardPlan(
        count=settings.shard_count or int(gateway.get("shards") or 1),
        ids=settings.shard_ids,
        max_concurrency=max(1, int(limit.get("max_concurrency") or 1)),
    )
    log.info("running %s of %d shard(s)", "all" if plan.ids is None else list(plan.ids), plan.count)
    return plan


def metrics_endpoint(settings: Settings, store: JobStore) -> contextlib.AbstractAsyncContextManager[None]:
    """The Prometheus endpoint when METRICS_PORT is set; nothing otherwise."""
    if settings.metrics_port is None:
        return contextlib.nullcontext()
    return metrics.serving(settings.metrics_host, settings.metrics_port, store.count_by_state)


async def run(settings: Settings) -> None:
    async with aiohttp.ClientSession() as session:
        shards = await plan_shards(settings, session)
        async with await open_store(settings) as store:
            # Several processes on one database: a shard already run elsewhere stops this one
            # here, before it connects to Discord or touches a job (a StoreError naming it).
            await store.claim_shards(shards.ids or range(shards.count), shards.count)
            owner = Ownership(shards.count, None if shards.ids is None else frozenset(shards.ids))
            api = VideoAPI(
                session, settings.video_api_base_url, settings.video_api_key, timeout=settings.api_timeout
            )
            bot = VideoBot(
                settings=settings,
                session=session,
                store=store,
                api=api,
                intake=Intake(settings, store),
                tracker=JobTracker(store, api, Timing.from_settings(settings), owner=owner),
                extensions=EXTENSIONS,
                http_trace=metrics.discord_trace(),
                connector=aiohttp.TCPConnector(limit=DISCORD_CONNECTIONS),
                shards=shards,
            )
            async with metrics_endpoint(settings, store), bot:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, lambda: asyncio.create_task(bot.close()))
                await bot.start(settings.discord_token)
            if store.round_trips:
                log.info("%s: %d statements sent to the database", store.backend, store.round_trips)
    log.info("stopped cleanly")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description="The Veo video bot for Discord.")
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the settings, Discord, the relay and the database, then exit",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="try the bot without Discord or a relay: a local server, a simulated relay and a web page",
    )
    parser.add_argument(
        "--profile",
        choices=("fast", "realistic", "flaky"),
        default="fast",
        help="with --sandbox: how the simulated relay and Discord behave (the page can change it)",
    )
    commands = parser.add_subparsers(dest="command")
    backup_cmd = commands.add_parser("backup", help="copy the live database (DATABASE_PATH) to PATH")
    backup_cmd.add_argument("path", type=Path, help="where to write the copy (must not exist yet)")
    backup_cmd.add_argument("--force", action="store_true", help="replace PATH if it already exists")
    migrate_cmd = commands.add_parser(
        "migrate", help="copy the SQLite database (DATABASE_PATH) into an empty PostgreSQL database"
    )
    migrate_cmd.add_argument(
        "--to", required=True, metavar="postgresql://…", help="the PostgreSQL database (must be empty)"
    )
    return parser.parse_args(argv)


def backup_command(settings: Settings, dest: Path, *, force: bool) -> int:
    if settings.database_url:
        # A file copy of a server's database is not a backup; PostgreSQL's own tool makes one.
        print(
            "bot: backup copies the SQLite database; this bot uses PostgreSQL (DATABASE_URL): back it "
            'up with PostgreSQL\'s own tool, e.g. pg_dump --format=custom --file=PATH "$DATABASE_URL"',
            file=sys.stderr,
        )
        return 2
    try:
        result = backup(settings.database_path, dest, overwrite=force)
    except BackupError as exc:
        print(f"bot: backup not made: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {result.jobs} jobs ({result.bytes} bytes) to {result.path}")
    return 0


def migrate_command(settings: Settings, url: str) -> int:
    # PostgreSQL's driver is imported only by what uses it: a bot on SQLite never loads it
    # (14 MiB of resident memory).
    from bot.storage.move_up import move_up, open_source
    from bot.storage.pg_schema import pg_where

    try:
        postgres_url(url, name="migrate --to")
    except ConfigError as exc:
        print(f"bot: {exc.user_message}", file=sys.stderr)
        return 2
    try:
        source = open_source(settings.database_path)
        try:
            result = asyncio.run(move_up(source, url))
        finally:
            source.close()
    except StoreError as exc:
        print(f"bot: nothing copied: {exc.user_message}", file=sys.stderr)
        return 1
    copied = ", ".join(f"{n} {table}" for table, n in result.rows.items())
    print(f"copied {settings.database_path} into PostgreSQL at {pg_where(url)}: {copied}")
    print("Set DATABASE_URL to that URL (and stop using DATABASE_PATH) before starting the bot again.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = load_settings(sandbox=args.sandbox)
    except ConfigError as exc:
        print(f"bot: {exc.user_message}", file=sys.stderr)
        return 2
    if args.command == "backup":
        return backup_command(settings, args.path, force=args.force)
    if args.command == "migrate":
        return migrate_command(settings, args.to)
    if args.check:
        return check.main(settings)
    setup_logging(
        settings.log_level, secrets=(settings.discord_token, settings.video_api_key), fmt=settings.log_format
    )
    if args.sandbox:
        try:
            # The sandbox ships with the source (the README's set-up), not in the Docker image.
            from sandbox.runner import run_sandbox
        except ImportError:
            print("The sandbox is not installed here: run it from a checkout of the source (see the README).")
            return 2

        try:
            return asyncio.run(run_sandbox(settings, args.profile))
        except KeyboardInterrupt:
            return 0
    try:
        asyncio.run(run(settings))
    except (ConfigError, StoreError) as exc:
        print(f"bot: {exc.user_message}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print(
            "bot: DISCORD_TOKEN was refused by Discord: copy the token again from the developer portal",
            file=sys.stderr,
        )
        return 2
    except aiohttp.ClientError as exc:
        print(f"bot: cannot reach Discord at {settings.discord_api_base_url}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())

"""`python -m bot`: load settings, own the long-lived resources, run until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

import aiohttp
import discord
import yarl

from bot.client import VideoBot
from bot.errors import ConfigError, StoreError
from bot.log import setup_logging
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.video_api import VideoAPI

log = logging.getLogger("bot")


async def point_discord_at(settings: Settings, session: aiohttp.ClientSession) -> None:
    """Send REST calls and the gateway connection to `DISCORD_API_BASE_URL` (a test server).

    discord.py reads its REST base from `Route.BASE`, but a plain `Bot` connects to a fixed
    gateway URL without asking `/gateway/bot`, so that URL is looked up here.
    """
    base = settings.discord_api_base_url
    discord.http.Route.BASE = base
    headers = {"Authorization": f"Bot {settings.discord_token}"}
    async with session.get(f"{base}/gateway/bot", headers=headers) as response:
        if response.status == 401:
            raise ConfigError("DISCORD_TOKEN was refused by the Discord server at DISCORD_API_BASE_URL")
        response.raise_for_status()
        gateway = (await response.json())["url"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    log.info("using the Discord API at %s (gateway %s)", base, gateway)


async def run(settings: Settings) -> None:
    async with aiohttp.ClientSession() as session:
        if settings.uses_custom_discord:
            await point_discord_at(settings, session)
        with Store.open(settings.database_path) as store:
            api = VideoAPI(
                session, settings.video_api_base_url, settings.video_api_key, timeout=settings.api_timeout
            )
            async with VideoBot(settings=settings, session=session, store=store, api=api) as bot:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, lambda: asyncio.create_task(bot.close()))
                await bot.start(settings.discord_token)
    log.info("stopped cleanly")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = load_settings(sandbox=args.sandbox)
    except ConfigError as exc:
        print(f"bot: {exc.user_message}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, secrets=(settings.discord_token, settings.video_api_key))
    if args.sandbox:
        from bot.sandbox.runner import run_sandbox  # only the sandbox needs the simulators

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

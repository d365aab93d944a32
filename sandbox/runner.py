"""`python -m bot --sandbox`: the real bot against an embedded Discord server and relay simulator.

The bot runs as its own `python -m bot` process, started exactly as an owner starts it, with an
environment that points it at the loopback servers (as the end-to-end tests do). Its database
lives in a temporary directory, so the sandbox never touches a real bot's jobs, and its two
secrets are throwaway ones made for this run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from bot.settings import Settings
from sandbox.discord_server import FakeDiscord
from sandbox.discord_server.spec import available as spec_check_available
from sandbox.page import Page
from sandbox.relay import FakeVideoAPI
from sandbox.simulator import Simulator
from sandbox.world import World, build_world, set_rules

log = logging.getLogger(__name__)

# Quicker clocks than a real bot's (seconds, not minutes), so a video shows within seconds.
SANDBOX_TIMINGS = {"POLL_INTERVAL": "0.5", "POLL_MAX_INTERVAL": "2", "PROGRESS_EDIT_INTERVAL": "1"}
SANDBOX_PRICE_FAST, SANDBOX_PRICE = "0.40", "1.20"
# The bot's package, for the child process when the project is run from a checkout.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
STOP_WAIT = 10.0  # seconds the bot gets to finish its writes after SIGTERM


class BotChild:
    """The bot process: started, restarted and stopped by the sandbox."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None
        self.restarting = False

    async def start(self) -> None:
        # cwd is the sandbox's own directory: no .env but the one already read is used.
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.workdir, env=self.env
        )
        log.info("started the bot (pid %d)", self.proc.pid)

    async def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_WAIT)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def restart(self) -> None:
        self.restarting = True
        try:
            await self.stop()
            await self.start()
        finally:
            self.restarting = False

    async def wait_exit(self) -> int:
        """The exit code once the bot stops for good (a restart from the page does not count)."""
        while True:
            assert self.proc is not None
            code = await self.proc.wait()
            await asyncio.sleep(0.2)
            if not self.restarting and self.proc.returncode is not None:
                return code


def bot_env(settings: Settings, discord: FakeDiscord, relay: FakeVideoAPI, workdir: Path) -> dict[str, str]:
    """The owner's environment (models, quotas, ... from .env apply) with the sandbox's own
    secrets, servers, database and clocks in place of the real ones."""
    env = dict(os.environ)
    env.update(
        DISCORD_TOKEN=settings.discord_token,
        DISCORD_API_BASE_URL=discord.base_url,
        VIDEO_API_KEY=settings.video_api_key,
        VIDEO_API_BASE_URL=relay.base_url,
        DATABASE_PATH=str(workdir / "bot.db"),
        HEALTH_FILE=str(workdir / "health.json"),
        DEV_GUILD_ID="",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p),
        **SANDBOX_TIMINGS,
    )
    if not env.get("MODEL_PRICES"):
        # Prices to try the money features with (the owner's own, from .env, win): each offered
        # model, fast ones cheaper; #general's server gets a small budget in `set_rules`.
        env["MODEL_PRICES"] = ",".join(
            f"{m}={SANDBOX_PRICE_FAST if 'fast' in m else SANDBOX_PRICE}" for m in settings.models
        )
    return env


async def run_sandbox(settings: Settings, profile: str) -> int:
    async with (
        # Requests Discord would refuse are refused here too (and logged) where jsonschema is
        # installed; the bot's own dependencies do not include it.
        FakeDiscord(token=settings.discord_token, validate=spec_check_available()) as discord,
        FakeVideoAPI(api_key=settings.video_api_key) as relay,
    ):
        discord.heartbeat_ack_delay = 0.05
        world = build_world(discord)
        simulator = Simulator(discord, relay, profile)
        with tempfile.TemporaryDirectory(prefix="veo-sandbox-") as tmp:
            workdir = Path(tmp)
            bot = BotChild(bot_env(settings, discord, relay, workdir), workdir)
            page = Page(discord, world, simulator, bot.restart)
            try:
                port = await page.start(settings.sandbox_port)
            except OSError as exc:
                log.error(
                    "cannot serve the page on 127.0.0.1:%d (%s); set SANDBOX_PORT", settings.sandbox_port, exc
                )
                return 2
            simulator.start()
            await bot.start()
            print(f"sandbox: open http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
            try:
                return await _serve(discord, world, bot)
            finally:
                await bot.stop()
                await simulator.stop()
                await page.close()


async def _serve(discord: FakeDiscord, world: World, bot: BotChild) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    rules = asyncio.create_task(_set_rules(discord, world), name="sandbox-rules")
    exited = asyncio.create_task(bot.wait_exit(), name="sandbox-bot")
    stop = asyncio.create_task(stopping.wait(), name="sandbox-stop")
    try:
        await asyncio.wait({exited, stop}, return_when=asyncio.FIRST_COMPLETED)
        if exited.done():
            code = exited.result()
            log.error("the bot stopped (exit code %d); the sandbox stops with it", code)
            return code or 1
        log.info("stopping the sandbox")
        return 0
    finally:
        for task in (rules, exited, stop):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _set_rules(discord: FakeDiscord, world: World) -> None:
    try:
        await set_rules(discord, world)
    except Exception:
        log.exception("could not set the sandbox's rules; set them with /video-admin set as mo")

"""Runs the real bot (`python -m bot`) as a subprocess against the loopback servers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.discord_server import FakeDiscord
from sandbox.relay import FakeVideoAPI

REPO = Path(__file__).resolve().parents[2]

# Fast clocks for tests: the bot's own defaults are minutes, the suite has seconds.
FAST = {
    "POLL_INTERVAL": "0.2",
    "POLL_MAX_INTERVAL": "0.5",
    "PROGRESS_EDIT_INTERVAL": "0.3",
    "VIDEO_API_TIMEOUT": "3",
    "VIDEO_DOWNLOAD_TIMEOUT": "10",
    "LOG_LEVEL": "DEBUG",
    # The fake server sends every GUILD_CREATE right after READY: no need to wait out 2 s.
    "GUILD_READY_TIMEOUT": "0.1",
}


@dataclass
class BotProcess:
    proc: asyncio.subprocess.Process
    log_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(
                f"bot did not exit within {timeout}s of signal {sig}:\n{self.output[-3000:]}"
            ) from None

    async def kill9(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()


def bot_env(
    discord: FakeDiscord, api: FakeVideoAPI, workdir: Path, extra: Mapping[str, str] = ()
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "VIDEO_", "DEV_GUILD"))}
    env.update(
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        DISCORD_TOKEN=discord.token,
        DISCORD_API_BASE_URL=discord.base_url,
        VIDEO_API_KEY=api.api_key,
        VIDEO_API_BASE_URL=api.base_url,
        DATABASE_PATH=str(workdir / "bot.db"),
        HEALTH_FILE=str(workdir / "health.json"),
        **FAST,
    )
    env.update(extra)
    return env


async def start_bot(
    discord: FakeDiscord,
    api: FakeVideoAPI,
    workdir: Path,
    extra_env: Mapping[str, str] = (),
    *,
    wait_ready: bool = True,
    python_args: tuple[str, ...] = (),
) -> BotProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    env = bot_env(discord, api, workdir, dict(extra_env))
    log_path = workdir / f"bot-{len(list(workdir.glob('bot-*.log')))}.log"
    log_file = log_path.open("wb")
    # cwd is the test's own directory, so no developer .env is read.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *python_args,
        "-m",
        "bot",
        cwd=workdir,
        env=env,
        stdout=log_file,
        stderr=asyncio.subprocess.STDOUT,
    )
    log_file.close()
    bot = BotProcess(proc, log_path, env)
    if wait_ready:
        try:
            await discord.wait_ready(timeout=20)
            # discord.py waits for late GUILD_CREATEs before on_ready, as with real Discord.
            await discord.wait_for(lambda: "connected as" in bot.output, timeout=20)
        except BaseException:
            await bot.kill9()
            raise AssertionError(f"bot never became ready:\n{bot.output[-4000:]}") from None
    return bot


async def bot_command(
    discord: FakeDiscord, api: FakeVideoAPI, workdir: Path, *args: str, **env: str
) -> tuple[int, str]:
    """Run `python -m bot ARGS` to its end (a one-shot command: --check, migrate, backup) and
    return its exit code and everything it printed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=workdir,
        env=bot_env(discord, api, workdir, env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()

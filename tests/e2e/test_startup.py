"""The real bot process starts, connects, registers its commands, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from tests.e2e.harness import REPO

pytestmark = pytest.mark.e2e


def test_without_a_token_it_stops_with_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "VIDEO_API_KEY")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_TOKEN" in lines[0]


async def test_connects_registers_video_and_exits_on_sigterm(fake_discord, run_bot, tmp_path):
    guild = fake_discord.add_guild()
    bot = await run_bot()
    commands = await fake_discord.wait_commands(timeout=15)
    video = next(c for c in commands if c["name"] == "video")
    options = {o["name"]: o for o in video["options"]}
    assert options["prompt"]["required"] is False  # optional: from_library can give it
    assert options["from_library"]["autocomplete"] and options["style"]["autocomplete"]
    assert [options[n]["type"] for n in ("image", "image2", "image3")] == [11, 11, 11]
    assert {"model", "shape", "duration", "upsample"} <= set(options)
    # One question for the shape, with readable choices: orientation and aspect ratio cannot
    # contradict each other any more.
    assert "orientation" not in options and "aspect_ratio" not in options
    assert [c["value"] for c in options["shape"]["choices"]] == ["landscape", "portrait"]
    assert options["model"]["autocomplete"] and options["duration"]["autocomplete"]
    assert all(o.get("description") for o in video["options"])
    await fake_discord.wait_for(lambda: "connected as" in bot.output, timeout=10)
    assert "invite the bot with: " in bot.output and "applications.commands" in bot.output
    assert guild.id  # the guild was part of READY
    code = await bot.stop(signal.SIGTERM, timeout=10)
    assert code == 0, bot.output[-3000:]
    assert "stopped cleanly" in bot.output
    # secrets never reach the log
    assert fake_discord.token not in bot.output
    assert bot.env["VIDEO_API_KEY"] not in bot.output


async def test_restart_does_not_resync_unchanged_commands(fake_discord, run_bot):
    fake_discord.add_guild()
    first = await run_bot()
    await fake_discord.wait_commands(timeout=15)
    await first.stop()
    puts = [r for r in fake_discord.requests if r.method == "PUT" and "/commands" in r.path]
    second = await run_bot()
    await fake_discord.wait_for(lambda: "application commands unchanged" in second.output, timeout=10)
    await asyncio.sleep(0.2)
    assert [r for r in fake_discord.requests if r.method == "PUT" and "/commands" in r.path] == puts
    await second.stop()

"""A soak against a busy relay: the real bot, the sandbox's `flaky` relay, one command a second.

    python bench/soak.py [--minutes 12] [--commands N] [--out FILE]

Starts the loopback Discord (enforcing Discord's documented rate limits), the relay simulator
in its `flaky` profile (each task's polls meet a 502, a 429 and a 503, one of its edits a 429,
and the create after each new task is refused with a 429) and `python -m bot` with production
timings and the queue limits raised, then sends `/video` once a second from two members in two
channels (720 commands for the default 12 minutes), waits for every job to settle (at most
`SETTLE` seconds more) and reports: jobs created upstream (billed), delivered, failed by kind,
duplicates (a command created twice, or a video posted twice), the 429s met on each side, and
the bot's RSS at start, every minute and at the end.

Every wait is bounded and everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.burst import PRODUCTION, RAISED, peak_rss_mib, rss_mib
from sandbox.discord_server import FakeDiscord, FakeInteraction
from sandbox.relay import FakeVideoAPI
from sandbox.simulator import Simulator
from tests.e2e.harness import BotProcess, start_bot

SETTLE = 180.0  # seconds after the last command for every job to end
# The bot's production timings, queue limits raised (as the soak ran it).
ENV = {**PRODUCTION, **RAISED}


def videos(interaction: FakeInteraction) -> int:
    """How many edits of the job message put a video in it (1: delivered once)."""
    msg = interaction.original
    if msg is None:
        return 0
    shown, count = False, 0
    for snap in msg.edits:
        has = any(name.endswith(".mp4") for name in snap["attachments"])
        count += has and not shown
        shown = has
    return count


def rows(workdir: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(f"file:{workdir / 'bot.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("select state, failure_kind, notified_at from jobs")]
    finally:
        db.close()


async def soak(workdir: Path, commands: int) -> dict[str, Any]:
    discord = FakeDiscord(rate_limits=True)
    relay = FakeVideoAPI()
    await discord.start()
    await relay.start()
    bot: BotProcess | None = None
    simulator = Simulator(discord, relay, "flaky")
    simulator.start()
    try:
        guild = discord.add_guild(channels=2)
        members = [discord.add_member(guild.id, name=f"m{i}") for i in range(2)]
        bot = await start_bot(discord, relay, workdir, ENV)
        await discord.wait_commands()
        pid = bot.proc.pid
        rss = [rss_mib(pid)]
        asked: list[FakeInteraction] = []
        started = time.monotonic()
        for i in range(commands):
            wait = started + i - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if i and i % 60 == 0:
                rss.append(rss_mib(pid))
                print(f"  {i} commands, {len(relay.tasks)} created, RSS {rss[-1]} MiB", flush=True)
            asked.append(
                await discord.slash(
                    "video",
                    {"prompt": f"soak job {i}: a lighthouse in a storm"},
                    user=members[i % 2],
                    channel_id=guild.channels[i % 2],
                )
            )
        sent_s = time.monotonic() - started
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline:
            found = rows(workdir)
            if len(found) >= len(asked) and all(r["notified_at"] is not None for r in found):
                break
            await asyncio.sleep(1.0)
        rss.append(rss_mib(pid))
        found = rows(workdir)
        per_prompt = Counter(body.get("prompt") for body in relay.creates if body.get("prompt"))
        billed = Counter(task.body.get("prompt") for task in relay.tasks.values())
        shown = [videos(i) for i in asked]
        relay_429 = Counter(path.rsplit("/", 1)[-1] for _m, path, status in relay.requests if status == 429)
        return {
            "commands": len(asked),
            "sending_s": round(sent_s, 1),
            "settled_s": round(time.monotonic() - started - sent_s, 1),
            "created_upstream": len(relay.tasks),
            "create_calls": len(relay.creates),
            "delivered": sum(1 for r in found if r["state"] == "delivered"),
            "videos_shown": sum(1 for n in shown if n),
            "failed_by_kind": dict(Counter(r["failure_kind"] for r in found if r["state"] == "failed")),
            "states": dict(Counter(r["state"] for r in found)),
            "not_settled": sum(1 for r in found if r["notified_at"] is None),
            "created_twice": sum(1 for n in billed.values() if n > 1),
            "sent_again_after_429": sum(1 for n in per_prompt.values() if n > 1),
            "video_posted_twice": sum(1 for n in shown if n > 1),
            "relay_429s": dict(relay_429),
            "discord_429s": sum(1 for r in discord.requests if r.status == 429),
            "rss_mib_start": rss[0],
            "rss_mib_end": rss[-1],
            "rss_mib_each_minute": rss,
            "peak_rss_mib": peak_rss_mib(pid),
        }
    finally:
        await simulator.stop()
        if bot is not None and bot.running:
            try:
                await bot.stop(timeout=20)
            except AssertionError:
                await bot.kill9()
        await relay.close()
        await discord.close()


async def main(commands: int, out: Path | None) -> None:
    results: dict[str, Any] = {"load_before": os.getloadavg(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="veo-soak-") as tmp:
        results["soak"] = await soak(Path(tmp), commands)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=2), flush=True)
    if out is not None:
        out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=12.0, help="one command a second for this long")
    parser.add_argument("--commands", type=int, default=None, help="instead of --minutes: this many")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    count = args.commands if args.commands is not None else round(args.minutes * 60)
    asyncio.run(main(count, args.out))

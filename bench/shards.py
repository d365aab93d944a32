"""A bot in many servers: the real bot process, sharded in one process, against the loopback Discord.

    python bench/shards.py [--guilds 10000] [--shards 4] [--max-concurrency 4]

The fake Discord recommends `--shards` shards and puts `--guilds` servers on them evenly; the bot
starts with no shard settings (so it asks `/gateway/bot`, as in production), connects every
shard, and one `/video` is sent in a server on each shard and in a DM. Reported: start-up time
(process start to every shard connected and the commands synced), peak RSS of the bot process,
and that each job was delivered. Bounded in time; everything on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.burst import PRODUCTION, life, peak_rss_mib, rss_mib
from sandbox.discord_server import FakeDiscord
from sandbox.discord_server.sharding import shard_of
from sandbox.relay import FakeVideoAPI
from tests.e2e.harness import start_bot


async def main(guilds: int, shards: int, max_concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            FakeDiscord(shard_count=shards, max_concurrency=max_concurrency) as discord,
            FakeVideoAPI() as relay,
        ):
            made = time.monotonic()
            servers = discord.add_guilds(guilds)
            made = time.monotonic() - made
            per_shard = [next(g for g in servers if shard_of(g.id, shards) == s) for s in range(shards)]
            members = [discord.add_member(g.id, name=f"m{i}") for i, g in enumerate(per_shard)]
            relay.script(life(1.0))
            started = time.monotonic()
            bot = await start_bot(discord, relay, Path(tmp), PRODUCTION, wait_ready=False)
            try:
                await discord.wait_for(lambda: len(discord.shards_connected()) == shards, timeout=120)
                await discord.wait_commands(timeout=120)
                ready = time.monotonic() - started
                rss_ready = rss_mib(bot.proc.pid)
                asks = [(g.channels[0], m) for g, m in zip(per_shard, members, strict=True)]
                asks.append((discord.open_dm(members[0]), members[0]))
                jobs = []
                for channel, member in asks:
                    jobs.append(
                        await discord.slash("video", {"prompt": "hello"}, user=member, channel_id=channel)
                    )

                def all_delivered() -> bool:
                    return all(
                        j.original is not None
                        and any(a.filename.endswith(".mp4") for a in j.original.attachments)
                        for j in jobs
                    )

                await discord.wait_for(all_delivered, timeout=120)
                delivered = sum(
                    1
                    for j in jobs
                    if j.original is not None
                    and any(a.filename.endswith(".mp4") for a in j.original.attachments)
                )
                peak = peak_rss_mib(bot.proc.pid)
            finally:
                await bot.stop(timeout=30)
    print(f"servers: {guilds} on {shards} shards (max_concurrency {max_concurrency}), made in {made:.2f} s")
    print(f"bot start-up to every shard connected and commands synced: {ready:.1f} s")
    print(
        f"jobs delivered: {delivered} of {len(asks)} (one per shard and a DM), creates: {len(relay.creates)}"
    )
    print(f"bot RSS when ready: {rss_ready:.1f} MiB; peak RSS: {peak:.1f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=10_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--max-concurrency", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.guilds, args.shards, args.max_concurrency))

"""What the exact quota check costs: admitting a job counts today's jobs inside the insert's
write transaction, so its time is added to every /video. Measured on a store that already
holds a long history.

    python bench/quota_check.py [history_rows] [admissions]

Uses a temporary SQLite file (WAL, as the bot does). Prints a report; asserts nothing.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.errors import InputError
from bot.jobs.model import JobState
from bot.rules import quota
from bot.storage.store import Store

GUILDS, MEMBERS = 50, 2000


def fields(guild: int, user: int, now: float) -> dict:
    return dict(
        guild_id=guild,
        channel_id=guild * 10,
        user_id=user,
        prompt="a cow flies over the moon",
        model="veo3.1-fast",
        shape="landscape",
        size="1280x720",
        duration=8,
        aspect_ratio="16:9",
        state=JobState.PENDING,
        now=now,
    )


async def main(history: int, admissions: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Store.open(Path(tmp) / "bench.db") as store:
            await measure(store, history, admissions)


async def measure(store: Store, history: int, admissions: int) -> None:
    rng = random.Random(7)
    now = time.time()
    started = time.perf_counter()
    with store.db.atomic():  # bulk history, spread over the last 90 days
        for _ in range(history):
            store.db["jobs"].insert(
                {
                    **{
                        k: v
                        for k, v in fields(rng.randrange(GUILDS), rng.randrange(MEMBERS), 0).items()
                        if k not in ("state", "now")
                    },
                    "state": "delivered",
                    "task_id": f"t{rng.random()}",
                    "created_at": now - rng.random() * 90 * 86400,
                    "updated_at": now,
                }
            )
    print(f"history: {history} jobs written in {time.perf_counter() - started:.1f} s")

    limits = quota.Limits(member_daily=5, server_daily=200, cooldown=0, timezone="Europe/Berlin")
    timings, refused = [], 0
    for _ in range(admissions):
        guild, user = rng.randrange(GUILDS), rng.randrange(MEMBERS)
        check = quota.checker(store, limits, guild_id=guild, user_id=user)

        t0 = time.perf_counter()
        try:
            await store.add_job(**fields(guild, user, time.time()), check=check)
        except InputError:
            refused += 1
        timings.append(time.perf_counter() - t0)
    ms = sorted(t * 1000 for t in timings)
    print(
        f"admissions: {admissions} ({refused} refused by a quota); add_job with the quota check: "
        f"median {statistics.median(ms):.2f} ms, p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms, "
        f"max {ms[-1]:.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
            int(sys.argv[2]) if len(sys.argv) > 2 else 2000,
        )
    )

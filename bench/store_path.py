"""What the store costs one job on its way through a busy bot: the same calls, in the same
order, as a `/video` job makes from command to delivered video, for many jobs.

    python bench/store_path.py [jobs]

A temporary SQLite file with the bot's settings (WAL, synchronous=NORMAL, secure_delete).
Prints CPU and wall time per job and statements per job; asserts nothing.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.model import WAITING, JobState
from bot.storage.store import Store


async def one_job(store: Store, i: int, now: float) -> None:
    user = 1000 + i % 100

    await store.guild_rules(1)  # intake: the server's rules, its waiting count (no quota set here)
    await store.count_jobs(user_id=user, states=WAITING)
    job = await store.add_job(
        state=JobState.PENDING,
        guild_id=1,
        channel_id=10 + i % 10,
        user_id=user,
        prompt=f"bench job {i}",
        model="veo3.1-fast",
        shape="landscape",
        size="1280x720",
        duration=8,
        aspect_ratio="16:9",
        interaction_token="t" * 180,
        token_issued_at=now,
    )
    await store.update(job.id, message_id=10**17 + i)
    await store.guild_rules(1)
    await store.submit([job.id])
    await store.transition(job.id, JobState.RUNNING, task_id=f"task-{i}", raw_status="queued", progress=0)
    await store.get(job.id)
    await store.update(job.id, raw_status="processing", progress=50, last_poll_at=now, last_poll_ok_at=now)
    await store.get(job.id)
    await store.transition(job.id, JobState.SUCCEEDED, video_url=f"https://cdn.example/{i}.mp4", progress=100)
    await store.get(job.id)
    await store.notify_pref(user)
    # Delivered, shown and the interaction token dropped: one write, as the tracker makes it.
    await store.transition(
        job.id, JobState.DELIVERED, delivery_mode="upload", notified_at=now, interaction_token=None
    )


async def main(jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Store.open(Path(tmp) / "bot.db") as store:
            await measure(store, jobs)


async def measure(store: Store, jobs: int) -> None:
    statements = 0

    def count(_sql: str) -> None:
        nonlocal statements
        statements += 1

    store.conn.set_trace_callback(count)
    now = time.time()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(jobs):
        await one_job(store, i, now)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"jobs: {jobs}")
    print(f"cpu per job: {1000 * cpu / jobs:.3f} ms (wall {1000 * wall / jobs:.3f} ms)")
    print(f"statements per job: {statements / jobs:.1f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))

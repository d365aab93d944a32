"""How the one-loop scheduler copes with many jobs: time to finish, polls sent, memory.

    python bench/tracker_load.py [jobs]

Runs the real tracker, store (a temporary SQLite file) and API client against the fake relay
on loopback; Discord is a no-op presenter. Prints a report; asserts nothing.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.model import Job, JobState
from bot.jobs.tracker import JobTracker, Timing
from bot.relay.unified import VideoAPI
from bot.storage.store import Store
from sandbox.relay import FakeVideoAPI, Step


class NullPresenter:
    def __init__(self) -> None:
        self.shown = 0
        self.finished = 0

    async def show(self, job_id: int) -> None:
        self.shown += 1

    async def finish(self, job: Job) -> str | None:
        self.finished += 1
        return "link"


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeVideoAPI() as fake, aiohttp.ClientSession() as session:
            fake.default_life = [
                Step("queued"),
                Step("processing", 50, after=1.0),
                Step("completed", 100, after=1.0, video="small"),
            ]
            store = Store.open(Path(tmp) / "bench.db")
            presenter = NullPresenter()
            api = VideoAPI(session, fake.base_url, fake.api_key, timeout=10)
            # No queue limits: this measures the tracker's own cost with every job at the relay.
            timing = Timing(
                poll_interval=0.5, poll_max_interval=2.0, max_running=count, max_running_per_member=count
            )
            tracker = JobTracker(store, api, timing)
            await tracker.start(presenter)
            started = time.perf_counter()
            jobs = [
                await store.add_job(
                    channel_id=1,
                    user_id=i,
                    prompt=f"job {i}",
                    model="veo3.1-fast",
                    images=[],
                    image_names=[],
                    shape="landscape",
                    size="1280x720",
                    duration=8,
                    aspect_ratio="16:9",
                    enable_upsample=False,
                    state=JobState.PENDING,
                    message_id=1,  # as if each command had posted its job message
                )
                for i in range(count)
            ]
            await tracker.enqueue()
            while len(fake.creates) < count:
                await asyncio.sleep(0.01)
            submitted = time.perf_counter() - started
            while presenter.finished < count:
                await asyncio.sleep(0.05)
            total = time.perf_counter() - started
            await tracker.stop()
            delivered = sum([(await store.require(j.id)).state is JobState.DELIVERED for j in jobs])
            await store.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"jobs                 {count}")
    print(f"all submitted after  {submitted:.2f} s")
    print(f"all finished after   {total:.2f} s   (each job's own life: 2.0 s)")
    print(f"delivered            {delivered}")
    print(
        f"creates / queries    {len(fake.creates)} / {len(fake.queries)}",
        f"({len(fake.queries) / count:.1f} queries per job)",
    )
    print(f"progress renders     {presenter.shown}")
    print(f"peak RSS             {rss:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))

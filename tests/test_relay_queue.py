"""The queue in front of the relay, with a store whose writes suspend (as PostgreSQL's do)."""

from __future__ import annotations

import asyncio

from bot.jobs.model import Job, JobState
from bot.jobs.relay_queue import RelayQueue
from bot.storage.store import Store
from tests.test_store_fastpath import add


class Suspending:
    """The SQLite store, but every submit yields to the loop first, as a network store's does."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.submits = 0

    async def submit(self, job_ids: list[int], *, now: float | None = None) -> list[Job]:
        self.submits += 1
        await asyncio.sleep(0)
        return await self.store.submit(job_ids, now=now)

    async def get(self, job_id: int) -> Job | None:
        return await self.store.get(job_id)


async def show(_job: Job) -> None:
    return None


async def test_sends_at_once_take_each_job_once_and_no_more_than_the_limit():
    async with Store.open(":memory:") as store:
        jobs = [await add(store, user_id=i) for i in range(4)]
        sent: list[Job] = []
        queue = RelayQueue(
            Suspending(store),  # type: ignore[arg-type]
            max_running=2,
            max_per_member=1,
            send=sent.append,
            show=show,
            clock=lambda: 0.0,
            refresh=60,
        )
        for job in jobs:
            queue.enqueue(job)
        await asyncio.gather(*(queue.send_next() for _ in range(5)))
        assert sorted(j.id for j in sent) == [jobs[0].id, jobs[1].id]
        assert all(j.state is JobState.SUBMITTING for j in sent)
        # The first one's create came back and the job finished: exactly one more goes.
        await queue.landed(accepted=True)
        await asyncio.gather(queue.left(jobs[0].id), queue.send_next(), queue.send_next())
        assert sorted(j.id for j in sent) == [jobs[0].id, jobs[1].id, jobs[2].id]
        queue.close()

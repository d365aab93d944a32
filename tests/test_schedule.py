"""The poll schedule: jobs fall due in time order, and a sooner one wakes the sleeping loop."""

from __future__ import annotations

import asyncio
import random
import time

from bot.jobs.schedule import Schedule


async def test_jobs_fall_due_in_order_and_a_sooner_one_is_not_held_back():
    schedule = Schedule(time.monotonic, random.random)
    fired: list[tuple[int, float]] = []
    started = time.monotonic()
    runner = asyncio.create_task(schedule.run(lambda job: fired.append((job, time.monotonic() - started))))
    try:
        schedule.at(1, 0.6)
        await asyncio.sleep(0.05)  # the loop now sleeps until job 1
        schedule.at(2, 0.05)  # sooner: must wake it
        schedule.at(3, 0.3)  # later than 2, sooner than 1: fires in its turn without a wake-up
        schedule.at(4, 5.0)  # later than everything
        await asyncio.sleep(0.8)
    finally:
        runner.cancel()
    assert [job for job, _ in fired] == [2, 3, 1]
    at = dict(fired)
    assert at[2] < 0.25 and 0.3 <= at[3] < 0.5 and 0.6 <= at[1] < 0.8

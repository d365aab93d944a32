"""Per-bucket request budgets: never overdrawn, finals first, superseded progress never sent."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.pacing.budgets import Budgets, Superseded

LIMIT, PER = 5, 0.3


def small(_bucket: str) -> tuple[int, float]:
    return LIMIT, PER


async def test_no_window_ever_holds_more_than_the_limit():
    budgets = Budgets(limits=small, margin=0.02)
    sent: list[float] = []

    async def one(urgent: bool) -> None:
        await budgets.take(["edit:1"], urgent=urgent)
        sent.append(time.monotonic())

    await asyncio.gather(*(one(i % 3 == 0) for i in range(17)))
    assert len(sent) == 17
    for i, at in enumerate(sent):
        assert sum(1 for other in sent[i:] if other - at < PER) <= LIMIT


async def test_final_results_go_before_waiting_progress_edits():
    budgets = Budgets(limits=small, margin=0.02)
    for _ in range(LIMIT):
        await budgets.take(["edit:1"], urgent=False)  # the window is full
    order: list[str] = []

    async def send(name: str, urgent: bool) -> None:
        await budgets.take(["edit:1"], urgent=urgent)
        order.append(name)

    progress = [asyncio.create_task(send(f"progress{i}", False)) for i in range(3)]
    await asyncio.sleep(0.01)
    final = asyncio.create_task(send("final", True))
    await asyncio.gather(final, *progress)
    assert order[0] == "final"


async def test_a_superseded_progress_edit_gives_up_without_spending_a_slot():
    budgets = Budgets(limits=small, margin=0.02)
    for _ in range(LIMIT):
        await budgets.take(["edit:1"], urgent=False)
    newer = asyncio.Event()
    waiting = asyncio.create_task(budgets.take(["edit:1"], urgent=False, wanted=lambda: not newer.is_set()))
    await asyncio.sleep(0.05)
    newer.set()
    with pytest.raises(Superseded):
        await waiting
    # The slot it did not spend is there for the next send as soon as the window allows.
    started = time.monotonic()
    await budgets.take(["edit:1"], urgent=True)
    assert time.monotonic() - started < PER + 0.1


async def test_buckets_are_separate_and_the_global_one_is_shared():
    budgets = Budgets(limits=lambda b: (2, 5.0) if b == "global" else (5, 5.0), margin=0.0)
    await budgets.take(["edit:1", "global"], urgent=True)
    await budgets.take(["edit:2", "global"], urgent=True)
    # Both global slots are gone: a third channel must wait, a webhook route (no global) need not.
    await asyncio.wait_for(budgets.take(["webhook:9"], urgent=True), 0.1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(budgets.take(["edit:3", "global"], urgent=True), 0.1)

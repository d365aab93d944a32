"""Per-bucket request budgets: no Discord window overdrawn, the order a channel serves its sends
in, progress dropped when superseded or when its channel is saturated, Discord's headers read.

A frozen clock drives the budgets: a send that can go is granted at once (synchronously, when
it asks), one that cannot stays waiting until the clock is moved and the budgets look again."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.pacing.budgets import FINAL, NOTICE, PING, PROGRESS, Budgets, Superseded, buckets_of

LIMIT, PER = 5, 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def budgets_at(clock: Clock, **kwargs: object) -> Budgets:
    return Budgets(clock=clock, margin=0.3, skew=0.0, **kwargs)  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def headers(remaining: int, reset_after: float, limit: int = LIMIT) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset-After": str(reset_after),
    }


class DiscordWindow:
    """Discord's count: fixed windows that open on their first request."""

    def __init__(self, limit: int = LIMIT, per: float = PER) -> None:
        self.limit, self.per, self.opened, self.used = limit, per, float("-inf"), 0

    def admit(self, at: float) -> bool:
        if at >= self.opened + self.per:
            self.opened, self.used = at, 0
        self.used += 1
        return self.used <= self.limit


async def test_no_discord_window_is_overdrawn_with_or_without_its_headers():
    clock = Clock()
    budgets = budgets_at(clock)
    rng = random.Random(3)
    discord = DiscordWindow()
    answered: list[asyncio.Task[dict[str, int]]] = []
    sent = 0
    waiting = [
        asyncio.create_task(budgets.take(["edit:1"], priority=rng.choice([FINAL, PING]))) for _ in range(23)
    ]
    while sent < 23:
        await settle()
        for task in [t for t in waiting if t.done()]:
            waiting.remove(task)
            answered.append(task)
            assert discord.admit(clock.now)
            sent += 1
            if rng.random() < 0.5:  # about half the answers come back with headers
                left = discord.limit - discord.used
                budgets.observe(
                    "edit:1", headers(left, discord.opened + PER - clock.now), task.result()["edit:1"]
                )
        clock.now += rng.choice([0.1, 0.7, 1.3])
        budgets.wake()
    assert len(answered) == 23


async def test_a_channel_serves_finals_then_notices_then_pings_then_progress():
    clock = Clock()
    budgets = budgets_at(clock)
    for _ in range(LIMIT):
        await budgets.take(["edit:1", "global"])  # the channel's window is full
    order: list[str] = []

    async def send(name: str, priority: int) -> None:
        await budgets.take(["edit:1", "global"], priority=priority)
        order.append(name)

    tasks = [
        asyncio.create_task(send(name, priority))
        for name, priority in [("progress", PROGRESS), ("ping", PING), ("notice", NOTICE), ("final", FINAL)]
    ]
    await settle()
    assert order == []
    clock.now += PER + 0.3
    budgets.wake()
    await asyncio.gather(*tasks)
    assert order == ["final", "notice", "ping", "progress"]


async def test_a_busy_channel_holds_back_nothing_elsewhere():
    clock = Clock()
    budgets = budgets_at(clock)
    for _ in range(LIMIT):
        await budgets.take(["edit:1", "global"])
    busy = [asyncio.create_task(budgets.take(["edit:1", "global"])) for _ in range(3)]  # finals waiting
    quiet = asyncio.create_task(budgets.take(["edit:2", "global"], priority=PROGRESS))
    await settle()
    assert quiet.done() and not any(t.done() for t in busy)
    for task in busy:
        task.cancel()


async def test_a_superseded_progress_edit_gives_up_without_spending_a_slot():
    clock = Clock()
    budgets = budgets_at(clock)
    for _ in range(LIMIT):
        await budgets.take(["edit:1"])
    newer = asyncio.Event()
    waiting = asyncio.create_task(
        budgets.take(["edit:1"], priority=PROGRESS, wanted=lambda: not newer.is_set(), droppable=True)
    )
    await settle()
    newer.set()
    clock.now += PER + 0.3
    budgets.wake()
    with pytest.raises(Superseded):
        await waiting
    final = asyncio.create_task(budgets.take(["edit:1"]))
    await settle()
    assert final.done()  # the slot it did not spend


async def test_progress_is_dropped_in_a_saturated_channel_and_leaves_a_finals_slot():
    clock = Clock()
    budgets = budgets_at(clock)
    for job in range(LIMIT - 1):
        budgets.occupy("edit:1", job)
    # Four jobs live on the channel: progress goes, but never takes the window's last slot.
    for _ in range(LIMIT - 1):
        await budgets.take(["edit:1"], priority=PROGRESS, droppable=True)
    held = asyncio.create_task(budgets.take(["edit:1"], priority=PROGRESS, droppable=True))
    await settle()
    assert not held.done()
    await asyncio.wait_for(budgets.take(["edit:1"]), 1)  # the final gets it at once
    # A fifth job: as many as the window has slots, so their finals alone can fill it.
    budgets.occupy("edit:1", LIMIT)
    budgets.wake()
    with pytest.raises(Superseded):
        await held
    assert budgets.dropped == 1
    clock.now += PER + 0.3
    with pytest.raises(Superseded):
        await budgets.take(["edit:1"], priority=PROGRESS, droppable=True)
    # Jobs that ended leave the bucket: progress flows again.
    budgets.vacate(0)
    await asyncio.wait_for(budgets.take(["edit:1"], priority=PROGRESS, droppable=True), 1)


async def test_headers_say_when_a_window_ends_and_how_much_is_left():
    clock = Clock()
    budgets = budgets_at(clock)
    taken = await budgets.take(["edit:1"])
    # Discord says its limit here is 2, with none left for 1.5 s (another process used it).
    budgets.observe("edit:1", headers(0, 1.5, limit=2), taken["edit:1"])
    blocked = asyncio.create_task(budgets.take(["edit:1"]))
    await settle()
    assert not blocked.done()
    clock.now += 1.5
    budgets.wake()
    await settle()
    assert blocked.done()  # the window Discord announced ended: no need to wait out 5.3 s
    await budgets.take(["edit:1"])
    third = asyncio.create_task(budgets.take(["edit:1"]))
    await settle()
    assert not third.done()  # the learned limit: 2 a window
    # An answer about the earlier window changes nothing.
    budgets.observe("edit:1", headers(5, 0.0, limit=2), taken["edit:1"])
    await settle()
    assert not third.done()
    third.cancel()


async def test_before_any_answer_a_window_is_assumed_to_last_as_long_as_it_can():
    clock = Clock()
    budgets = budgets_at(clock)
    for _ in range(LIMIT):
        await budgets.take(["edit:1"])
    blocked = asyncio.create_task(budgets.take(["edit:1"]))
    clock.now += PER  # Discord's window may have opened only when the first request arrived
    budgets.wake()
    await settle()
    assert not blocked.done()
    clock.now += 0.3
    budgets.wake()
    await settle()
    assert blocked.done()


async def test_the_global_limit_is_this_process_share_from_the_first_request():
    clock = Clock()
    budgets = budgets_at(clock, global_share=0.5)
    granted = 0
    for _ in range(30):
        task = asyncio.create_task(budgets.take(["global"]))
        await settle()
        granted += task.done()
        if not task.done():
            task.cancel()
    assert granted == 24  # 25 a second, one kept for requests on their way


async def test_a_429_met_anyway_pauses_its_bucket():
    clock = Clock()
    budgets = budgets_at(clock)
    budgets.refused("global", 2.0)
    blocked = asyncio.create_task(budgets.take(["edit:1", "global"]))
    webhook = asyncio.create_task(budgets.take(["webhook:1"]))
    await settle()
    assert webhook.done() and not blocked.done()
    clock.now += 2.0
    budgets.wake()
    await settle()
    assert blocked.done()


def test_requests_are_counted_against_their_channel_and_the_global_bucket():
    assert buckets_of("POST", "/channels/7/messages") == ["create:7", "global"]
    assert buckets_of("PATCH", "/channels/7/messages/9") == ["edit:7", "global"]
    assert buckets_of("DELETE", "/channels/7/messages/9") == ["global"]
    assert buckets_of("POST", "/users/@me/channels") == ["global"]
    assert buckets_of("PATCH", "/webhooks/1/tok/messages/@original") == []
    assert buckets_of("POST", "/interactions/1/tok/callback") == []


async def test_a_finished_jobs_webhook_bucket_is_forgotten_unless_a_send_waits_on_it():
    clock = Clock()
    budgets = budgets_at(clock)
    for _ in range(5):
        await budgets.take(["webhook:1"])
    waiting = asyncio.create_task(budgets.take(["webhook:1"]))  # the window is spent
    await settle()
    budgets.forget("webhook:1")
    assert "webhook:1" in budgets._buckets  # a send still waits on it
    waiting.cancel()
    await settle()
    budgets.forget("webhook:1")
    budgets.forget("webhook:2")  # never used: nothing to forget, no error
    assert "webhook:1" not in budgets._buckets

"""The per-message edit coalescer: bounded sends, latest wins, final first and last."""

from __future__ import annotations

import asyncio

import pytest

from bot.pacing.throttle import EditThrottle


class Recorder:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.sent: list[object] = []
        self.delay = delay
        self.fail = fail

    async def __call__(self, render: object) -> None:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("discord said no")
        self.sent.append(render)


async def test_a_burst_is_coalesced_to_the_latest_render():
    rec = Recorder()
    throttle = EditThrottle(rec, interval=0.2)
    for i in range(100):
        throttle.submit(i)
        await asyncio.sleep(0)
    await asyncio.sleep(0.35)
    assert rec.sent[0] == 0
    assert rec.sent[-1] == 99
    assert len(rec.sent) <= 2
    await throttle.aclose()


async def test_unchanged_renders_are_skipped():
    rec = Recorder()
    throttle = EditThrottle(rec, interval=0.01)
    for _ in range(5):
        throttle.submit("same")
        await asyncio.sleep(0.03)
    assert rec.sent == ["same"]


async def test_final_wins_over_pending_and_closes():
    rec = Recorder()
    throttle = EditThrottle(rec, interval=10)
    throttle.submit("progress 1")
    await asyncio.sleep(0.01)
    throttle.submit("progress 2")  # pending behind the interval
    await throttle.final("done")
    throttle.submit("stale progress")
    await asyncio.sleep(0.05)
    assert rec.sent == ["progress 1", "done"]


async def test_final_supersedes_an_in_flight_progress_send():
    rec = Recorder(delay=0.1)
    throttle = EditThrottle(rec, interval=0.01)
    throttle.submit("progress")
    await asyncio.sleep(0.02)  # the progress send is in flight
    await throttle.final("done")
    await asyncio.sleep(0.15)
    assert rec.sent == ["done"]


async def test_progress_errors_are_swallowed_but_final_errors_propagate():
    rec = Recorder(fail=True)
    throttle = EditThrottle(rec, interval=0.01)
    throttle.submit("progress")
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError):
        await throttle.final("done")


async def test_a_busy_caller_stretches_the_interval_and_the_latest_render_still_wins():
    rec = Recorder()
    busy = {"stretch": 0.3}
    throttle = EditThrottle(rec, interval=0.02, stretch=lambda: busy["stretch"])
    throttle.submit("first")
    await asyncio.sleep(0.05)
    for i in range(5):
        throttle.submit(i)
        await asyncio.sleep(0.04)
    # 0.25 s after the first send: the stretched interval (0.3 s) has not passed yet.
    assert rec.sent == ["first"]
    await asyncio.sleep(0.15)
    assert rec.sent == ["first", 4]
    busy["stretch"] = 0.0  # calm again: the base interval applies
    throttle.submit("calm")
    await asyncio.sleep(0.05)
    assert rec.sent == ["first", 4, "calm"]
    await throttle.aclose()


async def test_a_render_that_fails_when_compared_is_dropped_and_the_next_goes():
    """Progress renders are made lazily (`cogs.video.messages.Progress`), when compared here."""

    class Broken:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("the store is unavailable")

    rec = Recorder()
    throttle = EditThrottle(rec, interval=0.01)
    throttle.submit("first")
    await asyncio.sleep(0.05)
    throttle.submit(Broken())
    worker = throttle._worker
    await asyncio.sleep(0.05)
    assert worker is not None and worker.done() and worker.exception() is None  # logged, not raised
    throttle.submit("third")
    await asyncio.sleep(0.05)
    assert rec.sent == ["first", "third"]
    await throttle.aclose()

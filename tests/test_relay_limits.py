"""The relay's limits as pure logic: AIMD on refusals and successes, and the pause after a 429."""

from __future__ import annotations

from bot.jobs.relay_limits import Aimd, CreateGate


def test_the_limit_halves_on_a_refusal_and_grows_by_one_per_success():
    limit = Aimd(ceiling=10)
    limit.refused()
    assert limit.value == 5 and limit.lowered
    limit.refused()
    limit.refused()
    limit.refused()
    assert limit.value == 1  # never below the floor
    for _ in range(20):
        limit.succeeded()
    assert limit.value == 10 and not limit.lowered  # never above the ceiling


def test_a_refusal_halves_what_was_in_use_not_an_unlimited_ceiling():
    limit = Aimd(ceiling=100_000)
    limit.refused(in_use=6)
    assert limit.value == 3


def test_a_429_pauses_every_create_for_its_retry_after():
    gate = CreateGate(ceiling=8)
    assert gate.room(0.0) == 8
    gate.sent(4)
    assert gate.refused(now=10.0, retry_after=3.0) == 3.0
    assert gate.room(12.9) == 0 and gate.paused_for(12.0) == 1.0
    assert gate.limit.value == 2  # half of the four in flight
    assert gate.room(13.0) == 0  # three still out, over the limit of two
    for _ in range(3):
        gate.failed()
    assert gate.room(13.0) == 2


def test_refusals_of_one_overload_halve_the_limit_once():
    gate = CreateGate(ceiling=16)
    gate.sent(8)
    gate.refused(now=0.0, retry_after=1.0)
    gate.refused(now=0.1, retry_after=1.0)  # in flight when the first came back
    assert gate.limit.value == 4


def test_without_retry_after_the_pause_doubles_until_a_create_is_accepted():
    gate = CreateGate(ceiling=4, backoff=2.0, max_pause=10.0)
    pauses = []
    for now in (0.0, 100.0, 200.0, 300.0):
        gate.sent(1)
        pauses.append(gate.refused(now=now, retry_after=None))
    assert pauses == [2.0, 4.0, 8.0, 10.0]
    gate.sent(1)
    gate.accepted()
    gate.sent(1)
    assert gate.refused(now=400.0, retry_after=None) == 2.0
    assert gate.refusals == 5


def test_the_relay_is_busy_until_any_create_is_accepted():
    gate = CreateGate(ceiling=4)
    gate.sent(1)
    gate.refused(now=0.0, retry_after=1.0)
    gate.sent(1)
    gate.refused(now=1.0, retry_after=1.0)
    assert gate.busy_for(5.0) == 5.0  # from the first refusal of the streak
    gate.sent(1)
    gate.accepted()  # another job got through: the relay is taking work
    assert gate.busy_for(6.0) == 0.0
    gate.sent(1)
    gate.refused(now=7.0, retry_after=1.0)
    assert gate.busy_for(8.0) == 1.0

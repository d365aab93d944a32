"""`AckFirst.alone`: which commands may answer with their job message instead of deferring."""

from __future__ import annotations

import pytest

from bot.app import acks as ack_module
from bot.app.acks import AckFirst


class Response:
    def __init__(self) -> None:
        self.done = False

    def is_done(self) -> bool:
        return self.done


class Interaction:
    def __init__(self, id: int) -> None:
        self.id = id
        self.response = Response()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(ack_module.time, "monotonic", lambda: now[0])
    return now


def test_a_command_after_a_quiet_spell_is_alone(clock: list[float]) -> None:
    acks = AckFirst(quiet=0.5)
    first = Interaction(1)
    acks.arrived(first)
    assert acks.alone(first)
    first.response.done = True
    clock[0] += 0.6
    second = Interaction(2)
    acks.arrived(second)
    assert acks.alone(second)


def test_commands_of_a_burst_are_not_alone(clock: list[float]) -> None:
    acks = AckFirst(quiet=0.5)
    first, second = Interaction(1), Interaction(2)
    acks.arrived(first)
    clock[0] += 0.1
    acks.arrived(second)
    # Another waits for its answer: neither may take its time.
    assert not acks.alone(first) and not acks.alone(second)
    # The first was answered; the second still came right behind it.
    first.response.done = True
    assert not acks.alone(second)


def test_an_unanswered_command_past_saving_does_not_count(clock: list[float]) -> None:
    acks = AckFirst(quiet=0.5)
    lost = Interaction(1)
    acks.arrived(lost)
    clock[0] += ack_module.ACK_WINDOW + 1
    later = Interaction(2)
    acks.arrived(later)
    assert acks.alone(later)


def test_an_interaction_it_does_not_count_is_alone_only_when_calm(clock: list[float]) -> None:
    acks = AckFirst(quiet=0.5)
    modal = Interaction(99)  # a modal's submission: not a command the tree registers
    assert acks.alone(modal)
    acks.arrived(Interaction(1))
    assert not acks.alone(modal)

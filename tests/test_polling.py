"""When the next poll of a job falls: near the expected finish, rarely far from it, bounded rate."""

from __future__ import annotations

import pytest

from bot.jobs.polling import Timing, next_poll

T = Timing(poll_interval=5.0, poll_max_interval=30.0, polls_per_second=50.0)  # 200 s for 10,000


def same(delay: float) -> float:
    return delay


def plan(expected: float | None, *, until: float, active: int = 1) -> list[float]:
    """The ages at which a job is polled, from 0 to `until`."""
    age, ages = 0.0, []
    while age < until:
        age += next_poll(T, age=age, expected=expected, active=active, jitter=same)
        ages.append(age)
    return ages


@pytest.mark.parametrize("finish", [110.0, 120.0, 130.0])
def test_a_two_minute_job_is_seen_within_two_seconds_of_finishing(finish):
    ages = plan(120.0, until=finish + 10)
    seen = next(a for a in ages if a >= finish)
    assert seen - finish <= 2.0
    assert len(ages) <= 30  # the naive 5 s poll makes 26 to get there


def test_far_from_the_expected_finish_progress_still_moves_every_max_interval():
    ages = plan(600.0, until=400)
    gaps = [b - a for a, b in zip([0.0, *ages], ages, strict=False)]
    assert max(gaps) <= T.poll_max_interval


def test_without_history_the_interval_grows_with_age():
    assert next_poll(T, age=0, expected=None, active=1, jitter=same) == 5.0
    assert next_poll(T, age=600, expected=None, active=1, jitter=same) == 30.0


def test_many_jobs_stretch_far_polls_to_the_budget():
    # 10,000 jobs at 50 queries a second: a job far from its finish waits 200 s between polls.
    assert next_poll(T, age=10, expected=1000.0, active=10_000, jitter=same) == 200.0


def test_young_jobs_without_history_keep_their_pace_in_a_burst():
    assert next_poll(T, age=5, expected=None, active=1000, jitter=same) < 6.0
    assert next_poll(T, age=600, expected=None, active=10_000, jitter=same) == 200.0


def test_the_budget_never_holds_a_job_past_the_window_before_its_expected_finish():
    # 1,000 jobs at 50 queries a second stretch far polls to 20 s, but this job's window
    # (2 s before its expected finish at 12 s) opens in 5 s.
    assert next_poll(T, age=5, expected=12.0, active=1000, jitter=same) == pytest.approx(5.0)


@pytest.mark.parametrize("behind", [0.5, 2.0, 4.0])
def test_a_job_a_little_late_in_a_burst_is_seen_within_seconds_of_finishing(behind):
    """A burst's creates leave seconds after the jobs were sent, so the jobs finish a little
    later than the model's history says; the budget must not add a minute to that."""
    finish = 10.0 + 2.0 + behind  # expected 10 s, window 2 s
    ages = plan(10.0, until=finish + 60, active=1000)
    seen = next(a for a in ages if a >= finish)
    assert seen - finish <= behind + 2.0


def test_a_job_long_overdue_yields_to_the_budget():
    assert next_poll(T, age=2000, expected=100.0, active=10_000, jitter=same) == 200.0

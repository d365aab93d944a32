"""When to ask the relay about a job again: from how long this model's recent jobs took.

A job far from its expected finish is polled rarely (its progress bar still moves every
`poll_max_interval`); from a little before the expected finish it is polled every `fine`
seconds, so the poll that sees the video lands close to the finish; a job running late backs
off again. Without history the interval grows with age, as before. Under load the interval of a
far-from-done (or late) job stretches to `active / polls_per_second`, so waiting jobs cost a
bounded rate whatever their number — but never past the expected finish's window, nor further
than the job is late; the schedule caps every query at `polls_cap` a second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.jobs.model import Job
from bot.relay.task_status import TaskStatus
from bot.settings import Settings


@dataclass(frozen=True)
class Timing:
    poll_interval: float = 5.0
    poll_max_interval: float = 30.0
    failure_deadline: float = 30 * 60.0
    job_timeout: float = 60 * 60.0
    # A job the relay keeps refusing (429) waits this long before it fails; a pause after a
    # 429 lasts the relay's Retry-After, or a doubling backoff, at most `busy_max_pause`.
    busy_deadline: float = 10 * 60.0
    busy_max_pause: float = 120.0
    finish_retry_max: float = 60.0
    concurrency: int = 32  # jobs polled or delivered at once (the schedule caps the rate)
    max_running: int = 10  # jobs at the relay at once (submitting, queued, running)
    max_running_per_member: int = 2
    polls_per_second: float = 20.0  # what many far-from-done jobs may cost together
    polls_cap: float = 100.0  # relay queries a second at most, fine polls near a finish included
    queue_refresh: float = 10.0  # how often waiting jobs' positions may be re-shown
    poll_record_every: float = 60.0  # a "no news" poll is written at most this often
    fine_min: float = 1.0  # the shortest poll interval, even for very short jobs

    @classmethod
    def from_settings(cls, s: Settings) -> Timing:
        return cls(
            poll_interval=s.poll_interval,
            poll_max_interval=s.poll_max_interval,
            failure_deadline=s.poll_failure_deadline,
            job_timeout=s.job_timeout,
            max_running=s.max_running_jobs,
            max_running_per_member=s.max_running_per_member,
            # Queue positions are re-shown a few progress edits apart at most.
            queue_refresh=2.5 * s.progress_edit_interval,
        )


def next_poll(
    t: Timing, *, age: float, expected: float | None, active: int, jitter: Callable[[float], float]
) -> float:
    """Seconds until the next poll of a job `age` seconds after it was sent."""
    floor = active / t.polls_per_second
    if expected is None:
        # Fresh jobs are polled at the base rate; the interval grows with age because a job
        # that has run ten minutes will not finish in the next five seconds.
        interval = jitter(min(t.poll_max_interval, t.poll_interval * (1 + age / 120)))
        # Young jobs keep their pace (the cap bounds them); old ones yield to the budget.
        return interval if age < 2 * t.poll_max_interval else max(floor, interval)
    fine = min(t.poll_interval, max(t.fine_min, expected / 80))
    window = max(2 * fine, 0.1 * expected)
    until = expected - age
    if until > window:
        # Wake when the window before the expected finish opens (the budget may stretch the
        # progress polls meanwhile, never past that); show progress meanwhile.
        return min(until - window, max(floor, jitter(t.poll_max_interval)))
    late = -until - window
    if late <= 0:
        return jitter(fine)
    # Later than the model's jobs usually are: back off from the fine interval again. The
    # budget stretches the wait only as far as the job is late: one a few seconds behind
    # (its create left late in a burst, say) is not left waiting for a minute.
    backoff = jitter(min(t.poll_max_interval, fine * (1 + late / 30)))
    return max(min(floor, late), backoff)


def extrapolated(progress: int | None, age: float, lag: float) -> float | None:
    """The job's whole duration as its progress so far suggests, for a model with no history
    yet; None while the progress says too little. The progress was seen `age` seconds after the
    job was sent but reached earlier, on average `lag` seconds (half a poll interval) before:
    taken as reached on seeing it, every estimate came late and so did the poll that sees the
    video.

    Without it a fresh bot polls every `poll_interval` and notices a finished video up to that
    late; in a busy channel each late notice costs a slot of its edit bucket that nothing can
    win back. Relays report progress coarsely and not always linearly: a wrong guess costs a
    few extra polls (the fine window, then the usual backoff), never a missed finish."""
    if progress is None or not 5 <= progress < 100 or age <= lag:
        return None
    return (age - lag) * 100 / progress


def poll_delay(
    t: Timing,
    *,
    age: float,
    history: float | None,
    progress: int | None,
    active: int,
    jitter: Callable[[float], float],
) -> float:
    """Seconds until the next poll: toward the finish the model's history (`history`, seconds)
    expects, or, without history, the one the job's progress so far suggests."""
    if history is not None:
        return next_poll(t, age=age, expected=history, active=active, jitter=jitter)
    guess = extrapolated(progress, age, lag=t.poll_interval / 2)
    delay = next_poll(t, age=age, expected=guess, active=active, jitter=jitter)
    # One coarse reading may be far off (a step reached just after the last poll, or long
    # before this one): keep reading at the usual pace too, so each new step corrects it.
    return delay if guess is None else min(delay, jitter(t.poll_interval))


class DurationCache:
    """`Store.typical_duration` per model, re-read at most every `ttl` seconds."""

    def __init__(
        self,
        lookup: Callable[[str], Awaitable[float | None]],
        clock: Callable[[], float],
        ttl: float = 60.0,
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[float | None, float]] = {}

    async def get(self, model: str) -> float | None:
        now = self._clock()
        hit = self._cache.get(model)
        if hit is None or now - hit[1] >= self._ttl:
            hit = (await self._lookup(model), now)
            self._cache[model] = hit
        return hit[0]

    def forget(self, model: str) -> None:
        """A job of this model finished: the next lookup reads the newer history."""
        value = self._cache.get(model)
        if value is not None and value[0] is None:
            self._cache.pop(model, None)


def poll_news(job: Job, status: TaskStatus, polled_at: float | None, record_every: float) -> dict[str, Any]:
    """The columns a poll's answer changes. A poll that brings no news writes nothing, except
    its bookkeeping (when the relay last answered) every `record_every` seconds."""
    news: dict[str, Any] = {}
    if status.raw_status != job.raw_status:
        news["raw_status"] = status.raw_status
    if status.progress is not None and status.progress != job.progress:
        news["progress"] = status.progress
    if polled_at is not None and (
        job.poll_failures or job.last_poll_ok_at is None or polled_at - job.last_poll_ok_at >= record_every
    ):
        news.update(last_poll_at=polled_at, last_poll_ok_at=polled_at, poll_failures=0)
    return news

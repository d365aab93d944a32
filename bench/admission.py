"""What the fair queue costs: a burst of jobs enqueued (each message posted with its place
first, as the bot does), then every waiting job's position asked once, then every job taken.

    python bench/admission.py [waiting ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.admission import Admission


def main(sizes: list[int]) -> None:
    print(f"{'waiting':>8} {'enqueue+post':>13} {'all positions':>14} {'take all':>9}")
    for n in sizes:
        a = Admission(max_running=1, max_per_member=1)
        started = time.perf_counter()
        for job in range(n):
            a.position(job)  # the job message is posted before the job is queued
            a.enqueue(job, job % 100, job % 10)
        enqueued = time.perf_counter() - started
        started = time.perf_counter()
        for job in a.waiting_ids():
            a.position(job)
        positions = time.perf_counter() - started
        started = time.perf_counter()
        while taken := a.take():
            a.release(taken[0][0])
        took = time.perf_counter() - started
        print(f"{n:>8} {enqueued * 1e3:>10.1f} ms {positions * 1e3:>11.1f} ms {took * 1e3:>6.1f} ms")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1_000, 10_000])

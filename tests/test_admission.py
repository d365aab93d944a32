"""The in-memory queue in front of the relay: exact limits, first come first served, O(log n)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.jobs.admission import Admission


class Model:
    """The obvious O(n) version: scan every waiting job, oldest first, as the store query did."""

    def __init__(self, max_running: int, per_member: int) -> None:
        self.max_running, self.per_member = max_running, per_member
        self.waiting: dict[int, int] = {}
        self.running: dict[int, int] = {}

    def take(self, most: int | None = None) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for job_id in sorted(self.waiting):
            if len(self.running) >= self.max_running or (most is not None and len(out) >= most):
                break
            user = self.waiting[job_id]
            if sum(1 for u in self.running.values() if u == user) >= self.per_member:
                continue
            del self.waiting[job_id]
            self.running[job_id] = user
            out.append((job_id, user))
        return out


ops = st.lists(
    st.tuples(
        st.sampled_from(["enqueue", "take", "release", "remove", "refused"]),
        st.integers(0, 60),
        st.integers(0, 4),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(ops=ops, max_running=st.integers(1, 6), per_member=st.integers(1, 3))
def test_admission_matches_the_scan_of_every_waiting_job(ops, max_running, per_member):
    real, model = Admission(max_running, per_member), Model(max_running, per_member)
    seen: set[int] = set()
    for op, job_id, user in ops:
        if op == "enqueue" and job_id not in seen:
            seen.add(job_id)  # a job id joins the queue once, as in life
            real.enqueue(job_id, user)
            model.waiting[job_id] = user
        elif op == "take":
            # `user` doubles as the most a take may send (0: as many as the limits allow).
            assert real.take(user or None) == model.take(user or None)
        elif op == "refused" and model.running:
            # The relay refused a create (429): the job goes back to its place in the queue.
            victim = sorted(model.running)[job_id % len(model.running)]
            model.waiting[victim] = model.running.pop(victim)
            real.release(victim)
            real.enqueue(victim, model.waiting[victim])
        elif op == "release" and model.running:
            victim = sorted(model.running)[job_id % len(model.running)]
            del model.running[victim]
            real.release(victim)
        elif op == "remove" and model.waiting:
            victim = sorted(model.waiting)[job_id % len(model.waiting)]
            del model.waiting[victim]
            real.remove(victim)
        # The limits hold exactly, and positions are the rank among waiting jobs.
        assert real.running == len(model.running) <= max_running
        for u in range(5):
            assert real.running_for(u) == sum(1 for x in model.running.values() if x == u) <= per_member
        assert real.waiting_ids() == sorted(model.waiting)
        for rank, waiting_id in enumerate(sorted(model.waiting), 1):
            assert real.position(waiting_id) == rank


def test_a_job_refused_by_the_relay_goes_back_to_its_place_in_the_queue():
    a = Admission(max_running=1, max_per_member=1)
    for job_id in (1, 2, 3):
        a.enqueue(job_id, job_id)
    assert a.take() == [(1, 1)]
    a.release(1)
    a.enqueue(1, 1)  # refused: nothing was made, so it waits again, first in line
    assert a.position(1) == 1 and a.position(3) == 3
    assert a.take(most=0) == [] and a.take() == [(1, 1)]


def test_a_member_at_their_limit_does_not_hold_up_others():
    a = Admission(max_running=10, max_per_member=1)
    for job_id, user in [(1, 7), (2, 7), (3, 7), (4, 8)]:
        a.enqueue(job_id, user)
    assert a.take() == [(1, 7), (4, 8)]
    a.release(1)
    assert a.take() == [(2, 7)]


def test_jobs_already_at_the_relay_count_against_the_limits():
    a = Admission(max_running=2, max_per_member=2)
    a.started(1, 5)
    for job_id, user in [(2, 5), (3, 6), (4, 6)]:
        a.enqueue(job_id, user)
    assert a.take() == [(2, 5)]  # one slot was left
    assert a.position(3) == 1 and a.position(4) == 2


def test_ten_thousand_waiting_are_served_one_slot_at_a_time_in_order():
    # (How cheap each event is with 10,000 waiting is measured by bench/tracker_load.py.)
    a = Admission(max_running=1, max_per_member=1)
    for job_id in range(10_000):
        a.enqueue(job_id, job_id)
    taken = a.take()
    for expected in range(1, 2_001):
        a.release(taken[0][0])
        taken = a.take()
        assert taken == [(expected, expected)]

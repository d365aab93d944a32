"""The in-memory queue in front of the relay: exact limits, fair turns, O(log n)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.jobs.admission import Admission


class Model:
    """The obvious O(n) version of fair turns: every time, scan every lane (a member's waiting
    jobs in one server) for the fewest recent starts in its server, then in the lane, then the
    oldest job."""

    def __init__(self, max_running: int, per_member: int) -> None:
        self.max_running, self.per_member = max_running, per_member
        self.waiting: dict[int, tuple[int, int]] = {}  # job -> (server, member)
        self.running: dict[int, int] = {}
        self.lane_of_running: dict[int, tuple[int, int]] = {}
        self.server_n: dict[int, int] = {}
        self.lane_n: dict[tuple[int, int], int] = {}

    def _pick(self, eligible) -> int | None:
        best = None
        for job, lane in self.waiting.items():
            if not eligible(lane):
                continue
            key = (self.server_n.get(lane[0], 0), self.lane_n.get(lane, 0), job)
            if best is None or key < best:
                best = key
        return None if best is None else best[2]

    def take(self, most: int | None = None) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        while len(self.running) < self.max_running and (most is None or len(out) < most):
            job = self._pick(
                lambda lane: sum(1 for u in self.running.values() if u == lane[1]) < self.per_member
            )
            if job is None:
                break
            lane = self.waiting.pop(job)
            self.running[job] = lane[1]
            self.lane_of_running[job] = lane
            self.server_n[lane[0]] = self.server_n.get(lane[0], 0) + 1
            self.lane_n[lane] = self.lane_n.get(lane, 0) + 1
            out.append((job, lane[1]))
        return out

    def put_back(self, job: int) -> None:
        lane = self.lane_of_running.pop(job)
        del self.running[job]
        self.server_n[lane[0]] -= 1
        self.lane_n[lane] -= 1
        self.waiting[job] = lane

    def order(self) -> list[int]:
        saved = (dict(self.waiting), dict(self.server_n), dict(self.lane_n))
        out = []
        while self.waiting:
            job = self._pick(lambda lane: True)
            lane = self.waiting.pop(job)
            self.server_n[lane[0]] = self.server_n.get(lane[0], 0) + 1
            self.lane_n[lane] = self.lane_n.get(lane, 0) + 1
            out.append(job)
        self.waiting, self.server_n, self.lane_n = saved
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
def test_admission_matches_the_scan_of_every_lane(ops, max_running, per_member):
    # The window never passes here (a frozen clock): test_recent_starts_stop_counting covers it.
    real = Admission(max_running, per_member, clock=lambda: 0.0)
    model = Model(max_running, per_member)
    seen: set[int] = set()
    for op, job_id, user in ops:
        if op == "enqueue" and job_id not in seen:
            seen.add(job_id)  # a job id joins the queue once, as in life
            server = 100 + job_id % 2  # a member may wait in two servers
            real.enqueue(job_id, user, server)
            model.waiting[job_id] = (server, user)
        elif op == "take":
            # `user` doubles as the most a take may send (0: as many as the limits allow).
            assert real.take(user or None) == model.take(user or None)
        elif op == "refused" and model.running:
            # The relay refused a create (429): the job waits again and its start does not count.
            victim = sorted(model.running)[job_id % len(model.running)]
            model.put_back(victim)
            real.put_back(victim)
        elif op == "release" and model.running:
            victim = sorted(model.running)[job_id % len(model.running)]
            del model.running[victim]
            model.lane_of_running.pop(victim)
            real.release(victim)
        elif op == "remove" and model.waiting:
            victim = sorted(model.waiting)[job_id % len(model.waiting)]
            del model.waiting[victim]
            real.remove(victim)
        # The limits hold exactly, and positions are the places in the fair order.
        assert real.running == len(model.running) <= max_running
        for u in range(5):
            assert real.running_for(u) == sum(1 for x in model.running.values() if x == u) <= per_member
        order = model.order()
        assert real.waiting_ids() == order
        for rank, waiting_id in enumerate(order, 1):
            assert real.position(waiting_id) == rank


def test_one_member_does_not_starve_another_in_their_server():
    # One running slot: A's three requests, then B's one. A, B, A, A (not A, A, A, B).
    a = Admission(max_running=1, max_per_member=1, clock=lambda: 0.0)
    for job_id, user in [(1, "A"), (2, "A"), (3, "A"), (4, "B")]:
        a.enqueue(job_id, ord(user), 10)
    assert a.position(4) == 2  # B's request is next after A's first, and its message says so
    ran = []
    while taken := a.take():
        ran.append(chr(taken[0][1]))
        a.release(taken[0][0])
    assert ran == ["A", "B", "A", "A"]


def test_one_busy_server_does_not_starve_another():
    # One slot; A and C in one server, B in another: A's two, then C's, then B's: A, B, C, A.
    a = Admission(max_running=1, max_per_member=1, clock=lambda: 0.0)
    for job_id, user, server in [(1, "A", 10), (2, "A", 10), (3, "C", 10), (4, "B", 20)]:
        a.enqueue(job_id, ord(user), server)
    ran = []
    while taken := a.take():
        ran.append(chr(taken[0][1]))
        a.release(taken[0][0])
    assert ran == ["A", "B", "C", "A"]


def test_recent_starts_stop_counting():
    now = [0.0]
    a = Admission(max_running=1, max_per_member=5, recent=600, clock=lambda: now[0])
    a.enqueue(1, 7, 10)
    assert a.take() == [(1, 7)]
    a.release(1)
    a.enqueue(2, 7, 10)
    a.enqueue(3, 8, 20)
    assert a.waiting_ids() == [3, 2]  # server 10 started a job in the last ten minutes
    now[0] = 601.0
    a.take(most=0)  # (any event looks at the window)
    assert a.waiting_ids() == [2, 3]  # it no longer counts: oldest first again


def test_a_job_refused_by_the_relay_goes_back_to_its_place_in_the_queue():
    a = Admission(max_running=1, max_per_member=1)
    for job_id in (1, 2, 3):
        a.enqueue(job_id, job_id)
    assert a.take() == [(1, 1)]
    a.put_back(1)  # refused: nothing was made, so it waits again, first in line
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

"""Who goes to the relay next: fair turns between servers and members, in memory.

When more jobs wait than may run, the next to start is the oldest waiting job of the member
with the fewest jobs started in the recent past (`RECENT`, ten minutes) in the server with the
fewest started in that time: round robin between servers, then between a server's members,
then oldest first. So one busy server does not starve a quiet one, and one enthusiastic member
does not starve the rest of their server. Within the limits: `max_running` jobs at the relay,
`max_per_member` of one member's. Outside servers (DMs, user installs) each member counts as a
server of their own.

Each event costs O(log n): every member with jobs waiting in a server (a *lane*) has an entry
in one heap keyed by (the server's recent starts, the lane's recent starts, its oldest job);
a start makes entries of its server stale and they are re-keyed when they reach the top, a
start leaving the window re-offers its server's lanes. The store stays the truth: the tracker
rebuilds this from it at start-up and writes every move before acting on it.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

RECENT = 600.0  # seconds: how long a start counts against its server and member

Lane = tuple[int, int]  # (server, member); a member outside servers is their own server
K = TypeVar("K")


def lane_of(guild_id: int | None, user_id: int) -> Lane:
    return (guild_id if guild_id is not None else -1 - user_id, user_id)


class Admission:
    def __init__(
        self,
        max_running: int,
        max_per_member: int,
        *,
        recent: float = RECENT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_running = max_running
        self.max_per_member = max_per_member
        self.recent = recent
        self._clock = clock
        self._queues: dict[Lane, list[int]] = {}  # lane -> its waiting job ids, sorted
        self._owner: dict[int, Lane] = {}  # waiting job id -> lane
        self._lanes: dict[int, set[Lane]] = {}  # server -> its lanes with jobs waiting
        self._member_lanes: dict[int, set[Lane]] = {}  # member -> their lanes with jobs waiting
        self._ready: list[tuple[int, int, int, Lane]] = []  # (server n, lane n, head, lane)
        self._started: deque[tuple[float, Lane]] = deque()  # starts within the window
        self._recent_server: dict[int, int] = {}
        self._recent_lane: dict[Lane, int] = {}
        self._running: dict[int, int] = {}  # job id at the relay -> member
        self._sent_from: dict[int, tuple[float, Lane]] = {}  # job taken here -> its start
        self._per_member: dict[int, int] = {}  # member -> jobs at the relay
        # The fair order and each job's place in it, worked out when first asked for after an
        # event (O(n log n)), not at every event: a burst enqueues far more than it asks.
        self._order: list[int] | None = None
        self._rank: dict[int, int] = {}

    # --- what is where ----------------------------------------------------------------------

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._owner)

    def running_for(self, user_id: int) -> int:
        return self._per_member.get(user_id, 0)

    def waiting_ids(self) -> list[int]:
        """The waiting jobs in the order they will start if nobody else asks meanwhile (fair
        turns as they stand now; the limits decide when, not in which order)."""
        return list(self._fair_order())

    def position(self, job_id: int) -> int:
        """1 for the next job to be sent. A job not queued yet (its message is being posted)
        gets the last place (the next refresh of positions shows where fair turns put it)."""
        if job_id not in self._owner:
            return len(self._owner) + 1
        self._fair_order()
        return self._rank[job_id]

    def _fair_order(self) -> list[int]:
        if self._order is None:
            self._order = self._simulate()
            self._rank = {job_id: place for place, job_id in enumerate(self._order, 1)}
        return self._order

    # --- events -----------------------------------------------------------------------------

    def enqueue(self, job_id: int, user_id: int, guild_id: int | None = None) -> None:
        """A job joins the queue (its message is posted, or a moderator approved it)."""
        if job_id in self._owner or job_id in self._running:
            return
        lane = lane_of(guild_id, user_id)
        self._owner[job_id] = lane
        queue = self._queues.setdefault(lane, [])
        bisect.insort(queue, job_id)
        self._lanes.setdefault(lane[0], set()).add(lane)
        self._member_lanes.setdefault(user_id, set()).add(lane)
        self._order = None
        if queue[0] == job_id:
            self._offer(lane)

    def remove(self, job_id: int) -> None:
        """A waiting job left the queue without being sent (cancelled, failed)."""
        lane = self._owner.pop(job_id, None)
        if lane is None:
            return
        self._order = None
        queue = self._queues[lane]
        queue.remove(job_id)  # at most MAX_WAITING_PER_MEMBER long
        if queue:
            self._offer(lane)
        else:
            self._drop_lane(lane)

    def started(self, job_id: int, user_id: int) -> None:
        """A job is at the relay without having waited here (found so at start-up)."""
        if job_id not in self._running:
            self._running[job_id] = user_id
            self._per_member[user_id] = self._per_member.get(user_id, 0) + 1

    def put_back(self, job_id: int) -> None:
        """A job taken here was not sent after all (the relay refused it, or it could not be
        marked as being sent): it waits again in its place, and its start no longer counts."""
        start = self._sent_from.pop(job_id, None)
        if start is None or job_id not in self._running:
            return
        if start in self._started:
            self._started.remove(start)  # rare (a refusal), so the deque's O(n) is fine
            self._uncount(start[1])
        self.release(job_id)
        lane = start[1]
        self.enqueue(job_id, lane[1], lane[0] if lane[0] >= 0 else None)

    def release(self, job_id: int) -> None:
        """A job left the relay (finished, failed, cancelled): its slot is free."""
        self._sent_from.pop(job_id, None)
        user_id = self._running.pop(job_id, None)
        if user_id is None:
            return
        left = self._per_member[user_id] - 1
        if left:
            self._per_member[user_id] = left
        else:
            del self._per_member[user_id]
        # Its member's lanes may have been held back by the per-member limit.
        for lane in self._member_lanes.get(user_id, ()):
            self._offer(lane)

    def take(self, most: int | None = None) -> list[tuple[int, int]]:
        """The (job, member) pairs to send now, fair turns first, counted as running from here
        on; at most `most` of them (how many creates the relay's load allows now)."""
        self._expire()
        out: list[tuple[int, int]] = []
        while self._ready and len(self._running) < self.max_running and (most is None or len(out) < most):
            server_n, lane_n, head, lane = heapq.heappop(self._ready)
            queue = self._queues.get(lane)
            if not queue or queue[0] != head or self.running_for(lane[1]) >= self.max_per_member:
                continue  # stale (the lane's head moved) or its member is at their limit
            key = self._key(lane)
            if (server_n, lane_n) != key:
                heapq.heappush(self._ready, (*key, head, lane))  # re-keyed: others started since
                continue
            queue.pop(0)
            del self._owner[head]
            self._order = None
            self.started(head, lane[1])
            self._count_start(head, lane)
            out.append((head, lane[1]))
            if queue:
                self._offer(lane)
            else:
                self._drop_lane(lane)
        return out

    # --- the heap and the window ----------------------------------------------------------------

    def _key(self, lane: Lane) -> tuple[int, int]:
        return self._recent_server.get(lane[0], 0), self._recent_lane.get(lane, 0)

    def _offer(self, lane: Lane) -> None:
        queue = self._queues.get(lane)
        if queue and self.running_for(lane[1]) < self.max_per_member:
            heapq.heappush(self._ready, (*self._key(lane), queue[0], lane))

    def _drop_lane(self, lane: Lane) -> None:
        del self._queues[lane]
        for index, key in ((self._lanes, lane[0]), (self._member_lanes, lane[1])):
            lanes = index[key]
            lanes.discard(lane)
            if not lanes:
                del index[key]

    def _count_start(self, job_id: int, lane: Lane) -> None:
        start = (self._clock(), lane)
        self._started.append(start)
        self._sent_from[job_id] = start
        self._recent_server[lane[0]] = self._recent_server.get(lane[0], 0) + 1
        self._recent_lane[lane] = self._recent_lane.get(lane, 0) + 1

    def _uncount(self, lane: Lane) -> None:
        self._order = None
        _decrement(self._recent_server, lane[0])
        _decrement(self._recent_lane, lane)
        for waiting in self._lanes.get(lane[0], ()):
            self._offer(waiting)

    def _expire(self) -> None:
        """Starts older than the window stop counting; their server's lanes move up."""
        horizon = self._clock() - self.recent
        while self._started and self._started[0][0] <= horizon:
            _at, lane = self._started.popleft()
            self._uncount(lane)

    def _simulate(self) -> list[int]:
        """Every waiting job in the order `take` would send them with no limits and nobody new."""
        queues = {lane: list(queue) for lane, queue in self._queues.items()}
        server_n = dict(self._recent_server)
        lane_n = dict(self._recent_lane)
        heap = [
            (server_n.get(lane[0], 0), lane_n.get(lane, 0), queue[0], lane) for lane, queue in queues.items()
        ]
        heapq.heapify(heap)
        order: list[int] = []
        while heap:
            s_n, l_n, head, lane = heapq.heappop(heap)
            if (s_n, l_n) != (server_n.get(lane[0], 0), lane_n.get(lane, 0)):
                heapq.heappush(heap, (server_n.get(lane[0], 0), lane_n.get(lane, 0), head, lane))
                continue
            order.append(queues[lane].pop(0))
            server_n[lane[0]] = s_n + 1
            lane_n[lane] = l_n + 1
            if queues[lane]:
                heapq.heappush(heap, (s_n + 1, l_n + 1, queues[lane][0], lane))
        return order


def _decrement(counts: dict[K, int], key: K) -> None:
    left = counts[key] - 1
    if left:
        counts[key] = left
    else:
        del counts[key]

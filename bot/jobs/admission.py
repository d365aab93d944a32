"""Who goes to the relay next: the waiting queue and the running counts, in memory.

First come first served (lowest job id first) within `max_running` jobs at the relay and
`max_per_member` per member. Each event costs O(log n): a member's jobs wait in their own
list, and a heap holds one entry per member who could start a job now, keyed by that member's
oldest waiting job, so members at their limit are never scanned. The store stays the truth:
the tracker rebuilds this from it at start-up and writes every move before acting on it.
"""

from __future__ import annotations

import bisect
import heapq


class Admission:
    def __init__(self, max_running: int, max_per_member: int) -> None:
        self.max_running = max_running
        self.max_per_member = max_per_member
        self._order: list[int] = []  # every waiting job id, sorted (queue positions)
        self._queues: dict[int, list[int]] = {}  # member -> their waiting job ids, sorted
        self._owner: dict[int, int] = {}  # waiting job id -> member
        self._ready: list[tuple[int, int]] = []  # (oldest waiting job, member), maybe stale
        self._offered: dict[int, int] = {}  # member -> the head last pushed on `_ready`
        self._running: dict[int, int] = {}  # job id at the relay -> member
        self._per_member: dict[int, int] = {}  # member -> jobs at the relay

    # --- what is where ----------------------------------------------------------------------

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._order)

    def running_for(self, user_id: int) -> int:
        return self._per_member.get(user_id, 0)

    def position(self, job_id: int) -> int:
        """1 for the next job to be sent. A job not queued yet (its message is being posted)
        gets the place it will take."""
        if job_id not in self._owner:
            return bisect.bisect_left(self._order, job_id) + 1
        return bisect.bisect_right(self._order, job_id)

    def waiting_ids(self) -> list[int]:
        return list(self._order)

    # --- events -----------------------------------------------------------------------------

    def enqueue(self, job_id: int, user_id: int) -> None:
        """A job joins the queue (its message is posted, or a moderator approved it)."""
        if job_id in self._owner or job_id in self._running:
            return
        self._owner[job_id] = user_id
        bisect.insort(self._order, job_id)
        queue = self._queues.setdefault(user_id, [])
        bisect.insort(queue, job_id)
        if queue[0] == job_id:
            self._offer(user_id)

    def remove(self, job_id: int) -> None:
        """A waiting job left the queue without being sent (cancelled, failed)."""
        user_id = self._owner.pop(job_id, None)
        if user_id is None:
            return
        del self._order[bisect.bisect_left(self._order, job_id)]
        queue = self._queues[user_id]
        queue.remove(job_id)  # at most MAX_WAITING_PER_MEMBER long
        if not queue:
            del self._queues[user_id]
        else:
            self._offer(user_id)

    def started(self, job_id: int, user_id: int) -> None:
        """A job is at the relay without having waited here (found so at start-up)."""
        if job_id not in self._running:
            self._running[job_id] = user_id
            self._per_member[user_id] = self._per_member.get(user_id, 0) + 1

    def release(self, job_id: int) -> None:
        """A job left the relay (finished, failed, cancelled): its slot is free."""
        user_id = self._running.pop(job_id, None)
        if user_id is None:
            return
        left = self._per_member[user_id] - 1
        if left:
            self._per_member[user_id] = left
        else:
            del self._per_member[user_id]
        self._offer(user_id)

    def take(self, most: int | None = None) -> list[tuple[int, int]]:
        """The (job, member) pairs to send now, oldest first, counted as running from here on;
        at most `most` of them (how many creates the relay's load allows now)."""
        out: list[tuple[int, int]] = []
        while self._ready and len(self._running) < self.max_running and (most is None or len(out) < most):
            head, user_id = heapq.heappop(self._ready)
            if self._offered.get(user_id) == head:
                del self._offered[user_id]
            queue = self._queues.get(user_id)
            if not queue or queue[0] != head or self.running_for(user_id) >= self.max_per_member:
                continue  # stale: the member's head moved, or they are at their limit
            queue.pop(0)
            if not queue:
                del self._queues[user_id]
            del self._owner[head]
            del self._order[bisect.bisect_left(self._order, head)]
            self.started(head, user_id)
            out.append((head, user_id))
            self._offer(user_id)
        return out

    def _offer(self, user_id: int) -> None:
        queue = self._queues.get(user_id)
        if (
            queue
            and self.running_for(user_id) < self.max_per_member
            and self._offered.get(user_id) != queue[0]
        ):
            # One live entry per member and head; entries whose head moved are skipped in `take`.
            self._offered[user_id] = queue[0]
            heapq.heappush(self._ready, (queue[0], user_id))

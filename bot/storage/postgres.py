"""The job store on PostgreSQL (`DATABASE_URL`), shared by every process of a sharded bot.

The same interface as the SQLite store (`bot.storage.store.Store`), and the same guarantees,
resting on what PostgreSQL offers across processes instead of on being the only writer:

- A state change is one statement that compares and sets (`update … where id = $1 and state =
  $2`), with its event row written by the same statement (a CTE): one round trip, atomic, and a
  stale belief (another process moved the job) costs a read, never a wrong move.
- A new job whose admission is checked (quotas, budgets) is counted and inserted in one
  transaction holding an advisory lock that every checked insert takes, in every process: two
  commands arriving at two processes cannot both take the last place.
- Server rules and members' notification choices are kept in memory, as on SQLite, but every
  write also sends a `NOTIFY` that makes every process drop its copy; while a process's
  listening connection is down it keeps no copies at all.
- Jobs are kept in memory only for the writes' fast path; the row decides (compare-and-set).

A job belongs to the process that runs its server's shard (`bot.jobs.owner`); a process takes
a session advisory lock per shard it runs (`claim_shards`), so a second process configured with
the same shard stops at start instead of running the same jobs.

Here: the jobs and the shard locks. The connection layer and the cache notices are
`bot.storage.pg_connection`; rules, choices, libraries and styles `bot.storage.pg_tables`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import asyncpg

from bot.errors import StoreError
from bot.jobs.model import ALLOWED, ALLOWED_INTO, STATE_TIMESTAMP, Job, JobState, to_row
from bot.storage.interface import JobStore
from bot.storage.pg_schema import migrate
from bot.storage.pg_tables import PgTables

# Every checked insert (quota, budget) takes this transaction-level advisory lock: admission is
# serialised across processes, which is what keeps the counts exact. Any bigint no one else uses.
ADMISSION_LOCK = 0x7665_6F5F_6164_6D  # "veo_adm"


def _columns(row: dict[str, Any]) -> tuple[str, list[Any]]:
    return ", ".join(f'"{name}"' for name in row), list(row.values())


class PostgresStore(PgTables, JobStore):
    """See the module docstring. Open with `await PostgresStore.open(url)`."""

    backend = "postgresql"
    reads_wait = True

    def __init__(self, pool: asyncpg.Pool, url: str, schema: str) -> None:
        super().__init__(pool, url, schema)
        self._live: dict[int, Job] = {}
        self._shard_holder: asyncpg.Connection | None = None
        # Checked inserts wait for each other on the admission lock anyway; queueing them here,
        # one at a time per process, keeps the pool's other connections free for the reads
        # commands make before they are acknowledged (a burst otherwise parked every pooled
        # connection on the lock and acknowledgements waited behind them).
        self._admitting = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, *, min_size: int = 2, max_size: int = 10) -> PostgresStore:
        """Connect, create and migrate the tables, and start listening for other processes'
        writes. The URL may name a schema (`?search_path=…`, as the tests do): the tables, the
        notices and the shard locks are then that schema's."""
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"DATABASE_URL cannot be opened: {exc}") from None
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
                schema = str(await conn.fetchval("select current_schema()"))
            store = cls(pool, url, schema)
            await store._listen()
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        for conn in (self._listener, self._shard_holder):
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close()
        await self.pool.close()

    # --- jobs ---------------------------------------------------------------------------------

    async def add_job(
        self,
        *,
        state: JobState = JobState.SUBMITTING,
        now: float | None = None,
        check: Callable[[], Awaitable[None]] | None = None,
        **fields: Any,
    ) -> Job:
        now = time.time() if now is None else now
        row = to_row({**fields, "state": state, "created_at": now, "updated_at": now})
        if state in STATE_TIMESTAMP:
            row[STATE_TIMESTAMP[state]] = now
        columns, values = _columns(row)
        marks = ", ".join(f"${i}" for i in range(1, len(values) + 1))
        n = len(values)
        sql = (
            f"with j as (insert into jobs ({columns}) values ({marks}) returning id) "
            f"insert into job_events (job_id, at, state_from, state_to, detail) "
            f"select id, ${n + 1}, null, ${n + 2}, 'created' from j returning job_id"
        )
        args = [*values, now, row["state"]]
        if check is None:
            job_id = await self._fetchval(sql, *args)
        else:
            async with self._admitting, self._transaction() as conn:
                await conn.execute("select pg_advisory_xact_lock($1)", ADMISSION_LOCK)
                self.round_trips += 1
                await check()
                job_id = await self._fetchval(sql, *args)
        return self._keep(Job.from_row({**row, "id": int(job_id)}))

    async def get(self, job_id: int) -> Job | None:
        live = self._live.get(job_id)
        if live is not None:
            return live
        row = await self._fetchrow("select * from jobs where id = $1", job_id)
        return self._keep(Job.from_row(dict(row))) if row is not None else None

    async def fresh(self, job_id: int) -> Job | None:
        """The job as its row says now (another process may have moved it)."""
        row = await self._fetchrow("select * from jobs where id = $1", job_id)
        if row is None:
            self._live.pop(job_id, None)
            return None
        return self._keep(Job.from_row(dict(row)))

    async def update(self, job_id: int, **changes: Any) -> Job:
        if "state" in changes:
            raise TypeError("use transition() to change a job's state")
        row = to_row(changes)
        row["updated_at"] = time.time()
        columns = ", ".join(f'"{name}" = ${i}' for i, name in enumerate(row, start=2))
        live = self._live.get(job_id)
        if live is not None:
            n = len(row) + 2
            done = await self._fetchval(
                f"update jobs set {columns} where id = $1 and state = ${n} returning id",
                job_id,
                *row.values(),
                live.state.value,
            )
            if done is not None:
                return self._keep(live.with_columns(row))
        current = await self._fetchrow(
            f"update jobs set {columns} where id = $1 returning *", job_id, *row.values()
        )
        if current is None:
            self._live.pop(job_id, None)
            raise StoreError(f"Job {job_id} is not in the database.")
        return self._keep(Job.from_row(dict(current)))

    async def transition(
        self,
        job_id: int,
        to: JobState,
        *,
        expect: Iterable[JobState] | None = None,
        now: float | None = None,
        detail: str | None = None,
        **changes: Any,
    ) -> Job | None:
        """Move a job to `to` if its current state allows it; None (and no change) otherwise."""
        now = time.time() if now is None else now
        allowed = ALLOWED_INTO[to] if expect is None else frozenset(expect)
        return await self._transition(job_id, to, allowed, to_row(changes), now, detail)

    async def _transition(
        self,
        job_id: int,
        to: JobState,
        allowed: frozenset[JobState],
        row: dict[str, Any],
        now: float,
        detail: str | None,
    ) -> Job | None:
        live = self._live.get(job_id)
        if live is not None and live.state in allowed and to in ALLOWED[live.state]:
            moved = await self._move(live, to, row, now, detail)
            if moved is not None:
                return moved
        job = await self.fresh(job_id)
        if job is None or job.state not in allowed or to not in ALLOWED[job.state]:
            return None
        return await self._move(job, to, row, now, detail)

    async def _move(
        self, job: Job, to: JobState, row: dict[str, Any], now: float, detail: str | None
    ) -> Job | None:
        """Move `job` (as this process knows it) to `to` if its row is still in `job.state`:
        the update and its event in one statement. None when the row had moved on."""
        change = {**row, "state": to.value, "updated_at": now}
        if to in STATE_TIMESTAMP and job.state is not to:
            change[STATE_TIMESTAMP[to]] = now
        columns = ", ".join(f'"{name}" = ${i}' for i, name in enumerate(change, start=3))
        n = len(change) + 3
        if job.state is to:
            sql = f"update jobs set {columns} where id = $1 and state = $2 returning id"
            extra: list[Any] = []
        else:
            sql = (
                f"with m as (update jobs set {columns} where id = $1 and state = $2 returning id) "
                f"insert into job_events (job_id, at, state_from, state_to, detail) "
                f"select id, ${n}, $2, ${n + 1}, ${n + 2} from m returning job_id"
            )
            extra = [now, to.value, detail]
        done = await self._fetchval(sql, job.id, job.state.value, *change.values(), *extra)
        if done is None:
            return None
        return self._keep(job.with_columns(change))

    async def submit(self, job_ids: Iterable[int], *, now: float | None = None) -> list[Job]:
        """Mark waiting jobs as being sent (PENDING -> SUBMITTING). Each move is committed (and,
        PostgreSQL's default, flushed to disk) before this returns, so before a create leaves."""
        now = time.time() if now is None else now
        waiting = frozenset({JobState.PENDING})
        moved = [
            await self._transition(job_id, JobState.SUBMITTING, waiting, {}, now, None) for job_id in job_ids
        ]
        return [job for job in moved if job is not None]

    async def flush_checkpoint(self) -> None:
        """Nothing to do: PostgreSQL has no write-ahead file of ours to truncate (a blanked
        token's old row version goes at the next vacuum)."""

    async def note(self, job_id: int, detail: str) -> None:
        await self._execute(
            "insert into job_events (job_id, at, state_from, state_to, detail) "
            "select id, $2, state, state, $3 from jobs where id = $1",
            job_id,
            time.time(),
            detail,
        )

    # --- shards ------------------------------------------------------------------------------------

    async def claim_shards(self, shard_ids: Iterable[int], shard_count: int) -> None:
        """Hold, for as long as this process lives, a session advisory lock per shard it runs;
        a shard another process already holds is a `StoreError` naming it. The locks go with
        the connection: a process that dies (even by SIGKILL) frees its shards at once."""
        conn = self._shard_holder or await asyncpg.connect(self.url)
        self._shard_holder = conn
        for shard in shard_ids:
            # Per schema, so bots sharing one database keep apart; by id alone, so a process
            # started with another SHARD_COUNT still meets the one running that id.
            key = f"veo_bot:{self.schema}:shard:{shard}"
            lock = await conn.fetchval("select hashtextextended($1, 0)", key)
            if not await conn.fetchval("select pg_try_advisory_lock($1)", lock):
                # A bigint advisory key shows in pg_locks as its two 32-bit halves.
                holder = await conn.fetchval(
                    "select pid from pg_locks where locktype = 'advisory' and objsubid = 1 and granted "
                    "and classid = $1::bigint::oid and objid = $2::bigint::oid limit 1",
                    (lock >> 32) & 0xFFFFFFFF,
                    lock & 0xFFFFFFFF,
                )
                await conn.close()
                self._shard_holder = None
                raise StoreError(
                    f"shard {shard} of {shard_count} is already run by another process "
                    f"(PostgreSQL backend pid {holder}); give each process its own SHARD_IDS"
                )

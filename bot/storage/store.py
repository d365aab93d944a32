"""The job store: with its mixins (`bot.storage.queries`, reads; `bot.storage.settings_tables`, the small
tables) and `bot.storage.schema` (migrations), the only code that touches SQLite.

One row per job, written before the create call so a crash in between is visible after a
restart. State changes are compare-and-set (`transition`), which is how two concurrent paths
(a poll and a Cancel click, say) can never both deliver or both finish a job.

The job paths a busy bot runs per poll and per state change (`get`, `add_job`, `update`,
`transition`, `submit`) use the connection directly: one `BEGIN IMMEDIATE … COMMIT` per change,
the row read once inside it and the returned `Job` built from that row and the change, where
sqlite-utils would add a SAVEPOINT, a `PRAGMA table_info` and a re-read per call. Commits run
with `synchronous=NORMAL` (a power cut may lose the last moments, never corrupt the file); the
one write whose loss could bill twice, a job marked as being sent (`submit`), is made durable
(`synchronous=FULL`) before it returns, so before the create call leaves.

The bot is its database's only writer while it runs, so the store also keeps, in memory, the
last `Job` it read or wrote for every job not yet over (`_live`): a send that reads its job, or
a change that returns the job it wrote, needs no read. Compare-and-set stays with SQLite: an
update names the state the store believes the row is in, and when the row says otherwise (no
row changed) the store reads it and decides again, so a stale belief can cost a read, never a
wrong move. Server rules and members' notification choices, read on every command and every
render, are kept the same way and replaced when the bot writes them (`bot.storage.settings_tables`).

The interface is asynchronous, the PostgreSQL store's (`bot.storage.postgres`) too, so callers
never know which backend they have. Here every method's body stays synchronous: SQLite answers
from a local file, and a method that never awaits between reading a row and changing it keeps
the one-writer guarantees above exactly as they were. What a caller may no longer assume is
that two calls run with nothing in between: a read and a later write that must agree are one
compare-and-set (`transition`) or a claim first.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.errors import StoreError
from bot.jobs.model import ALLOWED, ALLOWED_INTO, STATE_TIMESTAMP, Job, JobState, to_row
from bot.rules.guild_settings import GuildSettings
from bot.storage.interface import JobStore
from bot.storage.library_tables import LibraryTables
from bot.storage.schema import connect, sqlite_errors, unavailable
from bot.storage.settings_tables import SettingsTables

# A blanked interaction token also sits in the write-ahead log until a checkpoint: one
# checkpoint per this many seconds covers every token blanked meanwhile.
CHECKPOINT_EVERY = 1.0


class _Transaction:
    """`with store._tx() as conn:` — BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the body
    raises; SQLite's operational errors become `StoreError`. A class rather than a generator
    context manager, which costs more on a path that runs several times per job."""

    __slots__ = ("conn", "durable")

    def __init__(self, conn: sqlite3.Connection, durable: bool) -> None:
        self.conn = conn
        self.durable = durable

    def __enter__(self) -> sqlite3.Connection:
        try:
            if self.durable:
                self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self._relax()
            raise unavailable(exc) from None
        return self.conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object) -> None:
        try:
            if exc_type is None:
                self.conn.execute("COMMIT")
                return
            self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise unavailable(exc) from None
        except sqlite3.OperationalError as failed:
            if self.conn.in_transaction:  # a COMMIT that failed leaves the transaction open
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise unavailable(failed) from None
        finally:
            self._relax()

    def _relax(self) -> None:
        if self.durable:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA synchronous = NORMAL")


class Store(SettingsTables, LibraryTables, JobStore):
    """The SQLite backend of `JobStore`: one process, one file (DATABASE_PATH)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self._last_checkpoint = float("-inf")
        self.checkpoint_pending = False
        self._live: dict[int, Job] = {}
        self._rules: dict[int, GuildSettings] = {}
        self._prefs: dict[int, str] = {}

    @classmethod
    def open(cls, path: Path | str, *, busy_timeout_ms: int = 5000) -> Store:
        return cls(connect(path, busy_timeout_ms=busy_timeout_ms))

    backend = "sqlite"

    async def close(self) -> None:
        self.db.close()

    def _tx(self, *, durable: bool = False) -> _Transaction:
        """One write transaction on the bare connection; `durable` waits for the disk."""
        return _Transaction(self.conn, durable)

    @staticmethod
    def _row(conn: sqlite3.Connection, job_id: int) -> dict[str, Any] | None:
        cursor = conn.execute("select * from jobs where id = ?", [job_id])
        values = cursor.fetchone()
        if values is None:
            return None
        return dict(zip([d[0] for d in cursor.description], values, strict=True))

    @staticmethod
    def _set(
        conn: sqlite3.Connection, job_id: int, row: dict[str, Any], *, if_state: str | None = None
    ) -> bool:
        """Write `row`'s columns; with `if_state`, only if the job is in that state. Whether a
        row changed."""
        columns = ", ".join(f"[{name}] = ?" for name in row)
        if if_state is None:
            cursor = conn.execute(f"update jobs set {columns} where id = ?", [*row.values(), job_id])
        else:
            cursor = conn.execute(
                f"update jobs set {columns} where id = ? and state = ?", [*row.values(), job_id, if_state]
            )
        return cursor.rowcount > 0

    # --- the primitives of the shared queries (`bot.storage.queries`) -----------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with sqlite_errors():
            yield self.conn

    async def _jobs(
        self, where: str, params: list[Any], *, order_by: str = "id", limit: int | None = None
    ) -> list[Job]:
        sql = f"select * from jobs where {where} order by {order_by}"
        if limit is not None:
            sql, params = sql + " limit ?", [*params, limit]
        # Row by row, not through `_rows`: resuming 10,000 jobs would otherwise hold all their
        # rows as dicts at once beside the jobs (a 10 MiB peak at start-up).
        with self._reading() as conn:
            cursor = conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [Job.from_row(dict(zip(names, values, strict=True))) for values in cursor]

    async def _one(self, sql: str, params: list[Any]) -> dict[str, Any]:
        """The one row of an aggregate query (on the bare connection: several run per command,
        and sqlite-utils would wrap each in a SAVEPOINT)."""
        with self._reading() as conn:
            cursor = conn.execute(sql, params)
            return dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))

    async def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        with self._reading() as conn:
            cursor = conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    # --- jobs ---------------------------------------------------------------------------------

    async def add_job(
        self,
        *,
        state: JobState = JobState.SUBMITTING,
        now: float | None = None,
        check: Callable[[], Awaitable[None]] | None = None,
        **fields: Any,
    ) -> Job:
        """Insert a job with `fields` (the Job's columns; channel_id, user_id, prompt, model and
        the shape are required by the schema). `check` runs inside the same write transaction,
        before the insert, and may raise to refuse it: counting and inserting together is what
        keeps a quota exact when several commands arrive at once.

        `check` is awaited inside the transaction. It only reads this store (`bot.rules.quota`,
        `bot.rules.budget`, `bot.rules.intake`), and this store's reads never suspend, so the
        coroutine runs to its end without yielding to the loop: no other task (another
        `add_job` among them) runs between the count and the insert. A check that awaited
        anything else (a timer, the network) would break that, and would also hold SQLite's
        write lock while it waited."""
        now = time.time() if now is None else now
        row = to_row({**fields, "state": state, "created_at": now, "updated_at": now})
        if state in STATE_TIMESTAMP:
            row[STATE_TIMESTAMP[state]] = now
        with self._tx() as conn:
            if check is not None:
                await check()
            columns = ", ".join(f"[{name}]" for name in row)
            marks = ", ".join("?" * len(row))
            cursor = conn.execute(f"insert into jobs ({columns}) values ({marks})", list(row.values()))
            assert cursor.lastrowid is not None
            job_id = int(cursor.lastrowid)
            self._event(conn, job_id, None, state, now, "created")
        return self._keep(Job.from_row({**row, "id": job_id}))

    async def get(self, job_id: int) -> Job | None:
        live = self._live.get(job_id)
        if live is not None:
            return live
        with self._reading():
            row = self._row(self.conn, job_id)
        return self._keep(Job.from_row(row)) if row is not None else None

    async def update(self, job_id: int, **changes: Any) -> Job:
        if "state" in changes:
            raise TypeError("use transition() to change a job's state")
        job = self._update(job_id, changes)
        self._blanked(changes)
        return job

    def _update(self, job_id: int, changes: dict[str, Any]) -> Job:
        row = to_row(changes)
        row["updated_at"] = time.time()
        live = self._live.get(job_id)
        with self._tx() as conn:
            if live is not None and self._set(conn, job_id, row, if_state=live.state.value):
                return self._keep(live.with_columns(row))
            current = self._row(conn, job_id)
            if current is None:
                self._live.pop(job_id, None)
                raise StoreError(f"Job {job_id} is not in the database.")
            self._set(conn, job_id, row)
        return self._keep(Job.from_row({**current, **row}))

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
        with self._tx() as conn:
            moved = self._transition(conn, job_id, to, allowed, to_row(changes), now, detail)
        if moved is not None:
            self._blanked(changes)
        return moved

    def _transition(
        self,
        conn: sqlite3.Connection,
        job_id: int,
        to: JobState,
        allowed: frozenset[JobState],
        row: dict[str, Any],
        now: float,
        detail: str | None,
    ) -> Job | None:
        """The compare-and-set move, inside an open transaction: from the state this process
        last wrote, and if the row says otherwise, from what the row says."""
        live = self._live.get(job_id)
        if live is not None and live.state in allowed and to in ALLOWED[live.state]:
            moved = self._move(conn, live, to, row, now, detail)
            if moved is not None:
                return moved
        before = self._row(conn, job_id)
        if before is None:
            self._live.pop(job_id, None)
            return None
        job = self._keep(Job.from_row(before))
        if job.state not in allowed or to not in ALLOWED[job.state]:
            return None
        return self._move(conn, job, to, row, now, detail)

    def _move(
        self,
        conn: sqlite3.Connection,
        job: Job,
        to: JobState,
        row: dict[str, Any],
        now: float,
        detail: str | None,
    ) -> Job | None:
        """Write the move of `job` (as this process knows it) to `to`, if its row is still in
        `job.state`; None when it is not."""
        change = {**row, "state": to.value, "updated_at": now}
        if to in STATE_TIMESTAMP and job.state is not to:
            change[STATE_TIMESTAMP[to]] = now
        if not self._set(conn, job.id, change, if_state=job.state.value):
            return None
        if job.state is not to:
            self._event(conn, job.id, job.state, to, now, detail)
        return self._keep(job.with_columns(change))

    async def submit(self, job_ids: Iterable[int], *, now: float | None = None) -> list[Job]:
        """Mark waiting jobs as being sent (PENDING -> SUBMITTING), durably, in one transaction:
        the create calls may leave once this returns. Jobs no longer waiting are left out."""
        now = time.time() if now is None else now
        waiting = frozenset({JobState.PENDING})
        with self._tx(durable=True) as conn:
            moved = [
                self._transition(conn, job_id, JobState.SUBMITTING, waiting, {}, now, None)
                for job_id in job_ids
            ]
        return [job for job in moved if job is not None]

    def _blanked(self, changes: dict[str, Any]) -> None:
        """After a write of `changes`: if it overwrote an interaction token, the old one still
        sits in the write-ahead log until a checkpoint copies the pages back and truncates it.
        That is now, unless one ran within the last second (a burst of finishing jobs shares
        one; `flush_checkpoint`, which the bot calls every second, runs the one left over)."""
        if "interaction_token" not in changes or changes["interaction_token"] is not None:
            return
        self.checkpoint_pending = True
        if time.monotonic() - self._last_checkpoint >= CHECKPOINT_EVERY:
            self._checkpoint()

    async def flush_checkpoint(self) -> None:
        """Copy the write-ahead log into the file and truncate it, if a token was blanked."""
        self._checkpoint()

    def _checkpoint(self) -> None:
        if not self.checkpoint_pending:
            return
        self.checkpoint_pending = False
        self._last_checkpoint = time.monotonic()
        with self._reading(), contextlib.suppress(sqlite3.OperationalError):
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def note(self, job_id: int, detail: str) -> None:
        """Record something that happened to a job without changing its state (e.g. deleted)."""
        with self._tx() as conn:
            state = self._state(conn, job_id)
            if state is not None:
                self._event(conn, job_id, state, state, time.time(), detail)

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _state(conn: sqlite3.Connection, job_id: int) -> JobState | None:
        row = conn.execute("select state from jobs where id = ?", [job_id]).fetchone()
        return JobState(row[0]) if row else None

    @staticmethod
    def _event(
        conn: sqlite3.Connection,
        job_id: int,
        before: JobState | None,
        after: JobState,
        at: float,
        detail: str | None,
    ) -> None:
        conn.execute(
            "insert into job_events (job_id, at, state_from, state_to, detail) values (?, ?, ?, ?, ?)",
            [job_id, at, before.value if before else None, after.value, detail],
        )

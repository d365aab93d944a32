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

A job belongs to the process that runs its server's shard (`bot.app.shards`); a process takes
a session advisory lock per shard it runs (`claim_shards`), so a second process configured with
the same shard stops at start instead of running the same jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any

import asyncpg

from bot.errors import StoreError
from bot.jobs.model import ALLOWED, ALLOWED_INTO, STATE_TIMESTAMP, Job, JobState, to_row
from bot.rules.guild_settings import GuildSettings
from bot.rules.library import LibraryEntry
from bot.rules.styles import Style
from bot.storage.interface import JobStore
from bot.storage.pg_schema import migrate

# Every checked insert (quota, budget) takes this transaction-level advisory lock: admission is
# serialised across processes, which is what keeps the counts exact. Any bigint no one else uses.
ADMISSION_LOCK = 0x7665_6F5F_6164_6D  # "veo_adm"
# The channel on which a process tells the others to drop a cached server rule or member choice.
CACHE_CHANNEL = "veo_bot_cache"
LIVE_JOBS = 20_000
PREFS_KEPT = 10_000

# The connection of the transaction the current task is in (an admission check's reads run on
# it, inside the lock); None outside one, where each statement takes a pooled connection.
_current: contextvars.ContextVar[asyncpg.Connection | None] = contextvars.ContextVar("pg_tx", default=None)

_translated: dict[str, str] = {}


def pg_sql(sql: str) -> str:
    """SQLite's `?` placeholders as PostgreSQL's `$1, $2, …`: the read queries of
    `bot.storage.queries` are written once, in the SQL both understand."""
    done = _translated.get(sql)
    if done is None:
        parts = sql.split("?")
        done = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
        _translated[sql] = done
    return done


def _unavailable(exc: BaseException) -> StoreError:
    return StoreError(f"The job database is unavailable ({exc}).")


@contextlib.contextmanager
def pg_errors() -> Any:
    """A server that went away or refused is an expected failure: members get the StoreError
    message, not a traceback."""
    try:
        yield
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as exc:
        raise _unavailable(exc) from None
    except asyncpg.PostgresError as exc:
        if isinstance(exc, asyncpg.UniqueViolationError):
            raise
        raise _unavailable(exc) from None


def _columns(row: dict[str, Any]) -> tuple[str, list[Any]]:
    return ", ".join(f'"{name}"' for name in row), list(row.values())


class PostgresStore(JobStore):
    """See the module docstring. Open with `await PostgresStore.open(url)`."""

    backend = "postgresql"
    reads_wait = True

    def __init__(self, pool: asyncpg.Pool, url: str, schema: str) -> None:
        self.pool = pool
        self.url = url
        self.schema = schema
        self.checkpoint_pending = False
        self._live: dict[int, Job] = {}
        self._rules: dict[int, GuildSettings] = {}
        self._prefs: dict[int, str] = {}
        self._listener: asyncpg.Connection | None = None
        self._shard_holder: asyncpg.Connection | None = None
        self.round_trips = 0  # statements sent (bench/burst.py reports them per job)
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

    # --- statements ---------------------------------------------------------------------------

    def _db(self) -> Any:
        return _current.get() or self.pool

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.round_trips += 1
        with pg_errors():
            return list(await self._db().fetch(sql, *args))

    async def _fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        self.round_trips += 1
        with pg_errors():
            return await self._db().fetchrow(sql, *args)

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        self.round_trips += 1
        with pg_errors():
            return await self._db().fetchval(sql, *args)

    async def _execute(self, sql: str, *args: Any) -> str:
        self.round_trips += 1
        with pg_errors():
            return str(await self._db().execute(sql, *args))

    # The read queries of bot.storage.queries, in SQLite's words.
    async def _jobs(
        self, where: str, params: list[Any], *, order_by: str = "id", limit: int | None = None
    ) -> list[Job]:
        sql = f"select * from jobs where {where} order by {order_by}" + (
            " limit ?" if limit is not None else ""
        )
        rows = await self._fetch(pg_sql(sql), *params, *([limit] if limit is not None else []))
        return [Job.from_row(dict(r)) for r in rows]

    async def _one(self, sql: str, params: list[Any]) -> dict[str, Any]:
        row = await self._fetchrow(pg_sql(sql), *params)
        assert row is not None
        # PostgreSQL sums bigints as numeric; the callers count whole things.
        return {k: int(v) if isinstance(v, Decimal) else v for k, v in row.items()}

    async def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        return [
            {k: int(v) if isinstance(v, Decimal) else v for k, v in r.items()}
            for r in await self._fetch(pg_sql(sql), *params)
        ]

    async def _column(self, sql: str, params: list[Any]) -> list[Any]:
        return [r[0] for r in await self._fetch(pg_sql(sql), *params)]

    # --- jobs ---------------------------------------------------------------------------------

    def _keep(self, job: Job) -> Job:
        if job.state.final and job.notified_at is not None:
            self._live.pop(job.id, None)
            return job
        if job.id not in self._live and len(self._live) >= LIVE_JOBS:
            del self._live[next(iter(self._live))]
        self._live[job.id] = job
        return job

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

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction on one pooled connection, which the store's statements in this task
        use until it ends (so a check's reads see and hold what the insert will)."""
        if _current.get() is not None:
            raise RuntimeError("nested store transaction")
        with pg_errors():
            async with self.pool.acquire() as conn, conn.transaction():
                self.round_trips += 2  # begin, commit
                token = _current.set(conn)
                try:
                    yield conn
                finally:
                    _current.reset(token)

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

    async def unfinished(self) -> list[Job]:
        return [self._keep(job) for job in await super().unfinished()]

    async def require(self, job_id: int) -> Job:
        job = await self.get(job_id)
        if job is None:
            raise StoreError(f"Job {job_id} is not in the database.")
        return job

    async def get_by_task(self, task_id: str) -> Job | None:
        found = await self._jobs("task_id = ?", [task_id], limit=1)
        return found[0] if found else None

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

    async def mark_notified(
        self, job_id: int, *, now: float | None = None, result_message_id: int | None = None
    ) -> Job:
        changes: dict[str, Any] = {
            "notified_at": time.time() if now is None else now,
            "interaction_token": None,
        }
        if result_message_id is not None:
            changes["result_message_id"] = result_message_id
        return await self.update(job_id, **changes)

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

    # --- cached settings, kept fresh across processes ---------------------------------------------

    async def _listen(self) -> None:
        """One connection that hears every process's cache notices. While it is down no copy
        is kept: a copy nobody can invalidate could be stale."""
        conn = await asyncpg.connect(self.url)
        await conn.add_listener(self._channel(), self._heard)
        conn.add_termination_listener(self._deaf)
        self._listener = conn

    def _channel(self) -> str:
        return f"{CACHE_CHANNEL}_{self.schema}"

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        kind, _, key = payload.partition(":")
        if kind == "rules":
            self._rules.pop(int(key), None)
        elif kind == "prefs":
            self._prefs.pop(int(key), None)

    def _deaf(self, _conn: object) -> None:
        self._listener = None
        self._rules.clear()
        self._prefs.clear()

    def _caching(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    async def _tell_others(self, kind: str, key: int) -> None:
        await self._execute("select pg_notify($1, $2)", self._channel(), f"{kind}:{key}")

    async def guild_rules(self, guild_id: int | None) -> GuildSettings:
        if guild_id is None:
            return GuildSettings()
        rules = self._rules.get(guild_id)
        if rules is None:
            data = await self._fetchval("select data from guild_settings where guild_id = $1", guild_id)
            rules = GuildSettings.from_json(data)
            if self._caching():
                self._rules[guild_id] = rules
        return rules

    async def set_guild_rules(self, guild_id: int, rules: GuildSettings, *, by: int) -> None:
        self._rules.pop(guild_id, None)
        data = rules.to_json()
        async with self._transaction():
            await self._execute(
                "insert into guild_settings (guild_id, data, updated_at, updated_by) values ($1, $2, $3, $4) "
                "on conflict (guild_id) do update set data = excluded.data, "
                "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                guild_id,
                data,
                time.time(),
                by,
            )
            await self._tell_others("rules", guild_id)

    async def notify_pref(self, user_id: int) -> str:
        pref = self._prefs.get(user_id)
        if pref is None:
            chosen = await self._fetchval("select notify from member_prefs where user_id = $1", user_id)
            pref = str(chosen) if chosen is not None else "mention"
            if self._caching():
                if len(self._prefs) >= PREFS_KEPT:
                    self._prefs.clear()
                self._prefs[user_id] = pref
        return pref

    async def set_notify_pref(self, user_id: int, notify: str) -> None:
        self._prefs.pop(user_id, None)
        async with self._transaction():
            await self._execute(
                "insert into member_prefs (user_id, notify, updated_at) values ($1, $2, $3) "
                "on conflict (user_id) do update set notify = excluded.notify, "
                "updated_at = excluded.updated_at",
                user_id,
                notify,
                time.time(),
            )
            await self._tell_others("prefs", user_id)

    async def get_meta(self, key: str) -> str | None:
        value = await self._fetchval("select value from meta where key = $1", key)
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        await self._execute(
            "insert into meta (key, value) values ($1, $2) "
            "on conflict (key) do update set value = excluded.value",
            key,
            value,
        )

    async def claim_meta(self, key: str, value: str) -> bool:
        done = await self._fetchval(
            "insert into meta (key, value) values ($1, $2) on conflict (key) do nothing returning key",
            key,
            value,
        )
        return done is not None

    # --- library and styles ---------------------------------------------------------------------

    async def library_add(
        self, *, library: str, name: str, prompt: str, user_id: int, author_name: str, job_id: int | None
    ) -> LibraryEntry | None:
        now = time.time()
        entry_id = await self._fetchval(
            "insert into library (library, name, name_key, prompt, user_id, author_name, job_id, uses, "
            "created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8) "
            "on conflict (library, name_key) do nothing returning id",
            library,
            name,
            name.casefold(),
            prompt,
            user_id,
            author_name,
            job_id,
            now,
        )
        if entry_id is None:
            return None
        return LibraryEntry(int(entry_id), library, name, prompt, user_id, author_name, job_id, 0, now)

    async def library_entry(self, library: str, name: str) -> LibraryEntry | None:
        row = await self._fetchrow(
            f"select {_ENTRY} from library where library = $1 and name_key = $2", library, name.casefold()
        )
        return LibraryEntry(*row.values()) if row else None

    async def library_entries(
        self, library: str, *, typed: str = "", user_id: int | None = None, limit: int = 25
    ) -> list[LibraryEntry]:
        where = "library = ?"
        params: list[Any] = [library]
        if typed:
            where += " and (name_key like ? escape '\\' or prompt like ? escape '\\')"
            pattern = (
                "%" + typed.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            params += [pattern, pattern]
        if user_id is not None:
            where += " and user_id = ?"
            params.append(user_id)
        rows = await self._fetch(
            pg_sql(f"select {_ENTRY} from library where {where} order by uses desc, name_key limit ?"),
            *params,
            limit,
        )
        return [LibraryEntry(*r.values()) for r in rows]

    async def library_rename(self, entry_id: int, name: str) -> bool:
        try:
            await self._execute(
                "update library set name = $1, name_key = $2, updated_at = $3 where id = $4",
                name,
                name.casefold(),
                time.time(),
                entry_id,
            )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def library_remove(self, entry_id: int) -> None:
        await self._execute("delete from library where id = $1", entry_id)

    async def library_used(self, entry_id: int) -> None:
        await self._execute("update library set uses = uses + 1 where id = $1", entry_id)

    async def guild_styles(self, guild_id: int) -> list[tuple[str, Style | None]]:
        rows = await self._fetch(
            "select name_key, name, text, model, shape, duration, removed "
            "from guild_styles where guild_id = $1",
            guild_id,
        )
        return [(r[0], None if r[6] else Style(r[1], r[2], r[3], r[4], r[5])) for r in rows]

    async def set_guild_style(self, guild_id: int, key: str, style: Style | None, *, by: int) -> None:
        s = style or Style(key, "")
        await self._execute(
            "insert into guild_styles (guild_id, name_key, name, text, model, shape, duration, removed, "
            "updated_at, updated_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            "on conflict (guild_id, name_key) do update set name = excluded.name, text = excluded.text, "
            "model = excluded.model, shape = excluded.shape, duration = excluded.duration, "
            "removed = excluded.removed, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            guild_id,
            key,
            s.name,
            s.text,
            s.model,
            s.shape,
            s.duration,
            int(style is None),
            time.time(),
            by,
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


_ENTRY = "id, library, name, prompt, user_id, author_name, job_id, uses, created_at"

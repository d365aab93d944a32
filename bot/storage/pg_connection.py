"""The PostgreSQL store's connection layer: the pool, statements that count their round trips and
turn a vanished server into `StoreError`, transactions that the statements of one task share,
and the listening connection on which processes tell each other to drop a cached value.

`bot.storage.pg_tables` (server rules, members' choices, libraries, styles) and
`bot.storage.postgres` (jobs, shards) build on it, as the SQLite store's tables do on its
connection.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import asyncpg

from bot.errors import StoreError
from bot.jobs.model import Job
from bot.rules.guild_settings import GuildSettings

# The channel on which a process tells the others to drop a cached server rule or member choice.
CACHE_CHANNEL = "veo_bot_cache"

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


class PgConnection:
    def __init__(self, pool: asyncpg.Pool, url: str, schema: str) -> None:
        self.pool = pool
        self.url = url
        self.schema = schema
        self._rules: dict[int, GuildSettings] = {}
        self._prefs: dict[int, str] = {}
        self._listener: asyncpg.Connection | None = None
        self.round_trips = 0  # statements sent (bench/burst.py reports them per job)

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

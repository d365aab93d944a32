"""`python -m bot migrate --to postgresql://…`: a SQLite database's whole content (jobs and
their events, server settings, members' choices, libraries, styles, the bot's own facts) into
an empty PostgreSQL database, for a bot that grows to several processes.

One transaction: a copy that fails halfway leaves the target as empty as it was. A target with
anything in it is refused, so a second run (or the wrong URL) never mixes two bots' jobs. The
bot must be stopped while it runs: jobs written meanwhile would stay behind in the file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import sqlite_utils

from bot.errors import StoreError
from bot.storage.pg_schema import migrate
from bot.storage.schema import connect

# Parents before children (job_events refers to jobs); every table the bot keeps.
TABLES = ("jobs", "job_events", "guild_settings", "member_prefs", "meta", "library", "guild_styles")
# Tables whose ids PostgreSQL hands out: their sequences continue after the copied rows.
SERIAL = ("jobs", "job_events", "library")

_CONVERT = {"bigint": int, "double precision": float, "text": str}


@dataclass(frozen=True)
class MoveResult:
    rows: dict[str, int]


def open_source(sqlite_path: Path | str) -> sqlite_utils.Database:
    """The SQLite database to copy, migrated to the current schema first (so its columns are
    the PostgreSQL tables' columns)."""
    path = Path(sqlite_path)
    if not path.is_file():
        raise StoreError(f"there is no SQLite database at {path} (DATABASE_PATH) to copy")
    return connect(path)


async def move_up(source: sqlite_utils.Database, url: str) -> MoveResult:
    """Copy every table of the SQLite database `source` into the PostgreSQL one at `url`
    (created and migrated first if new). Raises StoreError, changing nothing, when the target
    holds anything already or cannot be opened."""
    try:
        target = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StoreError(f"the PostgreSQL database cannot be opened: {exc}") from None
    try:
        await migrate(target)
        return MoveResult(await _copy(source.conn, target))
    finally:
        await target.close()


async def _copy(source: sqlite3.Connection, target: asyncpg.Connection) -> dict[str, int]:
    copied: dict[str, int] = {}
    async with target.transaction():
        for table in TABLES:
            # Locks out a bot that starts meanwhile, and makes "empty" hold until the commit.
            await target.execute(f"lock table {table} in exclusive mode")
            if await target.fetchval(f"select exists (select 1 from {table})"):
                raise StoreError(
                    f"the PostgreSQL database is not empty (its {table} table has rows): "
                    "migrate copies into an empty database only, so that two bots' jobs never mix"
                )
        for table in TABLES:
            types = {
                r["column_name"]: r["data_type"]
                for r in await target.fetch(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = current_schema() and table_name = $1",
                    table,
                )
            }
            cursor = source.execute(f"select * from [{table}]")
            names = [d[0] for d in cursor.description]
            missing = [n for n in names if n not in types]
            if missing:
                raise StoreError(f"the PostgreSQL {table} table has no column {', '.join(missing)}")
            records = [tuple(_value(types[n], v) for n, v in zip(names, row, strict=True)) for row in cursor]
            if records:
                await target.copy_records_to_table(table, records=records, columns=names)
            copied[table] = len(records)
        for table in SERIAL:
            await target.execute(
                f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((select max(id) from {table}), 0) + 1, false)"
            )
    return copied


def _value(kind: str, value: Any) -> Any:
    """SQLite keeps what it was given; PostgreSQL's binary copy wants the column's own type."""
    if value is None:
        return None
    return _CONVERT.get(kind, str)(value)

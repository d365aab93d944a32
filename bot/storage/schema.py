"""The database file: opening it (`connect`), its schema as sqlite-utils migrations applied in
order at every start, and what `--check` reads of it without changing it (`schema_status`).

Add a new `@migrations()` function below the last one to change the schema; never edit one
that has shipped, because databases in the field have already applied it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.errors import StoreError
from bot.relay.request import REQUEST_FIELDS, REQUEST_TYPES

migrations = Migrations("veo_bot")


def unavailable(exc: sqlite3.Error) -> StoreError:
    return StoreError(f"The job database is unavailable ({exc}).")


@contextmanager
def sqlite_errors() -> Iterator[None]:
    """A locked or vanished database is an expected failure, for readers and writers: members
    get the StoreError message instead of a traceback."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise unavailable(exc) from None


# SQLite's own page cache, per connection. Its default (2 MiB) filled as the file grew, so the
# bot's RSS rose by about 0.15 MiB a minute for the first hours of a busy day (a 12-minute soak
# read it as a leak). The pages a bot reads are the recent jobs' (the rest stay in the kernel's
# page cache, a read call away): 512 KiB holds them, and RSS levels off within minutes.
PAGE_CACHE_KIB = 512


def connect(path: Path | str, *, busy_timeout_ms: int = 5000) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path`, checked, in WAL mode, migrated."""
    where = str(path)
    if where != ":memory:":
        Path(where).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(where, timeout=busy_timeout_ms / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        # Deleted and overwritten content (blanked interaction tokens) is zeroed on disk,
        # not left readable in free pages.
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        check = conn.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check said {check[0] if check else 'nothing'}")
        db = sqlite_utils.Database(conn)
        if where != ":memory:":
            db.enable_wal()
            # In WAL mode a commit then waits for no fsync; a power cut may lose the last
            # commits but never corrupts the file. `Store.submit` asks for FULL where that
            # loss could bill twice.
            conn.execute("PRAGMA synchronous = NORMAL")
        migrations.apply(db)
        add_request_columns(db)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(f"DATABASE_PATH {where} is locked by another process: {exc}") from None
        raise StoreError(f"DATABASE_PATH {where} cannot be opened: {exc}") from None
    except sqlite3.DatabaseError as exc:
        # Never replace or repair it here: it may hold unfinished, paid-for jobs.
        raise StoreError(
            f"DATABASE_PATH {where} is not a readable SQLite database ({exc}); "
            "move it away or restore a backup, then start again"
        ) from None
    return db


@migrations()
def m001_jobs(db: sqlite_utils.Database) -> None:
    db.table("jobs").create(
        {
            "id": int,
            "state": str,
            "created_at": float,
            "updated_at": float,
            "guild_id": int,
            "channel_id": int,
            "message_id": int,
            "interaction_id": int,
            "interaction_token": str,
            "token_issued_at": float,
            "application_id": int,
            "user_id": int,
            "user_name": str,
            "prompt": str,
            "model": str,
            "images": str,
            "image_names": str,
            "orientation": str,
            "size": str,
            "duration": int,
            "aspect_ratio": str,
            "enable_upsample": int,
            "parent_id": int,
            "kind": str,
            "task_id": str,
            "raw_status": str,
            "progress": int,
            "video_url": str,
            "thumbnail_url": str,
            "enhanced_prompt": str,
            "failure_reason": str,
            "failure_kind": str,
            "submitted_at": float,
            "queued_at": float,
            "running_at": float,
            "succeeded_at": float,
            "delivered_at": float,
            "failed_at": float,
            "cancelled_at": float,
            "cancelled_by": int,
            "poll_failures": int,
            "last_poll_at": float,
            "last_poll_ok_at": float,
            "next_poll_at": float,
            "delivery_mode": str,
            "result_message_id": int,
            "notified_at": float,
        },
        pk="id",
        not_null={"state", "created_at", "updated_at", "channel_id", "user_id", "prompt", "model"},
        defaults={"poll_failures": 0, "kind": "new", "enable_upsample": 0},
    )
    db.table("jobs").create_index(["state"])
    db.table("jobs").create_index(["user_id", "created_at"])
    db.table("jobs").create_index(["guild_id", "created_at"])
    db.table("jobs").create_index(["task_id"], unique=True)
    db.table("job_events").create(
        {"id": int, "job_id": int, "at": float, "state_from": str, "state_to": str, "detail": str},
        pk="id",
        foreign_keys=[("job_id", "jobs", "id")],
    )
    db.table("job_events").create_index(["job_id"])
    db.table("meta").create({"key": str, "value": str}, pk="key")


@migrations()
def m002_guild_settings(db: sqlite_utils.Database) -> None:
    db.table("guild_settings").create(
        {"guild_id": int, "data": str, "updated_at": float, "updated_by": int}, pk="guild_id"
    )


@migrations()
def m003_approval(db: sqlite_utils.Database) -> None:
    for column, type_ in (
        ("approval_channel_id", int),
        ("approval_message_id", int),
        ("decided_by", int),
        ("decided_at", float),
    ):
        db.table("jobs").add_column(column, type_)


@migrations()
def m004_origin(db: sqlite_utils.Database) -> None:
    # "kind" also named failure types and MIME types in the code; a job's lineage is its origin.
    db.execute("alter table jobs rename column kind to origin")


@migrations()
def m005_member_prefs(db: sqlite_utils.Database) -> None:
    # A member's own choices, across servers: how they are told a job ended.
    db.table("member_prefs").create({"user_id": int, "notify": str, "updated_at": float}, pk="user_id")


@migrations()
def m006_scope(db: sqlite_utils.Database) -> None:
    # Where a job was asked: "guild" (a server that added the bot: its rules apply), "dm" (the
    # bot's own DM) or "user" (a user install elsewhere: no channel access, the user quota).
    db.table("jobs").add_column("scope", str, not_null_default="guild")


# A request field's column type, from its Python type (tuples are stored as JSON, booleans as 0/1).
_COLUMN_TYPES: dict[Any, type] = {str: str, int: int, float: float, bool: int}


def add_request_columns(db: sqlite_utils.Database) -> None:
    """A column for every field of the request (`bot/relay/request.py`) that has none yet: a new
    request field needs no migration of its own. Rows written before it read as its default."""
    have = {c.name for c in db.table("jobs").columns}
    for name in REQUEST_FIELDS:
        if name not in have:
            kind = REQUEST_TYPES[name]
            db.table("jobs").add_column(name, _COLUMN_TYPES.get(kind, str))


@dataclass(frozen=True)
class SchemaStatus:
    pending: list[str]  # migrations the next start applies
    unknown: list[str]  # applied by a newer version of the bot
    writable: bool


def schema_status(path: Path | str) -> SchemaStatus:
    """What `python -m bot --check` needs to know of an existing database, without changing it.
    Opened "rw", never "rwc", so a missing file is an error rather than a new empty database;
    writability is tested by taking the write lock and rolling back."""
    uri = Path(path).resolve().as_uri() + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=5, isolation_level=None)
        try:
            db = sqlite_utils.Database(conn)
            known = {m.name for m in migrations.pending(sqlite_utils.Database(memory=True))}
            pending = [m.name for m in migrations.pending(db)]
            unknown = [m.name for m in migrations.applied(db) if m.name not in known]
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                writable = True
            except sqlite3.OperationalError as exc:
                if "readonly" not in str(exc) and "read-only" not in str(exc):
                    raise
                writable = False
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"DATABASE_PATH {path} cannot be read as a SQLite database ({exc})") from None
    return SchemaStatus(pending, unknown, writable)


# Below `schema_status` on purpose: migrations added above it (m006) keep their order and this
# one stays last, wherever they were written.
@migrations()
def m007_locale(db: sqlite_utils.Database) -> None:
    # The server's language, for the job's public messages re-rendered long after the command;
    # and the failure reason as a message id with parameters, to show it in that language.
    db.table("jobs").add_column("locale", str)
    db.table("jobs").add_column("failure_text", str)


@migrations()
def m008_no_next_poll_at(db: sqlite_utils.Database) -> None:
    # Never written: when a job is next looked at lives in memory (bot/jobs/schedule.py), rebuilt at start.
    db.table("jobs").transform(drop={"next_poll_at"})


@migrations()
def m009_shape(db: sqlite_utils.Database) -> None:
    # The command's word for it (the relay's payload still says orientation).
    db.execute("alter table jobs rename column orientation to shape")


@migrations()
def m010_price(db: sqlite_utils.Database) -> None:
    # A job's price when it was asked for, summed against the monthly budgets; the index serves
    # the whole bot's budget, which sums every server's month.
    db.table("jobs").add_column("price_micros", int)
    db.table("jobs").create_index(["created_at"])


@migrations()
def m011_library_and_styles(db: sqlite_utils.Database) -> None:
    # Saved prompts: a server's ("guild:<id>") or, outside servers, a member's ("user:<id>").
    db.table("library").create(
        {
            "id": int,
            "library": str,
            "name": str,
            "name_key": str,  # the name casefolded: one entry per name, whatever its case
            "prompt": str,
            "user_id": int,
            "author_name": str,
            "job_id": int,
            "uses": int,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"library", "name", "name_key", "prompt", "user_id"},
        defaults={"uses": 0},
    )
    db.table("library").create_index(["library", "name_key"], unique=True)
    # Only what a server changed of the shipped styles (bot/rules/styles.py), and its own.
    db.table("guild_styles").create(
        {
            "guild_id": int,
            "name_key": str,
            "name": str,
            "text": str,
            "model": str,
            "shape": str,
            "duration": int,
            "removed": int,
            "updated_at": float,
            "updated_by": int,
        },
        pk=("guild_id", "name_key"),
        defaults={"removed": 0},
    )
    # Not request fields: the relay gets the final prompt; these say where it came from.
    for column, type_ in (
        ("library_id", int),
        ("library_name", str),
        ("library_author", str),
        ("style", str),
    ):
        db.table("jobs").add_column(column, type_)

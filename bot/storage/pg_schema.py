"""The PostgreSQL schema: versioned migrations applied in order at every start, and what
`--check` reads of a database without changing it (`pg_status`).

The tables and columns are the SQLite ones (`bot.storage.schema`) as they stand after its
m011, so one `Job.from_row`/`to_row` serves both backends; `tests/test_store_contract.py`
compares the two column by column. Add a migration at the end of `MIGRATIONS` to change the
schema; never edit one that has shipped. A new request field needs none: its column is added at
start from `bot/relay/request.py`, as on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg

from bot.relay.request import REQUEST_FIELDS, REQUEST_TYPES

# The advisory lock (one bigint, any value no one else uses) that makes two processes starting
# together apply the migrations one after the other.
MIGRATION_LOCK = 0x7665_6F5F_6D69_67  # "veo_mig"

M001_TABLES = """
create table jobs (
    id bigserial primary key,
    state text not null,
    created_at double precision not null,
    updated_at double precision not null,
    guild_id bigint,
    channel_id bigint not null,
    message_id bigint,
    interaction_id bigint,
    interaction_token text,
    token_issued_at double precision,
    application_id bigint,
    user_id bigint not null,
    user_name text,
    prompt text not null,
    model text not null,
    images text,
    image_names text,
    shape text,
    size text,
    duration bigint,
    aspect_ratio text,
    enable_upsample bigint default 0,
    parent_id bigint,
    origin text default 'new',
    task_id text,
    raw_status text,
    progress bigint,
    video_url text,
    thumbnail_url text,
    enhanced_prompt text,
    failure_reason text,
    failure_kind text,
    submitted_at double precision,
    queued_at double precision,
    running_at double precision,
    succeeded_at double precision,
    delivered_at double precision,
    failed_at double precision,
    cancelled_at double precision,
    cancelled_by bigint,
    poll_failures bigint default 0,
    last_poll_at double precision,
    last_poll_ok_at double precision,
    delivery_mode text,
    result_message_id bigint,
    notified_at double precision,
    approval_channel_id bigint,
    approval_message_id bigint,
    decided_by bigint,
    decided_at double precision,
    scope text not null default 'guild',
    locale text,
    failure_text text,
    price_micros bigint,
    library_id bigint,
    library_name text,
    library_author text,
    style text
);
create index idx_jobs_state on jobs (state);
create index idx_jobs_user_id_created_at on jobs (user_id, created_at);
create index idx_jobs_guild_id_created_at on jobs (guild_id, created_at);
create index idx_jobs_created_at on jobs (created_at);
create unique index idx_jobs_task_id on jobs (task_id);
create table job_events (
    id bigserial primary key,
    job_id bigint references jobs (id),
    at double precision,
    state_from text,
    state_to text,
    detail text
);
create index idx_job_events_job_id on job_events (job_id);
create table meta (key text primary key, value text);
create table guild_settings (
    guild_id bigint primary key, data text, updated_at double precision, updated_by bigint
);
create table member_prefs (user_id bigint primary key, notify text, updated_at double precision);
create table library (
    id bigserial primary key,
    library text not null,
    name text not null,
    name_key text not null,
    prompt text not null,
    user_id bigint not null,
    author_name text,
    job_id bigint,
    uses bigint default 0,
    created_at double precision,
    updated_at double precision
);
create unique index idx_library_library_name_key on library (library, name_key);
create table guild_styles (
    guild_id bigint not null,
    name_key text not null,
    name text,
    text text,
    model text,
    shape text,
    duration bigint,
    removed bigint default 0,
    updated_at double precision,
    updated_by bigint,
    primary key (guild_id, name_key)
);
"""

# (name, SQL), applied in this order, each once, each in its own transaction.
MIGRATIONS: tuple[tuple[str, str], ...] = (("m001_tables", M001_TABLES),)

_COLUMN_TYPES = {str: "text", int: "bigint", float: "double precision", bool: "bigint"}

_MIGRATIONS_TABLE = """
create table if not exists schema_migrations (name text primary key, applied_at double precision not null)
"""


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the migrations this database has not had, and a column for each request field
    that has none; the names applied. Serialised across processes by an advisory lock."""
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(_MIGRATIONS_TABLE)
        done = {r["name"] for r in await conn.fetch("select name from schema_migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            await conn.execute(sql)
            await conn.execute(
                "insert into schema_migrations (name, applied_at) values ($1, extract(epoch from now()))",
                name,
            )
            applied.append(name)
        have = {
            r["column_name"]
            for r in await conn.fetch(
                "select column_name from information_schema.columns "
                "where table_schema = current_schema() and table_name = 'jobs'"
            )
        }
        for field in REQUEST_FIELDS:
            if field not in have:
                kind = _COLUMN_TYPES.get(REQUEST_TYPES[field], "text")
                await conn.execute(f'alter table jobs add column "{field}" {kind}')
    return applied


@dataclass(frozen=True)
class PgStatus:
    pending: list[str]  # migrations the next start applies
    unknown: list[str]  # applied by a newer version of the bot
    writable: bool


async def pg_status(conn: asyncpg.Connection) -> PgStatus:
    """What `python -m bot --check` needs to know of a PostgreSQL database, changing nothing:
    the writes it tries are rolled back."""
    known = [name for name, _sql in MIGRATIONS]
    exists = await conn.fetchval("select to_regclass('schema_migrations') is not null")
    done = {r["name"] for r in await conn.fetch("select name from schema_migrations")} if exists else set()
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("create temporary table veo_check_write (x int) on commit drop")
        if exists:
            await conn.execute("lock table schema_migrations in share row exclusive mode nowait")
        writable = True
    except asyncpg.PostgresError:  # read-only, no privilege, or locked by a migration: not writable now
        writable = False
    finally:
        await tx.rollback()
    return PgStatus(
        pending=[n for n in known if n not in done], unknown=sorted(done - set(known)), writable=writable
    )


def pg_where(url: str) -> str:
    """Where a DATABASE_URL points (host:port/database), for messages: never the password."""
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        port = 5432
    return f"{parts.hostname or 'localhost'}:{port}/{parts.path.lstrip('/') or parts.username or ''}"

"""PostgreSQL for the tests: the server at TEST_DATABASE_URL (default the machine's own, trust
authentication), a fresh schema per test, dropped after it.

Where no server answers, a PostgreSQL test fails with one line saying how to start one; it never
passes or skips silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")

HOW_TO_START = (
    f"PostgreSQL is not reachable at TEST_DATABASE_URL={TEST_DATABASE_URL} ({{error}}): start one "
    "(Debian: pg_ctlcluster 15 main start; or docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust "
    "postgres:15) or point TEST_DATABASE_URL at one"
)


async def admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(TEST_DATABASE_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        pytest.fail(HOW_TO_START.format(error=exc), pytrace=False)


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A new, empty schema's name; the schema and all in it go when the block ends."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await admin()
    try:
        await conn.execute(f'create schema "{name}"')
        yield name
    finally:
        await conn.execute(f'drop schema if exists "{name}" cascade')
        await conn.close()


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new, empty database's URL (for what a schema cannot isolate: a whole bot process, whose
    DATABASE_URL names a database); dropped when the block ends."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await admin()
    try:
        await conn.execute(f'create database "{name}"')
        base, _, _db = TEST_DATABASE_URL.rpartition("/")
        yield f"{base}/{name}"
    finally:
        await conn.execute(f'drop database if exists "{name}" with (force)')
        await conn.close()

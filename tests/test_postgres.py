"""What holds across processes on one PostgreSQL, tested with two stores (two processes' worth of
connections, pools and caches) on a real server: compare-and-set, exact admission, cache
notices, shard claims, and moving a SQLite database up. The store contract both backends share
is tests/test_store_contract.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.errors import StoreError
from bot.jobs.model import JobState
from bot.rules.guild_settings import GuildSettings
from bot.storage.move_up import move_up, open_source
from bot.storage.pg_schema import migrate
from bot.storage.postgres import PostgresStore
from bot.storage.store import Store
from tests.pg import TEST_DATABASE_URL, fresh_schema
from tests.test_store_contract import fields


def schema_url(schema: str) -> str:
    return f"{TEST_DATABASE_URL}?search_path={schema}"


@pytest.fixture
async def two() -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores on one fresh schema: what two bot processes sharing DATABASE_URL have."""
    async with fresh_schema() as schema:
        a = await PostgresStore.open(schema_url(schema))
        b = await PostgresStore.open(schema_url(schema))
        try:
            yield a, b
        finally:
            await a.close()
            await b.close()


async def test_one_of_two_processes_wins_a_race_to_deliver(two):
    a, b = two
    job = await a.add_job(**fields(), state=JobState.RUNNING)
    await b.get(job.id)  # both believe it is running
    results = await asyncio.gather(
        a.transition(job.id, JobState.SUCCEEDED, video_url="https://v/a.mp4"),
        b.transition(job.id, JobState.SUCCEEDED, video_url="https://v/b.mp4"),
    )
    assert sum(r is not None for r in results) == 1
    # The loser's belief was stale: the row decided, and its next read says what happened.
    assert (await b.fresh(job.id)).state is JobState.SUCCEEDED
    assert await a.transition(job.id, JobState.DELIVERED) is not None
    # b still believes "succeeded": its move is refused by the row, not made twice.
    assert await b.transition(job.id, JobState.DELIVERED) is None
    moves = await a.pool.fetch("select state_to from job_events where job_id = $1 order by id", job.id)
    assert [m["state_to"] for m in moves] == ["running", "succeeded", "delivered"]


async def test_checked_inserts_from_two_processes_are_exact(two):
    """A quota of 5 for one member, 20 commands arriving at once through two processes: the
    count and the insert share a transaction under one advisory lock, so exactly 5 get in."""
    a, b = two

    def checker(store: PostgresStore):
        async def check() -> None:
            mine, _server = await store.quota_usage(guild_id=1, user_id=20, since=0)
            if mine >= 5:
                raise StoreError("quota")

        return check

    async def ask(store: PostgresStore) -> bool:
        try:
            await store.add_job(**fields(guild_id=1), state=JobState.PENDING, check=checker(store))
        except StoreError:
            return False
        return True

    got = await asyncio.gather(*(ask(a if i % 2 else b) for i in range(20)))
    assert sum(got) == 5
    assert await a.count_jobs(user_id=20) == 5


async def test_a_rule_changed_in_one_process_applies_in_the_other(two):
    a, b = two
    assert (await b.guild_rules(7)).member_daily_quota is None  # b now holds a copy
    await a.set_guild_rules(7, GuildSettings(member_daily_quota=2), by=1)
    for _ in range(100):  # the notice arrives within milliseconds
        if (await b.guild_rules(7)).member_daily_quota == 2:
            break
        await asyncio.sleep(0.01)
    assert (await b.guild_rules(7)).member_daily_quota == 2
    await b.notify_pref(20)
    await a.set_notify_pref(20, "dm")
    for _ in range(100):
        if await b.notify_pref(20) == "dm":
            break
        await asyncio.sleep(0.01)
    assert await b.notify_pref(20) == "dm"


async def test_without_its_listener_a_process_keeps_no_copies(two):
    a, b = two
    await b.guild_rules(8)
    await b._listener.close()  # the connection that hears the others is gone
    await asyncio.sleep(0.05)
    assert b._rules == {}
    await a.set_guild_rules(8, GuildSettings(member_daily_quota=3), by=1)
    assert (await b.guild_rules(8)).member_daily_quota == 3  # read, not remembered
    assert b._rules == {}


async def test_a_shard_runs_in_one_process_only(two):
    a, b = two
    await a.claim_shards([0, 1], 2)
    with pytest.raises(StoreError, match=r"shard 1 of 2 is already run by another process"):
        await b.claim_shards([1], 2)
    await a._shard_holder.close()  # as when a process dies: its locks go with its connection
    await b.claim_shards([1], 2)


async def test_migrate_copies_everything_into_an_empty_database_once(tmp_path):
    sqlite = Store.open(tmp_path / "bot.db")
    job = await sqlite.add_job(**fields(guild_id=5, images=["https://a/1.png"]), state=JobState.PENDING)
    await sqlite.transition(job.id, JobState.SUBMITTING)
    await sqlite.set_guild_rules(5, GuildSettings(member_daily_quota=4), by=9)
    await sqlite.set_notify_pref(20, "dm")
    await sqlite.set_meta("commands", "abc")
    await sqlite.library_add(
        library="guild:5", name="dusk", prompt="p", user_id=20, author_name="ann", job_id=1
    )
    await sqlite.close()
    async with fresh_schema() as schema:
        source = open_source(tmp_path / "bot.db")
        try:
            result = await move_up(source, schema_url(schema))
            assert result.rows["jobs"] == 1 and result.rows["job_events"] == 2
            with pytest.raises(StoreError, match="not empty"):
                await move_up(source, schema_url(schema))
        finally:
            source.close()
        pg = await PostgresStore.open(schema_url(schema))
        try:
            copied = await pg.get(job.id)
            assert (copied.state, copied.images, copied.guild_id) == (
                JobState.SUBMITTING,
                ("https://a/1.png",),
                5,
            )
            assert (await pg.guild_rules(5)).member_daily_quota == 4
            assert await pg.notify_pref(20) == "dm"
            assert await pg.get_meta("commands") == "abc"
            assert [e.name for e in await pg.library_entries("guild:5")] == ["dusk"]
            # New ids continue after the copied ones.
            assert (await pg.add_job(**fields())).id == job.id + 1
        finally:
            await pg.close()


async def test_unreachable_server_is_a_store_error():
    with pytest.raises(StoreError, match="DATABASE_URL cannot be opened"):
        await PostgresStore.open("postgresql://nobody@127.0.0.1:1/none")


async def test_the_schema_is_versioned_and_applied_once(two):
    a, _b = two
    names = [r["name"] for r in await a.pool.fetch("select name from schema_migrations")]
    assert names == ["m001_tables"]
    conn = await asyncpg.connect(schema_url(a.schema))
    try:
        assert await migrate(conn) == []
    finally:
        await conn.close()

"""The job store on real SQLite files: round trips, compare-and-set, queries, and damage."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import StoreError
from bot.jobs.model import ALLOWED, JobState
from bot.storage.schema import migrations
from bot.storage.store import Store
from tests.test_store_contract import events, fields


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "data" / "bot.db") as s:
        yield s


async def test_reopening_applies_no_migration_twice(tmp_path):
    path = tmp_path / "bot.db"
    async with Store.open(path) as s:
        await s.add_job(**fields())
    async with Store.open(path) as s:
        assert len(await s.unfinished()) == 1
        applied = [m.name for m in migrations.applied(s.db)]
    assert applied == sorted(set(applied))
    assert "m001_jobs" in applied


async def test_wal_mode_lets_another_process_read_while_the_bot_writes(store, tmp_path):
    await store.add_job(**fields())
    reader = sqlite3.connect(tmp_path / "data" / "bot.db")
    try:
        assert reader.execute("pragma journal_mode").fetchone()[0] == "wal"
        reader.execute("begin")
        assert reader.execute("select count(*) from jobs").fetchone()[0] == 1
        await store.add_job(**fields())  # a writer is not blocked by an open reader
        reader.execute("commit")
        assert reader.execute("select count(*) from jobs").fetchone()[0] == 2
    finally:
        reader.close()


async def test_a_locked_database_gives_a_clear_error_within_the_bound(tmp_path):
    path = tmp_path / "bot.db"
    async with Store.open(path):
        pass
    store = Store.open(path, busy_timeout_ms=200)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("begin exclusive")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            await store.add_job(**fields())
        assert time.monotonic() - started < 5
        assert "unavailable" in caught.value.user_message
    finally:
        blocker.execute("rollback")
        blocker.close()
        await store.close()


def test_a_corrupt_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "bot.db"
    junk = os.urandom(8192)
    path.write_bytes(junk)
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    assert "not a readable SQLite database" in caught.value.user_message
    assert path.read_bytes() == junk


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(list(JobState)), max_size=12))
async def test_random_transitions_only_follow_the_allowed_table(steps):
    async with Store.open(":memory:") as store:
        job = await store.add_job(**fields())
        state, changes = job.state, 0
        for target in steps:
            moved = await store.transition(job.id, target)
            if moved is None:
                assert target not in ALLOWED[state]
            else:
                assert target in ALLOWED[state]
                changes += target is not state
                state = moved.state
        assert (await store.get(job.id)).state is state
        assert len(await events(store, job.id)) == 1 + changes


async def test_another_process_reads_while_the_store_writes(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "bot.db"
    async with Store.open(path) as store:
        await store.add_job(**fields())
        reader = subprocess.Popen(
            [
                sys.executable,
                "-c",
                (
                    "import sqlite3, sys, time\n"
                    "db = sqlite3.connect(sys.argv[1], timeout=5)\n"
                    "seen = 0\n"
                    "end = time.time() + 1.5\n"
                    "while time.time() < end:\n"
                    "    seen = max(seen, db.execute('select count(*) from jobs').fetchone()[0])\n"
                    "print(seen)\n"
                ),
                str(path),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(200):
            await store.add_job(**fields())
        out, _ = reader.communicate(timeout=20)
        assert reader.returncode == 0
        assert 1 <= int(out) <= 201
        assert await store.count_jobs(since=0) == 201


async def test_every_earlier_schema_version_migrates_forward(tmp_path):
    """Build a database at each shipped version, with a job in it, then open it with this code."""
    import sqlite_utils

    names = [m.name for m in migrations._migrations]
    for i, name in enumerate(names):
        path = tmp_path / f"v{i}.db"
        db = sqlite_utils.Database(path)
        later = names[i + 1 :]
        migrations.apply(db, stop_before=later[0] if later else None)
        if "jobs" in db.table_names():
            lineage = "origin" if "origin" in db["jobs"].columns_dict else "kind"
            db["jobs"].insert(
                {
                    lineage: "remix",
                    "state": "queued",
                    "created_at": 1.0,
                    "updated_at": 1.0,
                    "channel_id": 1,
                    "user_id": 2,
                    "prompt": f"from {name}",
                    "model": "m",
                    "task_id": f"t{i}",
                }
            )
        db.close()
        async with Store.open(path) as store:
            assert {m.name for m in migrations.applied(store.db)} == set(names)
            job = await store.get_by_task(f"t{i}")
            assert job is not None and job.prompt == f"from {name}" and job.state is JobState.QUEUED
            assert job.origin == "remix"
            assert [j.id for j in await store.unfinished()] == [job.id]

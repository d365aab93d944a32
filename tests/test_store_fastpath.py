"""The store's hot paths: one transaction per change, no re-read, the submit write durable, and
the jobs it keeps in memory never deciding a move the database would refuse."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from bot.errors import StoreError
from bot.jobs.model import Job, JobState
from bot.storage.store import Store


async def add(store: Store, **kw):
    fields = dict(
        channel_id=1,
        user_id=2,
        prompt="a cow",
        model="veo3.1-fast",
        shape="landscape",
        size="1280x720",
        duration=8,
        aspect_ratio="16:9",
        state=JobState.PENDING,
    )
    fields.update(kw)
    return await store.add_job(**fields)


def traced(store: Store) -> list[str]:
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    return statements


async def test_submit_is_on_disk_before_it_returns(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        jobs = [await add(store, user_id=i) for i in range(3)]
        statements = traced(store)
        moved = await store.submit([j.id for j in jobs])
        assert [j.state for j in moved] == [JobState.SUBMITTING] * 3
        # One transaction for the batch, committed with synchronous=FULL (fsync), then back.
        assert statements[0] == "PRAGMA synchronous = FULL"
        assert statements.count("BEGIN IMMEDIATE") == 1
        assert statements[-2:] == ["COMMIT", "PRAGMA synchronous = NORMAL"]
        # Another process sees it at once: the create call may leave.
        other = sqlite3.connect(tmp_path / "jobs.db")
        states = {row[0] for row in other.execute("select state from jobs")}
        other.close()
        assert states == {"submitting"}
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


async def test_submit_leaves_out_jobs_no_longer_waiting(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        waiting, cancelled = await add(store), await add(store)
        await store.transition(cancelled.id, JobState.CANCELLED)
        assert [j.id for j in await store.submit([waiting.id, cancelled.id])] == [waiting.id]
        assert (await store.require(cancelled.id)).state is JobState.CANCELLED


async def fresh_read(path, job_id: int) -> Job:
    async with Store.open(path) as other:
        job = await other.get(job_id)
    assert job is not None
    return job


async def test_a_transition_is_one_transaction_and_returns_the_row_it_wrote(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        job = await add(store)
        statements = traced(store)
        moved = await store.transition(job.id, JobState.SUBMITTING, expect=[JobState.PENDING], progress=3)
        written = list(statements)
        # BEGIN, the update (naming the state it expects), its event, COMMIT: no read.
        assert len(written) == 4
        assert written[0] == "BEGIN IMMEDIATE" and written[-1] == "COMMIT"
        assert written[1].endswith(f"where id = {job.id} and state = 'pending'")
        assert moved == await fresh_read(tmp_path / "jobs.db", job.id)


async def test_reading_a_live_job_needs_no_query_and_gives_what_the_database_holds(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        job = await add(store, images=("https://x/1.png",), user_name=None)
        await store.transition(job.id, JobState.SUBMITTING)
        await store.update(job.id, message_id=77, progress=10)
        statements = traced(store)
        kept = await store.get(job.id)
        assert statements == []
        assert kept == await fresh_read(tmp_path / "jobs.db", job.id)


async def test_a_job_that_is_over_is_read_from_the_database_again(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        job = await add(store)
        await store.transition(job.id, JobState.CANCELLED)
        await store.mark_notified(job.id)
        statements = traced(store)
        assert (await store.get(job.id)).state is JobState.CANCELLED
        assert any(s.startswith("select * from jobs") for s in statements)


async def test_a_move_another_writer_made_is_found_and_respected(tmp_path):
    """If something else changed the row, the belief in memory costs a read, not a wrong move."""
    async with Store.open(tmp_path / "jobs.db") as store:
        job = await add(store)
        await store.transition(job.id, JobState.SUBMITTING)
        other = sqlite3.connect(tmp_path / "jobs.db")
        with other:
            other.execute("update jobs set state = 'cancelled' where id = ?", [job.id])
        other.close()
        # SUBMITTING -> QUEUED is allowed from what the store believes, not from CANCELLED.
        assert await store.transition(job.id, JobState.QUEUED) is None
        assert (await store.get(job.id)).state is JobState.CANCELLED
        assert (await fresh_read(tmp_path / "jobs.db", job.id)).state is JobState.CANCELLED


async def test_a_submit_skips_a_job_another_writer_moved(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        kept, moved_away = await add(store), await add(store)
        other = sqlite3.connect(tmp_path / "jobs.db")
        with other:
            other.execute("update jobs set state = 'cancelled' where id = ?", [moved_away.id])
        other.close()
        assert [j.id for j in await store.submit([kept.id, moved_away.id])] == [kept.id]
        assert (await store.get(moved_away.id)).state is JobState.CANCELLED


async def test_an_update_of_a_vanished_job_says_so(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        job = await add(store)
        other = sqlite3.connect(tmp_path / "jobs.db")
        with other:
            other.execute("delete from jobs where id = ?", [job.id])
        other.close()
        with pytest.raises(StoreError):
            await store.update(job.id, progress=5)
        assert await store.get(job.id) is None


async def test_rules_and_notification_choices_are_read_once_and_replaced_when_written(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        rules = await store.guild_rules(5)
        assert await store.notify_pref(9) == "mention"
        statements = traced(store)
        assert await store.guild_rules(5) == rules and await store.notify_pref(9) == "mention"
        assert statements == []
        await store.set_guild_rules(5, replace(rules, member_daily_quota=2), by=1)
        await store.set_notify_pref(9, "dm")
        assert (await store.guild_rules(5)).member_daily_quota == 2 and await store.notify_pref(9) == "dm"
    async with Store.open(tmp_path / "jobs.db") as again:
        assert (await again.guild_rules(5)).member_daily_quota == 2 and await again.notify_pref(9) == "dm"


async def test_jobs_resumed_at_start_up_are_read_once(tmp_path):
    async with Store.open(tmp_path / "jobs.db") as store:
        job = await add(store)
    async with Store.open(tmp_path / "jobs.db") as store:
        assert [j.id for j in await store.unfinished()] == [job.id]
        statements = traced(store)
        assert await store.get(job.id) == job
        assert statements == []

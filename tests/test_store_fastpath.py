"""The store's hot paths: one transaction per change, no re-read, the submit write durable, and
the jobs it keeps in memory never deciding a move the database would refuse."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from bot.errors import StoreError
from bot.jobs.model import Job, JobState
from bot.storage.store import Store


def add(store: Store, **kw):
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
    return store.add_job(**fields)


def traced(store: Store) -> list[str]:
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    return statements


def test_submit_is_on_disk_before_it_returns(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        jobs = [add(store, user_id=i) for i in range(3)]
        statements = traced(store)
        moved = store.submit([j.id for j in jobs])
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


def test_submit_leaves_out_jobs_no_longer_waiting(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        waiting, cancelled = add(store), add(store)
        store.transition(cancelled.id, JobState.CANCELLED)
        assert [j.id for j in store.submit([waiting.id, cancelled.id])] == [waiting.id]
        assert store.require(cancelled.id).state is JobState.CANCELLED


def fresh_read(path, job_id: int) -> Job:
    with Store.open(path) as other:
        job = other.get(job_id)
    assert job is not None
    return job


def test_a_transition_is_one_transaction_and_returns_the_row_it_wrote(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        job = add(store)
        statements = traced(store)
        moved = store.transition(job.id, JobState.SUBMITTING, expect=[JobState.PENDING], progress=3)
        written = list(statements)
        # BEGIN, the update (naming the state it expects), its event, COMMIT: no read.
        assert len(written) == 4
        assert written[0] == "BEGIN IMMEDIATE" and written[-1] == "COMMIT"
        assert written[1].endswith(f"where id = {job.id} and state = 'pending'")
        assert moved == fresh_read(tmp_path / "jobs.db", job.id)


def test_reading_a_live_job_needs_no_query_and_gives_what_the_database_holds(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        job = add(store, images=("https://x/1.png",), user_name=None)
        store.transition(job.id, JobState.SUBMITTING)
        store.update(job.id, message_id=77, progress=10)
        statements = traced(store)
        kept = store.get(job.id)
        assert statements == []
        assert kept == fresh_read(tmp_path / "jobs.db", job.id)


def test_a_job_that_is_over_is_read_from_the_database_again(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        job = add(store)
        store.transition(job.id, JobState.CANCELLED)
        store.mark_notified(job.id)
        statements = traced(store)
        assert store.get(job.id).state is JobState.CANCELLED
        assert any(s.startswith("select * from jobs") for s in statements)


def test_a_move_another_writer_made_is_found_and_respected(tmp_path):
    """If something else changed the row, the belief in memory costs a read, not a wrong move."""
    with Store.open(tmp_path / "jobs.db") as store:
        job = add(store)
        store.transition(job.id, JobState.SUBMITTING)
        other = sqlite3.connect(tmp_path / "jobs.db")
        with other:
            other.execute("update jobs set state = 'cancelled' where id = ?", [job.id])
        other.close()
        # SUBMITTING -> QUEUED is allowed from what the store believes, not from CANCELLED.
        assert store.transition(job.id, JobState.QUEUED) is None
        assert store.get(job.id).state is JobState.CANCELLED
        assert fresh_read(tmp_path / "jobs.db", job.id).state is JobState.CANCELLED


def test_a_submit_skips_a_job_another_writer_moved(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        kept, moved_away = add(store), add(store)
        other = sqlite3.connect(tmp_path / "jobs.db")
        with other:
            other.execute("update jobs set state = 'cancelled' where id = ?", [moved_away.id])
        other.close()
        assert [j.id for j in store.submit([kept.id, moved_away.id])] == [kept.id]
        assert store.get(moved_away.id).state is JobState.CANCELLED


def test_an_update_of_a_vanished_job_says_so(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        job = add(store)
        other = sqlite3.connect(tmp_path / "jobs.db")
        with other:
            other.execute("delete from jobs where id = ?", [job.id])
        other.close()
        with pytest.raises(StoreError):
            store.update(job.id, progress=5)
        assert store.get(job.id) is None


def test_rules_and_notification_choices_are_read_once_and_replaced_when_written(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        rules = store.guild_rules(5)
        assert store.notify_pref(9) == "mention"
        statements = traced(store)
        assert store.guild_rules(5) == rules and store.notify_pref(9) == "mention"
        assert statements == []
        store.set_guild_rules(5, replace(rules, member_daily_quota=2), by=1)
        store.set_notify_pref(9, "dm")
        assert store.guild_rules(5).member_daily_quota == 2 and store.notify_pref(9) == "dm"
    with Store.open(tmp_path / "jobs.db") as again:
        assert again.guild_rules(5).member_daily_quota == 2 and again.notify_pref(9) == "dm"


def test_jobs_resumed_at_start_up_are_read_once(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        job = add(store)
    with Store.open(tmp_path / "jobs.db") as store:
        assert [j.id for j in store.unfinished()] == [job.id]
        statements = traced(store)
        assert store.get(job.id) == job
        assert statements == []

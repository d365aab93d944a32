"""The store's hot paths: one transaction per change, no re-read, the submit write durable."""

from __future__ import annotations

import sqlite3

from bot.jobs import JobState
from bot.store import Store


def add(store: Store, **kw):
    fields = dict(
        channel_id=1,
        user_id=2,
        prompt="a cow",
        model="veo3.1-fast",
        orientation="landscape",
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


def test_a_transition_is_one_transaction_and_returns_the_row_it_wrote(tmp_path):
    with Store.open(tmp_path / "jobs.db") as store:
        job = add(store)
        statements = traced(store)
        moved = store.transition(job.id, JobState.SUBMITTING, expect=[JobState.PENDING], progress=3)
        written = list(statements)
        assert len(written) == 5  # BEGIN, the row, the update, its event, COMMIT
        assert written[0] == "BEGIN IMMEDIATE" and written[-1] == "COMMIT"
        assert moved == store.require(job.id)

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


def fields(**kw):
    base = dict(
        channel_id=10,
        user_id=20,
        prompt="牛飞上天了 🐄",
        model="veo3.1-fast-components",
        shape="landscape",
        size="1280x720",
        duration=8,
        aspect_ratio="16:9",
        images=["https://a/1.png", "https://a/2.png", "https://a/3.png"],
        image_names=["1.png", "2.png", "3.png"],
    )
    base.update(kw)
    return base


def events(store, job_id):
    """The job's event log, read as an operator would (the bot itself never reads it)."""
    return list(store.db.query("select * from job_events where job_id = ? order by id", [job_id]))


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "data" / "bot.db") as s:
        yield s


async def test_round_trip_of_every_request_field(store):
    job = await store.add_job(
        **fields(
            guild_id=1,
            interaction_token="tok",
            token_issued_at=5.0,
            application_id=7,
            user_name="Ann",
            enable_upsample=True,
            parent_id=None,
            origin="new",
        )
    )
    again = await store.get(job.id)
    assert again == job
    assert again.images == ("https://a/1.png", "https://a/2.png", "https://a/3.png")
    assert again.prompt == "牛飞上天了 🐄" and again.enable_upsample is True
    assert again.state is JobState.SUBMITTING and again.submitted_at is not None
    assert [e["state_to"] for e in events(store, job.id)] == ["submitting"]


async def test_task_ids_are_stored_exactly(store):
    job = await store.add_job(**fields())
    await store.transition(job.id, JobState.QUEUED, task_id="veo3.1-fast:1770350082-abc")
    assert (await store.get_by_task("veo3.1-fast:1770350082-abc")).id == job.id


async def test_transition_is_compare_and_set(store):
    job = await store.add_job(**fields())
    await store.transition(job.id, JobState.QUEUED, task_id="t1")
    first = await store.transition(job.id, JobState.SUCCEEDED, expect=[JobState.QUEUED, JobState.RUNNING])
    second = await store.transition(job.id, JobState.SUCCEEDED, expect=[JobState.QUEUED, JobState.RUNNING])
    assert first is not None and second is None
    assert (await store.transition(job.id, JobState.DELIVERED)).state is JobState.DELIVERED
    assert await store.transition(job.id, JobState.FAILED) is None  # final states refuse
    assert await store.transition(job.id, JobState.CANCELLED) is None


async def test_unfinished_covers_active_and_unannounced_final_jobs(store):
    states = {}
    for target in ("submitting", "queued", "running", "succeeded", "failed", "delivered"):
        job = await store.add_job(**fields())
        path = {
            "queued": ["queued"],
            "running": ["queued", "running"],
            "succeeded": ["queued", "succeeded"],
            "failed": ["failed"],
            "delivered": ["queued", "succeeded", "delivered"],
        }.get(target, [])
        for step in path:
            await store.transition(job.id, JobState(step))
        states[target] = job.id
    await store.mark_notified(states["delivered"])
    unfinished = {j.id for j in await store.unfinished()}
    assert unfinished == {states[s] for s in ("submitting", "queued", "running", "succeeded", "failed")}


async def test_mark_notified_drops_the_interaction_token(store):
    job = await store.add_job(**fields(interaction_token="secret-interaction-token"))
    await store.transition(job.id, JobState.FAILED)
    assert (await store.mark_notified(job.id)).interaction_token is None


async def test_counts_by_user_guild_and_day(store):
    now = time.time()
    for user, guild, at in [
        (1, 100, now),
        (1, 100, now),
        (2, 100, now),
        (1, 200, now),
        (1, 100, now - 2 * 86400),
    ]:
        await store.add_job(**fields(user_id=user, guild_id=guild, now=at))
    day = now - 86400
    assert await store.count_jobs(since=day, user_id=1) == 3
    assert await store.count_jobs(since=day, guild_id=100) == 3
    assert await store.count_jobs(since=day, user_id=1, guild_id=100) == 2
    assert await store.count_jobs(since=0, user_id=1, guild_id=100) == 3
    assert [j.user_id for j in await store.jobs_for_guild(100, limit=2)] == [1, 2]  # newest first
    assert len(await store.jobs_for_user(1, guild_id=100)) == 3
    assert (await store.jobs_for_user(1))[0].id > (await store.jobs_for_user(1))[-1].id  # newest first


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


async def test_meta_values(store):
    assert await store.get_meta("x") is None
    await store.set_meta("x", "1")
    await store.set_meta("x", "2")
    assert await store.get_meta("x") == "2"


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
        assert len(events(store, job.id)) == 1 + changes


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


async def test_quota_usage_counts_accepted_and_reserved_jobs_only(store):
    day = 1000.0
    g = dict(guild_id=1)
    sent = await store.add_job(**fields(**g, state=JobState.PENDING, now=day + 1))
    await store.transition(sent.id, JobState.SUBMITTING)
    await store.transition(sent.id, JobState.QUEUED, task_id="t-1")
    await store.transition(sent.id, JobState.FAILED, failure_reason="policy")  # accepted, billed: counts
    refused = await store.add_job(**fields(**g, state=JobState.PENDING, now=day + 2))
    await store.transition(refused.id, JobState.SUBMITTING)
    await store.transition(refused.id, JobState.FAILED, failure_reason="no balance")  # never accepted
    await store.add_job(**fields(**g, state=JobState.AWAITING_APPROVAL, now=day + 3))  # reserved
    rejected = await store.add_job(**fields(**g, state=JobState.AWAITING_APPROVAL, now=day + 4))
    await store.transition(rejected.id, JobState.REJECTED, decided_by=9)
    await store.add_job(**fields(**g, user_id=21, state=JobState.PENDING, now=day + 5))  # someone else
    await store.add_job(**fields(**g, state=JobState.PENDING, now=day - 10))  # yesterday
    await store.add_job(**fields(guild_id=2, state=JobState.PENDING, now=day + 6))  # another server
    assert await store.quota_usage(guild_id=1, user_id=20, since=day) == (2, 3)
    assert await store.quota_usage(guild_id=1, user_id=99, since=day) == (0, 3)
    assert await store.last_job_at(guild_id=1, user_id=20) == day + 3  # the rejected one does not count
    assert (await store.get(rejected.id)).decided_at is not None


async def test_a_check_inside_add_job_refuses_atomically(store):
    async def full():
        if (await store.quota_usage(guild_id=1, user_id=20, since=0))[1] >= 1:
            raise ValueError("quota")

    await store.add_job(**fields(guild_id=1, state=JobState.PENDING), check=full)
    with pytest.raises(ValueError):
        await store.add_job(**fields(guild_id=1, state=JobState.PENDING), check=full)
    assert await store.count_jobs(since=0) == 1


async def test_lineage_and_children(store):
    root = await store.add_job(**fields(guild_id=1))
    child = await store.add_job(**fields(guild_id=1, parent_id=root.id, origin="remix"))
    other = await store.add_job(**fields(guild_id=1, parent_id=root.id, origin="reroll"))
    grandchild = await store.add_job(**fields(guild_id=1, parent_id=child.id, origin="upscale"))
    assert [j.id for j in await store.lineage(grandchild.id)] == [grandchild.id, child.id, root.id]
    assert [j.id for j in await store.children(root.id)] == [child.id, other.id]
    assert await store.children(grandchild.id) == []


async def test_guild_rules_round_trip_and_default(store):
    from bot.rules.guild_settings import GuildSettings

    assert await store.guild_rules(1) == GuildSettings() and await store.guild_rules(None) == GuildSettings()
    rules = GuildSettings(audit_channel=5, approval_channels=(6, 7), member_daily_quota=2)
    await store.set_guild_rules(1, rules, by=9)
    assert await store.guild_rules(1) == rules
    assert await store.guild_rules(2) == GuildSettings()


async def test_typical_duration_is_the_median_of_recent_jobs_of_that_model(store):
    assert await store.typical_duration("veo3.1-fast-components") is None
    for took in (30.0, 90.0, 60.0, 600.0):
        job = await store.add_job(**fields(), now=1000.0)  # submitted at 1000
        await store.transition(job.id, JobState.QUEUED, task_id=f"t{took}")
        await store.transition(job.id, JobState.SUCCEEDED, now=1000.0 + took)
    assert await store.typical_duration("veo3.1-fast-components") == 90.0
    assert await store.typical_duration("another-model") is None


async def test_deleted_names_the_jobs_whose_message_the_delete_button_removed(store):
    from bot.storage.queries import DELETED_NOTE

    gone, kept = await store.add_job(**fields()), await store.add_job(**fields())
    await store.note(gone.id, f"{DELETED_NOTE} 42")
    await store.note(gone.id, f"{DELETED_NOTE} 43")  # a second note: still one id
    await store.note(kept.id, "something else")
    assert await store.deleted([gone.id, kept.id]) == {gone.id}
    assert await store.deleted([]) == set()

"""The store contract: the same tests, unchanged, against both backends behind `JobStore` —
SQLite (a file, as one process runs it) and PostgreSQL (a fresh schema on the server at
TEST_DATABASE_URL). What only one backend has (SQLite's files, locks and migrations; PostgreSQL's
processes, notices and shard locks) is in tests/test_store.py and tests/test_postgres.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.jobs.model import JobState
from bot.rules.guild_settings import GuildSettings
from bot.storage.interface import JobStore
from bot.storage.postgres import PostgresStore
from bot.storage.store import Store
from tests.pg import TEST_DATABASE_URL, fresh_schema


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


async def events(store: JobStore, job_id: int) -> list[dict]:
    """The job's event log, read as an operator would (the bot itself never reads it)."""
    return await store._rows("select * from job_events where job_id = ? order by id", [job_id])


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path) -> AsyncIterator[JobStore]:
    if request.param == "sqlite":
        async with Store.open(tmp_path / "data" / "bot.db") as s:
            yield s
        return
    async with (
        fresh_schema() as schema,
        await PostgresStore.open(f"{TEST_DATABASE_URL}?search_path={schema}") as s,
    ):
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
    assert [e["state_to"] for e in await events(store, job.id)] == ["submitting"]


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


async def test_meta_values(store):
    assert await store.get_meta("x") is None
    await store.set_meta("x", "1")
    await store.set_meta("x", "2")
    assert await store.get_meta("x") == "2"


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


async def test_of_checked_inserts_at_once_exactly_the_limit_land(store):
    async def one_place_each():
        used, _ = await store.quota_usage(guild_id=1, user_id=20, since=0)
        if used >= 3:
            raise ValueError("quota")

    results = await asyncio.gather(
        *(
            store.add_job(**fields(guild_id=1, state=JobState.PENDING), check=one_place_each)
            for _ in range(10)
        ),
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, ValueError)) == 7
    assert await store.count_jobs(since=0) == 3


async def test_of_two_movers_at_once_one_wins(store):
    job = await store.add_job(**fields(), state=JobState.RUNNING)
    moves = await asyncio.gather(
        store.transition(job.id, JobState.SUCCEEDED, expect=[JobState.RUNNING]),
        store.transition(job.id, JobState.CANCELLED, expect=[JobState.RUNNING]),
    )
    assert sum(1 for m in moves if m is not None) == 1
    assert len(await events(store, job.id)) == 2


async def test_submit_moves_waiting_jobs_only(store):
    waiting = await store.add_job(**fields(), state=JobState.PENDING)
    approving = await store.add_job(**fields(), state=JobState.AWAITING_APPROVAL)
    moved = await store.submit([waiting.id, approving.id])
    assert [(j.id, j.state) for j in moved] == [(waiting.id, JobState.SUBMITTING)]
    assert (await store.get(approving.id)).state is JobState.AWAITING_APPROVAL
    assert await store.waiting() == []


async def test_claim_meta_sets_a_key_once(store):
    assert await store.claim_meta("warned:2026-12", "a") is True
    assert await store.claim_meta("warned:2026-12", "b") is False
    assert await store.get_meta("warned:2026-12") == "a"


async def test_members_choices_libraries_and_styles(store):
    assert await store.notify_pref(20) == "mention"  # the default
    await store.set_notify_pref(20, "dm")
    assert await store.notify_pref(20) == "dm"
    entry = await store.library_add(
        library="guild:1", name="dusk", prompt="a lantern market", user_id=20, author_name="ann", job_id=None
    )
    assert entry is not None
    assert (
        await store.library_add(
            library="guild:1", name="dusk", prompt="again", user_id=21, author_name="bo", job_id=None
        )
        is None
    )  # names are unique in a library
    assert await store.library_rename(entry.id, "dawn") is True
    assert [e.name for e in await store.library_entries("guild:1", typed="da")] == ["dawn"]
    await store.library_remove(entry.id)
    assert await store.library_entry("guild:1", "dawn") is None
    await store.set_guild_style(1, "noir", None, by=9)
    assert [k for k, _ in await store.guild_styles(1)] == ["noir"]


async def test_spend_and_user_scope_usage(store):
    await store.add_job(
        **fields(guild_id=None, scope="dm", price_micros=500_000), state=JobState.PENDING, now=10.0
    )
    await store.add_job(**fields(guild_id=3, price_micros=250_000), state=JobState.PENDING, now=11.0)
    assert await store.spend(since=0) == 750_000
    assert await store.spend(since=0, guild_id=3) == 250_000
    assert await store.spend(since=0, user_id=20, outside=True) == 500_000
    assert await store.user_scope_usage(20, 0) == (1, 10.0)
    assert [(s, n) for s, _g, n in await store.count_by_state()] == [("pending", 1), ("pending", 1)]

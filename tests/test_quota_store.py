"""Quota exactness as a property: whatever members ask for and whatever then happens to their
jobs (accepted upstream, refused by the relay, rejected by a moderator), a new job is accepted
exactly when the member and the server still have room."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.jobs.model import JobState
from bot.rules import quota
from bot.storage.store import Store
from tests import job_life as life

LIMITS = quota.Limits(member_daily=3, server_daily=5, cooldown=0, timezone="UTC")
NOW = 1_800_000_000.0

ops = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.integers(0, 2)),
        st.tuples(st.sampled_from(["accept", "refuse", "reject", "approve"]), st.integers(0, 30)),
    ),
    max_size=40,
)


async def ask(store: Store, user: int, moderated: bool) -> bool:
    check = quota.checker(store, LIMITS, guild_id=1, user_id=user, now=lambda: NOW)
    try:
        await store.add_job(
            guild_id=1,
            channel_id=1,
            user_id=user,
            prompt="p",
            model="m",
            shape="landscape",
            size="1280x720",
            duration=8,
            aspect_ratio="16:9",
            state=JobState.AWAITING_APPROVAL if moderated else JobState.PENDING,
            now=NOW,
            check=check,
        )
    except quota.QuotaExceeded:
        return False
    return True


@settings(max_examples=60, deadline=None)
@given(ops, st.booleans())
async def test_a_job_is_accepted_exactly_when_there_is_room(operations, moderated):
    async with Store.open(":memory:") as store:
        for op, arg in operations:
            jobs = await store.jobs_for_guild(1, limit=1000)
            # What the quota should see: jobs billed (task id) or still on their way.
            holding = life.holding(jobs)
            if op == "ask":
                mine = sum(1 for j in holding if j.user_id == arg)
                room = mine < LIMITS.member_daily and len(holding) < LIMITS.server_daily
                assert await ask(store, arg, moderated) == room
                continue
            if not jobs:
                continue
            job = jobs[arg % len(jobs)]
            await life.move(store, job, op)
        _member, billed_or_held = await store.quota_usage(guild_id=1, user_id=0, since=0)
        assert billed_or_held <= LIMITS.server_daily
        for user in range(3):
            assert (await store.quota_usage(guild_id=1, user_id=user, since=0))[0] <= LIMITS.member_daily


async def test_commands_checked_at_once_never_pass_the_quota():
    """Many `/video`s at the same moment: each check is awaited inside its insert's transaction,
    and on SQLite the check's reads never suspend, so no insert slips in between a count and
    the insert it allows."""
    async with Store.open(":memory:") as store:
        results = await asyncio.gather(*(ask(store, 1, False) for _ in range(10)))
        assert results.count(True) == LIMITS.member_daily
        assert await store.count_jobs(user_id=1) == LIMITS.member_daily

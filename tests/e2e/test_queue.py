"""Fairness: a global limit on jobs at the relay, per-member limits, and visible queue positions."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.e2e.helpers import (
    field,
    job_rows,
    life,
    private_text,
    settled_rows,
    setup_guild,
    video_attachment,
    wait_final,
)

pytestmark = pytest.mark.e2e


async def test_global_limit_of_one_queues_jobs_and_shows_positions(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, users = await setup_guild(fake_discord, members=3)
    fake_api.default_life = life(1.0)
    await run_bot({"MAX_RUNNING_JOBS": "1"})
    await fake_discord.wait_commands()
    interactions = []
    for i, user in enumerate(users):
        interactions.append(
            await fake_discord.slash("video", {"prompt": f"job {i}"}, user=user, channel_id=channel)
        )
        await fake_discord.wait_for(lambda n=i: interactions[n].original and interactions[n].original.embeds)

    def statuses(interaction):
        return [e["embeds"][0]["fields"][0]["value"] for e in interaction.original.edits if e.get("embeds")]

    await fake_discord.wait_for(lambda: any("position 2" in s for s in statuses(interactions[2])), timeout=10)
    messages = await asyncio.gather(*(wait_final(fake_discord, i, timeout=30) for i in interactions))
    assert all(video_attachment(m) for m in messages)
    # the third job saw its position move up as the queue moved
    third = statuses(interactions[2])
    assert any("position 2" in s for s in third) and any("position 1" in s for s in third)
    # never more than one task at the relay: each create came after the previous job finished
    rows = await settled_rows(fake_discord, tmp_path)
    for earlier, later in itertools.pairwise(rows):
        assert later["submitted_at"] >= earlier["succeeded_at"]
    assert len(fake_api.creates) == 3


async def test_per_member_limits_and_queue_cap(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, (member, other) = await setup_guild(fake_discord, members=2)
    fake_api.default_life = life(1.5)
    await run_bot({"MAX_RUNNING_PER_MEMBER": "1", "MAX_WAITING_PER_MEMBER": "1"})
    await fake_discord.wait_commands()
    first = await fake_discord.slash("video", {"prompt": "one"}, user=member, channel_id=channel)
    await fake_discord.wait_for(lambda: len(fake_api.creates) == 1, timeout=10)
    second = await fake_discord.slash("video", {"prompt": "two"}, user=member, channel_id=channel)
    await fake_discord.wait_for(
        lambda: second.original and second.original.embeds and "queue" in field(second.original, "Status"),
        timeout=10,
    )
    refused = await fake_discord.slash("video", {"prompt": "three"}, user=member, channel_id=channel)
    text = await fake_discord.wait_for(lambda: private_text(refused), timeout=10)
    assert text.startswith("You already have 1 video waiting (in the queue or for approval); wait for it")
    # another member is not held up by this member's queue
    theirs = await fake_discord.slash("video", {"prompt": "theirs"}, user=other, channel_id=channel)
    await fake_discord.wait_for(lambda: len(fake_api.creates) == 2, timeout=10)
    assert fake_api.creates[1]["prompt"] == "theirs"
    for interaction in (first, second, theirs):
        assert video_attachment(await wait_final(fake_discord, interaction, timeout=30))
    assert [c["prompt"] for c in fake_api.creates] == ["one", "theirs", "two"]


async def test_queue_status_and_history_commands(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, (member, other) = await setup_guild(fake_discord, members=2)
    moderator = fake_discord.add_member(guild.id, name="mod", permissions=0x2000 | 0x400 | 0x800)
    fake_api.default_life = life(3.0)
    await run_bot({"MAX_RUNNING_JOBS": "1"})
    await fake_discord.wait_commands()
    first = await fake_discord.slash("video", {"prompt": "running one"}, user=member, channel_id=channel)
    await fake_discord.wait_for(lambda: fake_api.tasks, timeout=10)
    await fake_discord.slash("video", {"prompt": "waiting one"}, user=other, channel_id=channel)
    await fake_discord.wait_for(lambda: len(job_rows(tmp_path)) == 2, timeout=10)

    def embed_of(interaction):
        return interaction.responses[0]["data"]["embeds"][0] if interaction.responses else None

    queue = await fake_discord.slash("video-queue", user=other, channel_id=channel)
    shown = await fake_discord.wait_for(lambda: embed_of(queue), timeout=10)
    running, waiting = shown["fields"]
    assert "running one" in running["value"] and "waiting one" in waiting["value"]
    assert "#1 in line" in waiting["value"]
    assert f"/channels/{guild.id}/{channel}/{first.original.id}" in running["value"]

    task_id = next(iter(fake_api.tasks))
    status = await fake_discord.slash("video-status", {"job": task_id}, user=other, channel_id=channel)
    shown = await fake_discord.wait_for(lambda: embed_of(status), timeout=10)
    # Members find a job by its task id but are not shown it; moderators are.
    assert shown["description"] == "running one" and task_id not in repr(shown)
    status = await fake_discord.slash("video-status", {"job": "#1"}, user=moderator, channel_id=channel)
    shown = await fake_discord.wait_for(lambda: embed_of(status), timeout=10)
    assert task_id in shown["footer"]["text"]

    mine = await fake_discord.slash("video-history", user=member, channel_id=channel)
    shown = await fake_discord.wait_for(lambda: embed_of(mine), timeout=10)
    assert "running one" in shown["description"] and "waiting one" not in shown["description"]

    snoop = await fake_discord.slash("video-history", {"member": member}, user=other, channel_id=channel)
    text = await fake_discord.wait_for(lambda: private_text(snoop), timeout=10)
    assert "Manage Messages" in text
    allowed = await fake_discord.slash("video-history", {"member": other}, user=moderator, channel_id=channel)
    shown = await fake_discord.wait_for(lambda: embed_of(allowed), timeout=10)
    assert "waiting one" in shown["description"]


async def _run_order(fake_discord, fake_api, asks):
    """Send `asks` ((member, channel, prompt), one after another, each shown before the next)
    behind one running slot; the prompts in the order the relay got them."""
    interactions = []
    for member, channel, prompt in asks:
        interactions.append(
            await fake_discord.slash("video", {"prompt": prompt}, user=member, channel_id=channel)
        )
        await fake_discord.wait_for(lambda i=interactions[-1]: i.original and i.original.embeds)
    await asyncio.gather(*(wait_final(fake_discord, i, timeout=40) for i in interactions))
    return [c["prompt"] for c in fake_api.creates]


async def test_fair_turns_between_members_of_a_server(fake_discord, fake_api, run_bot):
    # One running slot: A's three requests, then B's one, run A, B, A, A.
    _, channel, (a, b) = await setup_guild(fake_discord, members=2)
    fake_api.default_life = life(1.0)
    await run_bot({"MAX_RUNNING_JOBS": "1", "MAX_WAITING_PER_MEMBER": "5"})
    await fake_discord.wait_commands()
    asks = [(a, channel, "A1"), (a, channel, "A2"), (a, channel, "A3"), (b, channel, "B1")]
    assert await _run_order(fake_discord, fake_api, asks) == ["A1", "B1", "A2", "A3"]


async def test_fair_turns_between_servers(fake_discord, fake_api, run_bot):
    # One slot; A and C in one server, B in another: A's two, then C's, then B's run A, B, C, A.
    _, one, (a, c) = await setup_guild(fake_discord, members=2)
    _, other, (b,) = await setup_guild(fake_discord, members=1)
    fake_api.default_life = life(1.0)
    await run_bot({"MAX_RUNNING_JOBS": "1", "MAX_WAITING_PER_MEMBER": "5"})
    await fake_discord.wait_commands()
    asks = [(a, one, "A1"), (a, one, "A2"), (c, one, "C1"), (b, other, "B1")]
    assert await _run_order(fake_discord, fake_api, asks) == ["A1", "B1", "C1", "A2"]

"""Sharding in one process: the bot runs the shards Discord recommends (or SHARD_COUNT), each
server's jobs and the DMs reach it on the shard Discord sends them to, and each is delivered once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.discord_server import FakeDiscord
from sandbox.discord_server.sharding import shard_of
from tests.e2e.helpers import life, settled_rows, video_attachment, wait_final

pytestmark = pytest.mark.e2e


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    # Discord recommends two shards, and lets two IDENTIFY at once.
    async with FakeDiscord(shard_count=2, max_concurrency=2) as discord:
        yield discord


async def test_every_recommended_shard_runs_and_jobs_on_each_and_in_dms_are_delivered_once(
    fake_discord, fake_api, run_bot, tmp_path
):
    guilds = [fake_discord.add_guild(shard=0), fake_discord.add_guild(shard=1)]
    members = [fake_discord.add_member(g.id, name=f"m{i}") for i, g in enumerate(guilds)]
    assert [shard_of(g.id, 2) for g in guilds] == [0, 1]
    fake_api.script(life(0.5))
    bot = await run_bot()
    await fake_discord.wait_commands()
    assert fake_discord.shards_connected() == [(0, 2), (1, 2)]
    assert "running all of 2 shard(s)" in bot.output

    dm = fake_discord.open_dm(members[0])
    asks = [
        (guilds[0].channels[0], members[0]),
        (guilds[1].channels[0], members[1]),
        (dm, members[0]),
    ]
    for channel, member in asks:
        job = await fake_discord.slash("video", {"prompt": f"in {channel}"}, user=member, channel_id=channel)
        assert video_attachment(await wait_final(fake_discord, job)) is not None
    assert len(fake_api.creates) == 3
    rows = await settled_rows(fake_discord, tmp_path)
    assert [(r["state"], r["guild_id"]) for r in rows] == [
        ("delivered", guilds[0].id),
        ("delivered", guilds[1].id),
        ("delivered", None),
    ]
    for channel, _ in asks:
        assert sum(1 for m in fake_discord.messages(channel) if video_attachment(m)) == 1


async def test_shard_count_runs_that_many_shards(fake_discord, fake_api, run_bot):
    guild = fake_discord.add_guild(shard=1)
    member = fake_discord.add_member(guild.id)
    fake_api.script(life(0.3))
    await run_bot({"SHARD_COUNT": "3", "SHARD_IDS": "0,1,2"})
    await fake_discord.wait_commands()
    assert fake_discord.shards_connected() == [(0, 3), (1, 3), (2, 3)]
    job = await fake_discord.slash(
        "video", {"prompt": "three shards"}, user=member, channel_id=guild.channels[0]
    )
    assert video_attachment(await wait_final(fake_discord, job)) is not None

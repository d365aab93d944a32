"""Two real bot processes (SHARD_COUNT=2, shard 0 and shard 1) on one real PostgreSQL, against
the sharded loopback Discord: each job is created and delivered once by the process that runs
its server's shard, a process killed mid-job finishes its jobs when it comes back, a member's
daily quota holds exactly across both, and a shard runs in one process only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sandbox.discord_server import FakeDiscord
from sandbox.discord_server.sharding import shard_of
from tests.e2e.harness import BotProcess, start_bot
from tests.e2e.helpers import life, private_text, video_attachment, wait_final
from tests.pg import TEST_DATABASE_URL, fresh_schema

pytestmark = pytest.mark.e2e


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(shard_count=2, max_concurrency=2) as discord:
        yield discord


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    async with fresh_schema() as schema:
        # asyncpg hands unknown URL parameters to the server: the bot's tables go in this schema.
        yield f"{TEST_DATABASE_URL}?search_path={schema}"


@pytest.fixture
async def shard_process(
    fake_discord, fake_api, tmp_path, database_url
) -> AsyncIterator[Callable[..., Awaitable[BotProcess]]]:
    """Start `python -m bot` running shard `n` of 2 on the shared database, in its own
    directory (no DATABASE_PATH file is used)."""
    started: list[BotProcess] = []

    async def start(shard: int, *, wait_ready: bool = True, **env: str) -> BotProcess:
        extra = {"DATABASE_URL": database_url, "SHARD_COUNT": "2", "SHARD_IDS": str(shard), **env}
        bot = await start_bot(fake_discord, fake_api, tmp_path / f"shard-{shard}", extra, wait_ready=False)
        started.append(bot)
        if wait_ready:
            try:
                await fake_discord.wait_for(lambda: "connected as" in bot.output, timeout=25)
            except TimeoutError:
                raise AssertionError(f"shard {shard} never became ready:\n{bot.output[-3000:]}") from None
        return bot

    yield start
    await asyncio.gather(*(bot.stop() for bot in started if bot.running))


def deliveries(fake_discord: FakeDiscord, channel: int) -> int:
    return sum(1 for m in fake_discord.messages(channel) if video_attachment(m))


async def test_each_process_runs_its_shards_jobs_once_and_a_killed_one_finishes_them_on_return(
    fake_discord, fake_api, shard_process, tmp_path
):
    guilds = [fake_discord.add_guild(shard=0), fake_discord.add_guild(shard=1)]
    members = [fake_discord.add_member(g.id, name=f"m{i}") for i, g in enumerate(guilds)]
    fake_api.default_life = life(0.6)
    first, second = await shard_process(0), await shard_process(1)
    await fake_discord.wait_commands()
    assert fake_discord.shards_connected() == [(0, 2), (1, 2)]
    dm = fake_discord.open_dm(members[1])  # DMs are shard 0's, whoever's server they share
    asks = [(guilds[0].channels[0], members[0]), (guilds[1].channels[0], members[1]), (dm, members[1])]
    jobs = await asyncio.gather(
        *(fake_discord.slash("video", {"prompt": f"in {c}"}, user=m, channel_id=c) for c, m in asks)
    )
    for job in jobs:
        assert video_attachment(await wait_final(fake_discord, job)) is not None
    assert len(fake_api.creates) == 3
    assert [deliveries(fake_discord, c) for c, _ in asks] == [1, 1, 1]
    # Each job was handled where Discord sent it: the DM and shard 0's server by the first.
    assert [shard_of(g.id, 2) for g in guilds] == [0, 1]
    assert (first.output.count("created upstream"), second.output.count("created upstream")) == (2, 1)

    # SIGKILL the second process mid-job, then bring it back: the job is finished once, and the
    # first process never touched it (it is not its shard's) while its owner was away.
    fake_api.default_life = life(3.0)
    job = await fake_discord.slash(
        "video", {"prompt": "survive"}, user=members[1], channel_id=guilds[1].channels[0]
    )
    await fake_discord.wait_for(lambda: len(fake_api.creates) == 4 and fake_api.queries, timeout=10)
    await second.kill9()
    meanwhile = await fake_discord.slash(
        "video", {"prompt": "shard 0 carries on"}, user=members[0], channel_id=guilds[0].channels[0]
    )
    assert video_attachment(await wait_final(fake_discord, meanwhile, timeout=20)) is not None
    await shard_process(1)
    assert video_attachment(await wait_final(fake_discord, job, timeout=25)) is not None
    assert len(fake_api.creates) == 5
    assert deliveries(fake_discord, guilds[1].channels[0]) == 2
    assert deliveries(fake_discord, guilds[0].channels[0]) == 2


async def test_a_members_daily_quota_holds_across_both_processes(fake_discord, fake_api, shard_process):
    # ann installed the app on her account; she uses it in two servers the bot is not in, one
    # on each shard, so her commands reach both processes at once.
    places = []
    for shard in (0, 1):
        guild = fake_discord.add_guild(name=f"Not ours {shard}", shard=shard)
        guild.bot_member = False
        places.append(guild)
    ann = fake_discord.add_member(places[0].id, name="ann")
    places[1].members[ann.id] = ann
    fake_api.default_life = life(0.4)
    await asyncio.gather(shard_process(0, USER_DAILY_QUOTA="3"), shard_process(1, USER_DAILY_QUOTA="3"))
    await fake_discord.wait_commands()
    asks = await asyncio.gather(
        *(
            fake_discord.slash(
                "video", {"prompt": f"try {i}"}, user=ann, channel_id=places[i % 2].channels[0]
            )
            for i in range(10)
        )
    )
    refused = []
    for interaction in asks:
        text = await fake_discord.wait_for(
            lambda i=interaction: private_text(i) or (i.original is not None and i.original.embeds),
            timeout=20,
        )
        if isinstance(text, str):
            refused.append(text)
    await fake_discord.wait_for(lambda: len(fake_api.creates) >= 3, timeout=15)
    await asyncio.sleep(0.5)  # a fourth create, if any, would have left by now
    assert len(fake_api.creates) == 3
    assert len(refused) == 7 and all("your 3 videos" in t for t in refused), refused


async def test_a_shard_already_running_elsewhere_stops_the_second_process(
    fake_discord, fake_api, shard_process, database_url, tmp_path
):
    await shard_process(1)
    late = await start_bot(
        fake_discord,
        fake_api,
        tmp_path / "late",
        {"DATABASE_URL": database_url, "SHARD_COUNT": "2", "SHARD_IDS": "1"},
        wait_ready=False,
    )
    assert await asyncio.wait_for(late.proc.wait(), 20) == 2
    lines = [line for line in late.output.splitlines() if line.startswith("bot:")]
    assert len(lines) == 1 and "shard 1 of 2 is already run by another process" in lines[0], late.output


async def test_a_notification_choice_made_through_one_process_applies_in_the_other(
    fake_discord, fake_api, shard_process
):
    guild = fake_discord.add_guild(shard=1)
    ann = fake_discord.add_member(guild.id, name="ann")
    fake_api.default_life = life(0.4)
    await asyncio.gather(shard_process(0), shard_process(1))
    await fake_discord.wait_commands()
    # First a job on shard 1, so its process has ann's choice (the default) in memory.
    first = await fake_discord.slash("video", {"prompt": "before"}, user=ann, channel_id=guild.channels[0])
    await wait_final(fake_discord, first)
    dm = fake_discord.open_dm(ann)
    chosen = await fake_discord.slash("video-settings", {"notify": "dm"}, user=ann, channel_id=dm)
    await fake_discord.wait_for(lambda: private_text(chosen), timeout=10)
    job = await fake_discord.slash("video", {"prompt": "after"}, user=ann, channel_id=guild.channels[0])
    await wait_final(fake_discord, job)
    # Shard 0's process wrote the choice; shard 1's, which had read the old one, tells ann by DM.
    told = await fake_discord.wait_for(
        lambda: [m for m in fake_discord.messages(dm) if (m.content or "").startswith("your video")],
        timeout=10,
    )
    assert len(told) == 1 and "#2 " in told[0].content

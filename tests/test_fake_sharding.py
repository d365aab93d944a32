"""The loopback Discord shards as Discord does, spoken to over the real gateway protocol.

Each connection here is a raw websocket doing HELLO and IDENTIFY. That a connection did *not*
get an event is shown without waiting: an event known to reach it is sent afterwards, and on
one ordered socket that marker must come next.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import pytest
from aiohttp import WSMsgType

from sandbox.discord_server import FakeDiscord, snowflake


@dataclass
class Shard:
    ws: aiohttp.ClientWebSocketResponse
    ready: dict[str, Any]
    guild_creates: list[str] = field(default_factory=list)

    async def next_event(self) -> dict[str, Any]:
        while True:
            frame = await self.ws.receive_json()
            if frame["op"] == 0:
                return frame


async def identify(http: aiohttp.ClientSession, fake: FakeDiscord, shard: list[Any] | None) -> Shard:
    ws = await http.ws_connect(fake.gateway_url + "?v=10&encoding=json")
    assert (await ws.receive_json())["op"] == 10
    data: dict[str, Any] = {"token": fake.token, "intents": 1, "properties": {"os": "linux"}}
    if shard is not None:
        data["shard"] = shard
    await ws.send_json({"op": 2, "d": data})
    conn = Shard(ws, {})
    ready = await conn.next_event()
    assert ready["t"] == "READY"
    conn.ready = ready["d"]
    for _ in conn.ready["guilds"]:
        event = await conn.next_event()
        assert event["t"] == "GUILD_CREATE"
        conn.guild_creates.append(event["d"]["id"])
    return conn


async def close_code(http: aiohttp.ClientSession, fake: FakeDiscord, shard: Any) -> int | None:
    ws = await http.ws_connect(fake.gateway_url)
    await ws.receive_json()  # HELLO
    await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1, "properties": {}, "shard": shard}})
    msg = await ws.receive()
    assert msg.type is WSMsgType.CLOSE
    return ws.close_code


async def only_marker_follows(fake: FakeDiscord, conn: Shard, guild_id: int | None) -> None:
    """`conn` got nothing since its last event: a marker routed to it arrives first."""
    await fake.dispatch("MARKER", {"guild_id": str(guild_id)}, guild_id=guild_id)
    assert (await conn.next_event())["t"] == "MARKER"


@pytest.fixture
async def two_shards():
    async with FakeDiscord(shard_count=2) as fake, aiohttp.ClientSession() as http:
        fake.global_commands.append({"id": str(snowflake()), "name": "ping", "type": 1, "options": []})
        yield fake, http


async def test_gateway_bot_recommends_the_shard_count_and_concurrency():
    async with FakeDiscord(shard_count=3, max_concurrency=2) as fake, aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bot {fake.token}"}
        async with http.get(fake.base_url + "/gateway/bot", headers=auth) as response:
            body = await response.json()
        assert body["url"] == fake.gateway_url
        assert body["shards"] == 3 and body["session_start_limit"]["max_concurrency"] == 2
        async with http.get(fake.base_url + "/gateway/bot") as response:
            assert response.status == 401


async def test_ready_and_guild_create_split_the_guilds_between_shards(two_shards):
    fake, http = two_shards
    on_0, on_1 = fake.add_guild(shard=0), fake.add_guild(shard=1)
    spread = fake.add_guilds(6)
    elsewhere = fake.add_guild(shard=1)
    elsewhere.bot_member = False  # only a user install there: no shard lists it
    shard0 = await identify(http, fake, [0, 2])
    assert fake.view()["ready"] is False  # shard 1's guilds have no connection yet
    shard1 = await identify(http, fake, [1, 2])
    assert fake.view()["ready"] is True
    listed = [[g["id"] for g in s.ready["guilds"]] for s in (shard0, shard1)]
    assert shard0.ready["shard"] == [0, 2] and shard1.ready["shard"] == [1, 2]
    assert [s.guild_creates for s in (shard0, shard1)] == listed
    for index, ids in enumerate(listed):
        assert all((int(g) >> 22) % 2 == index for g in ids)
    assert str(on_0.id) in listed[0] and str(on_1.id) in listed[1]
    assert sorted(listed[0] + listed[1]) == sorted(str(g.id) for g in [on_0, on_1, *spread])
    assert {(g.id >> 22) % 2 for g in spread} == {0, 1}


async def test_a_guild_interaction_and_a_dm_interaction_reach_only_their_shard(two_shards):
    fake, http = two_shards
    guild = fake.add_guild(shard=1)
    user = fake.add_member(guild.id)
    shard0 = await identify(http, fake, [0, 2])
    shard1 = await identify(http, fake, [1, 2])

    in_guild = await fake.slash("ping", user=user, channel_id=guild.channels[0])
    got = await shard1.next_event()
    assert got["t"] == "INTERACTION_CREATE" and got["d"]["id"] == str(in_guild.id)
    await only_marker_follows(fake, shard0, None)

    in_dm = await fake.slash("ping", user=user, channel_id=fake.open_dm(user))
    got = await shard0.next_event()
    assert got["t"] == "INTERACTION_CREATE" and got["d"]["id"] == str(in_dm.id)
    await only_marker_follows(fake, shard1, guild.id)


async def test_group_dm_interaction_reaches_shard_0(two_shards):
    fake, http = two_shards
    guild = fake.add_guild(shard=1)
    user = fake.add_member(guild.id)
    shard0 = await identify(http, fake, [0, 2])
    shard1 = await identify(http, fake, [1, 2])
    interaction = await fake.slash("ping", user=user, channel_id=fake.add_group_dm())
    got = await shard0.next_event()
    assert got["d"]["id"] == str(interaction.id) and got["d"]["context"] == 2
    await only_marker_follows(fake, shard1, guild.id)


async def test_a_user_install_interaction_goes_to_the_shard_of_that_servers_id(two_shards):
    fake, http = two_shards
    elsewhere = fake.add_guild(shard=1)
    elsewhere.bot_member = False
    user = fake.add_member(elsewhere.id)
    shard0 = await identify(http, fake, [0, 2])
    shard1 = await identify(http, fake, [1, 2])
    assert shard1.ready["guilds"] == []  # the bot is not in that server
    interaction = await fake.slash("ping", user=user, channel_id=elsewhere.channels[0])
    got = await shard1.next_event()
    assert got["d"]["id"] == str(interaction.id)
    assert got["d"]["authorizing_integration_owners"] == {"1": str(user.id)}
    await only_marker_follows(fake, shard0, None)


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0], "0,2", [True, 2]])
async def test_a_shard_that_cannot_be_is_closed_with_4010(two_shards, shard):
    fake, http = two_shards
    assert await close_code(http, fake, shard) == 4010
    assert fake.identify_count == 0


async def test_too_few_shards_are_closed_with_4011_sharding_required(two_shards):
    fake, http = two_shards
    assert await close_code(http, fake, None) == 4011  # no shard field: [0, 1]
    assert await close_code(http, fake, [0, 1]) == 4011
    more = await identify(http, fake, [2, 3])  # more shards than recommended is allowed
    assert more.ready["shard"] == [2, 3]


async def test_two_connections_on_one_shard_both_get_its_events(two_shards):
    fake, http = two_shards
    guild = fake.add_guild(shard=0)
    user = fake.add_member(guild.id)
    first = await identify(http, fake, [0, 2])
    second = await identify(http, fake, [0, 2])
    assert first.guild_creates == second.guild_creates == [str(guild.id)]
    interaction = await fake.slash("ping", user=user, channel_id=guild.channels[0])
    for conn in (first, second):
        got = await conn.next_event()
        assert got["t"] == "INTERACTION_CREATE" and got["d"]["id"] == str(interaction.id)


class Sharded(discord.AutoShardedClient):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s between IDENTIFYs: the loopback Discord does not rate-limit them."""


async def test_auto_sharded_discord_py_in_10000_servers_connects_every_shard():
    async with FakeDiscord(shard_count=4) as fake:
        guilds = fake.add_guilds(10_000)
        saved = discord.http.Route.BASE
        discord.http.Route.BASE = fake.base_url  # the gateway URL comes from /gateway/bot
        # A short guild_ready_timeout only saves waiting after the last GUILD_CREATE.
        client = Sharded(intents=discord.Intents(guilds=True), guild_ready_timeout=0.1)
        runner = asyncio.create_task(client.start(fake.token))
        try:
            await asyncio.wait_for(client.wait_until_ready(), 120)
            assert client.shard_count == 4 and sorted(client.shards) == [0, 1, 2, 3]
            assert {g.id for g in client.guilds} == {g.id for g in guilds}
            assert fake.identify_count == 4 and fake.invalid_requests == []
        finally:
            await client.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            discord.http.Route.BASE = saved

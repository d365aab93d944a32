"""The loopback Discord server against a real, in-process discord.py client."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands

from sandbox.discord_server import FakeDiscord


class Probe(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.none())
        self.tree = app_commands.CommandTree(self)
        self.modal_values: list[str] = []

        @self.tree.command(name="ask")
        async def ask(interaction: discord.Interaction) -> None:
            """Open a modal."""
            modal = discord.ui.Modal(title="Prompt", custom_id="probe:modal")
            field = discord.ui.TextInput(label="Prompt", custom_id="prompt")
            modal.add_item(field)

            async def on_submit(inner: discord.Interaction) -> None:
                self.modal_values.append(field.value)
                await inner.response.send_message(f"got {field.value}", ephemeral=True)

            modal.on_submit = on_submit  # type: ignore[method-assign]
            await interaction.response.send_modal(modal)

        @self.tree.command(name="post")
        async def post(interaction: discord.Interaction) -> None:
            """Post through the channel route."""
            await interaction.response.defer(ephemeral=True)
            channel = self.get_partial_messageable(interaction.channel_id)
            await channel.send("hello", file=discord.File(__file__, filename="x.py"))
            await interaction.followup.send("posted", ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.sync()


@pytest.fixture
async def client():
    async with FakeDiscord() as fake:
        guild = fake.add_guild()
        saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = fake.base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        probe = Probe()
        runner = asyncio.create_task(probe.start(fake.token))
        try:
            await fake.wait_ready()
            await fake.wait_commands()
            yield fake, probe, guild
            # The unmodified discord.py client sends only what Discord accepts (see test_discord_spec).
            assert fake.invalid_requests == []
        finally:
            await probe.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


async def test_modal_round_trip(client):
    fake, probe, guild = client
    user = fake.add_member(guild.id)
    opened = await fake.slash("ask", user=user, channel_id=guild.channels[0])
    response = await opened.wait_response()
    assert response["type"] == 9 and response["data"]["custom_id"] == "probe:modal"
    submitted = await fake.submit_modal(
        "probe:modal", {"prompt": "a red kite"}, user=user, channel_id=guild.channels[0]
    )
    await fake.wait_for(lambda: submitted.original, timeout=5)
    assert probe.modal_values == ["a red kite"]
    assert submitted.ephemeral and submitted.original.content == "got a red kite"


async def test_5xx_and_429_on_channel_routes_are_waited_out_by_discord_py(client):
    fake, _probe, guild = client
    user = fake.add_member(guild.id)
    fake.fail("POST", r"/channels/\d+/messages$", status=502, count=1)
    fake.rate_limit("POST", r"/channels/\d+/messages$", count=1, retry_after=0.2)
    interaction = await fake.slash("post", user=user, channel_id=guild.channels[0])
    await fake.wait_for(lambda: interaction.followups, timeout=15)
    (msg,) = fake.messages(guild.channels[0])
    assert msg.content == "hello" and msg.attachments[0].filename == "x.py"
    statuses = [r.status for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert statuses == [502, 429, 200]


async def test_dropped_gateway_is_resumed(client):
    fake, _probe, guild = client
    await fake.drop_gateway()
    await fake.wait_for(lambda: fake.resume_count == 1, timeout=15)
    assert fake.identify_count == 1
    user = fake.add_member(guild.id)
    opened = await fake.slash("ask", user=user, channel_id=guild.channels[0])
    assert (await opened.wait_response())["type"] == 9


async def test_a_wrong_token_is_refused():
    async with FakeDiscord() as fake:
        saved = discord.http.Route.BASE
        discord.http.Route.BASE = fake.base_url
        try:
            probe = Probe()
            with pytest.raises(discord.LoginFailure):
                await probe.login("not-the-token")
            await probe.close()
        finally:
            discord.http.Route.BASE = saved


async def _create(fake: FakeDiscord, channel: int, body: dict) -> tuple[int, dict]:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/channels/{channel}/messages", json=body, headers=headers) as r,
    ):
        return r.status, await r.json()


async def test_a_repeated_enforced_nonce_answers_the_message_already_made():
    async with FakeDiscord() as fake:
        (channel,) = fake.add_guild().channels
        once = {"content": "hi", "nonce": "veo:7:notify", "enforce_nonce": True}
        first, again = await _create(fake, channel, once), await _create(fake, channel, once)
        assert first == again and first[0] == 200 and first[1]["nonce"] == "veo:7:notify"
        # Without enforce_nonce Discord only echoes the nonce: two messages.
        loose = {"content": "hi", "nonce": "veo:8:notify"}
        one, two = await _create(fake, channel, loose), await _create(fake, channel, loose)
        assert one[1]["id"] != two[1]["id"]
        assert len(fake.messages(channel)) == 3


async def test_closed_dms_are_refused_as_discord_does():
    async with FakeDiscord() as fake:
        guild = fake.add_guild()
        user = fake.add_member(guild.id)
        fake.close_dms(user.id)
        status, body = await _create(fake, fake.open_dm(user), {"content": "hi"})
        assert (status, body["code"]) == (403, 50007)


async def test_a_lost_answer_still_makes_the_message():
    async with FakeDiscord() as fake:
        (channel,) = fake.add_guild().channels
        fake.lose_answer("POST", r"/channels/\d+/messages$")
        with pytest.raises(aiohttp.ClientConnectionError):
            await _create(fake, channel, {"content": "hi"})
        assert [m.content for m in fake.messages(channel)] == ["hi"]

"""The sandbox's pieces without a browser: the Discord server's page view and events, the page's
own rules (loopback host only, ranged media), and switching the simulator's profile."""

from __future__ import annotations

import aiohttp
import pytest

from bot.sandbox.discord_server import FakeDiscord
from bot.sandbox.page import Page
from bot.sandbox.relay import FakeVideoAPI
from bot.sandbox.simulator import PROFILES, Simulator
from bot.sandbox.world import CHANNELS, build_world


async def test_the_view_and_events_follow_messages():
    async with FakeDiscord() as discord:
        world = build_world(discord)
        general = world.channels["general"]
        with discord.watch() as events:
            posted = discord.post_message(general, world.member, f"hello <#{general}>")
            created = events.get_nowait()
            discord.delete_message(posted.id)
            deleted = events.get_nowait()
        assert created["type"] == "message" and created["message"]["content"].startswith("hello")
        assert created["message"]["author"]["name"] == "ann" and not created["message"]["ephemeral"]
        assert deleted["message"]["deleted"] is True
        view = discord.view()
        (guild,) = view["guilds"]
        assert [c["name"] for c in guild["channels"]] == list(CHANNELS)
        assert all(c["messages"] == [] for c in guild["channels"])  # deleted ones are gone
        assert {m["name"] for m in guild["members"]} == {"ann", "mo", "VeoBot"}
    # nobody watching: nothing queued, nothing kept
    assert not discord._watchers


@pytest.fixture
async def page():
    async with FakeDiscord() as discord, FakeVideoAPI() as relay:
        world = build_world(discord)

        async def restart() -> None:
            return None

        served = Page(discord, world, Simulator(discord, relay, "fast"), restart)
        await served.start(0)
        yield served, discord, world
        await served.close()


async def test_the_page_answers_only_to_its_loopback_name(page):
    served, _discord, _world = page
    async with aiohttp.ClientSession() as session:
        async with session.get(served.url + "/") as ok:
            assert ok.status == 200 and "<title>Veo bot sandbox</title>" in await ok.text()
        async with session.get(served.url + "/", headers={"Host": "evil.example:80"}) as rebound:
            assert rebound.status == 403


async def test_media_is_served_whole_or_in_ranges(page):
    served, discord, world = page
    data = bytes(range(256)) * 4
    message = discord.post_message(world.channels["general"], world.member, "", [("clip.mp4", data, None)])
    url = f"{served.url}/files/{message.attachments[0].id}/clip.mp4"
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as whole:
            assert whole.status == 200 and whole.content_type == "video/mp4"
            assert await whole.read() == data
        async with session.get(url, headers={"Range": "bytes=10-19"}) as part:
            assert part.status == 206 and await part.read() == data[10:20]
            assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
        async with session.get(url, headers={"Range": "bytes=-4"}) as tail:
            assert await tail.read() == data[-4:]
        async with session.get(url, headers={"Range": "bytes=5000-"}) as beyond:
            assert beyond.status == 416


async def test_switching_profiles_changes_the_relay_and_tells_the_page(page):
    served, discord, _world = page
    with discord.watch() as events:
        served.simulator.use("realistic")
        assert events.get_nowait() == {"type": "profile", "profile": "realistic"}
    assert served.simulator.relay.default_life == list(PROFILES["realistic"].life)
    total = sum(step.after for step in PROFILES["realistic"].life)
    assert 45 <= total <= 75  # "about a minute"

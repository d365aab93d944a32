"""The sandbox's pieces without a browser: the Discord server's page view and events, the page's
own rules (loopback host only, ranged media), and switching the simulator's profile."""

from __future__ import annotations

import json

import aiohttp
import pytest

from sandbox.discord_server import FakeDiscord
from sandbox.page import Page
from sandbox.relay import FakeVideoAPI
from sandbox.simulator import PROFILES, Simulator
from sandbox.world import CHANNELS, World, build_world


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
        assert {m["name"] for m in guild["members"]} == {"ann", "mo", "val", "VeoBot"}
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


# /video-admin roles as the bot registers it: a string choice and two role options.
ROLES_COMMAND = {
    "id": "1",
    "name": "video-admin",
    "type": 1,
    "description": "Server rules",
    "options": [
        {
            "name": "roles",
            "type": 1,
            "description": "Role lists",
            "options": [
                {"name": "setting", "type": 3, "description": "Which list", "required": True},
                {"name": "add", "type": 8, "description": "A role to add"},
                {"name": "remove", "type": 8, "description": "A role to take out"},
            ],
        }
    ],
}


async def slash_from_page(served: Page, world: World, **options: str) -> tuple[int, dict]:
    """/video-admin roles sent from the page as mo, in #audit: the status and the JSON answer."""
    form = aiohttp.FormData()
    form.add_field("user", str(world.moderator.id))
    form.add_field("channel", str(world.channels["audit"]))
    form.add_field("command", "video-admin")
    form.add_field("subcommand", "roles")
    form.add_field("options", json.dumps(options))
    async with aiohttp.ClientSession() as session, session.post(served.url + "/api/slash", data=form) as r:
        return r.status, await r.json()


async def test_a_role_option_that_is_no_role_is_refused_as_discord_does(page):
    served, discord, world = page
    discord.global_commands.append(ROLES_COMMAND)
    for bad in ("@mods", str(world.channels["general"]), "12"):
        status, body = await slash_from_page(served, world, setting="approver_roles", add=bad)
        assert status == 400, bad
        assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
        value = body["errors"]["data"]["options"]["0"]["options"]["1"]["value"]
        assert value["_errors"][0]["message"] == "Unknown role"
    assert discord.interactions == {}  # nothing reached the bot


async def test_the_server_has_roles_its_people_hold_and_a_real_role_passes(page):
    served, discord, world = page
    view = discord.view()["guilds"][0]
    assert {r["name"] for r in view["roles"]} == {"mods", "artists", "approvers"}
    holders = {m["name"]: m["roles"] for m in view["members"]}
    assert holders["mo"] == [str(world.roles["mods"])]
    assert holders["val"] == [str(world.roles["approvers"])]
    assert "@approvers" in {p["name"]: p["role"] for p in world.people()}["val"]
    discord.global_commands.append(ROLES_COMMAND)
    # Accepted: it goes on to the bot, which is not running here, so the page says it is offline.
    status, body = await slash_from_page(
        served, world, setting="approver_roles", add=str(world.roles["approvers"])
    )
    assert status == 200 and body == {"ok": False, "error": "VeoBot is offline (starting or restarting)"}


async def test_the_bots_dms_with_each_person_are_in_the_view(page):
    _served, discord, world = page
    dms = {d["user_id"]: d["id"] for d in discord.view()["dms"]}
    assert dms == {str(u): str(c) for u, c in world.dms.items()}
    assert set(world.dms) == {world.member.id, world.moderator.id, world.approver.id}
    posted = discord.post_message(world.dms[world.member.id], discord.bot, "Video #1 is done.")
    (dm,) = [d for d in discord.view()["dms"] if d["user_id"] == str(world.member.id)]
    assert [m["id"] for m in dm["messages"]] == [str(posted.id)]


async def test_restarting_the_bot_is_told_in_the_simulator_log(page):
    served, discord, _world = page
    with discord.watch() as events:
        async with aiohttp.ClientSession() as session, session.post(served.url + "/api/restart") as r:
            assert r.status == 200
        logged = [events.get_nowait() for _ in range(events.qsize())]
    texts = [e["text"] for e in logged if e["type"] == "log"]
    assert any("Restarting the bot" in t for t in texts) and any("started again" in t for t in texts)

"""The prompt library and styles on the real bot: save from a finished video, find it while
typing, the attribution in the job message, who may remove an entry, and a style applied."""

from __future__ import annotations

import pytest

from sandbox.world import build_world, set_rules
from tests.e2e.helpers import (
    BASIC,
    MANAGE_MESSAGES,
    button,
    field,
    job_rows,
    life,
    private_text,
    settled_rows,
    setup_guild,
    wait_final,
)

pytestmark = pytest.mark.e2e


async def test_a_saved_prompt_is_found_attributed_and_guarded(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, _ = await setup_guild(fake_discord, members=0)
    ann = fake_discord.add_member(guild.id, name="ann", permissions=BASIC)
    bob = fake_discord.add_member(guild.id, name="bob", permissions=BASIC)
    mod = fake_discord.add_member(guild.id, name="mo", permissions=BASIC | MANAGE_MESSAGES)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    first = await fake_discord.slash(
        "video", {"prompt": "paper lanterns over a night market @everyone"}, user=ann, channel_id=channel
    )
    done = await wait_final(fake_discord, first)

    # Save prompt, from the finished video: a modal asks for the name.
    pressed = await fake_discord.click(done, button(done, "save"), user=ann)
    modal = (await pressed.wait_response())["data"]
    saved = await fake_discord.submit_modal(
        modal["custom_id"], {"name": "lantern market"}, user=ann, channel_id=channel
    )
    assert "lantern market" in await fake_discord.wait_for(lambda: private_text(saved))

    # Another member finds it as they type, and a video made from it says where it came from.
    choices = await fake_discord.autocomplete("video", "from_library", "lant", user=bob, channel_id=channel)
    assert [c["value"] for c in choices] == ["lantern market"]
    used = await fake_discord.slash(
        "video", {"from_library": "lantern market", "prompt": "in the rain"}, user=bob, channel_id=channel
    )
    made = await wait_final(fake_discord, used)
    assert field(made, "Library") == "from ann's *lantern market*"
    assert fake_api.creates[-1]["prompt"] == "paper lanterns over a night market @everyone, in the rain"
    assert "@\u200beveryone" in made.embeds[0]["description"]  # shown inert: no ping
    rows = await settled_rows(fake_discord, tmp_path)
    assert (rows[-1]["library_name"], rows[-1]["library_author"]) == ("lantern market", "ann")

    listed = await fake_discord.slash("video-library", subcommand="list", user=bob, channel_id=channel)
    embed = await fake_discord.wait_for(lambda: listed.responses and listed.responses[0]["data"]["embeds"][0])
    assert "lantern market" in embed["fields"][0]["value"] and "used 1 time" in embed["fields"][0]["value"]

    # Another member may not remove it; a moderator may.
    refused = await fake_discord.slash(
        "video-library", {"entry": "lantern market"}, subcommand="remove", user=bob, channel_id=channel
    )
    assert "Only the member who saved" in await fake_discord.wait_for(lambda: private_text(refused))
    removed = await fake_discord.slash(
        "video-library", {"entry": "lantern market"}, subcommand="remove", user=mod, channel_id=channel
    )
    assert "Removed" in await fake_discord.wait_for(lambda: private_text(removed))
    gone = await fake_discord.autocomplete("video", "from_library", "", user=bob, channel_id=channel)
    assert gone == []


async def test_blocked_words_refuse_a_saved_prompt(fake_discord, fake_api, run_bot):
    guild, channel, (ann,) = await setup_guild(fake_discord, members=1)
    mod = fake_discord.add_member(guild.id, name="mo", permissions=BASIC | MANAGE_MESSAGES | (1 << 5))
    await run_bot()
    await fake_discord.wait_commands()
    blocked = await fake_discord.slash(
        "video-admin",
        {"setting": "blocked_patterns", "value": "gore"},
        subcommand="set",
        user=mod,
        channel_id=channel,
    )
    await blocked.wait_response()
    saved = await fake_discord.slash(
        "video-library",
        {"name": "bad", "prompt": "lots of gore"},
        subcommand="save",
        user=ann,
        channel_id=channel,
    )
    assert "blocked-words" in await fake_discord.wait_for(lambda: private_text(saved))
    assert not fake_api.creates


async def test_a_style_is_applied_and_shown(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, (ann,) = await setup_guild(fake_discord, members=1)
    mod = fake_discord.add_member(guild.id, name="mo", permissions=BASIC | MANAGE_MESSAGES)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    shipped = await fake_discord.autocomplete("video", "style", "", user=ann, channel_id=channel)
    assert {"anime", "cinematic", "documentary"} <= {c["value"] for c in shipped}

    refused = await fake_discord.slash(
        "video-style",
        {"name": "noir", "text": "black and white"},
        subcommand="set",
        user=ann,
        channel_id=channel,
    )
    assert "Manage Messages" in await fake_discord.wait_for(lambda: private_text(refused))
    changed = await fake_discord.slash(
        "video-style",
        {"name": "noir", "text": "black and white, hard shadows", "shape": "portrait"},
        subcommand="set",
        user=mod,
        channel_id=channel,
    )
    await changed.wait_response()

    asked = await fake_discord.slash(
        "video", {"prompt": "a detective in an alley", "style": "noir"}, user=ann, channel_id=channel
    )
    made = await wait_final(fake_discord, asked)
    assert field(made, "Style") == "noir"
    body = fake_api.creates[-1]
    assert body["prompt"] == "a detective in an alley, black and white, hard shadows"
    assert body["orientation"] == "portrait" and "style" not in body
    assert job_rows(tmp_path)[-1]["style"] == "noir"


async def test_the_sandbox_has_a_library_entry_and_styles_to_try(fake_discord, run_bot):
    world = build_world(fake_discord)
    await run_bot()
    await set_rules(fake_discord, world)
    general = world.channels["general"]
    entries = await fake_discord.autocomplete(
        "video", "from_library", "", user=world.moderator, channel_id=general
    )
    assert [c["value"] for c in entries] == ["lantern market"]
    styles = await fake_discord.autocomplete("video", "style", "", user=world.member, channel_id=general)
    assert "cinematic" in {c["value"] for c in styles}

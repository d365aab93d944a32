"""Server settings changed by command and enforced before anything is spent."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import (
    BASIC,
    MANAGE_GUILD,
    admin_change,
    answer,
    life,
    setup_guild,
    video_attachment,
    wait_final,
)

pytestmark = pytest.mark.e2e


async def test_settings_are_changed_by_moderators_and_enforced(fake_discord, fake_api, run_bot):
    guild, channel, (member, _other) = await setup_guild(fake_discord, members=2, channels=2)
    other_channel = guild.channels[1]
    artist_role = fake_discord.add_role(guild.id, "artists")
    artist = fake_discord.add_member(guild.id, name="artist", roles=[artist_role])
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    admin_cmd = fake_discord.command("video-admin")
    assert admin_cmd["default_member_permissions"] == str(MANAGE_GUILD)

    async def admin_set(setting, value, user=admin):
        return await admin_change(fake_discord, user, channel, setting, value)

    assert "Manage Server" in await admin_set("max_duration", "4", user=member)

    assert "max_duration is now: 4 s" in await admin_set("max_duration", "4")
    refused = await fake_discord.slash(
        "video", {"prompt": "long", "duration": 8}, user=member, channel_id=channel
    )
    assert "at most 4 seconds" in await answer(fake_discord, refused)

    await admin_set("blocked_patterns", "dragon, /fire\\w*/")
    refused = await fake_discord.slash("video", {"prompt": "A DRAGON flies"}, user=member, channel_id=channel)
    text = await answer(fake_discord, refused)
    assert "blocked-words rules" in text and "dragon" not in text.lower()
    await admin_set("reveal_blocked_words", "yes")
    refused = await fake_discord.slash("video", {"prompt": "a fireball"}, user=member, channel_id=channel)
    assert "matched: fireball" in await answer(fake_discord, refused)

    await admin_set("allowed_channels", f"<#{other_channel}>")
    refused = await fake_discord.slash("video", {"prompt": "here"}, user=member, channel_id=channel)
    assert "can only be made in" in await answer(fake_discord, refused)
    allowed = await fake_discord.slash(
        "video", {"prompt": "there", "duration": 4}, user=member, channel_id=other_channel
    )
    finished = await wait_final(fake_discord, allowed)
    assert video_attachment(finished) is not None

    await admin_set("generator_roles", f"<@&{artist_role}>")
    refused = await fake_discord.slash("video", {"prompt": "no role"}, user=member, channel_id=other_channel)
    assert "video roles" in await answer(fake_discord, refused)
    with_role = await fake_discord.slash(
        "video", {"prompt": "with role", "duration": 4}, user=artist, channel_id=other_channel
    )
    assert video_attachment(await wait_final(fake_discord, with_role)) is not None
    assert [c["prompt"] for c in fake_api.creates] == ["there", "with role"]

    await admin_set("allow_remix_others", "no")
    remix_id = next(
        c["custom_id"]
        for row in finished.components
        for c in row["components"]
        if ":remix:" in c["custom_id"]
    )
    by_other = await fake_discord.click(finished, remix_id, user=artist)
    assert "remixing other members" in await answer(fake_discord, by_other)
    await admin_set("generator_roles", "none")
    by_owner = await fake_discord.click(finished, remix_id, user=member)
    assert await answer(fake_discord, by_owner) == "modal"

    shown = await fake_discord.slash("video-admin", subcommand="show", user=admin, channel_id=channel)
    embed = await fake_discord.wait_for(lambda: shown.responses and shown.responses[0]["data"]["embeds"][0])
    values = {f["name"]: f["value"] for f in embed["fields"]}
    # Readable names; each value says whether this server set it or it is the default.
    assert (
        values["Max duration"] == "4 s\n*this server*" and values["Allow remix others"] == "no\n*this server*"
    )
    assert values["Allowed channels"] == f"<#{other_channel}>\n*this server*"
    assert values["Cooldown seconds"] == "none (bot default)\n*default*"

    reset = await fake_discord.slash(
        "video-admin", {"setting": "allowed_channels"}, subcommand="reset", user=admin, channel_id=channel
    )
    assert "back to its default: any" in await answer(fake_discord, reset)

"""/video beyond servers that added the bot: its DM, user installs where the bot is not a
member (only the interaction's webhook works there), the owner's user quota and allow-lists."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.helpers import (
    PNG,
    button,
    life,
    private_text,
    settled_rows,
    setup_guild,
    video_attachment,
    wait_final,
)

pytestmark = pytest.mark.e2e

MEMBER_COMMANDS = ("video", "video-help", "video-status", "video-history", "video-usage", "video-settings")


def channel_requests(fake_discord, channel):
    return [r for r in fake_discord.requests if f"/channels/{channel}" in r.path]


async def user_install_guild(fake_discord):
    """A server where ann installed the app on her account; the bot is not a member."""
    guild = fake_discord.add_guild(name="Not ours")
    guild.bot_member = False
    ann = fake_discord.add_member(guild.id, name="ann")
    return guild, guild.channels[0], ann


async def test_member_commands_are_offered_everywhere_admin_ones_in_servers(fake_discord, run_bot):
    await run_bot()
    commands = {c["name"]: c for c in await fake_discord.wait_commands()}
    for name in MEMBER_COMMANDS:
        assert commands[name]["integration_types"] == [0, 1], name
        assert commands[name]["contexts"] == [0, 1, 2], name
    assert commands["video-admin"]["contexts"] == [0]
    assert commands["video-admin"].get("integration_types", [0]) == [0]


async def test_a_dm_job_is_delivered_once(fake_discord, fake_api, run_bot, tmp_path):
    _, _, (ann,) = await setup_guild(fake_discord)
    dm = fake_discord.open_dm(ann)
    fake_api.default_life = life(0.5)
    await run_bot()
    await fake_discord.wait_commands()
    job = await fake_discord.slash("video", {"prompt": "in my DMs"}, user=ann, channel_id=dm)
    message = await wait_final(fake_discord, job)
    assert video_attachment(message) is not None
    # The footer counts the owner's user quota (USER_DAILY_QUOTA, default 3) here.
    assert message.embeds[0]["footer"]["text"] == "2 of 3 left today"
    rows = await settled_rows(fake_discord, tmp_path)
    assert [(r["state"], r["scope"], r["guild_id"]) for r in rows] == [("delivered", "dm", None)]
    assert len(fake_api.creates) == 1
    assert sum(1 for m in fake_discord.messages(dm) if video_attachment(m)) == 1


async def test_a_user_install_job_goes_only_through_the_webhook(fake_discord, fake_api, run_bot, tmp_path):
    _guild, channel, ann = await user_install_guild(fake_discord)
    fake_api.default_life = life(0.5)
    await run_bot()
    await fake_discord.wait_commands()
    job = await fake_discord.slash(
        "video",
        {"prompt": "a kite"},
        user=ann,
        channel_id=channel,
        attachments={"image": ("kite.png", PNG, "image/png")},
    )
    message = await wait_final(fake_discord, job)
    assert video_attachment(message) is not None
    # Reroll works there too: the reference image comes from the message the button was on.
    rerolled = await fake_discord.click(message, button(message, "reroll"), user=ann)
    second = await wait_final(fake_discord, rerolled)
    assert video_attachment(second) is not None
    assert len(fake_api.creates) == 2 and len(fake_api.creates[1]["images"]) == 1
    rows = await settled_rows(fake_discord, tmp_path)
    assert [(r["state"], r["scope"]) for r in rows] == [("delivered", "user"), ("delivered", "user")]
    # Nothing was sent to (or read from) a channel the bot cannot see.
    assert channel_requests(fake_discord, channel) == []


async def test_a_user_install_job_outliving_its_token_is_delivered_by_dm(
    fake_discord, fake_api, run_bot, tmp_path
):
    _guild, channel, ann = await user_install_guild(fake_discord)
    fake_api.default_life = life(1.5)
    fake_discord.expire_tokens_after(0.5)
    await run_bot()
    await fake_discord.wait_commands()
    await fake_discord.slash("video", {"prompt": "slow kite"}, user=ann, channel_id=channel)
    rows = await settled_rows(fake_discord, tmp_path)
    assert rows[0]["state"] == "delivered" and rows[0]["delivery_mode"] == "dm"
    (dm,) = fake_discord.messages(fake_discord.dm_channels[ann.id])
    assert dm.content.endswith("small.mp4") and "video #1" in dm.content
    await asyncio.sleep(0.3)
    assert channel_requests(fake_discord, channel) == []


async def test_the_owner_keeps_spend_under_control(fake_discord, fake_api, run_bot):
    _guild, channel, (ann, bob) = await setup_guild(fake_discord, members=2)
    dm = fake_discord.open_dm(ann)
    fake_api.default_life = life(0.3)
    await run_bot({"USER_DAILY_QUOTA": "1", "ALLOWED_USERS": f"{ann.id}"})
    await fake_discord.wait_commands()

    async def refusal(user, where):
        asked = await fake_discord.slash("video", {"prompt": "x"}, user=user, channel_id=where)
        return await fake_discord.wait_for(lambda: private_text(asked))

    await wait_final(
        fake_discord, await fake_discord.slash("video", {"prompt": "one"}, user=ann, channel_id=dm)
    )
    assert "used your 1 video for today outside servers" in await refusal(ann, dm)
    assert "not allowed your account" in await refusal(bob, channel)
    # The server's own rules (no quota here) still apply in a server that added the bot.
    await wait_final(
        fake_discord, await fake_discord.slash("video", {"prompt": "two"}, user=ann, channel_id=channel)
    )
    assert len(fake_api.creates) == 2


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"USER_DAILY_QUOTA": "0"}, "turned off videos outside servers"),
        ({"ALLOWED_GUILDS": "123456789012345678"}, "not allowed it in this server"),
    ],
    ids=["user-use-off", "guild-not-allowed"],
)
async def test_refusals_name_the_rule(fake_discord, fake_api, run_bot, env, said):
    _guild, channel, ann = await user_install_guild(fake_discord)
    await run_bot(env)
    await fake_discord.wait_commands()
    asked = await fake_discord.slash("video", {"prompt": "x"}, user=ann, channel_id=channel)
    assert said in await fake_discord.wait_for(lambda: private_text(asked))
    assert fake_api.creates == []

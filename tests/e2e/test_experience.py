"""What members and moderators see, against the real bot: who is notified, how time is shown,
help with this server's figures, a welcome, pickers, and buttons that make sense."""

from __future__ import annotations

import asyncio
import re

import pytest

from sandbox.relay import Step
from tests.e2e.helpers import (
    BASIC,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    admin_change,
    answer,
    custom_ids,
    field,
    life,
    private_text,
    settled_rows,
    setup_guild,
    wait_final,
)

pytestmark = pytest.mark.e2e


def pings(fake_discord, channel):
    return [m for m in fake_discord.messages(channel) if (m.allowed_mentions or {}).get("users")]


async def test_members_choose_how_they_are_told_a_job_ended(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, (ann, bob, cy) = await setup_guild(fake_discord, members=3)
    fake_api.default_life = life(0.4)
    await run_bot()
    await fake_discord.wait_commands()
    for user, notify in ((bob, "dm"), (cy, "off")):
        chosen = await fake_discord.slash("video-settings", {"notify": notify}, user=user, channel_id=channel)
        assert "Saved." in await answer(fake_discord, chosen)
    prompt = "ann's cow @everyone"
    jobs = [
        await fake_discord.slash("video", {"prompt": p}, user=u, channel_id=channel)
        for u, p in ((ann, prompt), (bob, "bob's"), (cy, "cy's"))
    ]
    for job in jobs:
        await wait_final(fake_discord, job)
    await settled_rows(fake_discord, tmp_path)
    await asyncio.sleep(0.3)
    # ann (default): one new message that pings her and nobody else, once.
    (ping,) = pings(fake_discord, channel)
    assert ping.allowed_mentions["users"] == [ann.id] and ping.allowed_mentions["parse"] == []
    assert not ping.allowed_mentions.get("roles")
    assert ping.content.startswith(f"<@{ann.id}> your video #1 is ready.")
    assert "@everyone" not in ping.content  # the prompt is not repeated in the ping
    # bob: a DM with the link to his job message; cy: nothing at all.
    (dm,) = fake_discord.messages(fake_discord.dm_channels[bob.id])
    assert dm.content.startswith("your video #2 is ready.") and "/channels/" in dm.content
    assert cy.id not in fake_discord.dm_channels
    assert not [m for m in fake_discord.messages(channel) if f"<@{cy.id}>" in m.content]


async def test_a_failed_job_notifies_too_and_offers_remix_not_reroll(fake_discord, fake_api, run_bot):
    _, channel, (ann,) = await setup_guild(fake_discord)
    fake_api.script(
        [Step("queued"), Step("failed", after=0.2, extra={"fail_reason": "content policy violation"})]
    )
    await run_bot()
    await fake_discord.wait_commands()
    job = await fake_discord.slash("video", {"prompt": "x"}, user=ann, channel_id=channel)
    message = await wait_final(fake_discord, job)
    assert "content policy" in field(message, "What happened")
    # Reroll would be refused again (and spend quota): only Remix and Delete are offered.
    assert {i.split(":")[1] for i in custom_ids(message)} == {"remix", "delete"}
    (ping,) = await fake_discord.wait_for(lambda: pings(fake_discord, channel))
    assert "could not be made" in ping.content


async def test_time_is_live_and_the_estimate_comes_from_recent_jobs(fake_discord, fake_api, run_bot):
    _, channel, (ann,) = await setup_guild(fake_discord)
    fake_api.default_life = [Step("queued"), Step("completed", 100, after=0.3, video="small")]
    await run_bot()
    await fake_discord.wait_commands()
    for i in range(3):  # three finished jobs of this model make a history to estimate from
        await wait_final(
            fake_discord, await fake_discord.slash("video", {"prompt": f"p{i}"}, user=ann, channel_id=channel)
        )
    fake_api.default_life = [Step("queued"), Step("completed", 100, after=3.0, video="small")]
    job = await fake_discord.slash("video", {"prompt": "estimated"}, user=ann, channel_id=channel)

    def estimated():
        msg = job.original
        return msg if msg and msg.embeds and field(msg, "Likely ready") else None

    msg = await fake_discord.wait_for(estimated, timeout=10)
    assert re.fullmatch(r"<t:\d+:R>", field(msg, "Asked"))
    ready = int(re.fullmatch(r"<t:(\d+):R>", field(msg, "Likely ready"))[1])
    assert abs(ready - msg.created) < 30
    done = await wait_final(fake_discord, job)
    assert field(done, "Took") and field(done, "Likely ready") is None and field(done, "Asked") is None


async def test_help_shows_this_servers_figures_and_a_checklist_for_managers(fake_discord, fake_api, run_bot):
    guild, channel, (ann,) = await setup_guild(fake_discord)
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    await admin_change(fake_discord, admin, channel, "member_daily_quota", "3")
    await wait_final(
        fake_discord, await fake_discord.slash("video", {"prompt": "one"}, user=ann, channel_id=channel)
    )

    def help_of(user):
        async def ask():
            asked = await fake_discord.slash("video-help", user=user, channel_id=channel)
            response = await asked.wait_response()
            assert response["data"]["flags"] & 64  # private
            return {f["name"]: f["value"] for f in response["data"]["embeds"][0]["fields"]}

        return ask()

    mine = await help_of(ann)
    assert "you: 1 of 3 videos (2 left)" in mine["Your rules here"]
    assert "Veo 3.1 Fast: text, or one first frame (default)" in mine["Models here"]
    assert "Set-up checklist (Manage Server)" not in mine
    theirs = await help_of(admin)
    checklist = theirs["Set-up checklist (Manage Server)"]
    assert "✅ I can post videos in this channel." in checklist and "✅ Member quota: 3 a day." in checklist


async def test_a_new_server_is_welcomed_only_where_the_bot_may_post(fake_discord, run_bot):
    await run_bot()
    await fake_discord.wait_commands()
    open_guild = fake_discord.add_guild(channels=1)
    open_guild.system_channel_id = open_guild.channels[0]
    closed = fake_discord.add_guild(channels=1)
    closed.system_channel_id = closed.channels[0]
    closed.read_only_channels.add(closed.channels[0])
    await fake_discord.join_guild(open_guild)
    await fake_discord.join_guild(closed)
    (welcome,) = await fake_discord.wait_for(lambda: fake_discord.messages(open_guild.channels[0]))
    assert "/video-help" in welcome.embeds[0]["description"]
    assert "No member quota" in welcome.embeds[0]["fields"][0]["value"]
    await asyncio.sleep(0.5)
    assert fake_discord.messages(closed.channels[0]) == []


async def test_admin_settings_use_discords_pickers(fake_discord, run_bot):
    await run_bot()
    commands = await fake_discord.wait_commands()
    admin = next(c for c in commands if c["name"] == "video-admin")
    subs = {o["name"]: {p["name"]: p["type"] for p in o.get("options", [])} for o in admin["options"]}
    assert subs["channels"]["add"] == 7 and subs["channels"]["remove"] == 7
    assert subs["roles"]["add"] == 8 and subs["roles"]["remove"] == 8
    assert subs["audit-channel"]["channel"] == 7
    set_choices = next(o for o in admin["options"] if o["name"] == "set")["options"][0]["choices"]
    assert not {c["value"] for c in set_choices} & {"allowed_channels", "approver_roles", "audit_channel"}


async def test_approval_requests_ping_only_the_approver_roles(fake_discord, fake_api, run_bot):
    guild, channel, (ann,) = await setup_guild(fake_discord, channels=2)
    audit = guild.channels[1]
    role = fake_discord.add_role(guild.id, "approvers")
    admin = fake_discord.add_member(
        guild.id, name="admin", permissions=BASIC | MANAGE_GUILD | MANAGE_MESSAGES
    )
    await run_bot()
    await fake_discord.wait_commands()
    await admin_change(fake_discord, admin, channel, "audit_channel", f"<#{audit}>")
    await admin_change(fake_discord, admin, channel, "approval_channels", f"<#{channel}>")
    await admin_change(fake_discord, admin, channel, "approver_roles", f"<@&{role}>")
    await fake_discord.slash("video", {"prompt": "please @everyone"}, user=ann, channel_id=channel)
    request = await fake_discord.wait_for(
        lambda: next((m for m in fake_discord.messages(audit) if m.components), None)
    )
    assert request.content.startswith(f"🛂 <@&{role}>: <@{ann.id}> asks for a video")
    assert request.allowed_mentions["roles"] == [role] and request.allowed_mentions["parse"] == []
    assert not request.allowed_mentions.get("users")


async def test_a_refusal_before_anything_is_spent_leaves_no_public_trace(
    fake_discord, fake_api, run_bot, tmp_path
):
    guild, channel, (ann,) = await setup_guild(fake_discord)
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    await admin_change(fake_discord, admin, channel, "member_daily_quota", "1")
    first = await wait_final(
        fake_discord, await fake_discord.slash("video", {"prompt": "one"}, user=ann, channel_id=channel)
    )
    assert first.embeds[0]["footer"]["text"] == "0 of 1 left today"
    await settled_rows(fake_discord, tmp_path)  # the first job's notification is out too
    before = len(fake_discord.messages(channel))
    again = await fake_discord.slash("video", {"prompt": "two"}, user=ann, channel_id=channel)
    assert "used your 1 video for today" in await fake_discord.wait_for(lambda: private_text(again))
    # Refused before the public "thinking…": nothing appeared in the channel, not even briefly.
    assert again.responses[0]["type"] == 4 and again.responses[0]["data"]["flags"] & 64
    assert len(fake_discord.messages(channel)) == before
    assert len(fake_api.creates) == 1


async def test_choices_offer_only_what_this_server_allows(fake_discord, run_bot):
    guild, channel, (ann,) = await setup_guild(fake_discord)
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    await run_bot()
    await fake_discord.wait_commands()
    await admin_change(fake_discord, admin, channel, "models", "veo3.1-fast, veo3.1-fast-components")
    await admin_change(fake_discord, admin, channel, "max_duration", "6")
    models = await fake_discord.autocomplete("video", "model", "", user=ann, channel_id=channel)
    assert [(c["name"], c["value"]) for c in models] == [
        ("Veo 3.1 Fast: text, or one first frame", "veo3.1-fast"),
        ("Veo 3.1 Fast Components: 1 to 3 reference images", "veo3.1-fast-components"),
    ]
    assert [
        c["value"]
        for c in await fake_discord.autocomplete("video", "model", "comp", user=ann, channel_id=channel)
    ] == ["veo3.1-fast-components"]
    durations = await fake_discord.autocomplete("video", "duration", "", user=ann, channel_id=channel)
    assert [c["value"] for c in durations] == [4, 6]  # 8 s is over this server's max_duration


async def test_the_prompt_option_allows_only_what_the_bot_accepts(fake_discord, run_bot):
    # Discord stops the member at the bot's real limit (MAX_PROMPT_LENGTH), instead of the bot
    # refusing a longer prompt after it is sent, when the typed text is lost.
    await run_bot({"MAX_PROMPT_LENGTH": "1500"})
    await fake_discord.wait_commands()
    options = {o["name"]: o for o in fake_discord.command("video")["options"]}
    assert options["prompt"]["max_length"] == 1500

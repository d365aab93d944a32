"""Spend control and moderated channels, through the real bot: quotas under concurrent commands,
cooldown, per-server models, approval (approve and reject, before and after a restart), audit lines."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time

import pytest

from bot.rules.quota import next_reset
from tests.e2e.helpers import (
    BASIC,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    PNG,
    admin_change,
    answer,
    button,
    custom_ids,
    field,
    job_rows,
    life,
    private_text,
    settled_rows,
    setup_guild,
    video_attachment,
    wait_final,
)

pytestmark = pytest.mark.e2e


async def admin_set(fake_discord, admin, channel, setting, value):
    text = await admin_change(fake_discord, admin, channel, setting, value)
    assert f"{setting} is now" in text, text
    return text


async def outcome(fake_discord, interaction, timeout=15.0):
    """'job' once the command's reply became a job message, else the private refusal."""

    def seen():
        private = private_text(interaction)
        if private:
            return private
        msg = interaction.original
        if msg is not None and msg.embeds and not msg.deleted:
            return "job"
        return None

    return await fake_discord.wait_for(seen, timeout=timeout)


async def test_quotas_are_exact_under_concurrent_commands(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, (ann, bob) = await setup_guild(fake_discord, members=2)
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    moderator = fake_discord.add_member(guild.id, name="mod", permissions=BASIC | MANAGE_MESSAGES)
    fake_api.default_life = life(0.5)
    await run_bot({"QUOTA_TIMEZONE": "Europe/Berlin"})
    await fake_discord.wait_commands()
    await admin_set(fake_discord, admin, channel, "member_daily_quota", "2")
    await admin_set(fake_discord, admin, channel, "server_daily_quota", "3")

    # A create the relay refuses bills nothing, so it uses no quota.
    fake_api.fail_create(status=402, body={"error": {"message": "insufficient balance"}})
    refused_upstream = await fake_discord.slash("video", {"prompt": "no money"}, user=bob, channel_id=channel)
    assert "Failed" in field(await wait_final(fake_discord, refused_upstream), "Status")

    # Five commands from one member at once: exactly two are accepted.
    burst = await asyncio.gather(
        *[fake_discord.slash("video", {"prompt": f"ann {i}"}, user=ann, channel_id=channel) for i in range(5)]
    )
    results = await asyncio.gather(*[outcome(fake_discord, i) for i in burst])
    assert results.count("job") == 2, results
    refusals = [r for r in results if r != "job"]
    assert all("You have used your 2 videos for today" in r for r in refusals), refusals
    assert all("midnight Europe/Berlin" in r for r in refusals)
    # A refused command leaves nothing public behind.
    assert all(i.original is None or i.original.deleted for i in burst if private_text(i))
    # They arrived together, so they passed the early check together and were refused by the
    # count inside the insert's transaction, after the public "thinking…" reply.
    assert all(i.deferred for i in burst if private_text(i))

    # Two more from another member: the server has one video left.
    pair = await asyncio.gather(
        *[fake_discord.slash("video", {"prompt": f"bob {i}"}, user=bob, channel_id=channel) for i in range(2)]
    )
    results = await asyncio.gather(*[outcome(fake_discord, i) for i in pair])
    assert sorted(results, key=len)[0] == "job"
    assert "This server has used its 3 videos for today" in sorted(results, key=len)[1]

    rows = await settled_rows(fake_discord, tmp_path)
    assert sorted(r["state"] for r in rows) == ["delivered"] * 3 + ["failed"]
    assert len(fake_api.tasks) == 3  # billed: exactly the quota
    assert sum(1 for m in fake_discord.messages(channel) if video_attachment(m)) == 3

    usage = await fake_discord.slash("video-usage", user=ann, channel_id=channel)
    text = (await fake_discord.wait_for(lambda: usage.responses and usage.responses[0]["data"]["embeds"]))[0][
        "description"
    ]
    assert "**You:** 2 of 2 videos (0 left)" in text
    assert "**This server:** 3 of 3 videos (0 left)" in text
    reset = re.search(r"Quotas reset <t:(\d+):R> \(midnight, Europe/Berlin\)", text)
    assert reset and int(reset[1]) == int(next_reset(time.time(), "Europe/Berlin"))

    peek = await fake_discord.slash("video-usage", {"member": bob}, user=ann, channel_id=channel)
    assert "Manage Messages" in await answer(fake_discord, peek)
    peek = await fake_discord.slash("video-usage", {"member": bob}, user=moderator, channel_id=channel)
    embed = await fake_discord.wait_for(lambda: peek.responses and peek.responses[0]["data"]["embeds"])
    assert f"**{bob.name}:**" in embed[0]["description"]  # the member asked about, by name
    assert "1 of 2 videos (1 left)" in embed[0]["description"]  # the refused create is not counted

    # Midnight passes in Berlin (the rows are moved a day back, as the clock cannot be): new quota.
    db = sqlite3.connect(tmp_path / "bot.db")
    with db:
        db.execute("update jobs set created_at = created_at - 86400")
    db.close()
    next_day = await fake_discord.slash("video", {"prompt": "ann tomorrow"}, user=ann, channel_id=channel)
    assert video_attachment(await wait_final(fake_discord, next_day)) is not None


async def test_cooldown_and_the_servers_models(fake_discord, fake_api, run_bot):
    guild, channel, (ann, bob) = await setup_guild(fake_discord, members=2, channels=2)
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    fake_api.default_life = life(0.3)
    await run_bot({"COOLDOWN_SECONDS": "60"})
    await fake_discord.wait_commands()

    # An audit channel the bot cannot write to: the moderator is told at once.
    fake_discord.forbid_channel(guild.channels[1])
    setting = await fake_discord.slash(
        "video-admin",
        {"channel": guild.channels[1]},
        subcommand="audit-channel",
        user=admin,
        channel_id=channel,
    )
    warning = await fake_discord.wait_for(
        lambda: next((m.content for m in setting.followups if "could not post" in m.content), None)
    )
    assert f"<#{guild.channels[1]}>" in warning and "Send Messages" in warning
    await admin_set(fake_discord, admin, channel, "models", "veo3.1, veo3.1-fast-components")
    await admin_set(fake_discord, admin, channel, "default_model", "veo3.1")

    first = await fake_discord.slash("video", {"prompt": "first"}, user=ann, channel_id=channel)
    await wait_final(fake_discord, first)
    assert fake_api.creates[-1]["model"] == "veo3.1"  # the server's default, not the bot owner's
    again = await fake_discord.slash("video", {"prompt": "again"}, user=ann, channel_id=channel)
    text = await answer(fake_discord, again)
    assert "one video every 60 seconds" in text and "Try again in" in text

    other_model = await fake_discord.slash(
        "video", {"prompt": "fast", "model": "veo3.1-fast"}, user=bob, channel_id=channel
    )
    assert "not offered on this server" in await answer(fake_discord, other_model)
    allowed = await fake_discord.slash(
        "video", {"prompt": "hq", "model": "veo3.1"}, user=bob, channel_id=channel
    )
    await wait_final(fake_discord, allowed)
    assert [c["model"] for c in fake_api.creates] == ["veo3.1", "veo3.1"]

    # The server turns the cooldown off; the bot owner's 60 s no longer applies.
    await admin_set(fake_discord, admin, channel, "cooldown_seconds", "0")
    now_ok = await fake_discord.slash("video", {"prompt": "now"}, user=ann, channel_id=channel)
    assert video_attachment(await wait_final(fake_discord, now_ok)) is not None
    shown = await fake_discord.slash("video-admin", subcommand="show", user=admin, channel_id=channel)
    embed = await fake_discord.wait_for(lambda: shown.responses and shown.responses[0]["data"]["embeds"][0])
    values = {f["name"]: f["value"] for f in embed["fields"]}
    assert values["Models"] == "veo3.1, veo3.1-fast-components\n*this server*"
    assert values["Default model"] == "veo3.1\n*this server*"
    assert values["Cooldown seconds"] == "none\n*this server*"


async def test_approval_in_an_audit_channel_with_audit_lines(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, (ann, bob) = await setup_guild(fake_discord, members=2, channels=3)
    audit_channel, open_channel = guild.channels[1], guild.channels[2]
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    moderator = fake_discord.add_member(guild.id, name="mod", permissions=BASIC | MANAGE_MESSAGES)
    moderator2 = fake_discord.add_member(guild.id, name="mod2", permissions=BASIC | MANAGE_MESSAGES)
    fake_api.default_life = life(0.4)
    await run_bot()
    await fake_discord.wait_commands()
    await admin_set(fake_discord, admin, channel, "audit_channel", f"<#{audit_channel}>")
    await admin_set(fake_discord, admin, channel, "approval_channels", f"<#{channel}>")

    asked = await fake_discord.slash(
        "video",
        {"prompt": "a lighthouse in a storm, @everyone look"},
        user=ann,
        channel_id=channel,
        attachments={"image": ("frame.png", PNG, "image/png")},
    )
    job_msg = await fake_discord.wait_for(
        lambda: asked.original if asked.original and asked.original.embeds else None
    )
    assert "Waiting for approval" in field(job_msg, "Status")
    assert [i.split(":")[1] for i in custom_ids(job_msg)] == ["cancel"]  # moderators decide elsewhere

    def request_message():
        return next((m for m in fake_discord.messages(audit_channel) if m.components), None)

    request = await fake_discord.wait_for(request_message)
    assert request.embeds[0]["description"] == "a lighthouse in a storm, @\u200beveryone look"
    assert [a.filename for a in request.attachments] == ["ref1.png"]
    assert request.attachments[0].data == PNG
    await asyncio.sleep(0.5)
    assert fake_api.creates == []  # nothing is sent before a decision

    by_member = await fake_discord.click(request, button(request, "approve"), user=bob)
    assert "Only members with Manage Messages" in await answer(fake_discord, by_member)
    # Two moderators click Approve at once: one decision, one create.
    clicks = await asyncio.gather(
        fake_discord.click(request, button(request, "approve"), user=moderator),
        fake_discord.click(request, button(request, "approve"), user=moderator2),
    )
    answers = await asyncio.gather(*[answer(fake_discord, c) for c in clicks])
    assert sorted(a.split(" ")[0] for a in answers) == ["Approved", "Video"], answers
    # The late moderator is told who decided, not an internal state name.
    decider = (moderator, moderator2)[next(i for i, a in enumerate(answers) if a.startswith("Approved"))]
    late = next(a for a in answers if a.startswith("Video"))
    assert late == f"Video #1 was already approved by <@{decider.id}>."
    winner = moderator if answers[0].startswith("Approved") else moderator2
    final = await wait_final(fake_discord, asked)
    assert video_attachment(final) is not None
    assert field(final, "Approval").startswith(f"Approved by <@{winner.id}>")
    assert len(fake_api.creates) == 1
    assert request.content.startswith(f"✅ Approved by <@{winner.id}>") and not request.components
    # The request's embed shows the decision too, not "waiting for approval".
    assert field(request, "Approval").startswith(f"Approved by <@{winner.id}>")
    assert "Waiting for approval" not in field(request, "Status")

    second = await fake_discord.slash("video", {"prompt": "second try"}, user=ann, channel_id=channel)
    await fake_discord.wait_for(
        lambda: len([m for m in fake_discord.messages(audit_channel) if m.components])
    )
    request2 = next(m for m in fake_discord.messages(audit_channel) if m.components)
    await fake_discord.click(request2, button(request2, "reject"), user=moderator)

    def rejected():
        msg = second.original
        return msg if msg and "Rejected" in (field(msg, "Status") or "") else None

    rejected_msg = await fake_discord.wait_for(rejected)
    assert field(rejected_msg, "Approval").startswith(f"Rejected by <@{moderator.id}>")
    assert {i.split(":")[1] for i in custom_ids(rejected_msg)} == {"remix", "delete"}
    assert len(fake_api.creates) == 1
    # The rejected request loses its buttons in an edit of its own: wait for it, or the third
    # request below could be mistaken for this one.
    await fake_discord.wait_for(lambda: not request2.components)

    # The requester withdraws a third one: its request is closed, nothing was sent.
    third = await fake_discord.slash("video", {"prompt": "third thoughts"}, user=ann, channel_id=channel)
    request3 = await fake_discord.wait_for(
        lambda: next((m for m in fake_discord.messages(audit_channel) if m.components), None)
    )
    await fake_discord.wait_for(lambda: third.original and custom_ids(third.original))
    await fake_discord.click(third.original, button(third.original, "cancel"), user=ann)
    await wait_final(fake_discord, third)
    await fake_discord.wait_for(lambda: not request3.components)
    assert request3.content == f"🚫 Cancelled by <@{ann.id}> before a decision."

    # A moderator's own job in a moderated channel needs nobody's approval.
    own = await fake_discord.slash("video", {"prompt": "mod's own"}, user=moderator, channel_id=channel)
    assert video_attachment(await wait_final(fake_discord, own)) is not None

    # Outside the moderated channel: a failure, and a delete.
    fake_api.fail_create(status=400, body={"error": {"message": "invalid prompt"}})
    failing = await fake_discord.slash("video", {"prompt": "will fail"}, user=bob, channel_id=open_channel)
    await wait_final(fake_discord, failing)
    asked = await fake_discord.click(final, button(final, "delete"), user=ann)
    question = await fake_discord.wait_for(lambda: asked.original)
    deleted = await fake_discord.click(question, button(question, "confirm-delete"), user=ann)
    assert "Deleted" in await answer(fake_discord, deleted)

    await settled_rows(fake_discord, tmp_path)

    expected = [
        rf"setting `approval_channels` changed by <@{admin.id}>: <#{channel}>",
        rf"Video #1\]\(\S+\) 🛂 sent for approval by <@{ann.id}> in <#{channel}>",
        rf"Video #1\]\(\S+\) ✅ approved by <@{winner.id}> in <#{channel}>.* requested by <@{ann.id}>",
        rf"Video #2\]\(\S+\) 🛂 sent for approval by <@{ann.id}>",
        rf"Video #2\]\(\S+\) ⛔ rejected by <@{moderator.id}>",
        rf"Video #3\]\(\S+\) 🛂 sent for approval by <@{ann.id}>",
        rf"Video #3\]\(\S+\) 🚫 cancelled by <@{ann.id}>",
        rf"Video #4\]\(\S+\) 📨 submitted by <@{moderator.id}>",
        rf"Video #5\]\(\S+\) 📨 submitted by <@{bob.id}> in <#{open_channel}>",
        r"Video #5\]\(\S+\) ❌ failed in .*invalid prompt",
        rf"Video #1\]\(\S+\) 🗑️ deleted by <@{ann.id}>",
    ]

    def audit_lines():
        # audit lines are plain text; approval requests carry the job's embed
        return [m.content for m in fake_discord.messages(audit_channel) if not m.embeds]

    def lines():
        # Every expected line, whatever order the bot's background work posts them in (the
        # delete's line comes after its private answer).
        found = audit_lines()
        return found if all(any(re.search(p, line) for line in found) for p in expected) else None

    try:
        audit = await fake_discord.wait_for(lines)
    except AssertionError:
        audit = audit_lines()
    for pattern in expected:
        assert any(re.search(pattern, line) for line in audit), (pattern, audit)
    assert all(re.match(r"<t:\d+:f> · ", line) for line in audit)
    # the approval request message itself (now without buttons) says who decided
    closed = [m.content for m in fake_discord.messages(audit_channel) if "Rejected by" in m.content]
    assert closed and closed[0].startswith(f"⛔ Rejected by <@{moderator.id}>")
    states = [r["state"] for r in job_rows(tmp_path)]
    assert states == ["delivered", "rejected", "cancelled", "delivered", "failed"]
    assert len(fake_api.creates) == 3  # the approved, the moderator's own, the failing one


@pytest.mark.parametrize("audit", ["no audit channel", "unwritable audit channel"])
async def test_approval_on_the_job_message_survives_a_restart(
    fake_discord, fake_api, run_bot, tmp_path, audit
):
    guild, channel, (ann,) = await setup_guild(fake_discord, members=1, channels=2)
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    approver_role = fake_discord.add_role(guild.id, "approvers")
    approver = fake_discord.add_member(guild.id, name="approver", roles=[approver_role])
    fake_api.default_life = life(0.3)
    bot = await run_bot()
    await fake_discord.wait_commands()
    await admin_set(fake_discord, admin, channel, "approval_channels", f"<#{channel}>")
    await admin_set(fake_discord, admin, channel, "approver_roles", f"<@&{approver_role}>")
    if audit == "unwritable audit channel":
        # The request cannot be posted there, so the buttons come to the job message instead.
        fake_discord.forbid_channel(guild.channels[1])
        await admin_set(fake_discord, admin, channel, "audit_channel", f"<#{guild.channels[1]}>")

    asked = await fake_discord.slash("video", {"prompt": "needs a yes"}, user=ann, channel_id=channel)
    cancelled = await fake_discord.slash("video", {"prompt": "never mind"}, user=ann, channel_id=channel)
    for interaction in (asked, cancelled):
        msg = await fake_discord.wait_for(
            lambda i=interaction: i.original if i.original and len(custom_ids(i.original)) == 3 else None
        )
        assert [i.split(":")[1] for i in custom_ids(msg)] == ["approve", "reject", "cancel"]

    queue = await fake_discord.slash("video-queue", user=approver, channel_id=channel)
    embed = await fake_discord.wait_for(lambda: queue.responses and queue.responses[0]["data"]["embeds"][0])
    held = {f["name"]: f["value"] for f in embed["fields"]}["Awaiting approval (2)"]
    assert "🛂 awaiting approval" in held and "needs a yes" in held

    await bot.stop()
    await run_bot()
    # The requester may withdraw a job that waits for approval; nothing was sent, nothing billed.
    await fake_discord.click(cancelled.original, button(cancelled.original, "cancel"), user=ann)
    withdrawn = await wait_final(fake_discord, cancelled)
    assert "before it was sent" in field(withdrawn, "Cancelled")
    # Only an approver (here by role) decides, with buttons that work after the restart.
    self_approval = await fake_discord.click(asked.original, button(asked.original, "approve"), user=ann)
    assert "Only members with Manage Messages" in await answer(fake_discord, self_approval)
    await fake_discord.click(asked.original, button(asked.original, "approve"), user=approver)
    final = await wait_final(fake_discord, asked)
    assert video_attachment(final) is not None
    assert field(final, "Approval").startswith(f"Approved by <@{approver.id}>")
    assert [c["prompt"] for c in fake_api.creates] == ["needs a yes"]
    rows = await settled_rows(fake_discord, tmp_path)
    # Both commands were sent at once, so which became job #1 is the bot's to decide.
    decided = {r["prompt"]: (r["state"], r["decided_by"]) for r in rows}
    assert decided == {"needs a yes": ("delivered", approver.id), "never mind": ("cancelled", None)}

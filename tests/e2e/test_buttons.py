"""Buttons on finished jobs, after a restart: reroll, remix, upscale, delete, and lineage."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.helpers import (
    BASIC,
    JPEG,
    MANAGE_GUILD,
    PNG,
    admin_change,
    button,
    fetch_all,
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


def buttons(message):
    return {
        c["custom_id"].split(":")[1]: c["custom_id"] for row in message.components for c in row["components"]
    }


async def test_buttons_work_after_a_restart_and_record_lineage(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, (author, other) = await setup_guild(fake_discord, members=2)
    fake_api.default_life = life(0.5)
    bot = await run_bot()
    await fake_discord.wait_commands()
    first = await fake_discord.slash(
        "video", {"prompt": "a lighthouse", "duration": 4}, user=author, channel_id=channel
    )
    original = await wait_final(fake_discord, first)
    assert set(buttons(original)) == {"reroll", "remix", "upscale", "save", "delete"}
    await bot.stop()
    await run_bot()  # the buttons must not depend on anything in memory

    reroll = await fake_discord.click(original, buttons(original)["reroll"], user=other)
    rerolled = await wait_final(fake_discord, reroll)
    assert video_attachment(rerolled) is not None
    assert "Reroll of [#1]" in field(rerolled, "Built on")
    assert f"/channels/{guild.id}/{channel}/{original.id}" in field(rerolled, "Built on")

    remix = await fake_discord.click(original, buttons(original)["remix"], user=other)
    modal = (await remix.wait_response())["data"]
    assert modal["components"][0]["components"][0]["value"] == "a lighthouse"
    submitted = await fake_discord.submit_modal(
        modal["custom_id"], {"prompt": "a lighthouse in a storm"}, user=other, channel_id=channel
    )
    remixed = await wait_final(fake_discord, submitted)
    assert remixed.embeds[0]["description"] == "a lighthouse in a storm"

    upscale = await fake_discord.click(original, buttons(original)["upscale"], user=author)
    await wait_final(fake_discord, upscale)

    bodies = fake_api.creates
    assert [b["prompt"] for b in bodies] == [
        "a lighthouse",
        "a lighthouse",
        "a lighthouse in a storm",
        "a lighthouse",
    ]
    assert all(b["duration"] == 4 for b in bodies)
    assert [b["enable_upsample"] for b in bodies] == [False, False, False, True]
    rows = await settled_rows(fake_discord, tmp_path)
    assert [(r["origin"], r["parent_id"], r["user_id"]) for r in rows] == [
        ("new", None, author.id),
        ("reroll", 1, other.id),
        ("remix", 1, other.id),
        ("upscale", 1, author.id),
    ]

    history = await fake_discord.slash("video-history", user=other, channel_id=channel)
    shown = await fake_discord.wait_for(
        lambda: history.responses and history.responses[0]["data"]["embeds"][0]
    )
    assert "reroll of `#1`" in shown["description"] and "remix of `#1`" in shown["description"]

    # A remix of the remix, then the lineage from either end: who built on what.
    again = await fake_discord.click(remixed, buttons(remixed)["remix"], user=author)
    modal = (await again.wait_response())["data"]
    submitted = await fake_discord.submit_modal(
        modal["custom_id"], {"prompt": "a lighthouse in a storm at night"}, user=author, channel_id=channel
    )
    await wait_final(fake_discord, submitted)

    async def lineage(key):
        asked = await fake_discord.slash("video-history", {"job": key}, user=other, channel_id=channel)
        embed = await fake_discord.wait_for(
            lambda: asked.responses and asked.responses[0]["data"]["embeds"][0]
        )
        return embed["title"], {f["name"].split(" (")[0]: f["value"] for f in embed["fields"]}

    title, parts = await lineage("#5")
    assert title == "Lineage of video #5"
    chain = parts["Built on"].splitlines()
    assert [line.split("`")[1] for line in chain] == ["#1", "#3", "#5"]  # oldest first
    assert f"<@{author.id}>" in chain[0] and f"<@{other.id}>" in chain[1] and f"<@{author.id}>" in chain[2]
    assert "remix of `#3`" in chain[2] and parts["Built on this"] == "nothing yet"
    _title, parts = await lineage("#1")
    assert [line.split("`")[1] for line in parts["Built on this"].splitlines()] == ["#2", "#3", "#4"]
    missing = await fake_discord.slash("video-history", {"job": "#99"}, user=other, channel_id=channel)
    assert "No job '#99' here" in await fake_discord.wait_for(lambda: private_text(missing))


async def test_only_the_requester_or_a_moderator_can_delete(fake_discord, fake_api, run_bot, tmp_path):
    _guild, channel, (author, other) = await setup_guild(fake_discord, members=2)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    first = await fake_discord.slash("video", {"prompt": "to delete"}, user=author, channel_id=channel)
    message = await wait_final(fake_discord, first)

    refused = await fake_discord.click(message, buttons(message)["delete"], user=other)
    assert "Only the member who asked" in await fake_discord.wait_for(lambda: private_text(refused))
    assert not message.deleted

    # Delete asks first, privately; nothing is deleted until the member confirms.
    asked = await fake_discord.click(message, buttons(message)["delete"], user=author)
    question = await fake_discord.wait_for(lambda: asked.original)
    assert question.flags & 64 and "cannot be undone" in question.content
    await asyncio.sleep(0.3)
    assert not message.deleted
    done = await fake_discord.click(question, button(question, "confirm-delete"), user=author)
    assert "Deleted" in await fake_discord.wait_for(lambda: private_text(done))
    assert message.deleted
    assert job_rows(tmp_path)[0]["state"] == "delivered"  # the record stays for history


async def test_deleting_is_one_shot_and_history_says_deleted(fake_discord, fake_api, run_bot):
    guild, channel, (author,) = await setup_guild(fake_discord, channels=2)
    audit_channel = guild.channels[1]
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    await admin_change(fake_discord, admin, channel, "audit_channel", f"<#{audit_channel}>")
    first = await fake_discord.slash("video", {"prompt": "gone soon"}, user=author, channel_id=channel)
    message = await wait_final(fake_discord, first)
    deletes = lambda: [r for r in fake_discord.requests if r.method == "DELETE" and str(message.id) in r.path]  # noqa: E731

    # Two confirmations asked for (Delete pressed twice); the first one is used.
    questions = []
    for _ in range(2):
        asked = await fake_discord.click(message, buttons(message)["delete"], user=author)
        questions.append(await fake_discord.wait_for(lambda asked=asked: asked.original))
    done = await fake_discord.click(questions[0], button(questions[0], "confirm-delete"), user=author)
    assert "Deleted video #1." in await fake_discord.wait_for(lambda: private_text(done))
    assert message.deleted and not questions[0].components  # its button went at once

    # The other confirmation's button, now stale: plainly "already deleted", nothing sent.
    again = await fake_discord.click(questions[1], button(questions[1], "confirm-delete"), user=author)
    assert await fake_discord.wait_for(lambda: private_text(again)) == "Video #1 is already deleted."
    assert len(deletes()) == 1
    audit = [m.content for m in fake_discord.messages(audit_channel) if "deleted by" in m.content]
    assert len(audit) == 1

    # History and lineage say the video is deleted, not done, and link no gone message.
    for options in ({}, {"job": "#1"}):
        shown = await fake_discord.slash("video-history", options, user=author, channel_id=channel)
        reply = await shown.wait_response(timeout=10)
        embed = reply["data"]["embeds"][0]
        text = embed.get("description") or embed["fields"][0]["value"]
        assert "🗑️ deleted" in text and "✅ done" not in text and "discord.com/channels" not in text


async def test_portrait_jobs_offer_no_upscale(fake_discord, fake_api, run_bot):
    _, channel, (author,) = await setup_guild(fake_discord)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    job = await fake_discord.slash(
        "video", {"prompt": "tall", "shape": "portrait"}, user=author, channel_id=channel
    )
    message = await wait_final(fake_discord, job)
    assert "upscale" not in buttons(message)


async def test_make_a_video_from_any_message_with_images(fake_discord, fake_api, run_bot):

    _, channel, (poster, maker) = await setup_guild(fake_discord, members=2)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    assert fake_discord.command("Make a video")["type"] == 3
    source = fake_discord.post_message(
        channel, poster, "look at these", [("cat.png", PNG, "image/png"), ("dog.jpg", JPEG, "image/jpeg")]
    )
    opened = await fake_discord.context_menu("Make a video", source, user=maker)
    modal = (await opened.wait_response())["data"]
    assert modal["components"][0]["components"][0]["custom_id"] == "prompt"
    submitted = await fake_discord.submit_modal(
        modal["custom_id"], {"prompt": "they play together"}, user=maker, channel_id=channel
    )
    message = await wait_final(fake_discord, submitted)
    assert video_attachment(message) is not None
    (body,) = fake_api.creates
    assert body["prompt"] == "they play together"
    assert body["model"] == "veo3.1-fast-components"  # the default takes one image; this takes both
    assert await fetch_all(body["images"]) == [PNG, JPEG]

    nothing = fake_discord.post_message(channel, poster, "just words")
    refused = await fake_discord.context_menu("Make a video", nothing, user=maker)
    assert "no images" in await fake_discord.wait_for(lambda: private_text(refused))


async def test_a_reroll_days_later_refetches_expired_reference_images(fake_discord, fake_api, run_bot):

    _, channel, (author,) = await setup_guild(fake_discord)
    fake_api.default_life = life(0.3)
    bot = await run_bot()
    await fake_discord.wait_commands()
    first = await fake_discord.slash(
        "video",
        {"prompt": "two friends", "model": "veo3.1-fast-components"},
        user=author,
        channel_id=channel,
        attachments={"image": ("a.png", PNG, "image/png"), "image2": ("b.jpg", JPEG, "image/jpeg")},
    )
    original = await wait_final(fake_discord, first)
    old_urls = fake_api.creates[0]["images"]
    await bot.stop()
    fake_discord.expire_attachment_urls()  # a day later: every signed URL handed out so far is dead
    with pytest.raises(AssertionError):
        await fetch_all(old_urls[:1])
    await run_bot()
    reroll = await fake_discord.click(original, buttons(original)["reroll"], user=author)
    rerolled = await wait_final(fake_discord, reroll)
    assert video_attachment(rerolled) is not None
    new_urls = fake_api.creates[1]["images"]
    assert new_urls != old_urls
    assert await fetch_all(new_urls) == [PNG, JPEG]


async def test_status_shows_the_video_as_the_job_message_does(fake_discord, fake_api, run_bot):
    _, channel, (author,) = await setup_guild(fake_discord)
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()
    first = await fake_discord.slash("video", {"prompt": "a kite"}, user=author, channel_id=channel)
    message = await wait_final(fake_discord, first)
    remixed = await fake_discord.click(message, buttons(message)["reroll"], user=author)
    await wait_final(fake_discord, remixed)

    status = await fake_discord.slash("video-status", {"job": "#2"}, user=author, channel_id=channel)
    shown = await fake_discord.wait_for(lambda: status.followups and status.followups[0])
    # The video itself (a player), not the relay's raw file URL above the embed.
    assert video_attachment(shown) is not None and shown.flags & 64
    assert not shown.content
    built_on = field(shown, "Built on") or ""
    assert built_on.startswith("Reroll of [#1](") and f"/{channel}/{message.id})" in built_on

"""/video end to end: the real bot process, the loopback Discord server and the fake relay."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from sandbox.relay import Step
from tests.e2e.helpers import (
    JPEG,
    PNG,
    WEBP,
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


async def test_text_only_job_is_delivered_as_an_upload(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.script(life(1.0))
    bot = await run_bot()
    await fake_discord.wait_commands()
    prompt = "a cow flies @everyone <@&123> into the sky"
    interaction = await fake_discord.slash("video", {"prompt": prompt}, user=user, channel_id=channel)
    msg = await wait_final(fake_discord, interaction)
    # Alone, the command is answered with its job message itself: no "thinking…" first.
    assert [r["type"] for r in interaction.responses] == [4] and interaction.original is msg

    assert len(fake_api.creates) == 1
    body = fake_api.creates[0]
    assert body["prompt"] == prompt
    assert body["images"] == []
    assert (body["orientation"], body["size"], body["aspect_ratio"]) == ("landscape", "1280x720", "16:9")
    assert body["model"] == "veo3.1-fast" and body["duration"] == 8 and body["enable_upsample"] is False

    video = video_attachment(msg)
    assert video is not None and video.data == fake_api.small_video
    assert "Done" in field(msg, "Status")
    # Shown inert: the mention markup escaped, @everyone broken by a zero-width space.
    assert msg.embeds[0]["description"] == "a cow flies @\u200beveryone \\<@&123\\> into the sky"
    # No task id or job-table words for members (no quota here, so no footer at all).
    task_id = next(iter(fake_api.tasks))
    assert "footer" not in msg.embeds[0] and task_id not in repr(msg.embeds)
    # nothing the bot sent may ping
    for m in fake_discord.messages(channel):
        for snapshot in [*m.edits, {"allowed_mentions": m.allowed_mentions}]:
            mentions = snapshot.get("allowed_mentions")
            if mentions is not None:
                assert mentions.get("parse", []) == []
    # the job message went through queued/generating states before done
    statuses = [s["embeds"][0]["fields"][0]["value"] for s in msg.edits if s.get("embeds")]
    assert any("Generating" in s for s in statuses), statuses
    rows = await settled_rows(fake_discord, tmp_path)
    assert [r["state"] for r in rows] == ["delivered"]
    assert rows[0]["task_id"] == task_id and rows[0]["delivery_mode"] == "upload"
    assert rows[0]["interaction_token"] is None  # not kept once the job is finished
    await bot.stop()


async def test_three_images_are_sent_in_order(fake_discord, fake_api, run_bot):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.script(life(0.5))
    await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash(
        "video",
        {"prompt": "three friends", "model": "veo3.1-fast-components"},
        user=user,
        channel_id=channel,
        attachments={
            "image": ("one.png", PNG, "image/png"),
            "image2": ("two.jpg", JPEG, "image/jpeg"),
            "image3": ("three.webp", WEBP, None),  # no content type: the bytes decide
        },
    )
    msg = await wait_final(fake_discord, interaction)
    assert not interaction.deferred  # the images were read at once: the job message answered
    (body,) = fake_api.creates
    assert await fetch_all(body["images"]) == [PNG, JPEG, WEBP]
    # the references stay attached to the job message, next to the video
    assert [a.filename for a in msg.attachments] == ["ref1.png", "ref2.jpeg", "ref3.webp", "video-1.mp4"]
    thumbnails = [e["thumbnail"]["url"].split("?")[0] for e in msg.embeds]
    assert thumbnails == [u.split("?")[0] for u in body["images"]]
    assert video_attachment(msg) is not None


@pytest.mark.parametrize(
    ("attachments", "options", "expected"),
    [
        ({"image": ("notes.txt", b"hello, not an image", "text/plain")}, {}, "notes.txt"),
        ({"image": ("fake.png", b"GIF? no, plain text", "image/png")}, {}, "fake.png"),
        ({"image": ("huge.png", PNG, "image/png", 50 * 1024 * 1024)}, {}, "huge.png"),
        ({"image": ("empty.png", b"", "image/png")}, {}, "empty.png"),
        (
            {"image": ("a.png", PNG, "image/png"), "image2": ("b.png", PNG, "image/png")},
            {"model": "veo3.1-fast"},
            "at most 1",
        ),
        ({}, {"shape": "portrait", "upsample": True}, "landscape"),
    ],
    ids=[
        "not-an-image",
        "lying-type",
        "oversized",
        "empty",
        "too-many",
        "portrait-upsample",
    ],
)
async def test_bad_input_gets_a_private_answer_and_no_create(
    fake_discord, fake_api, run_bot, attachments, options, expected
):
    _, channel, (user,) = await setup_guild(fake_discord)
    await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash(
        "video", {"prompt": "a test", **options}, user=user, channel_id=channel, attachments=attachments
    )
    text = await fake_discord.wait_for(lambda: private_text(interaction), timeout=10)
    assert expected in text
    await asyncio.sleep(0.3)
    assert fake_api.creates == []
    assert [m for m in fake_discord.messages(channel) if not m.deleted] == []


@pytest.mark.parametrize(
    ("setup", "expected", "kind"),
    [
        (
            lambda api: api.script(
                [Step("queued"), Step("failed", after=0.2, extra={"fail_reason": "content policy violation"})]
            ),
            "content policy",
            "content_policy",
        ),
        (
            lambda api: api.fail_create(
                status=402, body={"error": {"message": "Insufficient balance", "type": "insufficient_quota"}}
            ),
            "no balance",
            "no_balance",
        ),
        (
            lambda api: api.fail_create(status=400, body={"error": {"message": "invalid size"}}),
            "invalid size",
            "bad_parameters",
        ),
        (lambda api: api.script([Step("processing", 10)]), "stopped waiting", "timeout"),
    ],
    ids=["content-policy", "no-balance", "bad-parameters", "timeout"],
)
async def test_each_failure_kind_is_explained(
    fake_discord, fake_api, run_bot, tmp_path, setup, expected, kind
):
    _, channel, (user,) = await setup_guild(fake_discord)
    setup(fake_api)
    await run_bot({"JOB_TIMEOUT": "1.5"})
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "a test"}, user=user, channel_id=channel)
    msg = await wait_final(fake_discord, interaction)
    assert "Failed" in field(msg, "Status")
    assert expected.lower() in field(msg, "What happened").lower()
    assert video_attachment(msg) is None
    (row,) = await settled_rows(fake_discord, tmp_path)
    assert row["state"] == "failed" and row["failure_kind"] == kind
    assert len(fake_api.creates) == 1


async def test_progress_edits_are_seen_and_bounded_in_rate(fake_discord, fake_api, run_bot):
    _, channel, (user,) = await setup_guild(fake_discord)
    # 30 progress steps in 3 s: far more than the bot may show at one edit per 0.5 s
    fake_api.script(
        [Step("processing", p, after=0.1) for p in range(1, 31)]
        + [Step("completed", 100, after=0.1, video="small")]
    )
    await run_bot({"PROGRESS_EDIT_INTERVAL": "0.5", "POLL_INTERVAL": "0.05", "POLL_MAX_INTERVAL": "0.1"})
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "a test"}, user=user, channel_id=channel)
    msg = await wait_final(fake_discord, interaction)
    progress = [
        e
        for e in msg.edits
        if "Generating" in (e.get("embeds") or [{}])[0].get("fields", [{}])[0].get("value", "")
    ]
    assert len(progress) >= 2, "progress should be visible while the job runs"
    times = [e["at"] for e in progress]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.4, f"progress edits closer than the interval: {gaps}"
    assert len(progress) <= 3.5 / 0.5 + 1
    assert video_attachment(msg) is not None


async def test_kill_9_mid_job_then_restart_finishes_it_once(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.script(life(4.0))
    bot = await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "survive"}, user=user, channel_id=channel)
    await fake_discord.wait_for(lambda: fake_api.tasks and fake_api.queries, timeout=10)
    await bot.kill9()
    assert job_rows(tmp_path)[0]["state"] in ("queued", "running")
    await run_bot()
    msg = await wait_final(fake_discord, interaction, timeout=25)
    assert video_attachment(msg) is not None
    assert len(fake_api.creates) == 1
    assert len([m for m in fake_discord.messages(channel) if video_attachment(m)]) == 1
    assert [r["state"] for r in await settled_rows(fake_discord, tmp_path)] == ["delivered"]


async def test_a_job_cut_off_before_its_task_id_is_not_resubmitted(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.fail_create(hang=30, accepted_anyway=True)
    bot = await run_bot({"VIDEO_API_TIMEOUT": "30"})
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "in flight"}, user=user, channel_id=channel)
    await fake_discord.wait_for(lambda: fake_api.creates, timeout=10)
    await bot.kill9()
    assert job_rows(tmp_path)[0]["state"] == "submitting"
    await run_bot()
    msg = await wait_final(fake_discord, interaction)
    assert "not sent again" in field(msg, "What happened")
    assert len(fake_api.creates) == 1
    assert (await settled_rows(fake_discord, tmp_path))[0]["failure_kind"] == "unconfirmed"


async def test_token_expiry_mid_job_switches_to_channel_edits(fake_discord, fake_api, run_bot):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_discord.expire_tokens_after(1.0)
    fake_api.script(life(2.5))
    await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "long one"}, user=user, channel_id=channel)
    msg = await wait_final(fake_discord, interaction)
    assert video_attachment(msg) is not None
    channel_edits = [
        r
        for r in fake_discord.requests
        if r.method == "PATCH" and r.path.startswith(f"/api/v10/channels/{channel}/messages/")
    ]
    assert channel_edits and channel_edits[-1].status == 200


async def test_a_video_over_the_upload_limit_is_linked(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, (user,) = await setup_guild(fake_discord)  # no boosts: 10 MiB
    fake_api.script(life(0.5, video="large"))  # 12 MiB
    await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "big"}, user=user, channel_id=channel)
    msg = await wait_final(fake_discord, interaction)
    assert video_attachment(msg) is None
    assert msg.content.startswith("http") and msg.content.endswith("large.mp4")
    assert (await settled_rows(fake_discord, tmp_path))[0]["delivery_mode"] == "link"


async def test_discord_429_bursts_do_not_lose_the_delivery(fake_discord, fake_api, run_bot):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_discord.rate_limit("PATCH", r"/webhooks/.*/messages/", count=4, retry_after=0.3)
    fake_api.script(life(1.0))
    await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "busy"}, user=user, channel_id=channel)
    msg = await wait_final(fake_discord, interaction)
    assert video_attachment(msg) is not None
    assert sum(1 for r in fake_discord.requests if r.status == 429) == 4


async def test_api_429_and_5xx_bursts_are_survived(fake_discord, fake_api, run_bot):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.script(life(1.0))
    fake_api.fail_query(status=429, count=3, headers={"Retry-After": "0.3"})
    fake_api.fail_query(status=502, count=3, body="<html>bad gateway</html>")
    await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "flaky"}, user=user, channel_id=channel)
    msg = await wait_final(fake_discord, interaction, timeout=30)
    assert video_attachment(msg) is not None
    assert len(fake_api.creates) == 1


async def test_twenty_concurrent_jobs_from_different_members(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, users = await setup_guild(fake_discord, members=20)
    fake_api.default_life = life(1.5)
    await run_bot()
    await fake_discord.wait_commands()
    interactions = await asyncio.gather(
        *(
            fake_discord.slash("video", {"prompt": f"job {i}"}, user=u, channel_id=channel)
            for i, u in enumerate(users)
        )
    )
    messages = await asyncio.gather(*(wait_final(fake_discord, i, timeout=45) for i in interactions))
    # Arriving together, all but (at most) the first were acknowledged with a quick "thinking…"
    # before any of them got its job message.
    assert sum(1 for i in interactions if i.deferred) >= 19
    assert len(fake_api.creates) == 20
    assert all(video_attachment(m) is not None for m in messages)
    assert sorted(m.embeds[0]["description"] for m in messages) == sorted(f"job {i}" for i in range(20))
    assert {r["state"] for r in await settled_rows(fake_discord, tmp_path)} == {"delivered"}
    # one message per job, each with one video: nothing reposted, nothing delivered twice
    job_messages = [m for m in fake_discord.messages(channel) if m.embeds]
    assert len(job_messages) == 20
    assert sum(1 for m in job_messages if video_attachment(m)) == 20
    # ... and one notification per job, pinging exactly its requester
    pings = [m for m in fake_discord.messages(channel) if not m.embeds]
    assert sorted(m.allowed_mentions["users"][0] for m in pings) == sorted(u.id for u in users)
    assert all(m.content.startswith(f"<@{m.allowed_mentions['users'][0]}> your video #") for m in pings)


async def test_cancel_button_requester_or_moderator_only(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, (owner, other) = await setup_guild(fake_discord, members=2)
    moderator = fake_discord.add_member(guild.id, name="mod", permissions=0x2000 | 0x400 | 0x800)
    fake_api.default_life = life(6.0)
    await run_bot()
    await fake_discord.wait_commands()
    first = await fake_discord.slash("video", {"prompt": "mine"}, user=owner, channel_id=channel)
    second = await fake_discord.slash("video", {"prompt": "also mine"}, user=owner, channel_id=channel)
    await fake_discord.wait_for(lambda: len(fake_api.tasks) == 2, timeout=10)

    def field_names(msg):
        return [f["name"] for f in msg.embeds[0]["fields"]]

    def button(interaction):
        msg = interaction.original
        ids = [c["custom_id"] for row in msg.components for c in row.get("components", [])]
        return next(i for i in ids if i.startswith("video:cancel:"))

    refused = await fake_discord.click(first.original, button(first), user=other)
    text = await fake_discord.wait_for(lambda: private_text(refused), timeout=10)
    assert "Only the member who asked" in text
    assert job_rows(tmp_path)[0]["state"] in ("queued", "running")

    cancelling = await fake_discord.click(first.original, button(first), user=owner)
    # One plain sentence for the member, not the relay's routes.
    assert await fake_discord.wait_for(lambda: private_text(cancelling), timeout=10) == (
        "Cancelled. It had already been sent, so it may still be billed."
    )
    msg = await wait_final(fake_discord, first)
    assert "Cancelled" in field(msg, "Status") and "Took" not in field_names(msg)
    assert (
        field(msg, "Cancelled") == f"Cancelled by <@{owner.id}> after it was sent, so it may still be billed."
    )

    await fake_discord.click(second.original, button(second), user=moderator)
    await wait_final(fake_discord, second)
    rows = await settled_rows(fake_discord, tmp_path)
    assert [r["state"] for r in rows] == ["cancelled", "cancelled"]
    assert [r["cancelled_by"] for r in rows] == [owner.id, moderator.id]
    await asyncio.sleep(0.5)
    assert all(video_attachment(m) is None for m in fake_discord.messages(channel))


async def test_a_dropped_gateway_is_resumed_and_jobs_keep_going(fake_discord, fake_api, run_bot, tmp_path):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.script(life(2.0))
    await run_bot()
    await fake_discord.wait_commands()
    first = await fake_discord.slash("video", {"prompt": "before the drop"}, user=user, channel_id=channel)
    await fake_discord.wait_for(lambda: fake_api.tasks, timeout=10)
    await fake_discord.drop_gateway()
    await fake_discord.wait_for(lambda: fake_discord.resume_count == 1, timeout=15)
    second = await fake_discord.slash("video", {"prompt": "after the drop"}, user=user, channel_id=channel)
    for interaction in (first, second):
        assert video_attachment(await wait_final(fake_discord, interaction)) is not None
    assert fake_discord.identify_count == 1
    assert len(fake_api.creates) == 2

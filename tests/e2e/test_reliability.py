"""Faults over the real wire protocols: no job lost, none created twice, none delivered twice."""

from __future__ import annotations

import asyncio
import signal

import pytest

from sandbox.relay import Step
from tests.e2e.helpers import field, job_rows, life, settled_rows, setup_guild, video_attachment, wait_final

pytestmark = pytest.mark.e2e


async def start_job(fake_discord, run_bot, prompt="reliable", extra_env=None):
    _, channel, (user,) = await setup_guild(fake_discord)
    bot = await run_bot(extra_env or {})
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": prompt}, user=user, channel_id=channel)
    return bot, channel, interaction


def videos_in(fake_discord, channel):
    return [m for m in fake_discord.messages(channel) if not m.deleted and video_attachment(m)]


async def assert_delivered_once(fake_discord, fake_api, tmp_path, channel, interaction, timeout=25):
    msg = await wait_final(fake_discord, interaction, timeout=timeout)
    assert video_attachment(msg) is not None, field(msg, "What happened")
    rows = await settled_rows(fake_discord, tmp_path)
    assert [r["state"] for r in rows] == ["delivered"]
    assert len(fake_api.creates) == 1 and len(fake_api.tasks) == 1
    assert len(videos_in(fake_discord, channel)) == 1


# --- the video API misbehaves -------------------------------------------------------------------


async def test_api_down_while_polling_then_back(fake_discord, fake_api, run_bot, tmp_path):
    fake_api.script(life(1.0))
    _, channel, interaction = await start_job(fake_discord, run_bot)
    await fake_discord.wait_for(lambda: fake_api.tasks, timeout=10)
    await fake_api.set_down(True)
    await asyncio.sleep(1.5)
    await fake_api.set_down(False)
    await assert_delivered_once(fake_discord, fake_api, tmp_path, channel, interaction)


async def test_api_down_at_create_says_nothing_was_sent(fake_discord, fake_api, run_bot, tmp_path):
    await fake_api.set_down(True)
    _, _, interaction = await start_job(fake_discord, run_bot)
    msg = await wait_final(fake_discord, interaction)
    assert "could not be reached" in field(msg, "What happened") or "unavailable" in field(
        msg, "What happened"
    )
    assert "nothing was billed" in field(msg, "What happened").lower()
    await fake_api.set_down(False)
    assert fake_api.creates == []
    assert (await settled_rows(fake_discord, tmp_path))[0]["failure_kind"] == "upstream"


@pytest.mark.parametrize(
    "fault",
    [
        {"hang": 3},  # longer than VIDEO_API_TIMEOUT=1
        {"status": 429},  # no Retry-After
        {"status": 503, "body": "<html><h1>503 Service Unavailable</h1></html>"},
        {"status": 200, "body": '{"id": "x", "status": "proc'},
        {"status": 200, "body": "<!doctype html><title>relay</title>"},
    ],
    ids=["hanging", "429-no-retry-after", "503-html", "truncated-json", "html-on-200"],
)
async def test_query_faults_are_survived(fake_discord, fake_api, run_bot, tmp_path, fault):
    fake_api.script(life(1.0))
    fake_api.fail_query(count=4, **fault)
    _, channel, interaction = await start_job(fake_discord, run_bot, extra_env={"VIDEO_API_TIMEOUT": "1"})
    await assert_delivered_once(fake_discord, fake_api, tmp_path, channel, interaction, timeout=40)


async def test_an_unknown_status_word_keeps_polling(fake_discord, fake_api, run_bot, tmp_path):
    fake_api.script(
        [Step("brewing"), Step("Mysterious", after=0.3), Step("SUCCEEDED", 100, after=0.3, video="small")]
    )
    _, channel, interaction = await start_job(fake_discord, run_bot)
    await assert_delivered_once(fake_discord, fake_api, tmp_path, channel, interaction)


async def test_a_task_processing_forever_ends_with_a_timeout_message(
    fake_discord, fake_api, run_bot, tmp_path
):
    fake_api.script([Step("processing", 42)])
    _, _channel, interaction = await start_job(fake_discord, run_bot, extra_env={"JOB_TIMEOUT": "2"})
    msg = await wait_final(fake_discord, interaction)
    assert "still working after" in field(msg, "What happened")
    assert (await settled_rows(fake_discord, tmp_path))[0]["failure_kind"] == "timeout"


async def test_a_relay_that_stops_answering_is_given_up_after_the_deadline(
    fake_discord, fake_api, run_bot, tmp_path
):
    fake_api.script([Step("processing", 10)])
    fake_api.fail_query(status=500, count=10_000)
    _, _, interaction = await start_job(fake_discord, run_bot, extra_env={"POLL_FAILURE_DEADLINE": "2"})
    msg = await wait_final(fake_discord, interaction)
    assert "has not answered" in field(msg, "What happened")


# --- Discord misbehaves --------------------------------------------------------------------------


async def test_discord_5xx_on_edits_does_not_lose_the_delivery(fake_discord, fake_api, run_bot, tmp_path):
    fake_api.script([Step("processing", 50), Step("completed", 100, after=0.5, video="small")])
    _, channel, interaction = await start_job(fake_discord, run_bot)
    await fake_discord.wait_for(lambda: first_state(tmp_path) == "running", timeout=10)
    # Edits through the channel routes (the token has expired), where discord.py does not retry
    # a 503 itself, so the bot's own retry must deliver. (On the webhook routes discord.py
    # retries every 5xx five times with backoff before the bot sees it: 16 s of waiting.)
    fake_discord.expire_tokens_after(0)
    fake_discord.fail("PATCH", r"/channels/.*/messages/", status=503, count=4)
    await assert_delivered_once(fake_discord, fake_api, tmp_path, channel, interaction, timeout=30)
    assert sum(1 for r in fake_discord.requests if r.status == 503) == 4


async def test_discord_429_on_the_upload_is_waited_out(fake_discord, fake_api, run_bot, tmp_path):
    fake_api.script([Step("completed", 100, after=0.3, video="small")])
    fake_discord.rate_limit("PATCH", r"/webhooks/.*/messages/", count=3, retry_after=0.4)
    _, channel, interaction = await start_job(fake_discord, run_bot)
    await assert_delivered_once(fake_discord, fake_api, tmp_path, channel, interaction)


async def test_a_deleted_job_message_gets_a_new_one(fake_discord, fake_api, run_bot, tmp_path):
    fake_api.script(life(1.5))
    _, channel, interaction = await start_job(fake_discord, run_bot)
    await fake_discord.wait_for(lambda: interaction.original and interaction.original.embeds, timeout=10)
    fake_discord.delete_message(interaction.original.id)
    videos = await fake_discord.wait_for(lambda: videos_in(fake_discord, channel), timeout=20)
    assert len(videos) == 1 and videos[0].id != interaction.original.id
    rows = await settled_rows(fake_discord, tmp_path)
    assert rows[0]["state"] == "delivered" and rows[0]["message_id"] == videos[0].id


async def test_a_deleted_channel_ends_the_job_cleanly(fake_discord, fake_api, run_bot, tmp_path):
    fake_api.script(life(1.0))
    bot, channel, interaction = await start_job(fake_discord, run_bot)
    await fake_discord.wait_for(lambda: fake_api.tasks, timeout=10)
    fake_discord.delete_channel(channel)
    rows = await settled_rows(fake_discord, tmp_path)
    # The token still lives: the member is told privately, with the link.
    assert rows[0]["state"] == "delivered" and rows[0]["delivery_mode"] == "private"
    assert rows[0]["video_url"]  # the result is still recorded
    told = [m for m in interaction.followups if m.flags & 64]
    assert len(told) == 1 and told[0].content.endswith("small.mp4")
    await asyncio.sleep(1.0)
    edits_after = len(fake_discord.requests)
    await asyncio.sleep(1.0)
    assert len(fake_discord.requests) == edits_after, "no retry loop against a deleted channel"
    assert bot.running


async def test_missing_permissions_after_the_token_expired(fake_discord, fake_api, run_bot, tmp_path):
    fake_api.script(life(1.5))
    fake_discord.expire_tokens_after(0.5)
    bot, channel, _interaction = await start_job(fake_discord, run_bot)
    fake_discord.forbid_channel(channel)
    rows = await settled_rows(fake_discord, tmp_path)
    # The member is told by DM (see test_hardening for what the DM holds).
    assert rows[0]["state"] == "delivered" and rows[0]["delivery_mode"] == "dm"
    assert "no permission to edit" in bot.output


async def test_upload_refused_by_discord_falls_back_to_the_link(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, (user,) = await setup_guild(fake_discord)
    fake_api.script(life(1.0))
    await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash(
        "video", {"prompt": "limit shrinks"}, user=user, channel_id=channel
    )
    guild.filesize_limit = 1000  # the guild lost its boosts after the command: Discord answers 413
    msg = await wait_final(fake_discord, interaction)
    assert video_attachment(msg) is None and msg.content.endswith("small.mp4")
    assert any(r.status == 413 for r in fake_discord.requests)
    assert (await settled_rows(fake_discord, tmp_path))[0]["delivery_mode"] == "link"


# --- crashes and shutdown ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        "after-row-written",
        "after-create-returned",
        "during-progress-edit",
        "during-download",
        "during-upload",
    ],
)
async def test_kill_9_at_each_step_then_restart(fake_discord, fake_api, run_bot, tmp_path, step):
    """Whatever the moment of death, the job ends in exactly one correct final state and message."""
    _guild, channel, (user,) = await setup_guild(fake_discord)
    if step not in ("during-progress-edit", "during-upload"):
        fake_api.script(life(1.5))
    if step == "after-row-written":
        fake_api.fail_create(hang=30, accepted_anyway=True)
    if step == "during-download":
        fake_api.hang_downloads(seconds=30)
    if step in ("during-progress-edit", "during-upload"):
        fake_api.script([Step("processing", 50, after=0.5), Step("completed", 100, after=1.5, video="small")])
    bot = await run_bot({"VIDEO_API_TIMEOUT": "60", "VIDEO_DOWNLOAD_TIMEOUT": "60"})
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": step}, user=user, channel_id=channel)

    if step == "after-row-written":
        await fake_discord.wait_for(lambda: fake_api.creates, timeout=10)
    elif step == "after-create-returned":
        await fake_discord.wait_for(
            lambda: job_rows(tmp_path) and job_rows(tmp_path)[0]["task_id"], timeout=10
        )
    elif step == "during-download":
        await fake_discord.wait_for(lambda: fake_api.downloads, timeout=15)
    elif step == "during-progress-edit":
        # the first edit (the job message itself) has landed; hang the next one, a progress edit
        await fake_discord.wait_for(lambda: first_state(tmp_path) in ("queued", "running"), timeout=10)
        fake_discord.hang("PATCH", r"/webhooks/.*/messages/", seconds=30, count=1)
        await fake_discord.wait_for(lambda: hung_patch(fake_discord), timeout=10)
        assert "Generating" in str(hung_patch(fake_discord).body) or "Queued" in str(
            hung_patch(fake_discord).body
        )
    else:  # during the upload: the 50 % edit has landed, so the next edit carries the video
        await fake_discord.wait_for(lambda: generating_shown(interaction), timeout=15)
        fake_discord.hang("PATCH", r"/webhooks/.*/messages/", seconds=30, count=1)
        await fake_discord.wait_for(lambda: hung_patch(fake_discord), timeout=15)
        attachments = (hung_patch(fake_discord).body or {}).get("attachments", [])
        assert any(a.get("filename", "").endswith(".mp4") for a in attachments)
    await bot.kill9()
    await run_bot()
    msg = await wait_final(fake_discord, interaction, timeout=30)
    rows = await settled_rows(fake_discord, tmp_path)
    assert len(rows) == 1 and len(fake_api.creates) == 1
    if step == "after-row-written":
        assert rows[0]["state"] == "failed" and rows[0]["failure_kind"] == "unconfirmed"
        assert video_attachment(msg) is None
    else:
        assert rows[0]["state"] == "delivered"
        assert video_attachment(msg) is not None
        assert len(videos_in(fake_discord, channel)) == 1


def first_state(workdir):
    rows = job_rows(workdir)
    return rows[0]["state"] if rows else None


def hung_patch(fake_discord):
    return next((r for r in fake_discord.requests if r.method == "PATCH" and r.status == 0), None)


def generating_shown(interaction):
    msg = interaction.original
    return msg is not None and msg.embeds and "Generating… 50%" in (field(msg, "Status") or "")


async def test_sigterm_mid_job_exits_quickly_and_the_job_resumes(fake_discord, fake_api, run_bot, tmp_path):
    fake_api.script(life(3.0))
    bot, channel, interaction = await start_job(fake_discord, run_bot)
    await fake_discord.wait_for(lambda: fake_api.queries, timeout=10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.stop(signal.SIGTERM, timeout=8) == 0
    assert loop.time() - started < 5
    assert "stopped cleanly" in bot.output
    assert job_rows(tmp_path)[0]["state"] in ("queued", "running")
    await run_bot()
    await assert_delivered_once(fake_discord, fake_api, tmp_path, channel, interaction)


async def test_a_corrupt_database_stops_start_up_with_one_line(fake_discord, fake_api, run_bot, tmp_path):
    fake_discord.add_guild()
    junk = b"definitely not sqlite" * 500
    (tmp_path / "bot.db").write_bytes(junk)
    bot = await run_bot(wait_ready=False)
    code = await bot.proc.wait()
    assert code == 2
    assert "not a readable SQLite database" in bot.output
    assert (tmp_path / "bot.db").read_bytes() == junk

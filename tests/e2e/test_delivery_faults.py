"""Discord's failure answers on the messages a job ends with: a create whose answer was lost is
tried again without posting twice, and a member whose DMs are closed is told in the channel."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.relay import Step
from tests.e2e.helpers import answer, field, life, settled_rows, setup_guild, video_attachment, wait_final

pytestmark = pytest.mark.e2e

CREATE = r"/channels/\d+/messages$"


def pings(fake_discord, channel, user):
    return [m for m in fake_discord.messages(channel) if m.content.startswith(f"<@{user.id}>")]


async def started(fake_discord, run_bot, fake_api, notify="mention", *, expire=False):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.default_life = life(1.0)
    await run_bot()
    await fake_discord.wait_commands()
    if notify != "mention":
        chosen = await fake_discord.slash("video-settings", {"notify": notify}, user=user, channel_id=channel)
        assert "Saved." in await answer(fake_discord, chosen)
    job = await fake_discord.slash("video", {"prompt": "once"}, user=user, channel_id=channel)
    if expire:  # from now on the job message is edited, and its requester told, as the bot
        await fake_discord.wait_for(lambda: job.original and job.original.embeds, timeout=10)
        fake_discord.expire_tokens_after(0)
    return channel, user, job


async def quiet(fake_discord):
    """Until the bot sends nothing more: a second, duplicate message would have come by then."""
    while True:
        seen = len(fake_discord.requests)
        await asyncio.sleep(1.0)
        if len(fake_discord.requests) == seen:
            return


# --- a lost answer is tried again under the same nonce: one message --------------------------


async def test_a_channel_notification_whose_answer_was_lost_is_posted_once(
    fake_discord, fake_api, run_bot, tmp_path
):
    fake_discord.lose_answer("POST", CREATE)
    channel, user, job = await started(fake_discord, run_bot, fake_api, expire=True)
    await wait_final(fake_discord, job)
    await settled_rows(fake_discord, tmp_path)
    await quiet(fake_discord)
    (ping,) = pings(fake_discord, channel, user)
    assert "your video #1 is ready." in ping.content
    tries = [r for r in fake_discord.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert len(tries) == 2 and tries[0].body["nonce"] == tries[1].body["nonce"]
    assert all(r.body["enforce_nonce"] is True for r in tries)


async def test_a_dm_notification_whose_answer_was_lost_is_sent_once(
    fake_discord, fake_api, run_bot, tmp_path
):
    fake_discord.lose_answer("POST", CREATE)
    _channel, user, job = await started(fake_discord, run_bot, fake_api, notify="dm")
    await wait_final(fake_discord, job)
    await settled_rows(fake_discord, tmp_path)
    await quiet(fake_discord)
    (dm,) = fake_discord.messages(fake_discord.dm_channels[user.id])
    assert dm.content.startswith("your video #1 is ready.")


async def test_a_new_job_message_whose_answer_was_lost_is_posted_once_and_shows_the_video(
    fake_discord, fake_api, run_bot, tmp_path
):
    fake_api.script(
        [
            Step("processing", 20),
            Step("processing", 60, after=1.5),
            Step("completed", 100, after=3.0, video="small"),
        ]
    )
    channel, _user, job = await started(fake_discord, run_bot, fake_api)
    await fake_discord.wait_for(lambda: job.original and "20%" in (field(job.original, "Status") or ""))
    # The 60% edit finds the message gone and posts a new one, whose answer is lost; the result
    # then posts again under the same nonce, and Discord answers the 60% message already made.
    fake_discord.delete_message(job.original.id)
    fake_discord.lose_answer("POST", CREATE)
    (row,) = await settled_rows(fake_discord, tmp_path)
    await quiet(fake_discord)
    (posted,) = [m for m in fake_discord.messages(channel) if not (m.deleted or m.content.startswith("<@"))]
    assert row["message_id"] == posted.id
    assert video_attachment(posted), "the message an earlier try made shows the result"


# --- closed DMs: the mention instead, saying why -----------------------------------------------


async def test_closed_dms_fall_back_to_a_followup_that_says_so(fake_discord, fake_api, run_bot, tmp_path):
    _channel, user, job = await started(fake_discord, run_bot, fake_api, notify="dm")
    fake_discord.close_dms(user.id)
    await wait_final(fake_discord, job)
    await settled_rows(fake_discord, tmp_path)
    await quiet(fake_discord)
    # The token lives: one followup that pings only them, says the news and why it is here.
    (told,) = [m for m in job.followups if not m.flags & 64]
    assert told.content.startswith(f"<@{user.id}> your video #1 is ready.")
    assert "your DMs are closed" in told.content
    assert told.allowed_mentions["users"] == [user.id]
    assert fake_discord.messages(fake_discord.dm_channels[user.id]) == []


async def test_closed_dms_after_the_token_expired_fall_back_to_a_reply(
    fake_discord, fake_api, run_bot, tmp_path
):
    channel, user, job = await started(fake_discord, run_bot, fake_api, notify="dm", expire=True)
    fake_discord.close_dms(user.id)
    await wait_final(fake_discord, job)
    await settled_rows(fake_discord, tmp_path)
    await quiet(fake_discord)
    (told,) = pings(fake_discord, channel, user)
    assert "your DMs are closed" in told.content
    assert int(told.message_reference["message_id"]) == job.original.id

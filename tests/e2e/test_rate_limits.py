"""Against a Discord that enforces its documented rate limits: no 429 met, finals land, and a
429 on the job message post is waited out rather than failing the job."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import life, settled_rows, setup_guild, video_attachment, wait_final

pytestmark = pytest.mark.e2e


async def test_a_burst_in_one_channel_after_the_tokens_expire_meets_no_429(
    fake_discord, fake_api, run_bot, tmp_path
):
    fake_discord.enforce_rate_limits()
    fake_discord.expire_tokens_after(1.5)
    _, channel, users = await setup_guild(fake_discord, members=4)
    fake_api.default_life = life(2.0, steps=3)
    # The bot stops using the tokens after 1 s, so every progress edit and every final one
    # shares the channel's edit bucket: 5 per 5 s for 8 jobs that each want several edits.
    await run_bot({"INTERACTION_TOKEN_TTL": "1", "MAX_RUNNING_JOBS": "20", "MAX_RUNNING_PER_MEMBER": "5"})
    await fake_discord.wait_commands()
    interactions = [
        await fake_discord.slash("video", {"prompt": f"job {i}"}, user=users[i % 4], channel_id=channel)
        for i in range(8)
    ]
    messages = [await wait_final(fake_discord, i, timeout=40) for i in interactions]
    assert all(video_attachment(m) for m in messages)
    assert [r.status for r in fake_discord.requests if r.status == 429] == []
    assert len(fake_api.creates) == 8
    rows = await settled_rows(fake_discord, tmp_path)
    assert {r["state"] for r in rows} == {"delivered"}


async def test_a_429_on_posting_the_job_message_is_retried_not_failed(
    fake_discord, fake_api, run_bot, tmp_path
):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.default_life = life(0.5)
    await run_bot()
    await fake_discord.wait_commands()
    # More 429s than discord.py's own five tries for one call.
    fake_discord.rate_limit("PATCH", r"/webhooks/\d+/[^/]+/messages/@original$", count=7, retry_after=0.05)
    interaction = await fake_discord.slash("video", {"prompt": "a heron"}, user=user, channel_id=channel)
    message = await wait_final(fake_discord, interaction, timeout=30)
    assert video_attachment(message)
    assert len(fake_api.creates) == 1
    (row,) = await settled_rows(fake_discord, tmp_path)  # recorded after the final edit lands
    assert row["state"] == "delivered" and row["failure_kind"] is None


def _shown_at(message) -> float:
    return next(e["at"] for e in message.edits if any(n.endswith(".mp4") for n in e["attachments"]))


async def test_a_busy_channel_delivers_before_any_progress_and_holds_back_no_quiet_one(
    fake_discord, fake_api, run_bot
):
    fake_discord.enforce_rate_limits()
    fake_discord.expire_tokens_after(1.5)
    guild, busy, users = await setup_guild(fake_discord, members=4, channels=2)
    quiet = guild.channels[1]
    # Seven jobs in one channel outlive their tokens: their finals alone need more than one of
    # the channel's edit windows (5 per 5 s), so their progress must give way.
    fake_api.default_life = life(3.0, steps=3)
    await run_bot({"INTERACTION_TOKEN_TTL": "1", "MAX_RUNNING_JOBS": "20", "MAX_RUNNING_PER_MEMBER": "10"})
    await fake_discord.wait_commands()
    crowd = [
        await fake_discord.slash("video", {"prompt": f"job {i}"}, user=users[i % 4], channel_id=busy)
        for i in range(7)
    ]
    alone = await fake_discord.slash("video", {"prompt": "a heron"}, user=users[0], channel_id=quiet)
    finals = [await wait_final(fake_discord, i, timeout=60) for i in crowd]
    lone = await wait_final(fake_discord, alone, timeout=60)
    assert all(video_attachment(m) for m in [*finals, lone])
    assert [r.status for r in fake_discord.requests if r.status == 429] == []
    # Seven jobs live on a bucket of five: no progress edit through the channel, finals only.
    edits = [r for r in fake_discord.requests if r.method == "PATCH" and f"/channels/{busy}/" in r.path]
    assert len(edits) == 7
    last = max(map(_shown_at, finals))
    assert _shown_at(lone) < last  # the quiet channel did not wait for the busy one

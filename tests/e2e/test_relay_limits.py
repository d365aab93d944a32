"""The relay's own limits: a 429 on create pauses creates and keeps the job waiting (busy, not
failed), the bot sends fewer at once and says so, and a crash while paused sends the job again."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import field, life, settled_rows, setup_guild, video_attachment, wait_final
from tests.e2e.test_operations import free_port, scrape

pytestmark = pytest.mark.e2e

BUSY = "The video service is busy, waiting to send"


def statuses(interaction) -> list[str]:
    return [e["embeds"][0]["fields"][0]["value"] for e in interaction.original.edits if e.get("embeds")]


def embed_of(interaction):
    return interaction.responses[0]["data"]["embeds"][0] if interaction.responses else None


async def test_a_429_on_create_keeps_the_job_waiting_then_sends_it_again(
    fake_discord, fake_api, run_bot, tmp_path
):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.default_life = life(0.5)
    # Two refusals with a pause long enough to look at /video-queue while it lasts.
    fake_api.fail_create(status=429, count=2, headers={"Retry-After": "2"})
    port = free_port()
    bot = await run_bot({"METRICS_PORT": str(port), "MAX_RUNNING_JOBS": "4"})
    await fake_discord.wait_commands()
    asked = await fake_discord.slash("video", {"prompt": "a busy relay"}, user=user, channel_id=channel)
    await fake_discord.wait_for(
        lambda: asked.original and any(BUSY in s for s in statuses(asked)), timeout=15
    )
    assert any(f"{BUSY}: position 1" in s for s in statuses(asked))  # its place in the queue

    queue = await fake_discord.slash("video-queue", user=user, channel_id=channel)
    shown = await fake_discord.wait_for(lambda: embed_of(queue), timeout=10)
    footer = shown["footer"]["text"]
    assert footer.startswith("The video service is busy: sending resumes in ") and "then 1 job" in footer
    _, samples = await scrape(port)
    assert samples[("veo_relay_create_limit", ())] == 1  # halved from what was in flight (one), at the floor
    assert samples[("veo_relay_create_pause_seconds", ())] > 0

    message = await wait_final(fake_discord, asked, timeout=30)
    assert video_attachment(message) is not None
    assert not any("Failed" in s for s in statuses(asked))
    (row,) = await settled_rows(fake_discord, tmp_path)
    assert row["state"] == "delivered"
    assert len(fake_api.creates) == 3 and len(fake_api.tasks) == 1  # two refused, billed once
    _, samples = await scrape(port)
    assert samples[("veo_creates_total", (("outcome", "rate_limited"),))] == 2
    assert samples[("veo_relay_create_limit", ())] == 2  # one more per accepted create
    assert await bot.stop() == 0
    # The log tells the job's end, as it tells its start.
    assert f"job {row['id']} delivered (upload)" in bot.output
    assert "after the relay finished" in bot.output


async def test_a_crash_while_paused_by_a_429_sends_the_job_again_after_the_restart(
    fake_discord, fake_api, run_bot, tmp_path
):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.default_life = life(0.5)
    fake_api.fail_create(status=429, headers={"Retry-After": "60"})
    bot = await run_bot()
    await fake_discord.wait_commands()
    asked = await fake_discord.slash("video", {"prompt": "paused"}, user=user, channel_id=channel)
    await fake_discord.wait_for(
        lambda: asked.original and any(BUSY in s for s in statuses(asked)), timeout=15
    )
    await bot.kill9()
    # The refusal proved nothing was created: the job is waiting, not "may have been billed".
    await run_bot()
    message = await wait_final(fake_discord, asked, timeout=30)
    assert video_attachment(message) is not None, field(message, "What happened")
    (row,) = await settled_rows(fake_discord, tmp_path)
    assert row["state"] == "delivered" and row["failure_kind"] is None
    assert len(fake_api.creates) == 2 and len(fake_api.tasks) == 1

"""Operating the bot: JSON logs and the Prometheus endpoint, on the real process."""

from __future__ import annotations

import json
import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.helpers import answer, life, settled_rows, wait_final

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def scrape(port: int) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


async def test_json_logs_are_all_json_with_job_fields(fake_discord, fake_api, run_bot, tmp_path):
    guild = fake_discord.add_guild()
    user = fake_discord.add_member(guild.id, name="someone")
    fake_api.script(life(0.5))
    bot = await run_bot({"LOG_FORMAT": "json"})
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash(
        "video", {"prompt": "a lighthouse"}, user=user, channel_id=guild.channels[0]
    )
    await wait_final(fake_discord, interaction)
    (row,) = await settled_rows(fake_discord, tmp_path)
    assert await bot.stop() == 0

    lines = [json.loads(line) for line in bot.output.splitlines()]  # every line parses
    assert len(lines) > 5
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    created = next(line for line in lines if "created upstream" in line["message"])
    assert (created["job_id"], created["task_id"], created["guild_id"]) == (
        row["id"],
        row["task_id"],
        guild.id,
    )
    submitted = next(line for line in lines if "submitted by" in line["message"])
    assert submitted["job_id"] == row["id"] and submitted["guild_id"] == guild.id
    assert any(line["message"] == "stopped cleanly" for line in lines)


async def test_metrics_move_and_hold_no_prompt_or_name(fake_discord, fake_api, run_bot, tmp_path):
    guild = fake_discord.add_guild()
    channel = guild.channels[0]
    name = "Zephyrine-the-member"
    user = fake_discord.add_member(guild.id, name=name)
    prompt = "a zeppelin made of marmalade"
    port = free_port()
    fake_api.script(life(0.8))
    fake_api.fail_query(status=502, count=1)  # one failed poll, retried
    # One 429 from Discord on the job message's edits; discord.py waits and sends again.
    fake_discord.rate_limit("PATCH", r"/webhooks/", count=1, retry_after=0.2)
    await run_bot({"METRICS_PORT": str(port), "DAILY_QUOTA_PER_MEMBER": "1"})
    await fake_discord.wait_commands()

    _, before = await scrape(port)
    assert before[("veo_creates_total", (("outcome", "accepted"),))] == 0
    assert before[("veo_queue_length", ())] == 0

    first = await fake_discord.slash("video", {"prompt": prompt}, user=user, channel_id=channel)
    await wait_final(fake_discord, first)
    (row,) = await settled_rows(fake_discord, tmp_path)
    assert row["state"] == "delivered"
    refused = await fake_discord.slash("video", {"prompt": prompt + " again"}, user=user, channel_id=channel)
    assert "used your 1 video" in await answer(fake_discord, refused)

    text, after = await scrape(port)
    assert after[("veo_creates_total", (("outcome", "accepted"),))] == 1
    assert after[("veo_relay_request_seconds_count", (("route", "create"),))] == 1
    assert after[("veo_relay_request_seconds_count", (("route", "query"),))] >= 2
    assert after[("veo_relay_errors_total", (("kind", "unavailable"), ("route", "query")))] == 1
    assert after[("veo_delivery_seconds_count", ())] == 1
    assert after[("veo_discord_rate_limited_total", (("scope", "user"),))] == 1
    assert after[("veo_quota_refusals_total", (("scope", "member"),))] == 1
    assert after[("veo_jobs", (("guild_id", str(guild.id)), ("state", "delivered")))] == 1
    assert after[("veo_queue_length", ())] == 0

    labels = {value for _, pairs in after for _, value in pairs}
    for secret_or_private in (prompt, "marmalade", name, str(user.id), fake_discord.token, fake_api.api_key):
        assert not any(secret_or_private in value for value in labels)
        assert secret_or_private not in text

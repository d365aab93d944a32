"""/video-admin report end to end: real jobs, then the CSV the fake Discord received."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.helpers import BASIC, MANAGE_GUILD, answer, job_rows, life, settled_rows, wait_final

pytestmark = pytest.mark.e2e


async def report(fake_discord, user, channel, **options):
    interaction = await fake_discord.slash(
        "video-admin", options, subcommand="report", user=user, channel_id=channel
    )

    def sent():
        return next((m for m in interaction.followups if m.attachments), None)

    message = await fake_discord.wait_for(sent, timeout=10)
    assert message.flags & 64, "the report must be private"
    (attachment,) = message.attachments
    assert attachment.filename.endswith(".csv")
    return message.content, list(csv.reader(io.StringIO(attachment.data.decode("utf-8-sig"))))


async def test_report_lists_this_servers_jobs(fake_discord, fake_api, run_bot, tmp_path):
    guild = fake_discord.add_guild(name="Main")
    channel = guild.channels[0]
    sneaky = fake_discord.add_member(guild.id, name="=HYPERLINK(1)")
    bob = fake_discord.add_member(guild.id, name="bob")
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    elsewhere = fake_discord.add_guild(name="Other")
    stranger = fake_discord.add_member(elsewhere.id, name="stranger")
    fake_api.default_life = life(0.3)
    await run_bot()
    await fake_discord.wait_commands()

    done = await fake_discord.slash(
        "video", {"prompt": "a kite", "duration": 4}, user=sneaky, channel_id=channel
    )
    await wait_final(fake_discord, done)
    fake_api.fail_create(status=402, body={"error": {"message": "Insufficient balance"}})
    failed = await fake_discord.slash("video", {"prompt": "a boat"}, user=bob, channel_id=channel)
    await wait_final(fake_discord, failed)
    other = await fake_discord.slash(
        "video", {"prompt": "not ours"}, user=stranger, channel_id=elsewhere.channels[0]
    )
    await wait_final(fake_discord, other)
    await settled_rows(fake_discord, tmp_path)
    ours = [r for r in job_rows(tmp_path) if r["guild_id"] == guild.id]
    assert len(ours) == 2

    denied = await fake_discord.slash("video-admin", {}, subcommand="report", user=bob, channel_id=channel)
    assert "Manage Server" in await answer(fake_discord, denied)

    summary, (header, *rows) = await report(fake_discord, admin, channel)
    assert header[:4] == ["job", "requested_at_utc", "member_id", "member_name"]
    by_job = {int(r[0]): r for r in rows}
    assert set(by_job) == {r["id"] for r in ours}  # the other server's job is not in it
    kite = next(r for r in ours if r["user_id"] == sneaky.id)
    boat = next(r for r in ours if r["user_id"] == bob.id)
    assert by_job[kite["id"]][2:] == [
        str(sneaky.id),
        "'=HYPERLINK(1)",
        "veo3.1-fast",
        "4",
        "no",
        "done",
        "yes",
        "",  # no MODEL_PRICES: no price, and no cost
        "0.00",
        "a kite",
    ]
    assert by_job[boat["id"]][2:] == [
        str(bob.id),
        "bob",
        "veo3.1-fast",
        "8",
        "no",
        "failed",
        "no",
        "",
        "0.00",
        "a boat",
    ]
    requested = datetime.fromisoformat(by_job[kite["id"]][1])
    assert abs(requested.timestamp() - kite["created_at"]) < 1
    assert "2 jobs, 1 accepted" in summary
    assert "bob: 0 accepted, 0 done, 1 failed" in summary

    last_year = (datetime.now(UTC) - timedelta(days=365)).date().isoformat()
    summary, (_, *rows) = await report(fake_discord, admin, channel, since=last_year, until=last_year)
    assert rows == [] and "No jobs" in summary

    unclear = await fake_discord.slash(
        "video-admin", {"days": 3, "since": last_year}, subcommand="report", user=admin, channel_id=channel
    )
    assert "not both" in await answer(fake_discord, unclear)

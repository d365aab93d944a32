"""Audit-log lines: who, when, what, and never a ping (mentions are markup only)."""

from __future__ import annotations

from bot.jobs.model import Job, JobState
from bot.ops.audit import job_line, settings_line


def job(**kw) -> Job:
    base = dict(
        id=12,
        state=JobState.FAILED,
        created_at=0.0,
        updated_at=0.0,
        channel_id=5,
        user_id=7,
        prompt="a   cow\nflies `@everyone`",
        model="veo3.1",
        shape="landscape",
        size="1280x720",
        duration=8,
        aspect_ratio="16:9",
        failure_reason="The prompt was refused by the content policy.",
    )
    base.update(kw)
    return Job(**base)


def test_job_line_says_who_when_where_and_what():
    line = job_line(
        "rejected", job(parent_id=3, origin="remix", guild_id=4, message_id=6), by=9, at=1_700_000_000
    )
    link = "https://discord.com/channels/4/5/6"
    assert line.startswith(f"<t:1700000000:f> · [Video #12]({link}) ⛔ rejected by <@9> in <#5>")
    # The prompt is shown inert: its backticks escaped, @everyone broken by a zero-width space.
    assert '"a cow flies \\`@\u200beveryone\\`" (veo3.1, 8 s, remix of #3)' in line
    assert "requested by <@7>" in line


def test_a_request_for_approval_reads_as_the_members_not_the_approvers():
    line = job_line("awaiting_approval", job(), by=7, at=1_700_000_000)
    assert "Video #12 🛂 sent for approval by <@7> in <#5>" in line


def test_failed_line_carries_the_reason_and_no_actor():
    line = job_line("failed", job(), by=None, at=0)
    assert "❌ failed in <#5>" in line and "content policy" in line


def test_lines_fit_in_one_message():
    assert len(job_line("submitted", job(prompt="x" * 6000), by=7, at=0)) <= 2000
    assert (
        settings_line("max_duration", "4 s", by=1, at=0)
        == "<t:0:f> · ⚙️ setting `max_duration` changed by <@1>: 4 s"
    )

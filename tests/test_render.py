"""The job message as data: what members see in each state, within Discord's limits."""

from __future__ import annotations

import pytest

from bot.jobs.model import JobState
from bot.storage.store import Store
from cogs.video.render import phase, render


@pytest.fixture
async def store():
    async with Store.open(":memory:") as s:
        yield s


async def make(store, **kw):
    base = dict(
        channel_id=1,
        user_id=2,
        user_name="Ann",
        prompt="a cow @everyone",
        model="veo3.1-fast",
        shape="landscape",
        size="1280x720",
        duration=8,
        aspect_ratio="16:9",
        images=[],
        image_names=[],
    )
    base.update(kw)
    return await store.add_job(**base)


async def test_running_job_shows_progress_bar_and_cancel(store):
    job = await make(store)
    await store.transition(job.id, JobState.QUEUED, task_id="video_1")
    job = await store.transition(job.id, JobState.RUNNING, progress=45)
    r = render(job, ready_at=job.created_at + 95, footer="3 of 5 left today")
    main = r.embeds[0]
    status = main["fields"][0]["value"]
    assert "Generating… 45%" in status and "█" in status
    assert r.cancellable and r.content == ""
    assert main["footer"]["text"] == "3 of 5 left today"  # no task id, no job-table words
    assert main["author"]["name"] == "Requested by Ann"
    fields = {f["name"]: f["value"] for f in main["fields"]}
    # Live timestamps: Discord keeps them current, so no edit is needed for time to pass.
    assert fields["Asked"] == f"<t:{int(job.created_at)}:R>"
    # The timestamp reads "in 95 seconds" by itself: "about in 95 seconds" is not English.
    assert fields["Likely ready"] == f"<t:{int(job.created_at) + 95}:R>"
    assert fields["Model"] == "Veo 3.1 Fast" and fields["Shape"] == "Landscape 16:9 (1280×720)"


async def test_a_finished_job_says_how_long_it_took(store):
    job = await make(store)
    await store.transition(job.id, JobState.QUEUED, task_id="t", now=job.created_at + 1)
    job = await store.transition(job.id, JobState.FAILED, failure_reason="x", now=job.created_at + 65)
    fields = {f["name"]: f["value"] for f in render(job).embeds[0]["fields"]}
    assert fields["Took"] == "1m 05s" and "Asked" not in fields and "Likely ready" not in fields
    assert "footer" not in render(job).embeds[0]


async def test_reference_images_each_get_a_thumbnail(store):
    urls = ["https://cdn/1.png", "https://cdn/2.png", "https://cdn/3.png"]
    r = render(await make(store, images=urls, model="veo3.1-fast-components"))
    assert [e["thumbnail"]["url"] for e in r.embeds] == urls


async def test_failed_job_explains_and_has_no_button(store):
    job = await make(store)
    job = await store.transition(
        job.id, JobState.FAILED, failure_reason="The video service refused this prompt."
    )
    r = render(job)
    assert phase(job) == "failed" and not r.cancellable
    assert {f["name"]: f["value"] for f in r.embeds[0]["fields"]}["What happened"].startswith(
        "The video service"
    )


async def test_link_delivery_puts_the_url_in_content_so_it_plays_inline(store):
    job = await make(store)
    await store.transition(job.id, JobState.QUEUED, task_id="t")
    job = await store.transition(
        job.id, JobState.SUCCEEDED, video_url="https://cdn/v.mp4", enhanced_prompt="A cow"
    )
    r = render(job, link=job.video_url)
    assert r.content == "https://cdn/v.mp4"
    assert {f["name"]: f["value"] for f in r.embeds[0]["fields"]}["Enhanced prompt"] == "A cow"


async def test_huge_prompts_stay_within_discords_embed_limits(store):
    job = await make(
        store, prompt="x" * 6000, images=["https://cdn/1.png"] * 3, model="veo3.1-fast-components"
    )
    job = await store.transition(job.id, JobState.FAILED, failure_reason="y" * 5000)
    r = render(job)
    total = 0
    for e in r.embeds:
        assert len(e.get("description", "")) <= 4096
        for f in e.get("fields", []):
            assert len(f["value"]) <= 1024
            total += len(f["name"]) + len(f["value"])
        total += (
            len(e.get("description", "")) + len(e.get("title", "")) + len(e.get("footer", {}).get("text", ""))
        )
        total += len(e.get("author", {}).get("name", ""))
    assert total <= 6000


async def test_equal_jobs_render_equal(store):
    job = await make(store)
    assert render(job) == render(job)


async def test_a_job_waiting_for_approval_then_decided(store):
    job = await make(store, state=JobState.AWAITING_APPROVAL)
    r = render(job)
    fields = {f["name"]: f["value"] for f in r.embeds[0]["fields"]}
    assert fields["Status"] == "🛂 Waiting for approval by a moderator"
    assert "Approval" not in fields and r.cancellable  # the requester may withdraw it
    approved = await store.transition(job.id, JobState.PENDING, decided_by=9, decided_at=1_700_000_000.0)
    fields = {f["name"]: f["value"] for f in render(approved, position=2).embeds[0]["fields"]}
    assert fields["Approval"] == "Approved by <@9> <t:1700000000:R>"
    assert "position 2" in fields["Status"]

    other = await make(store, state=JobState.AWAITING_APPROVAL)
    rejected = await store.transition(other.id, JobState.REJECTED, decided_by=9)
    r = render(rejected)
    fields = {f["name"]: f["value"] for f in r.embeds[0]["fields"]}
    assert phase(rejected) == "rejected" and not r.cancellable
    assert fields["Status"] == "⛔ Rejected by a moderator"
    assert fields["Approval"].startswith("Rejected by <@9>")
    assert "Took" not in fields  # nothing was made: no time it took


async def test_a_cancelled_job_says_plainly_what_happened_and_took_no_time(store):
    job = await make(store)
    await store.transition(job.id, JobState.QUEUED, task_id="t", now=job.created_at + 1)
    cancelled = await store.transition(job.id, JobState.CANCELLED, cancelled_by=2, now=job.created_at + 2)
    fields = {f["name"]: f["value"] for f in render(cancelled).embeds[0]["fields"]}
    assert fields["Cancelled"] == "Cancelled by <@2> after it was sent, so it may still be billed."
    assert "Took" not in fields and fields["Asked"] == f"<t:{int(job.created_at)}:R>"


async def test_a_job_cancelled_before_it_was_sent_says_nothing_was_billed(store):
    job = await make(store, state=JobState.PENDING)
    cancelled = await store.transition(job.id, JobState.CANCELLED, cancelled_by=2)
    fields = {f["name"]: f["value"] for f in render(cancelled).embeds[0]["fields"]}
    assert "before it was sent; nothing was created or billed" in fields["Cancelled"]

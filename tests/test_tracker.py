"""The job life cycle against a real store and the fake relay over HTTP; Discord is a recorder."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import aiohttp
import pytest

from bot.jobs.model import RELAY_BUSY, Job, JobState
from bot.jobs.owner import EVERYTHING, Ownership
from bot.jobs.tracker import JobTracker, Timing
from bot.relay.unified import VideoAPI
from bot.storage.store import Store
from sandbox.relay import FakeVideoAPI, Step

FAST = Timing(poll_interval=0.05, poll_max_interval=0.2, failure_deadline=1.0, job_timeout=5.0)


class RecordingPresenter:
    """Stands in for the Discord cog: records what it was asked to show, can fail on demand."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.shown: list[Job] = []
        self.finished: list[Job] = []
        self.announced: list[Job] = []
        self.failures_left = 0

    async def show(self, job_id: int) -> None:
        # What the cog would render: the job as stored.
        self.shown.append(await self.store.require(job_id))

    async def finish(self, job: Job) -> str | None:
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("Discord is down")
        self.finished.append(job)
        return "upload" if job.state is JobState.SUCCEEDED else None

    async def announce(self, job: Job) -> None:
        self.announced.append(job)


@pytest.fixture
async def env(tmp_path):
    async with FakeVideoAPI() as fake, aiohttp.ClientSession() as session:
        store = Store.open(tmp_path / "jobs.db")
        api = VideoAPI(session, fake.base_url, fake.api_key, timeout=2, retry_base_delay=0.01)
        presenter = RecordingPresenter(store)
        trackers: list[JobTracker] = []

        def make(timing: Timing = FAST, owner: Ownership = EVERYTHING) -> JobTracker:
            tracker = JobTracker(store, api, timing, owner=owner)
            trackers.append(tracker)
            return tracker

        yield fake, store, presenter, make
        for tracker in trackers:
            await tracker.stop()
        await store.close()


async def add(store: Store, **kw) -> Job:
    fields = dict(
        channel_id=1,
        user_id=2,
        prompt="a cow",
        model="veo3.1-fast",
        images=[],
        image_names=[],
        shape="landscape",
        size="1280x720",
        duration=8,
        aspect_ratio="16:9",
        enable_upsample=False,
    )
    fields.update(kw)
    return await store.add_job(**fields)


async def send(store: Store, tracker: JobTracker, **kw) -> Job:
    """Queue a job the way a command does (a PENDING row with its message posted), let the
    tracker enqueue it, and wait until the create call has come back (a task id, or failed)."""
    job = await add(store, state=JobState.PENDING, message_id=1, **kw)
    await tracker.enqueue()
    await until_job(store, job.id, lambda j: j.state not in (JobState.PENDING, JobState.SUBMITTING))
    return await store.get(job.id)


async def until(predicate, timeout=5.0):
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def until_job(store: Store, job_id: int, predicate, timeout=5.0):
    """Wait until the stored job satisfies `predicate`."""
    async with asyncio.timeout(timeout):
        while not predicate(await store.get(job_id)):
            await asyncio.sleep(0.01)


async def test_a_job_is_created_once_polled_and_finished_once(env):
    fake, store, presenter, make = env
    fake.script(
        [Step("queued"), Step("processing", 40, after=0.1), Step("completed", 100, after=0.1, video="small")]
    )
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    await until_job(store, job.id, lambda j: j.state is JobState.DELIVERED)
    assert len(fake.creates) == 1
    assert [j.id for j in presenter.finished] == [job.id]
    final = await store.get(job.id)
    assert final.notified_at is not None and final.delivery_mode == "upload"
    assert final.task_id == next(iter(fake.tasks))
    assert any(j.progress == 40 for j in presenter.shown)
    await asyncio.sleep(0.2)
    assert len(presenter.finished) == 1


async def test_cancel_stops_tracking_and_finishes_once(env):
    fake, store, presenter, make = env
    fake.script([Step("processing", 10), Step("completed", 100, after=0.6, video="small")])
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    cancelled = await tracker.cancel(job.id, by_user=2)
    assert cancelled is not None and cancelled.state is JobState.CANCELLED
    await asyncio.sleep(0.8)
    assert (await store.get(job.id)).state is JobState.CANCELLED
    assert [j.state for j in presenter.finished] == [JobState.CANCELLED]
    assert await tracker.cancel(job.id, by_user=2) is None


async def test_an_unconfirmed_job_found_at_start_is_failed_not_resubmitted(env):
    fake, store, presenter, make = env
    job = await add(store)  # state submitting, no task id: the process died around the create call
    await make().start(presenter)
    await until(lambda: presenter.finished)
    assert (await store.get(job.id)).state is JobState.FAILED
    assert (await store.get(job.id)).failure_kind == "unconfirmed"
    assert fake.creates == []


async def test_polls_give_up_after_the_failure_deadline(env):
    fake, store, presenter, make = env
    fake.script([Step("processing", 10)])
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    fake.fail_query(status=503, count=1000)
    await until_job(store, job.id, lambda j: j.state is JobState.FAILED, timeout=5)
    failed = await store.get(job.id)
    assert failed.failure_kind == "timeout"
    assert failed.poll_failures >= 2


async def test_a_failed_final_message_is_retried_until_it_lands(env):
    fake, store, presenter, make = env
    fake.script([Step("completed", 100, video="small")])
    presenter.failures_left = 2
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    await until_job(store, job.id, lambda j: j.state is JobState.DELIVERED, timeout=8)
    assert len(presenter.finished) == 1


async def test_create_refused_fails_the_job_without_a_task(env):
    fake, store, presenter, make = env
    fake.fail_create(
        status=402, body={"error": {"message": "Insufficient balance", "type": "insufficient_quota"}}
    )
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    failed = await store.get(job.id)
    assert failed.state is JobState.FAILED and failed.failure_kind == "no_balance"
    assert failed.task_id is None
    assert "nothing was billed" in failed.failure_reason.lower()


async def test_create_timeout_is_not_retried(env):
    fake, store, presenter, make = env
    fake.fail_create(hang=5, accepted_anyway=True)
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    assert (await store.get(job.id)).failure_kind == "unconfirmed"
    assert len(fake.creates) == 1


async def test_restart_resumes_a_running_job(env):
    fake, store, presenter, make = env
    fake.script([Step("processing", 10), Step("completed", 100, after=0.3, video="small")])
    first = make()
    await first.start(presenter)
    job = await send(store, first)
    await first.stop()
    second = make()
    await second.start(presenter)
    await until_job(store, job.id, lambda j: j.state is JobState.DELIVERED)
    assert len(fake.creates) == 1
    assert len(presenter.finished) == 1


async def test_a_process_resumes_and_sends_only_its_shards_jobs(env):
    fake, store, presenter, make = env
    fake.script(*[[Step("completed", 100, video="small")]] * 3)
    on_shard = {s: (10 + s) << 22 for s in (0, 1)}  # (guild_id >> 22) % 2 == s
    waiting = {
        s: await add(store, guild_id=g, state=JobState.PENDING, message_id=1) for s, g in on_shard.items()
    }
    dm = await add(store, guild_id=None, state=JobState.PENDING, message_id=2)
    # The process running shard 1 of 2: its server's job only (DMs are shard 0's).
    second = make(owner=Ownership(2, frozenset({1})))
    await second.start(presenter)
    await until_job(store, waiting[1].id, lambda j: j.state is JobState.DELIVERED)
    await second.enqueue()
    assert [b["prompt"] for b in fake.creates] == ["a cow"]
    assert (await store.get(waiting[0].id)).state is JobState.PENDING
    assert (await store.get(dm.id)).state is JobState.PENDING
    await second.stop()
    # SHARD_COUNT changed to 1: the one process owns everything left, and sends it once.
    everything = make(owner=Ownership(1, frozenset({0})))
    await everything.start(presenter)
    for job in (waiting[0], dm):
        await until_job(store, job.id, lambda j: j.state is JobState.DELIVERED)
    assert len(fake.creates) == 3


async def test_a_video_is_announced_after_its_delivery_is_recorded_and_once_after_a_stop(env):
    fake, store, presenter, make = env
    fake.script([Step("completed", 100, video="small")])
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker, interaction_token="tok")
    await until_job(store, job.id, lambda j: j.notified_at is not None)
    assert [j.id for j in presenter.finished] == [job.id]
    assert [j.id for j in presenter.announced] == [job.id]
    # Announced with the job as it was, interaction token and all; then the row drops it.
    assert (presenter.announced[0].state, presenter.announced[0].interaction_token) == (
        JobState.SUCCEEDED,
        "tok",
    )
    stored = await store.get(job.id)
    assert (stored.state, stored.interaction_token) == (JobState.DELIVERED, None)
    await tracker.stop()
    # Delivered, then the process stopped before telling the member: the next start tells them,
    # and does not deliver again.
    await store.update(job.id, notified_at=None)
    again = make()
    await again.start(presenter)
    await until_job(store, job.id, lambda j: j.notified_at is not None)
    assert len(presenter.finished) == 1 and len(presenter.announced) == 2
    assert len(fake.creates) == 1


async def test_approval_sends_only_approved_jobs_and_decides_once(env):
    fake, store, presenter, make = env
    fake.script([Step("completed", 100, video="small")])
    tracker = make()
    await tracker.start(presenter)
    approved = await add(store, state=JobState.AWAITING_APPROVAL, message_id=1)
    rejected = await add(store, state=JobState.AWAITING_APPROVAL, message_id=2)
    await tracker.enqueue()
    assert fake.creates == []  # nothing waiting for approval is sent
    assert (await tracker.approve(approved.id, by_user=9)).state is JobState.PENDING
    assert await tracker.approve(approved.id, by_user=10) is None
    assert (await tracker.reject(rejected.id, by_user=9)).state is JobState.REJECTED
    assert await tracker.approve(rejected.id, by_user=9) is None
    await until_job(store, approved.id, lambda j: j.state is JobState.DELIVERED)
    assert len(fake.creates) == 1
    assert (await store.get(approved.id)).decided_by == 9
    assert any(j.id == approved.id and j.state is not JobState.AWAITING_APPROVAL for j in presenter.shown)
    assert [j.id for j in presenter.finished] == [rejected.id, approved.id]
    assert (await store.get(rejected.id)).notified_at is not None


async def test_a_restart_leaves_jobs_awaiting_approval_alone(env):
    fake, store, presenter, make = env
    waiting = await add(store, state=JobState.AWAITING_APPROVAL, message_id=1)
    tracker = make()
    await tracker.start(presenter)
    await asyncio.sleep(0.2)
    assert (await store.get(waiting.id)).state is JobState.AWAITING_APPROVAL and fake.creates == []
    assert (await tracker.cancel(waiting.id, by_user=2)).state is JobState.CANCELLED


async def test_a_job_whose_message_cannot_be_posted_fails_unsent_and_unannounced(env):
    fake, store, presenter, make = env
    tracker = make()
    await tracker.start(presenter)
    job = await tracker.create(
        channel_id=1,
        user_id=2,
        state=JobState.PENDING,
        prompt="a cow",
        model="veo3.1-fast",
        size="1280x720",
        aspect_ratio="16:9",
    )
    await tracker.not_posted(job.id)
    await tracker.enqueue()
    failed = await store.require(job.id)
    assert failed.state is JobState.FAILED and failed.failure_kind == "discord"
    assert failed.notified_at is not None  # nobody is told of a message nobody saw
    assert fake.creates == []  # nothing went upstream
    # A job already at the relay is not failed by a late "could not be posted".
    sent = await send(store, tracker)
    await tracker.not_posted(sent.id)
    assert (await store.require(sent.id)).state is not JobState.FAILED


async def test_a_429_on_create_puts_the_job_back_in_the_queue_and_sends_it_again(env):
    fake, store, presenter, make = env
    fake.fail_create(status=429, count=3, headers={"Retry-After": "0.05"})
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    await until_job(store, job.id, lambda j: j.state is JobState.DELIVERED)
    # Shown as waiting for a busy service, never failed; billed once.
    assert any(j.state is JobState.PENDING and j.raw_status == RELAY_BUSY for j in presenter.shown)
    assert len(fake.creates) == 4 and len(fake.tasks) == 1
    assert tracker.relay_limits().refusals == 3


async def test_a_job_the_relay_keeps_refusing_fails_only_after_the_busy_deadline(env):
    fake, store, presenter, make = env
    fake.fail_create(status=429, count=10_000, headers={"Retry-After": "0.05"})
    tracker = make(replace(FAST, busy_deadline=0.5))
    await tracker.start(presenter)
    job = await send(store, tracker)
    assert job.state is JobState.FAILED and job.failure_kind == "busy" and job.task_id is None
    assert "too busy" in job.failure_reason and "nothing was billed" in job.failure_reason
    assert len(fake.creates) > 3 and fake.tasks == {}  # sent again and again, never failed at 3


async def test_429s_on_polls_lower_the_poll_rate_until_polls_succeed_again(env):
    fake, store, presenter, make = env
    fake.script([Step("processing", 10), Step("completed", 100, after=1.5, video="small")])
    # Three in a row: the client's own two retries do not get through either.
    fake.fail_query(status=429, count=3, headers={"Retry-After": "0.3"})
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    await until_job(store, job.id, lambda j: j.poll_failures == 1)
    assert tracker.relay_limits().polls_per_second == FAST.polls_cap / 2
    await until_job(store, job.id, lambda j: j.state is JobState.DELIVERED)
    assert tracker.relay_limits().polls_per_second > FAST.polls_cap / 2


async def test_a_job_that_fails_upstream_is_finished_once(env):
    # The poll that meets the failure finishes it; the step after the poll must not again.
    fake, store, presenter, make = env
    fake.script([Step("queued"), Step("failed", after=0.1, extra={"fail_reason": "content policy"})])
    tracker = make()
    await tracker.start(presenter)
    job = await send(store, tracker)
    await until_job(store, job.id, lambda j: j.notified_at is not None)
    await asyncio.sleep(0.3)  # further steps, had any been scheduled
    assert [j.id for j in presenter.finished] == [job.id]
    assert (await store.get(job.id)).state is JobState.FAILED

"""What the quota and budget property tests do to a job between asks, as the bot would."""

from __future__ import annotations

from bot.jobs.model import Job, JobState
from bot.storage.store import Store


def holding(jobs: list[Job]) -> list[Job]:
    """The jobs a quota or budget counts: billed (a task id) or still on their way."""
    return [j for j in jobs if j.task_id or j.state in (JobState.AWAITING_APPROVAL, JobState.PENDING)]


async def move(store: Store, job: Job, op: str) -> None:
    """A moderator approves or rejects it, or it is sent and the relay accepts or refuses it."""
    if op == "approve":
        await store.transition(job.id, JobState.PENDING, expect=[JobState.AWAITING_APPROVAL])
    elif op == "reject":
        await store.transition(job.id, JobState.REJECTED, expect=[JobState.AWAITING_APPROVAL])
    elif await store.transition(job.id, JobState.SUBMITTING, expect=[JobState.PENDING]):
        if op == "accept":
            await store.transition(job.id, JobState.QUEUED, task_id=f"t{job.id}")
        else:  # the relay refused the create: nothing billed
            await store.transition(job.id, JobState.FAILED, failure_reason="no balance")

"""A job message's buttons: the payload the bot sends itself is exactly what discord.py's View
of the same persistent items would send, in every language and for every kind of job."""

from __future__ import annotations

import pytest

from bot.jobs.model import Job, JobState
from cogs.video.views import Buttons, as_view, finished_view, job_view
from tests.test_audit import job as audit_job


def job(**changes: object) -> Job:
    """A delivered landscape job in French, with `changes` (the audit tests' job otherwise)."""
    fields: dict = {"id": 42, "state": JobState.DELIVERED, "locale": "fr", "failure_reason": None}
    fields.update(changes)
    return audit_job(**fields)


CASES = [
    job_view(42, cancellable=True),
    job_view(42, cancellable=True, decidable=True, locale="ja"),
    finished_view(job()),
    finished_view(job(enable_upsample=True), locale="de"),
    finished_view(job(shape="portrait")),
    finished_view(job(state=JobState.FAILED, failure_kind="content_policy")),
    finished_view(job(state=JobState.REJECTED), locale="zh-CN"),
]


@pytest.mark.parametrize("buttons", CASES, ids=range(len(CASES)))
async def test_the_payload_is_the_views(buttons: Buttons) -> None:
    assert buttons.to_components() == buttons.view().to_components()
    assert not buttons.has_components_v2()


async def test_which_buttons() -> None:
    def ids(buttons: Buttons | None) -> list[str]:
        assert buttons is not None
        return [c["custom_id"] for row in buttons.to_components() for c in row["components"]]

    assert job_view(7, cancellable=False) is None and as_view(None) is None
    assert ids(job_view(7, cancellable=True, decidable=True)) == [
        "video:approve:7",
        "video:reject:7",
        "video:cancel:7",
    ]
    assert ids(finished_view(job())) == [
        f"video:{a}:42" for a in ("reroll", "remix", "upscale", "save", "delete")
    ]
    # Refused content would be refused again: no Reroll; no Upscale of a portrait video.
    assert ids(
        finished_view(job(state=JobState.FAILED, failure_kind="content_policy", shape="portrait"))
    ) == [
        "video:remix:42",
        "video:delete:42",
    ]
    labels = [c["label"] for c in finished_view(job(), locale="fr").to_components()[0]["components"]]
    assert labels[-1] != "Delete"  # in the job's language

"""The job message's final edit, on a stub bot: what it hands discord.py, and what it keeps."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import discord

from bot.jobs.model import JobState
from bot.settings import load_settings
from bot.storage.store import Store
from cogs.video.messages import Edit, JobMessages
from cogs.video.render import render
from tests.test_store_fastpath import add

ENV = {"DISCORD_TOKEN": "t", "VIDEO_API_KEY": "k"}


def stub_bot(store: Store) -> Any:
    return SimpleNamespace(settings=load_settings(ENV, dotenv=False), store=store, get_guild=lambda _id: None)


async def test_the_uploaded_video_is_released_once_the_edit_is_over():
    """discord.py closes only files it opened; the request objects holding our in-memory copy
    are cyclic garbage, so without an explicit close every delivered video stayed in memory
    until the next full collection."""
    async with Store.open(":memory:") as store:
        job = await add(store, state=JobState.SUCCEEDED, message_id=10, token_issued_at=time.time())
        messages = JobMessages(stub_bot(store))
        seen: list[tuple[bool, bytes]] = []
        sent: list[discord.File] = []

        async def edit_message(_job: Any, *, progress: bool = False, **kwargs: Any) -> bool:
            (file,) = kwargs["attachments"]
            sent.append(file)
            seen.append((file.fp.closed, file.fp.read()))
            return True

        messages._edit_message = edit_message  # type: ignore[method-assign]
        shown = await messages._send(job.id, Edit(render(job), video=b"mp4 bytes", progress=False))
        assert shown == "upload"
        assert seen == [(False, b"mp4 bytes")]  # whole and open while it is sent
        assert sent[0].fp.closed  # and released after


async def test_progress_is_rendered_when_its_turn_comes_not_when_it_is_shown():
    """In a burst most progress states are superseded before the throttle lets them out: each
    is rendered only when sent, from the job as it is then."""
    async with Store.open(":memory:") as store:
        job = await add(store, state=JobState.QUEUED, message_id=10, token_issued_at=time.time())
        messages = JobMessages(stub_bot(store))
        rendered: list[int | None] = []
        real_render = messages.render

        async def counting_render(job: Any, **kwargs: Any) -> Any:
            rendered.append(job.progress)
            return await real_render(job, **kwargs)

        sent: list[str] = []

        async def send(_job_id: int, edit: Edit) -> None:
            sent.append(edit.render.embeds[0]["fields"][0]["value"])

        messages.render = counting_render  # type: ignore[method-assign]
        messages._send = send  # type: ignore[method-assign]
        messages.settings = SimpleNamespace(progress_edit_interval=0.05)  # type: ignore[assignment]
        for progress in (10, 20, 30):
            job = await store.transition(job.id, JobState.RUNNING, expect=[job.state], progress=progress)
            await messages.show(job.id)
        assert rendered == []  # nothing rendered yet: the throttle holds the latest
        throttle = messages._throttles[job.id]
        assert throttle._worker is not None
        await throttle._worker
        assert rendered == [30] and sent == ["🎬 Generating… 30%\n`██████░░░░░░░░░░░░░░`"]
        await messages.aclose()


async def test_a_progress_edit_whose_turn_comes_after_the_video_is_dropped():
    """Rendered when its turn comes, a progress edit could show a finished job as a bare
    "Done" (no video, no buttons) before the final edit: it is dropped instead."""
    async with Store.open(":memory:") as store:
        job = await add(store, state=JobState.QUEUED, message_id=10, token_issued_at=time.time())
        messages = JobMessages(stub_bot(store))
        edited: list[bool] = []

        async def edit_message(_job: Any, *, progress: bool = False, **kwargs: Any) -> bool:
            edited.append(progress)
            return True

        messages._edit_message = edit_message  # type: ignore[method-assign]
        messages.settings = SimpleNamespace(progress_edit_interval=0.05)  # type: ignore[assignment]
        job = await store.transition(job.id, JobState.RUNNING, expect=[JobState.QUEUED], progress=50)
        await messages.show(job.id)
        await store.transition(job.id, JobState.SUCCEEDED, video_url="https://cdn.example/v.mp4")
        throttle = messages._throttles[job.id]
        assert throttle._worker is not None
        await throttle._worker
        assert edited == []
        await messages.aclose()


def test_a_nonce_is_the_same_on_every_try_and_fits_discord():
    from cogs.video.sender import nonce

    assert nonce(7, "notify") == nonce(7, "notify") == "veo:7:notify"
    replaces = nonce(123456789, "job", 1578460589397639208)
    assert replaces == nonce(123456789, "job", 1578460589397639208) and len(replaces) <= 25
    assert len({nonce(7, "notify"), nonce(8, "notify"), nonce(7, "told"), replaces}) == 4
    assert nonce(123456789, "job", 1578460589397639208) != nonce(123456789, "job", 1578460589397639209)

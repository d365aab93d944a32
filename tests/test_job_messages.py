"""The job message's final edit, on a stub bot: what it hands discord.py, and what it keeps."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import discord

from bot.jobs import JobState
from bot.settings import load_settings
from bot.store import Store
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
    with Store.open(":memory:") as store:
        job = add(store, state=JobState.SUCCEEDED, message_id=10, token_issued_at=time.time())
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

"""Sending job messages: the first one (the request whose failure used to cost the whole job),
edits and answers whose reply nobody reads, and in-memory uploads that do not outlive their
request.

`post_job_message` retries a job message that Discord refused with a 429 (or a 5xx) after
discord.py's own retries, backing off, for as long as the interaction token comfortably
lives (as the command's answer itself, only within Discord's 3 seconds): until it lands,
nothing has been sent upstream and the job simply waits. Only a refusal that will not change
(4xx other than 429), or running out of attempts, fails the job.

`nonce` names the other messages a job posts through the channel routes (a new job message, a
notification, a delivery by DM): tried again after an answer that never came, they reach
Discord with the nonce of the first try, and Discord (with `enforce_nonce`, which discord.py
sends with every nonce) answers the message already made instead of posting it twice.

The answers and edits whose reply nobody reads are `bot.app.discord_internals`' (`edit_unread`,
`respond_unread`), with discord.py's other internals.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import discord

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # about a minute in all


NONCE_LENGTH = 25  # Discord's limit


def nonce(job_id: int, kind: str, *about: int) -> str:
    """The nonce of one message of a job, the same on every try (and in another process after a
    restart): the job, what the message is, and what it is `about` (the job message it
    replaces). Hashed when that would exceed Discord's 25 characters."""
    text = ":".join(("veo", str(job_id), kind, *map(str, about)))
    if len(text) <= NONCE_LENGTH:
        return text
    return "veo:" + hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def worth_retrying(exc: discord.HTTPException) -> bool:
    return exc.status == 429 or exc.status >= 500


async def post_job_message(
    post: Callable[[], Awaitable[T]], *, job_id: int, delays: tuple[float, ...] = RETRY_DELAYS
) -> T:
    """`post()`, again after each delay while Discord answers 429 or 5xx; the last error raises."""
    for delay in (*delays, None):
        try:
            return await post()
        except discord.HTTPException as exc:
            if delay is None or not worth_retrying(exc):
                raise
            log.warning(
                "job %d: posting its message was refused (%s); trying again in %.0fs",
                job_id,
                exc.status,
                delay,
                extra={"job_id": job_id},
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


@contextmanager
def uploads(files: Sequence[tuple[str, bytes]]) -> Iterator[list[discord.File]]:
    """`discord.File`s of in-memory `(name, data)`, whose buffers are freed when the block ends.

    The request objects that hold an upload are cyclic garbage, so without this every video and
    reference image sent stayed in memory until the next full collection (megabytes each, for
    hundreds of jobs in a burst). discord.py never closes a file it did not open (it swaps
    `close` for a no-op on the object), hence the call through the class."""
    buffers = [io.BytesIO(data) for _name, data in files]
    try:
        yield [
            discord.File(buffer, filename=name) for buffer, (name, _data) in zip(buffers, files, strict=True)
        ]
    finally:
        for buffer in buffers:
            io.BytesIO.close(buffer)

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

`edit_unread` and `respond_unread` go through discord.py's webhook adapter and interaction
internals, which are not public API (hence discord.py>=2.7, and the end-to-end tests of posting
and delivery, where a change in discord.py shows).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import discord
from discord.http import handle_message_parameters
from discord.webhook.async_ import async_context, interaction_message_response_params

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


async def edit_unread(webhook: discord.Webhook, message_id: int | None, **fields: Any) -> dict[str, Any]:
    """`webhook.edit_message(message_id, **fields)` — with `message_id` None, the interaction's
    original response, as `interaction.edit_original_response` — without building a `Message`
    from Discord's answer: the answer as Discord sent it (the post needs only its id and
    attachments, the final edit nothing). discord.py's own request path, its rate-limit
    handling included, minus the parsing: a tenth of a millisecond per edit, which a burst of a
    thousand jobs feels."""
    assert webhook.token is not None
    adapter = async_context.get()
    with handle_message_parameters(**fields) as params:
        sent: dict[str, Any] = {
            "session": webhook.session,
            "payload": params.payload,
            "multipart": params.multipart,
            "files": params.files,
        }
        if message_id is None:
            data = await adapter.edit_original_interaction_response(webhook.id, webhook.token, **sent)
        else:
            with_components = fields.get("view") is not None
            data = await adapter.edit_webhook_message(
                webhook.id, webhook.token, message_id, with_components=with_components, **sent
            )
    return dict(data)  # typed as discord.py's Message payload: a plain dict


async def respond_unread(interaction: discord.Interaction, **fields: Any) -> dict[str, Any]:
    """Answer the interaction with a public message (`interaction.response.send_message`) and
    return the message as Discord sent it: the job message is the command's answer itself, one
    request where deferring and then editing took two. Like `edit_unread`, it skips building a
    `Message` from the answer (and the buttons go as data, `views.Buttons`: being persistent
    dynamic items, dispatched by custom id, they need no place in discord.py's view store)."""
    if interaction.response.is_done():
        raise discord.InteractionResponded(interaction)
    adapter = async_context.get()
    params = interaction_message_response_params(
        type=discord.InteractionResponseType.channel_message.value, **fields
    )
    data = await adapter.create_interaction_response(
        interaction.id, interaction.token, session=interaction._session, params=params
    )
    # What send_message records, so the error path sees the interaction as answered.
    interaction.response._response_type = discord.InteractionResponseType.channel_message
    return dict(data["resource"]["message"])


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

"""Every use of discord.py beyond its public API, in one place, each with a public fallback.

The bot reaches past discord.py's documented surface where a busy server feels the cost (an
edit or an answer whose `Message` nobody reads), where the public API has no setter (a text
option's length known only from settings, an application webhook for ephemeral followups), and
to point the client at another Discord (the loopback one of the tests and the sandbox). Each
such use is here and nowhere else. `INTERNALS` says whether this discord.py has them as the tests
ran them (`pyproject.toml` admits only the minor version they ran against); where it does not,
or where `DISCORD_PUBLIC_API_ONLY=1` asks for it (a discord.py upgrade that breaks delivery can
be lived with while it is fixed), every function takes its public path, which the end-to-end
tests run too.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands

from bot.pacing.budgets import SENDING, Budgets, Send, buckets_of

log = logging.getLogger(__name__)


def _internals() -> bool:
    if os.environ.get("DISCORD_PUBLIC_API_ONLY", "").strip() in ("1", "true", "yes"):
        return False
    try:
        from discord.http import handle_message_parameters  # noqa: F401
        from discord.webhook.async_ import (  # noqa: F401
            async_context,
            interaction_message_response_params,
        )
    except ImportError:
        log.warning("this discord.py lacks the internals the bot was tested with; using its public API")
        return False
    return True


INTERNALS = _internals()


# --- another Discord (tests, the sandbox) ---------------------------------------------------


def point_rest_at(base: str) -> None:
    """Every REST call to `base` (discord.py reads it from `Route.BASE`; no public setting)."""
    discord.http.Route.BASE = base


def point_gateway_at(url: str) -> None:
    """A plain `Bot` connects to a fixed gateway URL without asking `/gateway/bot`."""
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


# --- pacing every request on the bot's own routes ----------------------------------------------

# The buckets (and their window generations) the request being sent took its slots from, for
# the answer's headers to be read against.
_TAKEN: ContextVar[dict[str, int] | None] = ContextVar("pacing_taken", default=None)


def pace_requests(client: discord.Client, budgets: Budgets, trace: aiohttp.TraceConfig) -> None:
    """Every request discord.py sends through its HTTP client (the bot's own routes: channel
    messages, DMs, everything but interaction webhooks) first takes its slots from `budgets`,
    at the priority the sender set (`bot.pacing.budgets.sending`); the answers' rate-limit
    headers go back to `budgets` through `trace` (discord.py's session's trace config). discord.py
    has no hook before a request, hence the wrapped method; without the internals discord.py's
    own handling stays (it learns limits from headers and 429s)."""
    if not INTERNALS:
        return
    http = client.http
    send_request = http.request

    async def request(route: discord.http.Route, **kwargs: Any) -> Any:
        names = buckets_of(route.method, route.url[len(discord.http.Route.BASE) :])
        how = SENDING.get() or Send()
        taken = await budgets.take(names, priority=how.priority, wanted=how.wanted, droppable=how.droppable)
        token = _TAKEN.set(taken)
        try:
            return await send_request(route, **kwargs)
        finally:
            _TAKEN.reset(token)

    http.request = request  # type: ignore[method-assign]

    async def on_request_end(
        _session: aiohttp.ClientSession, _ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        taken = _TAKEN.get()
        if not taken:
            return
        headers = params.response.headers
        if params.response.status == 429:
            try:
                retry_after = float(headers.get("Retry-After", "1"))
            except ValueError:
                retry_after = 1.0
            if headers.get("X-RateLimit-Global") == "true":
                budgets.refused("global", retry_after)
            else:
                for name in taken:
                    if name != "global":
                        budgets.refused(name, retry_after)
            return
        for name, generation in taken.items():
            budgets.observe(name, headers, generation)

    trace.on_request_end.append(on_request_end)


# --- answers and edits whose reply nobody reads ----------------------------------------------


def _public_view(fields: dict[str, Any]) -> dict[str, Any]:
    # The fast paths take a job's buttons as data (`cogs.video.views.Buttons`); discord.py's
    # public send and edit need a real View, which it builds.
    view = fields.get("view")
    if view is not None and not isinstance(view, discord.ui.View) and hasattr(view, "view"):
        return {**fields, "view": view.view()}
    return fields


def _message_dict(message: discord.Message | discord.WebhookMessage) -> dict[str, Any]:
    """The few fields of Discord's answer the bot reads, from a parsed `Message`."""
    return {
        "id": str(message.id),
        "attachments": [{"url": a.url, "filename": a.filename} for a in message.attachments],
    }


async def edit_unread(webhook: discord.Webhook, message_id: int | None, **fields: Any) -> dict[str, Any]:
    """`webhook.edit_message(message_id, **fields)` (with `message_id` None, the interaction's
    original response), returning Discord's answer as a dict without building a `Message`: the
    post needs only its id and attachments, the final edit nothing. discord.py's own request
    path, rate limits included, minus the parsing."""
    if not INTERNALS:
        fields = _public_view(fields)
        if message_id is None:
            edited = await webhook.edit_message("@original", **fields)  # type: ignore[call-overload]
        else:
            edited = await webhook.edit_message(message_id, **fields)
        return _message_dict(edited)
    from discord.http import handle_message_parameters
    from discord.webhook.async_ import async_context

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
    """Answer the interaction with a public message and return the message as Discord sent it:
    one request where deferring and then editing took two, without parsing the answer (the
    buttons go as data: persistent dynamic items, dispatched by custom id, need no place in
    discord.py's view store)."""
    if interaction.response.is_done():
        raise discord.InteractionResponded(interaction)
    if not INTERNALS:
        public = _public_view(fields)
        # send_message takes new uploads as `files` (an edit keeps and adds `attachments`).
        files = public.pop("attachments", None)
        await interaction.response.send_message(**public, **({"files": files} if files else {}))
        return _message_dict(await interaction.original_response())
    from discord.webhook.async_ import async_context, interaction_message_response_params

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


# --- what the public API has no setter for -------------------------------------------------


def application_webhook(client: discord.Client, application_id: int, token: str) -> discord.Webhook:
    """An interaction's followup webhook kept past the interaction (an application webhook,
    type 3, as discord.py builds for `interaction.followup`; only those may send ephemeral
    messages)."""
    if INTERNALS:
        data = {"id": application_id, "type": 3, "token": token}
        return discord.Webhook.from_state(data, client._connection)  # type: ignore[arg-type]
    webhook = discord.Webhook.partial(application_id, token, client=client)
    webhook.type = discord.WebhookType.application
    return webhook


def limit_text_option(command: app_commands.Command[Any, ..., Any], name: str, max_length: int) -> None:
    """Narrow a text option's `max_length` to a limit known only once settings are read (the
    annotation's `Range` holds the highest allowed), so Discord stops the member typing more
    instead of the bot refusing a prompt the member must retype. The command's parameter table
    is per cog instance, so nothing shared changes. Without the internals the annotation's
    limit stays, and the bot still refuses more when it is sent."""
    params = getattr(command, "_params", None) if INTERNALS else None
    if not isinstance(params, dict) or name not in params:
        return
    params[name] = dataclasses.replace(params[name], max_value=max_length)

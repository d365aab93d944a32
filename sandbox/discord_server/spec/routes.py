"""The routes the loopback Discord serves, named as Discord's OpenAPI spec names them, and matching.

`SERVED` is the one list of what the fake answers; the vendored spec is pruned to exactly these
operations, and a test requests each one from the fake and finds it in the spec, so no route the
bot can reach goes unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_MESSAGE_IDS = (
    "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
    "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
)

SERVED: tuple[tuple[str, str], ...] = (
    ("GET", "/gateway"),
    ("GET", "/gateway/bot"),
    ("GET", "/users/@me"),
    ("POST", "/users/@me/channels"),
    ("GET", "/oauth2/applications/@me"),
    ("GET", "/applications/{application_id}/commands"),
    ("PUT", "/applications/{application_id}/commands"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    *((method, path) for path in _MESSAGE_IDS for method in ("GET", "PATCH", "DELETE")),
    ("GET", "/channels/{channel_id}"),
    ("GET", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/messages"),
    ("GET", "/channels/{channel_id}/messages/{message_id}"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"),
    ("GET", "/guilds/{guild_id}/members/{user_id}"),
)


class Router:
    """Finds the spec's path template for a concrete path, e.g. `/channels/1/messages/2`."""

    def __init__(self, templates: Iterable[str]) -> None:
        # A literal segment beats a parameter (`/messages/@original` over `/messages/{message_id}`),
        # as it does on Discord: fewest parameters first.
        ordered = sorted(templates, key=lambda t: (t.count("{"), t))
        self._patterns = [(re.compile(_to_regex(t)), t) for t in ordered]

    def match(self, path: str) -> str | None:
        for pattern, template in self._patterns:
            if pattern.fullmatch(path):
                return template
        return None


def _to_regex(template: str) -> str:
    parts = re.split(r"(\{[^}]+\})", template)
    return "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)

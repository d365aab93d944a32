"""Discord's documented rate limits, enforced when switched on (`FakeDiscord(rate_limits=True)`).

Off by default so existing tests keep their timing; the burst benchmark and the rate-limit
tests switch it on. What is enforced (docs/performance.md lists the sources):

- global: 50 requests per second per bot token; interaction callbacks and the interaction
  webhook routes (`/webhooks/{app}/{token}/...`) are exempt;
- per channel, 5 per 5 s for message create and, separately, for message edit;
- per interaction token, 5 per 5 s across its webhook routes.

Successful answers carry the bucket's `X-RateLimit-*` headers (so a client can pace itself, as
discord.py does); a refused request gets a 429 with `Retry-After`, the `X-RateLimit-*` headers,
`X-RateLimit-Scope` (and `X-RateLimit-Global` for the global limit), `Via`, and the JSON body.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

GLOBAL_LIMIT = (50, 1.0)
ROUTE_LIMIT = (5, 5.0)

_CALLBACK = re.compile(r"/interactions/\d+/[^/]+/callback")
_CHANNEL_MESSAGES = re.compile(r"/channels/(\d+)/messages(/\d+)?")


@dataclass
class _Window:
    limit: int
    per: float
    reset_at: float = 0.0
    remaining: int = 0

    def take(self, now: float) -> bool:
        if now >= self.reset_at:
            self.reset_at, self.remaining = now + self.per, self.limit
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


@dataclass
class Verdict:
    """What the limiter says of one request: the headers to send, and whether it is refused."""

    headers: dict[str, str] = field(default_factory=dict)
    refused: bool = False
    body: dict[str, object] = field(default_factory=dict)


class RateLimits:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self.refused = 0
        self.refused_by: dict[str, int] = {}  # by bucket kind: global, edit, create, webhook

    def check(self, method: str, path: str, application_id: int) -> Verdict:
        """Count the request against its buckets; say whether it may proceed."""
        now = self._clock()
        route = self._route_bucket(method, path, application_id)
        exempt = bool(_CALLBACK.fullmatch(path)) or path.startswith(f"/webhooks/{application_id}/")
        if not exempt:
            window = self._windows.setdefault("global", _Window(*GLOBAL_LIMIT))
            if window.remaining <= 0 and now < window.reset_at:
                return self._refuse(window, "global", "global", now)
        if route is not None:
            window = self._windows.setdefault(route, _Window(*ROUTE_LIMIT))
            if not window.take(now):
                return self._refuse(window, route, "user", now)
        if not exempt:
            self._windows["global"].take(now)
        if route is None:
            return Verdict()
        return Verdict(self._headers(self._windows[route], route, now))

    @staticmethod
    def _route_bucket(method: str, path: str, application_id: int) -> str | None:
        if path.startswith(f"/webhooks/{application_id}/"):
            token = path.split("/")[3]
            return f"webhook:{token}"
        if hit := _CHANNEL_MESSAGES.fullmatch(path):
            if method == "POST" and hit[2] is None:
                return f"create:{hit[1]}"
            if method == "PATCH" and hit[2] is not None:
                return f"edit:{hit[1]}"
        return None

    def _headers(self, window: _Window, key: str, now: float) -> dict[str, str]:
        reset_after = max(0.0, window.reset_at - now)
        return {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(max(0, window.remaining)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            # Discord's bucket hash names the route, not its major parameter.
            "X-RateLimit-Bucket": hashlib.md5(key.split(":")[0].encode()).hexdigest()[:16],
        }

    def _refuse(self, window: _Window, key: str, scope: str, now: float) -> Verdict:
        self.refused += 1
        kind = key.split(":")[0]
        self.refused_by[kind] = self.refused_by.get(kind, 0) + 1
        retry_after = max(0.001, window.reset_at - now)
        headers = {
            **self._headers(window, key, now),
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",
        }
        if scope == "global":
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(retry_after, 3),
            "global": scope == "global",
            "code": 0,
        }
        return Verdict(headers, refused=True, body=body)

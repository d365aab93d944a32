"""The faults a test (or the sandbox's flaky profile) injects into the loopback Discord:
429s with Discord's headers, 5xx answers, hangs, lost answers, expired tokens, deleted or
forbidden channels, closed DMs, a dropped gateway, and Discord's own rate limits switched on."""

from __future__ import annotations

import hashlib
import re
import time

from sandbox.discord_server.core import DiscordState
from sandbox.discord_server.limits import RateLimits
from sandbox.discord_server.model import _Fault


class FaultsMixin(DiscordState):
    def rate_limit(
        self, method: str, path_regex: str, *, count: int, retry_after: float = 0.5, global_: bool = False
    ) -> None:
        headers = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": hashlib.md5(path_regex.encode()).hexdigest(),
            "Retry-After": str(max(1, round(retry_after))),
            "Via": "1.1 google",
            "X-RateLimit-Scope": "global" if global_ else "user",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": global_,
            "code": 0,
        }
        self._faults.append(_Fault(method.upper(), re.compile(path_regex), count, 429, body, headers))

    def fail(self, method: str, path_regex: str, *, status: int = 500, count: int = 1, code: int = 0) -> None:
        body = {"message": f"{status}: fault", "code": code}
        self._faults.append(
            _Fault(method.upper(), re.compile(path_regex), count, status, body, {"Via": "1.1 google"})
        )

    def hang(self, method: str, path_regex: str, *, seconds: float, count: int = 1) -> None:
        """The next matching requests get no answer for `seconds` (then a 500)."""
        self._faults.append(
            _Fault(
                method.upper(),
                re.compile(path_regex),
                count,
                500,
                {"message": "500: hung", "code": 0},
                {"Via": "1.1 google"},
                hang=seconds,
            )
        )

    def lose_answer(self, method: str, path_regex: str, *, count: int = 1) -> None:
        """The next matching requests are carried out, then the connection drops before the
        answer: the client cannot tell whether its message was made."""
        self._lost_answers.append(_Fault(method.upper(), re.compile(path_regex), count, 0, {}, {}))

    def close_dms(self, user_id: int) -> None:
        """`user_id` accepts no DM from the bot: a send there is answered 403, code 50007."""
        self.closed_dms.add(user_id)

    def clear_faults(self) -> None:
        """Forget every fault queued and not yet met."""
        self._faults.clear()

    def enforce_rate_limits(self, on: bool = True) -> None:
        """Answer with 429s as Discord would (global, per-channel and per-token buckets)."""
        self.rate_limits = RateLimits() if on else None

    def expire_tokens_after(self, seconds: float) -> None:
        self.token_ttl = seconds

    def delete_message(self, message_id: int) -> None:
        msg = self.message(message_id)
        if msg:
            self._delete(msg)

    def delete_channel(self, channel_id: int) -> None:
        self.deleted_channels.add(channel_id)

    def forbid_channel(self, channel_id: int) -> None:
        self.forbidden_channels.add(channel_id)

    def expire_attachment_urls(self) -> None:
        """Signed CDN URLs handed out so far stop working; fetching a message again signs anew."""
        self._url_generation += 1

    async def drop_gateway(self, shard: int | None = None) -> None:
        """Close the gateway connections (only those of `shard` if given) as a network drop would:
        their sessions stay resumable."""
        for session in list(self._sessions.values()):
            if session.ws is not None and shard in (None, session.shard):
                await session.ws.close(code=4000, message=b"dropped by test")

"""Shards as Discord runs them: which gateway connection gets which events, which IDENTIFY
shards are refused, and what `GET /gateway/bot` recommends.

A guild belongs to shard `(guild_id >> 22) % count`; whatever has no guild (DMs, group DMs)
to shard 0. Discord does not stop two sessions identifying as the same shard: both get its
events, so nothing here prevents it either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


def shard_of(guild_id: int | None, count: int) -> int:
    return 0 if guild_id is None else (guild_id >> 22) % count


@dataclass(eq=False)
class GatewaySession:
    """One identified session: its shard, its sequence, and the socket it is on (None while it
    is disconnected and may still be resumed)."""

    ws: web.WebSocketResponse | None
    shard: int
    count: int
    session_id: str
    seq: int = 0
    ready: bool = False  # READY and its GUILD_CREATEs are sent: it now gets dispatches

    @property
    def live(self) -> bool:
        return self.ready and self.ws is not None and not self.ws.closed

    def owns(self, guild_id: int | None) -> bool:
        return shard_of(guild_id, self.count) == self.shard


class ShardRefused(Exception):
    """Discord's close code and reason for an IDENTIFY whose `shard` it refuses."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def check_shard(identify: dict[str, Any], recommended: int) -> tuple[int, int]:
    """The (id, count) an IDENTIFY asks for; no `shard` field is [0, 1].

    4010 for a shard that cannot be; 4011 for fewer shards than the bot must run, which is how
    Discord refuses a session that would hold too many guilds. More shards than recommended
    are allowed, as Discord allows them."""
    raw = identify.get("shard")
    if raw is None:
        raw = [0, 1]
    if not (
        isinstance(raw, list) and len(raw) == 2 and all(type(x) is int for x in raw)  # bool is no id
    ):
        raise ShardRefused(4010, "Invalid shard.")
    shard, count = raw
    if count < 1 or not 0 <= shard < count:
        raise ShardRefused(4010, "Invalid shard.")
    if count < recommended:
        raise ShardRefused(4011, "Sharding required.")
    return shard, count


def all_shards_connected(sessions: Iterable[GatewaySession]) -> bool:
    """Every shard of the bot has a live session: until then some guilds get no events."""
    connected: dict[int, set[int]] = {}
    for session in sessions:
        if session.live:
            connected.setdefault(session.count, set()).add(session.shard)
    return bool(connected) and all(shards == set(range(c)) for c, shards in connected.items())


def gateway_bot(url: str, shards: int, max_concurrency: int) -> dict[str, Any]:
    """`GET /gateway/bot`: where to connect, how many shards, how many may IDENTIFY at once."""
    return {
        "url": url,
        "shards": shards,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 14400000,
            "max_concurrency": max_concurrency,
        },
    }

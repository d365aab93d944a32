"""The Discord server's model: users, guilds, messages, interactions, and its wire helpers."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sandbox.discord_server.core import DiscordState

DISCORD_EPOCH_MS = 1420070400000
EPHEMERAL = 64
LOADING = 128
SEND_MESSAGES = 1 << 11
VIEW_CHANNEL = 1 << 10
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
)  # + embed, attach, history, app cmds
BOT_PERMISSIONS = MEMBER_PERMISSIONS | (1 << 38)
MANAGE_MESSAGES = 1 << 13
MANAGE_GUILD = 1 << 5
TIER_LIMITS = {0: 10 * 1024 * 1024, 1: 10 * 1024 * 1024, 2: 50 * 1024 * 1024, 3: 100 * 1024 * 1024}
INTERACTION_ACK_WINDOW = 3.0

_last_snowflake = 0


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json", no charset: discord.py only parses JSON for that exact type.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def snowflake(shard: tuple[int, int] | None = None) -> int:
    """A new id, larger than every one before it: a counter wrapping within one millisecond
    would repeat ids once thousands of guilds are made at once.

    `shard` (id, count): an id whose timestamp puts it on that shard, `(id >> 22) % count`,
    as a guild id must to test a guild on a chosen shard."""
    global _last_snowflake
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    value = max(ms << 22, _last_snowflake + 1)
    if shard is not None:
        index, count = shard
        ms = value >> 22
        if ms % count != index:
            value = (ms + (index - ms) % count) << 22
    _last_snowflake = value
    return value


def iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts or time.time(), tz=UTC).isoformat()


# --- the model -------------------------------------------------------------------------------


@dataclass
class FakeUser:
    id: int
    name: str
    permissions: int = MEMBER_PERMISSIONS
    roles: list[int] = field(default_factory=list)
    bot: bool = False

    def json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }

    def member_json(self, guild_id: int) -> dict[str, Any]:
        return {
            "user": self.json(),
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(),
            "nick": None,
            "avatar": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "permissions": str(self.permissions),
            "premium_since": None,
            "communication_disabled_until": None,
        }


@dataclass
class FakeGuild:
    id: int
    name: str
    premium_tier: int
    channels: list[int]
    members: dict[int, FakeUser] = field(default_factory=dict)
    filesize_limit: int = 0
    roles: dict[int, str] = field(default_factory=dict)
    channel_names: dict[int, str] = field(default_factory=dict)
    system_channel_id: int | None = None  # where Discord posts join messages (and bots greet)
    read_only_channels: set[int] = field(default_factory=set)  # @everyone may not send there
    # False: a server where only members installed the app (user install); the bot is not in
    # it, so READY does not list it and its channel routes answer 403 Missing Access.
    bot_member: bool = True

    def __post_init__(self) -> None:
        self.filesize_limit = self.filesize_limit or TIER_LIMITS[self.premium_tier]

    def channel_name(self, channel_id: int, default: str) -> str:
        return self.channel_names.get(channel_id, default)


@dataclass
class FakeAttachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None
    size: int
    url: str
    width: int | None = None
    height: int | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url.replace("/attachments/", "/proxy/attachments/"),
        }
        if self.content_type:
            out["content_type"] = self.content_type
        if self.width:
            out.update(width=self.width, height=self.height)
        return out


@dataclass
class FakeMessage:
    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    message_reference: dict[str, Any] | None = None
    allowed_mentions: dict[str, Any] | None = None
    webhook_id: int | None = None
    interaction_token: str | None = None
    nonce: str | int | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    created: float = field(default_factory=time.time)
    edited: float | None = None

    def snapshot(self) -> None:
        self.edits.append(
            {
                "at": time.monotonic(),
                "content": self.content,
                "embeds": copy.deepcopy(self.embeds),
                "components": copy.deepcopy(self.components),
                "attachments": [a.filename for a in self.attachments],
                "allowed_mentions": copy.deepcopy(self.allowed_mentions),
                "flags": self.flags,
            }
        )

    def json(self, server: DiscordState) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.json(),
            "content": self.content,
            "timestamp": iso(self.created),
            "edited_timestamp": iso(self.edited) if self.edited else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [server.attachment_json(a) for a in self.attachments],
            "embeds": self.embeds,
            "pinned": False,
            "type": 19 if self.message_reference else 0,
            "flags": self.flags,
            "components": self.components,
        }
        if self.guild_id:
            out["guild_id"] = str(self.guild_id)
        if self.webhook_id:
            out["webhook_id"] = str(self.webhook_id)
            out["application_id"] = str(self.webhook_id)
        if self.message_reference:
            out["message_reference"] = self.message_reference
        if self.nonce is not None:
            out["nonce"] = self.nonce
        return out


@dataclass
class FakeInteraction:
    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user: FakeUser
    payload: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    responses: list[dict[str, Any]] = field(default_factory=list)
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    acked_at: float | None = None  # time.monotonic() of the accepted callback
    missed: bool = False  # its callback came after the 3 s window (10062)

    @property
    def deferred(self) -> bool:
        return any(r.get("type") in (5, 6) for r in self.responses)

    @property
    def ephemeral(self) -> bool:
        return bool(self.original and self.original.flags & EPHEMERAL)

    async def wait_response(self, timeout: float = 5.0) -> dict[str, Any]:
        await asyncio.wait_for(self.acked.wait(), timeout)
        return self.responses[0]


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    time: float
    body: Any


@dataclass
class InvalidRequest:
    """A request Discord would have refused (see `spec/`): what was sent and why it fails."""

    method: str
    path: str
    errors: list[str]
    body: Any


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    count: int
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    hang: float = 0.0


class DiscordError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        self.status, self.code, self.message = status, code, message
        self.errors = errors  # 50035's tree of what was wrong where, as Discord nests it

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body

"""A Discord-compatible server on 127.0.0.1: REST and gateway websocket on one port.

The real, unmodified discord.py client connects to it when the bot is started with
`DISCORD_API_BASE_URL` pointing here (REST through `Route.BASE`, gateway URL from
`/gateway/bot`). Faithful where discord.py or the bot depend on it: the gateway handshake
(HELLO, IDENTIFY, heartbeats, READY with `resume_gateway_url`, GUILD_CREATE, RESUME), the
payload shapes of messages, interactions and the interaction callback response, multipart
uploads, 429s with Discord's headers (and `Via`, without which discord.py assumes a
Cloudflare ban), error codes 10008/10003/10062/40005/50013/50027.

Simplified: one shard; no permissions model beyond what tests set; no per-route buckets (a
test injects 429s where it wants them); no zlib compression (text frames, which discord.py
accepts although it asks for compression); no voice, presences or member chunking.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

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

_counter = itertools.count()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json", no charset: discord.py only parses JSON for that exact type.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def snowflake() -> int:
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) % 4096)


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

    def __post_init__(self) -> None:
        self.filesize_limit = self.filesize_limit or TIER_LIMITS[self.premium_tier]


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

    def json(self, server: FakeDiscord) -> dict[str, Any]:
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
class _Fault:
    method: str
    pattern: re.Pattern[str]
    count: int
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    hang: float = 0.0


class DiscordError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        self.status, self.code, self.message = status, code, message


# --- the server ------------------------------------------------------------------------------


class FakeDiscord:
    def __init__(
        self,
        *,
        token: str = "fake-bot-token.Xq9.Zt7kLm2Pn8Rs4Vw6Yb1Cd3",
        application_id: int | None = None,
        bot_user_id: int | None = None,
    ) -> None:
        self.token = token
        self.application_id = application_id or snowflake()
        self.bot = FakeUser(bot_user_id or self.application_id, "VeoBot", BOT_PERMISSIONS, bot=True)
        self.guilds: dict[int, FakeGuild] = {}
        self.channel_guild: dict[int, int] = {}
        self.deleted_channels: set[int] = set()
        self.forbidden_channels: set[int] = set()
        # The bot's permissions per channel, as interactions' `app_permissions` report them.
        self.bot_permissions: dict[int, int] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._messages: dict[int, list[FakeMessage]] = {}
        self.interactions: dict[str, FakeInteraction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[RequestRecord] = []
        self.identify_count = 0
        self.resume_count = 0
        self.token_ttl: float | None = None
        self._faults: list[_Fault] = []
        self._attachments: dict[int, FakeAttachment] = {}
        self._url_generation = 0
        self._ws: web.WebSocketResponse | None = None
        self._session_id: str | None = None
        self._seq = 0
        self._ready = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel}/{id}/{name}", self._cdn)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- world building ----------------------------------------------------------------------

    def add_guild(
        self,
        guild_id: int | None = None,
        *,
        name: str = "Test Guild",
        premium_tier: int = 0,
        channels: int = 1,
    ) -> FakeGuild:
        guild = FakeGuild(guild_id or snowflake(), name, premium_tier, [snowflake() for _ in range(channels)])
        guild.members[self.bot.id] = self.bot
        self.guilds[guild.id] = guild
        for channel in guild.channels:
            self.channel_guild[channel] = guild.id
            self._messages[channel] = []
        return guild

    def add_member(
        self,
        guild_id: int,
        user_id: int | None = None,
        *,
        name: str = "member",
        permissions: int = MEMBER_PERMISSIONS,
        roles: list[int] | tuple[int, ...] = (),
    ) -> FakeUser:
        user = FakeUser(user_id or snowflake(), name, permissions, list(roles))
        self.guilds[guild_id].members[user.id] = user
        return user

    def post_message(
        self,
        channel_id: int,
        user: FakeUser,
        content: str = "",
        attachments: list[tuple[str, bytes, str | None]] | tuple = (),
    ) -> FakeMessage:
        """A member's message in a channel (what a context-menu command can target)."""
        msg = FakeMessage(snowflake(), channel_id, self.channel_guild.get(channel_id), user, content=content)
        msg.attachments = [self._store_attachment(channel_id, n, d, c) for n, d, c in attachments]
        msg.snapshot()
        self._messages.setdefault(channel_id, []).append(msg)
        return msg

    def add_role(self, guild_id: int, name: str = "role") -> int:
        """A role in the guild (before the bot connects, so GUILD_CREATE carries it)."""
        role_id = snowflake()
        self.guilds[guild_id].roles[role_id] = name
        return role_id

    def messages(self, channel_id: int) -> list[FakeMessage]:
        return [m for m in self._messages.get(channel_id, []) if not m.flags & EPHEMERAL]

    def message(self, message_id: int) -> FakeMessage | None:
        for msgs in self._messages.values():
            for m in msgs:
                if m.id == message_id:
                    return m
        return None

    def command(self, name: str) -> dict[str, Any]:
        for cmd in [*self.global_commands, *itertools.chain.from_iterable(self.guild_commands.values())]:
            if cmd["name"] == name:
                return cmd
        raise KeyError(name)

    # --- faults ------------------------------------------------------------------------------

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

    def expire_tokens_after(self, seconds: float) -> None:
        self.token_ttl = seconds

    def delete_message(self, message_id: int) -> None:
        msg = self.message(message_id)
        if msg:
            msg.deleted = True

    def delete_channel(self, channel_id: int) -> None:
        self.deleted_channels.add(channel_id)

    def forbid_channel(self, channel_id: int) -> None:
        self.forbidden_channels.add(channel_id)

    def expire_attachment_urls(self) -> None:
        """Signed CDN URLs handed out so far stop working; fetching a message again signs anew."""
        self._url_generation += 1

    async def drop_gateway(self) -> None:
        if self._ws is not None:
            await self._ws.close(code=4000, message=b"dropped by test")

    # --- waiting -----------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {getattr(predicate, '__name__', predicate)}"
                )
            await asyncio.sleep(0.02)

    async def wait_ready(self, timeout: float = 15.0) -> None:
        await self.wait_for(lambda: self._ready, timeout)

    async def wait_commands(self, timeout: float = 15.0) -> list[dict[str, Any]]:
        def registered() -> list[dict[str, Any]]:
            return [*self.global_commands, *itertools.chain.from_iterable(self.guild_commands.values())]

        return await self.wait_for(registered, timeout)

    # --- injecting interactions -------------------------------------------------------------

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser,
        channel_id: int,
        subcommand: str | None = None,
        attachments: dict[str, tuple[Any, ...]] | None = None,
    ) -> FakeInteraction:
        command = self.command(name)
        spec = command.get("options", [])
        if subcommand:
            sub = next(o for o in spec if o["name"] == subcommand)
            spec = sub.get("options", [])
        types = {o["name"]: o["type"] for o in spec}
        opts: list[dict[str, Any]] = []
        resolved: dict[str, Any] = {}
        for key, value in (options or {}).items():
            if isinstance(value, FakeUser):  # a user option: the user goes into `resolved`
                resolved.setdefault("users", {})[str(value.id)] = value.json()
                if guild_id := self.channel_guild.get(channel_id):
                    member = value.member_json(guild_id)
                    member.pop("user")
                    resolved.setdefault("members", {})[str(value.id)] = member
                value = str(value.id)
            opts.append({"name": key, "type": types.get(key, 3), "value": value})
        for key, spec_tuple in (attachments or {}).items():
            filename, data, content_type = spec_tuple[:3]
            size = spec_tuple[3] if len(spec_tuple) > 3 else len(data)
            att = self._store_attachment(channel_id, filename, data, content_type, size)
            resolved.setdefault("attachments", {})[str(att.id)] = self.attachment_json(att)
            opts.append({"name": key, "type": 11, "value": str(att.id)})
        if subcommand:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._dispatch_interaction(2, data, user, channel_id)

    async def click(self, message: FakeMessage, custom_id: str, *, user: FakeUser) -> FakeInteraction:
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch_interaction(3, data, user, message.channel_id, message=message)

    async def submit_modal(
        self,
        custom_id: str,
        values: dict[str, str],
        *,
        user: FakeUser,
        channel_id: int,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()
        ]
        data = {"custom_id": custom_id, "components": rows}
        return await self._dispatch_interaction(5, data, user, channel_id, message=message)

    async def context_menu(self, name: str, message: FakeMessage, *, user: FakeUser) -> FakeInteraction:
        command = self.command(name)
        data = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): message.json(self)}},
        }
        return await self._dispatch_interaction(2, data, user, message.channel_id)

    async def _dispatch_interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user: FakeUser,
        channel_id: int,
        *,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        guild_id = self.channel_guild.get(channel_id)
        guild = self.guilds[guild_id] if guild_id else None
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        interaction = FakeInteraction(snowflake(), token, kind, channel_id, guild_id, user, {})
        payload: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "channel": {
                "id": str(channel_id),
                "type": 0,
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "guild_id": str(guild_id) if guild_id else None,
            },
            "app_permissions": str(self.bot_permissions.get(channel_id, BOT_PERMISSIONS)),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": guild.filesize_limit if guild else TIER_LIMITS[0],
            "context": 0 if guild_id else 1,
            "authorizing_integration_owners": {"0": str(guild_id)} if guild_id else {"1": str(user.id)},
        }
        if guild_id:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["member"] = user.member_json(guild_id)
        else:
            payload["user"] = user.json()
        if message is not None:
            payload["message"] = message.json(self)
        interaction.payload = payload
        self.interactions[token] = interaction
        await self._send_dispatch("INTERACTION_CREATE", payload)
        return interaction

    # --- CDN -----------------------------------------------------------------------------------

    def _store_attachment(
        self, channel_id: int, filename: str, data: bytes, content_type: str | None, size: int | None = None
    ) -> FakeAttachment:
        att = FakeAttachment(
            snowflake(), filename, data, content_type, len(data) if size is None else size, ""
        )
        self._attachments[att.id] = att
        att.url = self._sign(channel_id, att)
        return att

    def _sign(self, channel_id: int, att: FakeAttachment) -> str:
        ex = format(int(time.time()) + 86400, "x")
        mac = hashlib.sha256(f"{att.id}:{ex}:{self._url_generation}".encode()).hexdigest()[:32]
        return f"http://127.0.0.1:{self.port}/attachments/{channel_id}/{att.id}/{att.filename}?ex={ex}&is={ex}&hm={mac}"

    def attachment_json(self, att: FakeAttachment) -> dict[str, Any]:
        channel = int(att.url.split("/attachments/")[1].split("/")[0]) if att.url else 0
        att.url = self._sign(channel, att)
        return att.json()

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        att = self._attachments.get(int(request.match_info["id"]))
        if att is None:
            raise web.HTTPNotFound()
        ex = request.query.get("ex", "")
        expected = hashlib.sha256(f"{att.id}:{ex}:{self._url_generation}".encode()).hexdigest()[:32]
        if request.query.get("hm") != expected:
            return web.Response(status=404, text="This content is no longer available.")
        return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")

    # --- gateway -------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op = payload.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    if payload["d"].get("token", "").removeprefix("Bot ") != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    await self._identify(payload["d"])
                elif op == 6:
                    if payload["d"].get("session_id") != self._session_id:
                        await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
                        continue
                    self.resume_count += 1
                    self._ready = True
                    await self._send_dispatch("RESUMED", {})
        finally:
            if self._ws is ws:
                self._ws = None
                self._ready = False
        return ws

    async def _identify(self, data: dict[str, Any]) -> None:
        self.identify_count += 1
        self._session_id = secrets.token_hex(16)
        self._seq = 0
        await self._send_dispatch(
            "READY",
            {
                "v": 10,
                "user": {**self.bot.json(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                "session_id": self._session_id,
                "resume_gateway_url": self.gateway_url,
                "shard": [0, 1],
                "application": {"id": str(self.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
            },
        )
        for guild in self.guilds.values():
            await self._send_dispatch("GUILD_CREATE", self._guild_json(guild))
        self._ready = True

    async def _send_dispatch(self, event: str, data: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise AssertionError(f"no gateway connection to send {event}")
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    def _guild_json(self, guild: FakeGuild) -> dict[str, Any]:
        everyone = {
            "id": str(guild.id),
            "name": "@everyone",
            "permissions": str(MEMBER_PERMISSIONS),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(snowflake()),
            "premium_tier": guild.premium_tier,
            "premium_subscription_count": 0,
            "member_count": len(guild.members),
            "large": False,
            "unavailable": False,
            "features": [],
            "roles": [everyone]
            + [
                {**everyone, "id": str(r), "name": n, "position": i, "permissions": "0"}
                for i, (r, n) in enumerate(guild.roles.items(), 1)
            ],
            "emojis": [],
            "stickers": [],
            "channels": [
                {
                    "id": str(c),
                    "type": 0,
                    "name": f"channel-{i}",
                    "position": i,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "guild_id": str(guild.id),
                }
                for i, c in enumerate(guild.channels)
            ],
            "threads": [],
            "members": [self.bot.member_json(guild.id)],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": iso(),
            "system_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "preferred_locale": "en-US",
            "max_members": 500000,
        }

    # --- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        record = RequestRecord(request.method, request.path, 0, time.monotonic(), body)
        self.requests.append(record)
        response, hang = self._fault_for(request.method, request.path)
        if hang:
            await asyncio.sleep(hang)
        if response is None:
            try:
                response = await self._route(request, path, body, files)
            except DiscordError as exc:
                response = _json(
                    {"message": exc.message, "code": exc.code},
                    status=exc.status,
                    headers={"Via": "1.1 google"},
                )
        record.status = response.status
        return response

    def _fault_for(self, method: str, path: str) -> tuple[web.Response | None, float]:
        for fault in self._faults:
            if fault.count > 0 and fault.method in (method, "*") and fault.pattern.search(path):
                fault.count -= 1
                return _json(fault.body, status=fault.status, headers=fault.headers), fault.hang
        return None, 0.0

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes, str | None]]]:
        if request.method in ("GET", "DELETE"):
            return None, []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            payload: Any = None
            files: list[tuple[str, bytes, str | None]] = []
            while (part := await reader.next()) is not None:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    payload = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    data = await part.read()  # type: ignore[union-attr]
                    files.append((part.filename or "file", bytes(data), part.headers.get("Content-Type")))  # type: ignore[union-attr]
            return payload, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    def _check_auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized")

    async def _route(
        self, request: web.Request, path: str, body: Any, files: list[tuple[str, bytes, str | None]]
    ) -> web.StreamResponse:
        m, app = request.method, str(self.application_id)
        if re.fullmatch(r"/gateway(/bot)?", path):
            if path.endswith("/bot"):
                self._check_auth(request)
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 14400000,
                        "max_concurrency": 1,
                    },
                }
            )
        if (hit := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)) and m == "POST":
            return self._callback(hit[2], body, files)
        if hit := re.fullmatch(rf"/webhooks/{app}/([^/]+)(?:/messages/(@original|\d+))?", path):
            return self._webhook(m, hit[1], hit[2], body, files)
        self._check_auth(request)
        if path == "/users/@me/channels" and m == "POST":
            return self._open_dm(int((body or {})["recipient_id"]))
        if path == "/users/@me":
            return _json({**self.bot.json(), "verified": True, "mfa_enabled": False, "flags": 0})
        if path == "/oauth2/applications/@me":
            return _json(
                {
                    "id": app,
                    "name": "VeoBot",
                    "icon": None,
                    "description": "",
                    "rpc_origins": [],
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "verify_key": "00",
                    "flags": 0,
                    "owner": {**FakeUser(snowflake(), "owner").json()},
                    "team": None,
                    "summary": "",
                }
            )
        if hit := re.fullmatch(rf"/applications/{app}(?:/guilds/(\d+))?/commands", path):
            return self._commands(m, int(hit[1]) if hit[1] else None, body)
        if hit := re.fullmatch(r"/channels/(\d+)/messages(?:/(\d+))?", path):
            return self._channel_messages(m, int(hit[1]), int(hit[2]) if hit[2] else None, body, files)
        if (hit := re.fullmatch(r"/channels/(\d+)", path)) and m == "GET":
            channel = int(hit[1])
            self._check_channel(channel)
            guild = self.channel_guild.get(channel)
            return _json(
                {
                    "id": str(channel),
                    "type": 0,
                    "guild_id": str(guild),
                    "name": "general",
                    "position": 0,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                }
            )
        if (hit := re.fullmatch(r"/guilds/(\d+)/members/(\d+)", path)) and m == "GET":
            guild = self.guilds.get(int(hit[1]))
            user = guild.members.get(int(hit[2])) if guild else None
            if user is None:
                raise DiscordError(404, 10007, "Unknown Member")
            return _json(user.member_json(guild.id))  # type: ignore[union-attr]
        raise DiscordError(404, 0, "404: Not Found")

    def _open_dm(self, user_id: int) -> web.Response:
        """POST /users/@me/channels: the bot's DM channel with a user (the same one each time)."""
        user = next((g.members[user_id] for g in self.guilds.values() if user_id in g.members), None)
        if user is None:
            raise DiscordError(400, 50007, "Cannot send messages to this user")
        channel = self.dm_channels.setdefault(user_id, snowflake())
        self._messages.setdefault(channel, [])
        return _json(
            {"id": str(channel), "type": 1, "last_message_id": None, "flags": 0, "recipients": [user.json()]}
        )

    def _commands(self, method: str, guild_id: int | None, body: Any) -> web.Response:
        if method == "PUT":
            commands = []
            for cmd in body or []:
                stored = {
                    "description": "",  # Discord answers "" for context-menu commands
                    **cmd,
                    "id": str(snowflake()),
                    "application_id": str(self.application_id),
                    "version": "1",
                    # Discord answers permissions as a string
                    "default_member_permissions": (
                        None
                        if cmd.get("default_member_permissions") is None
                        else str(cmd["default_member_permissions"])
                    ),
                }
                if guild_id:
                    stored["guild_id"] = str(guild_id)
                commands.append(stored)
            if guild_id:
                self.guild_commands[guild_id] = commands
            else:
                self.global_commands = commands
            return _json(commands)
        return _json(self.guild_commands.get(guild_id, []) if guild_id else self.global_commands)

    # interactions

    def _interaction(self, token: str, *, callback: bool = False) -> FakeInteraction:
        interaction = self.interactions.get(token)
        if interaction is None:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        age = time.monotonic() - interaction.created
        if callback and not interaction.acked.is_set() and age > INTERACTION_ACK_WINDOW:
            raise DiscordError(404, 10062, "Unknown interaction")
        if self.token_ttl is not None and age > self.token_ttl:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        return interaction

    def _callback(
        self, token: str, body: dict[str, Any], files: list[tuple[str, bytes, str | None]]
    ) -> web.Response:
        interaction = self._interaction(token, callback=True)
        if interaction.acked.is_set():
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        kind, data = body["type"], body.get("data") or {}
        interaction.responses.append(body)
        interaction.acked.set()
        message: FakeMessage | None = None
        if kind in (4, 5):
            flags = int(data.get("flags", 0)) | (LOADING if kind == 5 else 0)
            message = self._new_message(
                interaction.channel_id, data, files, flags=flags, interaction=interaction
            )
            interaction.original = message
        elif kind == 7 and "message" in interaction.payload:
            message = self.message(int(interaction.payload["message"]["id"]))
            if message:
                self._apply_edit(message, data, files)
        info: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        if message is not None:
            info.update(
                response_message_id=str(message.id),
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(message.flags & EPHEMERAL),
            )
        out: dict[str, Any] = {"interaction": info}
        if message is not None:
            out["resource"] = {"type": kind, "message": message.json(self)}
        else:
            out["resource"] = {"type": kind}
        return _json(out)

    def _webhook(
        self,
        method: str,
        token: str,
        which: str | None,
        body: Any,
        files: list[tuple[str, bytes, str | None]],
    ) -> web.Response:
        interaction = self._interaction(token)
        if which is None:
            if method != "POST":
                raise DiscordError(405, 0, "405: Method Not Allowed")
            msg = self._new_message(
                interaction.channel_id,
                body or {},
                files,
                flags=int((body or {}).get("flags", 0)),
                interaction=interaction,
            )
            interaction.followups.append(msg)
            return _json(msg.json(self))
        if which == "@original":
            msg = interaction.original
        else:
            msg = self.message(int(which))
            if msg is not None and msg.interaction_token != token:
                msg = None
        if msg is None or msg.deleted or msg.channel_id in self.deleted_channels:
            raise DiscordError(404, 10008, "Unknown Message")
        if method == "GET":
            return _json(msg.json(self))
        if method == "DELETE":
            msg.deleted = True
            return web.Response(status=204)
        self._check_size(msg.channel_id, files)
        self._apply_edit(msg, body or {}, files)
        return _json(msg.json(self))

    # channel messages

    def _check_channel(self, channel_id: int) -> None:
        if channel_id in self.deleted_channels or channel_id not in self._messages:
            raise DiscordError(404, 10003, "Unknown Channel")
        if channel_id in self.forbidden_channels:
            raise DiscordError(403, 50013, "Missing Permissions")

    def _check_size(self, channel_id: int, files: list[tuple[str, bytes, str | None]]) -> None:
        guild = self.guilds.get(self.channel_guild.get(channel_id, 0))
        limit = guild.filesize_limit if guild else TIER_LIMITS[0]
        if any(len(data) > limit for _, data, _ in files):
            raise DiscordError(413, 40005, "Request entity too large")

    def _channel_messages(
        self,
        method: str,
        channel_id: int,
        message_id: int | None,
        body: Any,
        files: list[tuple[str, bytes, str | None]],
    ) -> web.Response:
        self._check_channel(channel_id)
        if message_id is None:
            if method == "GET":
                return _json([m.json(self) for m in reversed(self.messages(channel_id)) if not m.deleted])
            if method != "POST":
                raise DiscordError(405, 0, "405: Method Not Allowed")
            self._check_size(channel_id, files)
            msg = self._new_message(channel_id, body or {}, files)
            return _json(msg.json(self))
        msg = next((x for x in self._messages[channel_id] if x.id == message_id and not x.deleted), None)
        if msg is None:
            raise DiscordError(404, 10008, "Unknown Message")
        if method == "GET":
            return _json(msg.json(self))
        if method == "DELETE":
            msg.deleted = True
            return web.Response(status=204)
        if method == "PATCH":
            if msg.author.id != self.bot.id:
                raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
            self._check_size(channel_id, files)
            self._apply_edit(msg, body or {}, files)
            return _json(msg.json(self))
        raise DiscordError(405, 0, "405: Method Not Allowed")

    def _new_message(
        self,
        channel_id: int,
        data: dict[str, Any],
        files: list[tuple[str, bytes, str | None]],
        *,
        flags: int | None = None,
        interaction: FakeInteraction | None = None,
    ) -> FakeMessage:
        self._check_size(channel_id, files)
        msg = FakeMessage(
            snowflake(),
            channel_id,
            self.channel_guild.get(channel_id),
            self.bot,
            webhook_id=self.application_id if interaction else None,
            interaction_token=interaction.token if interaction else None,
        )
        msg.flags = int(data.get("flags", 0)) if flags is None else flags
        msg.message_reference = data.get("message_reference")
        self._apply_edit(msg, data, files, new=True)
        self._messages.setdefault(channel_id, []).append(msg)
        return msg

    def _apply_edit(
        self,
        msg: FakeMessage,
        data: dict[str, Any],
        files: list[tuple[str, bytes, str | None]],
        *,
        new: bool = False,
    ) -> None:
        if "content" in data:
            msg.content = data["content"] or ""
        if "embeds" in data:
            msg.embeds = data["embeds"] or []
        if "components" in data:
            msg.components = data["components"] or []
        if "allowed_mentions" in data:
            msg.allowed_mentions = data["allowed_mentions"]
        if "flags" in data and not new:
            msg.flags = (msg.flags & EPHEMERAL) | int(data["flags"] or 0)
        uploaded = [self._store_attachment(msg.channel_id, name, blob, ctype) for name, blob, ctype in files]
        if "attachments" in data:
            keep_ids = {int(a["id"]) for a in data["attachments"] or [] if int(a["id"]) > 10_000}
            msg.attachments = [a for a in msg.attachments if a.id in keep_ids] + uploaded
        else:
            msg.attachments = msg.attachments + uploaded
        if not new:
            msg.flags &= ~LOADING
            msg.edited = time.time()
        msg.snapshot()

"""The Discord server's state: world building, lookups, faults, waiting, the CDN, and events."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web

from sandbox.discord_server.limits import RateLimits
from sandbox.discord_server.model import (
    BOT_PERMISSIONS,
    EPHEMERAL,
    LOADING,
    MEMBER_PERMISSIONS,
    DiscordError,
    FakeAttachment,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    InvalidRequest,
    RequestRecord,
    _Fault,
    _json,
    snowflake,
)
from sandbox.discord_server.sharding import GatewaySession, all_shards_connected

log = logging.getLogger(__name__)

# How long Discord remembers a create's nonce ("the past few minutes", it says; not documented
# more precisely).
NONCE_WINDOW = 5 * 60.0


class DiscordState:
    def __init__(
        self,
        *,
        token: str | None = None,
        application_id: int | None = None,
        bot_user_id: int | None = None,
        rate_limits: bool = False,
        validate: bool = True,
        shard_count: int = 1,
        max_concurrency: int = 1,
    ) -> None:
        self.application_id = application_id or snowflake()
        self.bot = FakeUser(bot_user_id or self.application_id, "VeoBot", BOT_PERMISSIONS, bot=True)
        # Shaped as Discord's: the bot user's id in base64, then two parts that mean nothing here.
        head = base64.b64encode(str(self.bot.id).encode()).decode().rstrip("=")
        self.token = token or f"{head}.Xq9Zt7.kLm2Pn8Rs4Vw6Yb1Cd3Ef5Gh7"
        self.guilds: dict[int, FakeGuild] = {}
        self.channel_guild: dict[int, int] = {}
        self.deleted_channels: set[int] = set()
        self.forbidden_channels: set[int] = set()
        # The bot's permissions per channel, as interactions' `app_permissions` report them.
        self.bot_permissions: dict[int, int] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.group_dms: set[int] = set()  # channels the bot cannot see (it is only user-installed)
        self._messages: dict[int, list[FakeMessage]] = {}
        self.interactions: dict[str, FakeInteraction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[RequestRecord] = []
        # Each REST request is checked as Discord would (spec/); a refused one is answered with
        # Discord's 400/50035 and kept here, so the test that caused it fails. Off in a sandbox
        # without jsonschema, which is imported here (and fails at once when asked for and missing).
        self.validate = validate
        self.invalid_requests: list[InvalidRequest] = []
        if validate:
            from sandbox.discord_server.spec.check import warm

            warm()
        self.identify_count = 0
        self.resume_count = 0
        self.token_ttl: float | None = None
        self._faults: list[_Fault] = []
        self._lost_answers: list[_Fault] = []  # requests carried out whose answer never arrives
        self.closed_dms: set[int] = set()  # users who accept no DM from the bot
        # (channel id, nonce) -> when, and the message a create with `enforce_nonce` made.
        self._nonces: dict[tuple[int, str], tuple[float, FakeMessage]] = {}
        # Discord's documented limits, enforced only when asked (see `limits.py`).
        self.rate_limits: RateLimits | None = RateLimits() if rate_limits else None
        self._attachments: dict[int, FakeAttachment] = {}
        self._url_generation = 0
        # What `GET /gateway/bot` recommends; an IDENTIFY with fewer shards is refused (4011).
        self.shard_count = shard_count
        self.max_concurrency = max_concurrency
        # Every session identified, by id, kept after a disconnect so that it can be resumed.
        self._sessions: dict[str, GatewaySession] = {}
        self._runner: web.AppRunner | None = None
        self._watchers: set[asyncio.Queue[dict[str, Any]]] = set()
        # An ack quicker than discord.py's keep-alive thread can note its send reads as a
        # "websocket is 41s behind" warning; a long-running sandbox waits a moment instead.
        self.heartbeat_ack_delay = 0.0
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def _ready(self) -> bool:
        return all_shards_connected(self._sessions.values())

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
        channel_names: tuple[str, ...] = (),
        shard: int | None = None,
    ) -> FakeGuild:
        """A guild with `channels` text channels (named `channel_names`, else channel-0, -1, ...);
        `shard`: its id lands on that shard of `shard_count`."""
        count = max(channels, len(channel_names))
        if guild_id is None:
            guild_id = snowflake(None if shard is None else (shard, self.shard_count))
        guild = FakeGuild(guild_id, name, premium_tier, [snowflake() for _ in range(count)])
        guild.channel_names = dict(zip(guild.channels, channel_names, strict=False))
        guild.members[self.bot.id] = self.bot
        self.guilds[guild.id] = guild
        for channel in guild.channels:
            self.channel_guild[channel] = guild.id
            self._messages[channel] = []
        return guild

    def add_guilds(self, count: int, *, name: str = "Guild") -> list[FakeGuild]:
        """`count` one-channel guilds spread evenly over the shards, as a big bot's are (ids made
        in one burst would otherwise share a few milliseconds, hence a shard or two)."""
        return [self.add_guild(name=f"{name} {i}", shard=i % self.shard_count) for i in range(count)]

    def open_dm(self, user: FakeUser) -> int:
        """The bot's DM channel with `user` (as Discord makes it when either side writes)."""
        channel = self.dm_channels.setdefault(user.id, snowflake())
        self._messages.setdefault(channel, [])
        return channel

    def add_group_dm(self) -> int:
        """A group DM where a member uses the app through a user install: the bot cannot see it."""
        channel = snowflake()
        self._messages[channel] = []
        self.group_dms.add(channel)
        return channel

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
        self._changed(msg)
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

    def channel_name(self, channel_id: int) -> str:
        guild = self.guilds.get(self.channel_guild.get(channel_id, 0))
        return guild.channel_name(channel_id, "general") if guild else "general"

    def command(self, name: str) -> dict[str, Any]:
        for cmd in [*self.global_commands, *itertools.chain.from_iterable(self.guild_commands.values())]:
            if cmd["name"] == name:
                return cmd
        raise KeyError(name)

    # --- checking -----------------------------------------------------------------------------

    def _refusal(self, method: str, path: str, body: Any, files: int) -> web.Response | None:
        """Discord's answer to a request it would refuse (recorded), or None when it passes."""
        if not self.validate:
            return None
        from sandbox.discord_server.spec.check import answer, check_request

        status, problems = check_request(method, path, body, files)
        if not problems:
            return None
        self.invalid_requests.append(InvalidRequest(method, path, [str(p) for p in problems], body))
        log.warning("Discord would refuse %s %s: %s", method, path, "; ".join(map(str, problems[:3])))
        return _json(answer(status, problems), status=status, headers={"Via": "1.1 google"})

    # --- message creates ----------------------------------------------------------------------

    def _create_once(
        self, channel_id: int, data: dict[str, Any], make: Callable[[], FakeMessage]
    ) -> FakeMessage:
        """A channel message create, as Discord treats its nonce: with `enforce_nonce`, a nonce
        this channel saw within NONCE_WINDOW is answered with the message it made, not a new one."""
        if any(self.dm_channels.get(user) == channel_id for user in self.closed_dms):
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        nonce = data.get("nonce")
        key = (channel_id, str(nonce))
        enforced = nonce is not None and bool(data.get("enforce_nonce"))
        if enforced and key in self._nonces and time.monotonic() - self._nonces[key][0] < NONCE_WINDOW:
            return self._nonces[key][1]
        msg = make()
        msg.nonce = nonce
        if enforced:
            self._nonces[key] = (time.monotonic(), msg)
        return msg

    # --- faults ------------------------------------------------------------------------------

    def _loses_answer(self, method: str, path: str) -> bool:
        """Whether this request, just carried out, is to lose its answer (`lose_answer`)."""
        for fault in self._lost_answers:
            if fault.count > 0 and fault.method in (method, "*") and fault.pattern.search(path):
                fault.count -= 1
                return True
        return False

    # --- waiting -----------------------------------------------------------------------------

    def attachment(self, attachment_id: int) -> FakeAttachment | None:
        return self._attachments.get(attachment_id)

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

    def shards_connected(self) -> list[tuple[int, int]]:
        """(shard, count) of every live gateway session."""
        return sorted((s.shard, s.count) for s in self._sessions.values() if s.live)

    async def wait_ready(self, timeout: float = 15.0) -> None:
        await self.wait_for(lambda: self._ready, timeout)

    async def wait_commands(self, timeout: float = 15.0) -> list[dict[str, Any]]:
        def registered() -> list[dict[str, Any]]:
            return [*self.global_commands, *itertools.chain.from_iterable(self.guild_commands.values())]

        return await self.wait_for(registered, timeout)

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

    # --- watching (the sandbox page) -------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        """Hand `event` to everyone watching (nobody, in the tests: then this costs nothing)."""
        for queue in self._watchers:
            queue.put_nowait(event)

    @contextlib.contextmanager
    def watch(self) -> Iterator[asyncio.Queue[dict[str, Any]]]:
        """Events while the block runs: a message created, edited or deleted, a modal opened, ..."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._watchers.add(queue)
        try:
            yield queue
        finally:
            self._watchers.discard(queue)

    def _changed(self, msg: FakeMessage) -> None:
        if self._watchers:
            self.publish({"type": "message", "message": self.message_view(msg)})

    def _delete(self, msg: FakeMessage) -> None:
        msg.deleted = True
        self._changed(msg)

    def message_view(self, msg: FakeMessage) -> dict[str, Any]:
        """A message as a client shows it: who may see it, who ran the command it answers."""
        interaction = self.interactions.get(msg.interaction_token or "")
        invoked = None
        if interaction is not None and interaction.type == 2:
            invoked = {"user": interaction.user.name, "command": interaction.payload["data"].get("name")}
        reference = msg.message_reference or {}
        return {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "author": {"id": str(msg.author.id), "name": msg.author.name, "bot": msg.author.bot},
            "content": msg.content,
            "embeds": msg.embeds,
            "components": msg.components,
            "attachments": [
                {"id": str(a.id), "filename": a.filename, "content_type": a.content_type, "size": a.size}
                for a in msg.attachments
            ],
            "ephemeral": bool(msg.flags & EPHEMERAL),
            "loading": bool(msg.flags & LOADING),
            "visible_to": str(interaction.user.id) if interaction and msg.flags & EPHEMERAL else None,
            "invoked": invoked,
            "interaction": str(interaction.id) if interaction else None,
            "reply_to": reference.get("message_id"),
            "deleted": msg.deleted,
            "created": msg.created,
            "edited": msg.edited,
        }

    def view(self) -> dict[str, Any]:
        """Every guild (its channels, members and roles), the bot's DM channels, their live
        messages (ephemeral ones too), and the commands."""
        guilds = []
        for guild in self.guilds.values():
            channels = [
                {
                    "id": str(c),
                    "name": guild.channel_name(c, f"channel-{i}"),
                    "messages": [self.message_view(m) for m in self._messages.get(c, []) if not m.deleted],
                }
                for i, c in enumerate(guild.channels)
            ]
            members = [
                {
                    "id": str(u.id),
                    "name": u.name,
                    "bot": u.bot,
                    "permissions": str(u.permissions),
                    "roles": [str(r) for r in u.roles],
                }
                for u in guild.members.values()
            ]
            roles = [{"id": str(r), "name": name} for r, name in guild.roles.items()]
            guilds.append(
                {
                    "id": str(guild.id),
                    "name": guild.name,
                    "channels": channels,
                    "members": members,
                    "roles": roles,
                }
            )
        dms = [
            {
                "id": str(channel),
                "user_id": str(user_id),
                "messages": [self.message_view(m) for m in self._messages.get(channel, []) if not m.deleted],
            }
            for user_id, channel in self.dm_channels.items()
        ]
        commands = [*self.global_commands, *itertools.chain.from_iterable(self.guild_commands.values())]
        return {"guilds": guilds, "dms": dms, "commands": commands, "ready": self._ready}

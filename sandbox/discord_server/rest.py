"""REST routes: commands, interaction callbacks and webhooks, channel messages, injected faults."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from aiohttp import web

from sandbox.discord_server.core import DiscordState
from sandbox.discord_server.model import (
    EPHEMERAL,
    INTERACTION_ACK_WINDOW,
    LOADING,
    TIER_LIMITS,
    DiscordError,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    RequestRecord,
    _json,
    snowflake,
)
from sandbox.discord_server.sharding import gateway_bot


class RestMixin(DiscordState):
    # --- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        record = RequestRecord(request.method, request.path, 0, time.monotonic(), body)
        self.requests.append(record)
        # A body Discord would refuse is refused before any injected fault is spent on it.
        response: web.StreamResponse | None = self._refusal(request.method, path, body, len(files))
        hang = 0.0
        if response is None:
            response, hang = self._fault_for(request.method, request.path)
        if hang:
            await asyncio.sleep(hang)
        limit_headers: dict[str, str] = {}
        if response is None and self.rate_limits is not None:
            verdict = self.rate_limits.check(request.method, path, self.application_id)
            if verdict.refused:
                response = _json(verdict.body, status=429, headers=verdict.headers)
            limit_headers = verdict.headers
        if response is None:
            try:
                response = await self._route(request, path, body, files)
            except DiscordError as exc:
                response = _json(
                    exc.json(),
                    status=exc.status,
                    headers={"Via": "1.1 google"},
                )
            response.headers.update(limit_headers)
            if self._loses_answer(request.method, request.path) and request.transport is not None:
                request.transport.close()  # done, but the answer never arrives (`lose_answer`)
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
        if path == "/gateway":
            return _json({"url": self.gateway_url})
        if path == "/gateway/bot":
            self._check_auth(request)
            return _json(gateway_bot(self.gateway_url, self.shard_count, self.max_concurrency))
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
                    "name": self.channel_name(channel),
                    "position": 0,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                }
            )
        if (hit := re.fullmatch(r"/guilds/(\d+)/members/(\d+)", path)) and m == "GET":
            in_guild = self.guilds.get(int(hit[1]))
            user = in_guild.members.get(int(hit[2])) if in_guild else None
            if in_guild is None or user is None:
                raise DiscordError(404, 10007, "Unknown Member")
            return _json(user.member_json(in_guild.id))
        raise DiscordError(404, 0, "404: Not Found")

    def _open_dm(self, user_id: int) -> web.Response:
        """POST /users/@me/channels: the bot's DM channel with a user (the same one each time)."""
        user = next((g.members[user_id] for g in self.guilds.values() if user_id in g.members), None)
        if user is None:
            raise DiscordError(400, 50007, "Cannot send messages to this user")
        dm = {"id": str(self.open_dm(user)), "type": 1, "last_message_id": None, "flags": 0}
        return _json({**dm, "recipients": [user.json()]})

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
            self.publish({"type": "commands"})
            return _json(commands)
        return _json(self.guild_commands.get(guild_id, []) if guild_id else self.global_commands)

    # interactions

    def _interaction(self, token: str, *, callback: bool = False) -> FakeInteraction:
        interaction = self.interactions.get(token)
        if interaction is None:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        age = time.monotonic() - interaction.created
        if callback and not interaction.acked.is_set() and age > INTERACTION_ACK_WINDOW:
            interaction.missed = True
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
        interaction.acked_at = time.monotonic()
        interaction.acked.set()
        message: FakeMessage | None = None
        if kind in (4, 5):
            flags = int(data.get("flags", 0)) | (LOADING if kind == 5 else 0)
            message = self._new_message(
                interaction.channel_id, data, files, flags=flags, interaction=interaction
            )
            interaction.original = message
        elif kind == 9:
            self.publish(
                {
                    "type": "modal",
                    "user_id": str(interaction.user.id),
                    "channel_id": str(interaction.channel_id),
                    "modal": data,
                }
            )
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
        msg: FakeMessage | None
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
        return self._on_message(method, msg, body, files)

    # channel messages

    def _check_channel(self, channel_id: int) -> None:
        if channel_id in self.deleted_channels or channel_id not in self._messages:
            raise DiscordError(404, 10003, "Unknown Channel")
        if channel_id in self.forbidden_channels:
            raise DiscordError(403, 50013, "Missing Permissions")
        guild = self.guilds.get(self.channel_guild.get(channel_id, 0))
        if (guild is not None and not guild.bot_member) or channel_id in self.group_dms:
            raise DiscordError(403, 50001, "Missing Access")

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
            data = body or {}  # (its size is checked by _new_message, as every new message's)
            posted = self._create_once(channel_id, data, lambda: self._new_message(channel_id, data, files))
            return _json(posted.json(self))
        msg = next((x for x in self._messages[channel_id] if x.id == message_id and not x.deleted), None)
        if msg is None:
            raise DiscordError(404, 10008, "Unknown Message")
        if method == "PATCH" and msg.author.id != self.bot.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        if method not in ("GET", "DELETE", "PATCH"):
            raise DiscordError(405, 0, "405: Method Not Allowed")
        return self._on_message(method, msg, body, files)

    def _on_message(
        self, method: str, msg: FakeMessage, body: Any, files: list[tuple[str, bytes, str | None]]
    ) -> web.Response:
        """GET, DELETE or PATCH (anything else on webhook routes) of one existing message."""
        if method == "GET":
            return _json(msg.json(self))
        if method == "DELETE":
            self._delete(msg)
            return web.Response(status=204)
        self._check_size(msg.channel_id, files)
        self._apply_edit(msg, body or {}, files)
        return _json(msg.json(self))

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
        self._changed(msg)

"""The gateway websocket: HELLO, IDENTIFY, RESUME, heartbeats and dispatches."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.discord_server.core import DiscordState
from bot.sandbox.discord_server.model import MEMBER_PERMISSIONS, SEND_MESSAGES, FakeGuild, iso, snowflake


class GatewayMixin(DiscordState):
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
                    if self.heartbeat_ack_delay:
                        await asyncio.sleep(self.heartbeat_ack_delay)
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
                    self.publish({"type": "gateway", "ready": True})
                    await self._send_dispatch("RESUMED", {})
        finally:
            if self._ws is ws:
                self._ws = None
                self._ready = False
                self.publish({"type": "gateway", "ready": False})
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
                "guilds": [
                    {"id": str(g), "unavailable": True} for g, x in self.guilds.items() if x.bot_member
                ],
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
            if guild.bot_member:
                await self._send_dispatch("GUILD_CREATE", self._guild_json(guild))
        self._ready = True
        self.publish({"type": "gateway", "ready": True})

    async def _send_dispatch(self, event: str, data: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise AssertionError(f"no gateway connection to send {event}")
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def join_guild(self, guild: FakeGuild) -> None:
        """The bot is added to `guild` while connected: Discord sends its GUILD_CREATE, without
        the `unavailable` key (which marks a guild coming back from an outage instead)."""
        data = self._guild_json(guild)
        data.pop("unavailable")
        await self._send_dispatch("GUILD_CREATE", data)

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
                    "name": guild.channel_name(c, f"channel-{i}"),
                    "position": i,
                    "permission_overwrites": (
                        [{"id": str(guild.id), "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}]
                        if c in guild.read_only_channels
                        else []
                    ),
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
            "system_channel_id": str(guild.system_channel_id) if guild.system_channel_id else None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "preferred_locale": "en-US",
            "max_members": 500000,
        }

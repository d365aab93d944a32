"""The gateway websocket: HELLO, IDENTIFY, RESUME, heartbeats and dispatches."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from sandbox.discord_server.core import DiscordState
from sandbox.discord_server.model import MEMBER_PERMISSIONS, SEND_MESSAGES, FakeGuild, iso, snowflake
from sandbox.discord_server.sharding import GatewaySession, ShardRefused, check_shard


class GatewayMixin(DiscordState):
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        session: GatewaySession | None = None  # what this connection identified or resumed as
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
                    try:
                        shard = check_shard(payload["d"], self.shard_count)
                    except ShardRefused as refused:
                        await ws.close(code=refused.code, message=refused.reason.encode())
                        break
                    session = GatewaySession(ws, *shard, secrets.token_hex(16))
                    await self._identify(session)
                elif op == 6:
                    resumed = self._sessions.get(payload["d"].get("session_id"))
                    if resumed is None:
                        await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
                        continue
                    session, resumed.ws, resumed.ready = resumed, ws, True
                    self.resume_count += 1
                    self.publish({"type": "gateway", "ready": self._ready})
                    await self._send(session, "RESUMED", {})
        finally:
            if session is not None and session.ws is ws:
                session.ws, session.ready = None, False
                self.publish({"type": "gateway", "ready": self._ready})
        return ws

    async def _identify(self, session: GatewaySession) -> None:
        """READY and a GUILD_CREATE for each guild of the session's shard, and no others."""
        self.identify_count += 1
        self._sessions[session.session_id] = session
        guilds = [g for g in self.guilds.values() if g.bot_member and session.owns(g.id)]
        await self._send(
            session,
            "READY",
            {
                "v": 10,
                "user": {**self.bot.json(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.session_id,
                "resume_gateway_url": self.gateway_url,
                "shard": [session.shard, session.count],
                "application": {"id": str(self.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
            },
        )
        for guild in guilds:
            await self._send(session, "GUILD_CREATE", self._guild_json(guild))
        session.ready = True
        self.publish({"type": "gateway", "ready": self._ready})

    async def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None) -> None:
        """Send `event` to every session whose shard owns `guild_id` (None: a DM or anything
        else without a guild, shard 0). Two sessions on one shard both get it, as on Discord."""
        targets = [s for s in self._sessions.values() if s.live and s.owns(guild_id)]
        if not targets:
            raise AssertionError(f"no gateway connection on the shard of guild {guild_id} to send {event}")
        for session in targets:
            await self._send(session, event, data)

    async def _send(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        if session.ws is None or session.ws.closed:
            raise AssertionError(f"the gateway connection to send {event} on is gone")
        session.seq += 1
        await session.ws.send_str(json.dumps({"op": 0, "t": event, "s": session.seq, "d": data}))

    async def join_guild(self, guild: FakeGuild) -> None:
        """The bot is added to `guild` while connected: Discord sends its GUILD_CREATE, without
        the `unavailable` key (which marks a guild coming back from an outage instead)."""
        data = self._guild_json(guild)
        data.pop("unavailable")
        await self.dispatch("GUILD_CREATE", data, guild_id=guild.id)

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

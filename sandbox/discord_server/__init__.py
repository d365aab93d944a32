"""A Discord-compatible server on 127.0.0.1: REST and gateway websocket on one port.

The real, unmodified discord.py client connects to it when the bot is started with
`DISCORD_API_BASE_URL` pointing here (REST through `Route.BASE`, gateway URL from
`/gateway/bot`). Faithful where discord.py or the bot depend on it: the gateway handshake
(HELLO, IDENTIFY, heartbeats, READY with `resume_gateway_url`, GUILD_CREATE, RESUME), the
payload shapes of messages, interactions and the interaction callback response, multipart
uploads, 429s with Discord's headers (and `Via`, without which discord.py assumes a
Cloudflare ban), error codes 10008/10003/10062/40005/50013/50027, and 50035 for any body
Discord would refuse (`spec/`: its OpenAPI description and documented limits). Sharding as
Discord does it (`shard_count`, see `sharding.py`): `/gateway/bot` recommends the count, each
connection's IDENTIFY `shard: [id, count]` gets READY and GUILD_CREATE for its guilds only, a
server's events go to its shard and DMs to shard 0, and a bad shard is closed with 4010/4011.

Simplified: IDENTIFYs are not spaced out (`max_concurrency` is only reported); no permissions
model beyond what tests set; rate limits only when switched on (`rate_limits=True`: Discord's
documented global, per-channel and per-token buckets, see `limits.py`; otherwise a test injects
429s where it wants them); no zlib compression (text frames, which discord.py accepts although it
asks for compression); no replay of missed events on RESUME; no voice, presences or member
chunking.
"""

from __future__ import annotations

from sandbox.discord_server.model import (
    BOT_PERMISSIONS,
    EPHEMERAL,
    LOADING,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MEMBER_PERMISSIONS,
    DiscordError,
    FakeAttachment,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    InvalidRequest,
    RequestRecord,
    snowflake,
)
from sandbox.discord_server.server import FakeDiscord

__all__ = [
    "BOT_PERMISSIONS",
    "EPHEMERAL",
    "LOADING",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MEMBER_PERMISSIONS",
    "DiscordError",
    "FakeAttachment",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMessage",
    "FakeUser",
    "InvalidRequest",
    "RequestRecord",
    "snowflake",
]

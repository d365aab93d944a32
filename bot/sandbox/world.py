"""The sandbox's server: three channels, a member and a moderator, and the rules set up for them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.sandbox.discord_server import (
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MEMBER_PERMISSIONS,
    FakeDiscord,
    FakeGuild,
    FakeUser,
)

log = logging.getLogger(__name__)

CHANNELS = ("general", "moderated", "audit")
TOPICS = {
    "general": "Make videos here: type /video",
    "moderated": "An approval channel: a moderator approves each video before it is sent",
    "audit": "The bot's audit log and its approval requests",
}


@dataclass(frozen=True)
class World:
    guild: FakeGuild
    channels: dict[str, int]
    member: FakeUser
    moderator: FakeUser

    def people(self) -> list[dict[str, str]]:
        """Who the page lets you be, with what they may do."""
        return [
            {"id": str(self.member.id), "name": self.member.name, "role": "Member"},
            {
                "id": str(self.moderator.id),
                "name": self.moderator.name,
                "role": "Moderator · Manage Server, Manage Messages",
            },
        ]

    def topics(self) -> dict[str, str]:
        return {str(self.channels[name]): topic for name, topic in TOPICS.items()}


def build_world(discord: FakeDiscord) -> World:
    guild = discord.add_guild(name="Veo Sandbox", channel_names=CHANNELS)
    channels = dict(zip(CHANNELS, guild.channels, strict=True))
    member = discord.add_member(guild.id, name="ann")
    moderator = discord.add_member(
        guild.id, name="mo", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD | MANAGE_MESSAGES
    )
    return World(guild, channels, member, moderator)


async def set_rules(discord: FakeDiscord, world: World) -> None:
    """#audit becomes the audit channel and #moderated an approval channel, the way a moderator
    would do it: with /video-admin's channel pickers, so the audit channel shows those changes too."""
    # Commands are synced before the gateway connects; an interaction needs both.
    await discord.wait_commands(timeout=60)
    await discord.wait_ready(timeout=60)
    audit = world.channels["audit"]
    changes = (
        ("audit-channel", {"channel": audit}),
        ("channels", {"setting": "approval_channels", "add": world.channels["moderated"]}),
    )
    for subcommand, options in changes:
        done = await discord.slash(
            "video-admin", options, subcommand=subcommand, user=world.moderator, channel_id=audit
        )
        reply = await done.wait_response(timeout=15)
        log.info("sandbox rule %s: %s", subcommand, (reply.get("data") or {}).get("content", "set"))

"""The sandbox's server: three channels, three roles, a member, a moderator and an approver, the
rules set up for them, and a prompt in its library."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sandbox.discord_server import (
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
SANDBOX_BUDGET = "3.00"
# Roles for /video-admin roles to pick: generator_roles (@artists), approver_roles (@approvers).
ROLES = ("mods", "artists", "approvers")
LIBRARY_PROMPT = "A night market of paper lanterns by a river, steam rising from food stalls, slow dolly shot"


@dataclass(frozen=True)
class World:
    guild: FakeGuild
    channels: dict[str, int]
    member: FakeUser
    moderator: FakeUser
    approver: FakeUser
    roles: dict[str, int]
    dms: dict[int, int]  # person -> the bot's DM channel with them

    def people(self) -> list[dict[str, str]]:
        """Who the page lets you be, with what they may do and their roles."""

        def described(user: FakeUser, what: str) -> str:
            names = [f"@{self.guild.roles[r]}" for r in user.roles]
            return " · ".join([what, *names])

        return [
            {"id": str(self.member.id), "name": self.member.name, "role": described(self.member, "Member")},
            {
                "id": str(self.moderator.id),
                "name": self.moderator.name,
                "role": described(self.moderator, "Moderator · Manage Server, Manage Messages"),
            },
            {
                "id": str(self.approver.id),
                "name": self.approver.name,
                "role": described(self.approver, "Approver"),
            },
        ]

    def topics(self) -> dict[str, str]:
        return {str(self.channels[name]): topic for name, topic in TOPICS.items()}


def build_world(discord: FakeDiscord) -> World:
    guild = discord.add_guild(name="Veo Sandbox", channel_names=CHANNELS)
    channels = dict(zip(CHANNELS, guild.channels, strict=True))
    # Before the bot connects, so its GUILD_CREATE lists them.
    roles = {name: discord.add_role(guild.id, name) for name in ROLES}
    member = discord.add_member(guild.id, name="ann", roles=[roles["artists"]])
    moderator = discord.add_member(
        guild.id,
        name="mo",
        permissions=MEMBER_PERMISSIONS | MANAGE_GUILD | MANAGE_MESSAGES,
        roles=[roles["mods"]],
    )
    # No Manage Messages: val approves only once approver_roles lists @approvers.
    approver = discord.add_member(guild.id, name="val", roles=[roles["approvers"]])
    # Open from the start, so the page can show each person's DMs with the bot (notify:dm).
    dms = {user.id: discord.open_dm(user) for user in (member, moderator, approver)}
    return World(guild, channels, member, moderator, approver, roles, dms)


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
        # Small enough to reach in a few tries: the 80 % warning, then a refusal naming it.
        ("set", {"setting": "monthly_budget", "value": SANDBOX_BUDGET}),
    )
    for subcommand, options in changes:
        done = await discord.slash(
            "video-admin", options, subcommand=subcommand, user=world.moderator, channel_id=audit
        )
        reply = await done.wait_response(timeout=15)
        log.info("sandbox rule %s: %s", subcommand, (reply.get("data") or {}).get("content", "set"))
    # A library entry to try (`/video from_library:`); the shipped styles are there already.
    saved = await discord.slash(
        "video-library",
        {"name": "lantern market", "prompt": LIBRARY_PROMPT},
        subcommand="save",
        user=world.member,
        channel_id=world.channels["general"],
    )
    reply = await saved.wait_response(timeout=15)
    log.info("sandbox library: %s", (reply.get("data") or {}).get("content", "saved"))

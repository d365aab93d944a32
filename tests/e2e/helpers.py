"""What the end-to-end tests share: bytes of small images, scripted task lives, a guild to
play in, and ways to read what Discord would show (job messages, private answers, buttons)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import aiohttp

from sandbox.relay import Step

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64

MANAGE_GUILD = 1 << 5
BASIC = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
MANAGE_MESSAGES = 1 << 13


def life(seconds: float, *, steps: int = 4, video: str = "small") -> list[Step]:
    gap = seconds / (steps + 1)
    out = [Step("queued", 0)]
    out += [Step("processing", round(100 * i / (steps + 1)), after=gap) for i in range(1, steps + 1)]
    out.append(Step("completed", 100, after=gap, video=video))
    return out


async def setup_guild(discord, members: int = 1, **guild_kw):
    guild = discord.add_guild(**guild_kw)
    users = [discord.add_member(guild.id, name=f"member{i}") for i in range(members)]
    return guild, guild.channels[0], users


def video_attachment(message):
    return next((a for a in message.attachments if a.filename.endswith(".mp4")), None)


def field(message, name):
    for f in message.embeds[0].get("fields", []):
        if f["name"] == name:
            return f["value"]
    return None


async def wait_final(discord, interaction, timeout=20.0):
    """The job message once it shows a final state (no Cancel button left)."""

    def done():
        msg = interaction.original
        if msg is None or not msg.embeds:
            return None
        status = field(msg, "Status") or ""
        ids = [c.get("custom_id", "") for row in msg.components for c in row.get("components", [])]
        cancellable = any(i.startswith("video:cancel:") for i in ids)
        if any(word in status for word in ("Done", "Failed", "Cancelled")) and not cancellable:
            return msg
        return None

    return await discord.wait_for(done, timeout=timeout)


def job_rows(workdir: Path) -> list[dict]:
    db = sqlite3.connect(workdir / "bot.db")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("select * from jobs order by id")]
    finally:
        db.close()


async def settled_rows(discord, workdir: Path) -> list[dict]:
    """The job rows once every job's final state is recorded (it is written after the edit lands)."""

    def settled():
        rows = job_rows(workdir)
        return rows if rows and all(r["notified_at"] is not None for r in rows) else None

    return await discord.wait_for(settled, timeout=10)


def private_text(interaction):
    texts = [m.content for m in interaction.followups if m.flags & 64]
    texts += [
        r.get("data", {}).get("content") or ""
        for r in interaction.responses
        if r.get("data", {}).get("flags", 0) & 64
    ]
    return next((t for t in texts if t), None)


async def answer(fake_discord, interaction):
    def text():
        private = private_text(interaction)
        if private:
            return private
        if interaction.responses and interaction.responses[0].get("type") == 9:
            return "modal"
        return None

    return await fake_discord.wait_for(text, timeout=10)


def custom_ids(message) -> list[str]:
    return [c.get("custom_id", "") for row in message.components for c in row.get("components", [])]


def button(message, action: str) -> str:
    return next(i for i in custom_ids(message) if i.startswith(f"video:{action}:"))


async def fetch_all(urls):
    """The bytes behind each URL; asserts each answers 200."""
    async with aiohttp.ClientSession() as session:
        out = []
        for url in urls:
            async with session.get(url) as response:
                assert response.status == 200, url
                out.append(await response.read())
        return out


PICKED_LISTS = {
    "allowed_channels": "channels",
    "approval_channels": "channels",
    "generator_roles": "roles",
    "approver_roles": "roles",
}


async def admin_change(fake_discord, admin, channel, setting, value) -> str:
    """Change a server setting as a moderator would: channels and roles with Discord's pickers
    (`value` holds their mentions, or `none`), everything else with `/video-admin set`.
    Returns the private answer."""
    ids = [int(x) for x in re.findall(r"\d{15,21}", value)]
    if setting in PICKED_LISTS:
        subcommand = PICKED_LISTS[setting]
        first = {"setting": setting, "clear": True, **({"add": ids[0]} if ids else {})}
        requests = [first, *({"setting": setting, "add": i} for i in ids[1:])]
    elif setting == "audit_channel":
        subcommand, requests = "audit-channel", [{"channel": ids[0]} if ids else {}]
    else:
        subcommand, requests = "set", [{"setting": setting, "value": value}]
    text = ""
    for options in requests:
        done = await fake_discord.slash(
            "video-admin", options, subcommand=subcommand, user=admin, channel_id=channel
        )
        reply = await done.wait_response(timeout=10)
        text = (reply.get("data") or {}).get("content") or ""
    return text

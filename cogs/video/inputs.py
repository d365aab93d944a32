"""The Discord side of intake: who is asking (a `Member`), and the images they attached or that
a job message keeps, read and checked. The checks themselves are `bot.rules.intake`'s."""

from __future__ import annotations

import asyncio
from typing import TypeVar

import discord
from discord import app_commands

from bot.errors import InputError
from bot.jobs.model import Job
from bot.rules.intake import Member
from bot.rules.validation import AttachmentInfo, check_image_bytes
from bot.texts.formatting import inert
from bot.texts.i18n import N_, Text, english
from cogs.video.render import SHAPE_WORDS

IMAGE_READ_TIMEOUT = 30.0
REF_PREFIX = "ref"  # the job message's copies of the reference images: ref1.png, ref2.jpeg…

Files = tuple[tuple[str, bytes], ...]
T = TypeVar("T")


# `/video`'s and `/video-style set`'s shape choices: the words the job message shows for them.
SHAPE_CHOICES = [app_commands.Choice(name=english(text), value=shape) for shape, text in SHAPE_WORDS.items()]


def anywhere(command: T) -> T:
    """A member-facing command offered wherever the app is: servers that added the bot, and
    (through a user install) the bot's DM, group DMs and other servers."""
    installed = app_commands.allowed_installs(guilds=True, users=True)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(installed)


def member_of(interaction: discord.Interaction) -> Member:
    assert interaction.channel_id is not None
    perms = interaction.permissions
    scope = scope_of(interaction)
    return Member(
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        role_ids=frozenset(r.id for r in getattr(interaction.user, "roles", [])),
        manage_guild=perms.manage_guild,
        manage_messages=perms.manage_messages,
        bot_missing=bot_missing(interaction) if scope == "guild" else (),
        scope=scope,
    )


def scope_of(interaction: discord.Interaction) -> str:
    """Where the bot stands: in a server that added it ("guild"), in its own DM ("dm", where it
    may post), or anywhere else through a user install ("user": only the interaction's webhook)."""
    if interaction.guild_id is not None and interaction.is_guild_integration():
        return "guild"
    if interaction.context.dm_channel:
        return "dm"
    return "user"


def bot_missing(interaction: discord.Interaction) -> tuple[str, ...]:
    """The permissions the bot needs to post a job's result here and does not have."""
    if interaction.guild_id is None:
        return ()
    have = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    # Discord's names of the permissions, translated where they are shown.
    needed = {
        N_("View Channel"): have.view_channel,
        N_("Send Messages in Threads") if in_thread else N_("Send Messages"): (
            have.send_messages_in_threads if in_thread else have.send_messages
        ),
        N_("Embed Links"): have.embed_links,
        N_("Attach Files"): have.attach_files,
    }
    return tuple(name for name, ok in needed.items() if not ok)


def attachment_info(a: discord.Attachment) -> AttachmentInfo:
    return AttachmentInfo(a.filename, a.size, a.content_type, a.url)


async def read_images(attachments: list[discord.Attachment], *, max_bytes: int) -> Files:
    """Read and check each image; returns them named `ref1.png`… to attach to the job message."""
    files = []
    for i, a in enumerate(attachments, 1):
        try:
            async with asyncio.timeout(IMAGE_READ_TIMEOUT):
                data = await a.read()
        except (discord.HTTPException, TimeoutError):
            raise InputError(
                Text("{file} could not be downloaded from Discord; try again.", file=inert(a.filename))
            ) from None
        mime = check_image_bytes(a.filename, data, a.content_type, max_bytes=max_bytes)
        files.append((f"{REF_PREFIX}{i}.{mime.split('/')[1]}", data))
    return tuple(files)


def references(message: discord.Message) -> list[discord.Attachment]:
    return [a for a in message.attachments if a.filename.startswith(REF_PREFIX)]


async def reference_attachments(
    client: discord.Client, job: Job, webhook: discord.Webhook | None = None
) -> list[discord.Attachment]:
    """The reference images attached to the job message, with freshly signed URLs: fetched
    through the interaction's `webhook` where given (the only way where the bot is not in the
    server), else through the channel."""
    if not job.images or job.message_id is None:
        return []
    try:
        if webhook is not None:
            message: discord.Message = await webhook.fetch_message(job.message_id)
        elif job.scope == "user":
            return []  # no channel access, and the token has expired
        else:
            channel = client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
            message = await channel.fetch_message(job.message_id)
    except discord.HTTPException:
        return []
    return references(message)


async def reference_files(client: discord.Client, job: Job, shown: discord.Message | None = None) -> Files:
    """The bytes of a job's reference images, to attach to a job built on it. `shown` is the
    message a button was pressed on: when it is the job message, its attachments (freshly
    signed, in the interaction) are used without fetching anything."""
    if not job.images:
        return ()
    if shown is not None and shown.id == job.message_id:
        refs = references(shown)
    else:
        refs = await reference_attachments(client, job)
    if len(refs) != len(job.images):
        raise InputError(Text("The reference images of video #{id} are no longer available.", id=job.id))
    try:
        return tuple([(a.filename, await a.read()) for a in refs])
    except discord.HTTPException:
        raise InputError(
            Text("The reference images of video #{id} could not be fetched; try again.", id=job.id)
        ) from None

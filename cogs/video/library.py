"""`/video-library`: the server's prompt library (a member's own outside servers). Save, list,
rename, remove, and Remix from an entry; the rules are `bot.rules.library`'s, the "Save prompt"
button on a finished video is `cogs.video.actions`'."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.acks import defer_publicly
from bot.rules.intake import Member
from bot.rules.library import Library, LibraryEntry
from bot.texts.formatting import inert, truncate
from bot.texts.i18n import ntr, tr
from cogs.video.inputs import anywhere, member_of
from cogs.video.modals import EntryRemixModal

if TYPE_CHECKING:
    from bot.app.client import VideoBot
    from cogs.video.starting import JobStarter

NO_MENTIONS = discord.AllowedMentions.none()
COLOUR = 0x9B59B6


async def library_choices(library: Library, member: Member, typed: str) -> list[app_commands.Choice[str]]:
    """The entries a member can pick as they type: name, author and use count."""
    return [
        app_commands.Choice(name=f"{e.name} · {e.author_name} · {e.uses}×"[:100], value=e.name)
        for e in await library.choices(member, typed)
    ]


def _line(entry: LibraryEntry, locale: object) -> str:
    uses = ntr(locale, "used {n} time", "used {n} times", n=entry.uses)
    prompt = inert(truncate(entry.prompt, 120))
    return f"**{inert(entry.name)}** · {inert(entry.author_name)} · {uses}\n> {prompt}"


@anywhere
class LibraryCog(commands.GroupCog, group_name="video-library"):
    """The prompt library: save prompts under a short name, find them in /video from_library."""

    def __init__(self, bot: VideoBot, starter: JobStarter) -> None:
        self.bot = bot
        self.intake = bot.intake
        self.library = bot.intake.library
        self.starter = starter
        super().__init__()

    @app_commands.command(name="save")
    @app_commands.describe(name="A short name to find it by", prompt="The prompt to keep")
    async def save(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 40],
        prompt: app_commands.Range[str, 1, 4000],
    ) -> None:
        """Save a prompt to the library under a short name."""
        member = member_of(interaction)
        entry = await self.library.save(
            member,
            await self.intake.rules(member.guild_id, member.scope),
            name=name,
            prompt=self.intake.clean_prompt(prompt),
            author_name=interaction.user.display_name,
        )
        await interaction.response.send_message(
            tr(
                interaction.locale,
                "Saved as {name}: `/video from_library:` finds it.",
                name=inert(entry.name),
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="list")
    async def list_entries(self, interaction: discord.Interaction) -> None:
        """The library's entries, most used first, and your own."""
        member = member_of(interaction)
        locale = interaction.locale
        top, mine = await self.library.listing(member)
        embed = discord.Embed(title=tr(locale, "Prompt library"), colour=COLOUR)
        empty = tr(
            locale, "Nothing saved yet: the Save prompt button of a finished video, or /video-library save."
        )
        embed.add_field(
            name=tr(locale, "Most used"),
            value=truncate("\n".join(_line(e, locale) for e in top) or empty, 1024),
            inline=False,
        )
        embed.add_field(
            name=tr(locale, "Yours"),
            value=truncate("\n".join(_line(e, locale) for e in mine) or tr(locale, "none"), 1024),
            inline=False,
        )
        embed.set_footer(
            text=tr(locale, "/video from_library: uses one; /video-library remix edits one first.")
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="rename")
    @app_commands.describe(entry="The entry to rename", new_name="Its new name")
    async def rename(
        self, interaction: discord.Interaction, entry: str, new_name: app_commands.Range[str, 1, 40]
    ) -> None:
        """Rename an entry (yours, or any with Manage Messages)."""
        old = await self.library.rename(member_of(interaction), entry, new_name)
        await interaction.response.send_message(
            tr(
                interaction.locale,
                "Renamed {old} to {new}.",
                old=inert(old.name),
                new=inert(new_name.strip()),
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="remove")
    @app_commands.describe(entry="The entry to remove")
    async def remove(self, interaction: discord.Interaction, entry: str) -> None:
        """Remove an entry (yours, or any with Manage Messages)."""
        gone = await self.library.remove(member_of(interaction), entry)
        await interaction.response.send_message(
            tr(interaction.locale, "Removed {name} from the library.", name=inert(gone.name)),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="remix")
    @app_commands.describe(entry="The entry to start from")
    async def remix(self, interaction: discord.Interaction, entry: str) -> None:
        """Make a video from an entry, its prompt editable first (anyone's entry)."""
        member = member_of(interaction)
        rules = await self.intake.rules(member.guild_id, member.scope)
        found = await self.library.find(member, entry)
        await self.intake.check_asker(member, rules)
        await interaction.response.send_modal(
            EntryRemixModal(
                lambda sent, prompt: self.remixed(sent, found, prompt),
                found.prompt,
                self.bot.settings.max_prompt_length,
                interaction.locale,
            )
        )

    async def remixed(self, interaction: discord.Interaction, entry: LibraryEntry, prompt: str) -> None:
        member = member_of(interaction)
        rules = await self.intake.rules(member.guild_id, member.scope)
        # Attributed to the entry (the member started from it); the prompt is what they sent.
        request = replace(self.intake.new_request(rules, prompt=prompt), **entry.attribution())
        await self.intake.check(member, rules, request)
        await defer_publicly(interaction)
        if await self.starter.start(interaction, member, rules, request) is not None:
            await self.library.used(entry.id)

    @rename.autocomplete("entry")
    @remove.autocomplete("entry")
    @remix.autocomplete("entry")
    async def _entries(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await library_choices(self.library, member_of(interaction), current)

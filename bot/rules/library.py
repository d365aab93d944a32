"""The prompt library: prompts saved under a short name, a server's (shared by its members) or,
for user installs and the bot's DM, a member's own. Entries keep their author, the video they
came from and how often they were used. Saved prompts are member text: checked against the
server's blocked words when saved (and, as part of the prompt, when used: `Intake.check`).

Pure rules over the store (`bot.storage.library_tables`); the cogs turn Discord into a `Member`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.errors import InputError, PermissionDenied
from bot.texts.formatting import inert
from bot.texts.i18n import Text

if TYPE_CHECKING:
    from bot.rules.guild_settings import GuildSettings
    from bot.rules.intake import Member
    from bot.storage.interface import JobStore

NAME_LIMIT = 40
# Autocomplete shows at most 25 choices (Discord's limit); the list command this many of each kind.
CHOICES = 25
LISTED = 15


@dataclass(frozen=True)
class LibraryEntry:
    id: int
    library: str
    name: str
    prompt: str
    user_id: int
    author_name: str
    job_id: int | None
    uses: int
    created_at: float

    def attribution(self) -> dict[str, Any]:
        """The job columns that say a video was made from this entry ("from ann's lantern market")."""
        return {"library_id": self.id, "library_name": self.name, "library_author": self.author_name}


def library_of(member: Member) -> str:
    """Whose library a member uses where they ask: the server's where it added the bot, their
    own elsewhere (user installs and the bot's DM have no server to share with)."""
    if member.scope == "guild" and member.guild_id is not None:
        return f"guild:{member.guild_id}"
    return f"user:{member.user_id}"


def clean_name(raw: str) -> str:
    name = re.sub(r"\s+", " ", raw).strip()
    if not 1 <= len(name) <= NAME_LIMIT:
        raise InputError(Text("A library entry's name has 1 to {limit} characters.", limit=NAME_LIMIT))
    return name


def composed(entry: LibraryEntry | None, prompt: str | None) -> str:
    """The prompt of a video asked for with `from_library`: the entry's, then what the member
    added (so an entry is a starting point, not only a copy)."""
    added = (prompt or "").strip()
    if entry is None:
        return added
    return f"{entry.prompt.rstrip()}, {added}" if added else entry.prompt


class Library:
    def __init__(self, store: JobStore) -> None:
        self.store = store

    async def save(
        self,
        member: Member,
        rules: GuildSettings,
        *,
        name: str,
        prompt: str,
        author_name: str,
        job_id: int | None = None,
    ) -> LibraryEntry:
        name = clean_name(name)
        rules.check_prompt(prompt)
        saved = await self.store.library_add(
            library=library_of(member),
            name=name,
            prompt=prompt,
            user_id=member.user_id,
            author_name=author_name,
            job_id=job_id,
        )
        if saved is None:
            raise InputError(
                Text("There is already an entry named {name} in this library.", name=inert(name))
            )
        return saved

    async def find(self, member: Member, name: str) -> LibraryEntry:
        entry = await self.store.library_entry(library_of(member), name.strip())
        if entry is None:
            raise InputError(Text("There is no entry named {name} in this library.", name=inert(name)))
        return entry

    async def choices(self, member: Member, typed: str) -> list[LibraryEntry]:
        return await self.store.library_entries(library_of(member), typed=typed.strip(), limit=CHOICES)

    async def listing(self, member: Member) -> tuple[list[LibraryEntry], list[LibraryEntry]]:
        """The most used entries, and the member's own (most used first too)."""
        library = library_of(member)
        return (
            await self.store.library_entries(library, limit=LISTED),
            await self.store.library_entries(library, user_id=member.user_id, limit=LISTED),
        )

    def check_use(self, rules: GuildSettings, entry: LibraryEntry) -> None:
        """Blocked words added since the entry was saved refuse it too."""
        rules.check_prompt(entry.prompt)

    @staticmethod
    def check_manage(member: Member, entry: LibraryEntry) -> None:
        """Its author renames or removes an entry; in a server, so does a moderator."""
        moderator = member.scope == "guild" and member.manage_messages
        if member.user_id != entry.user_id and not moderator:
            raise PermissionDenied(
                Text(
                    "Only the member who saved {name}, or a member with Manage Messages, can change it.",
                    name=inert(entry.name),
                )
            )

    async def rename(self, member: Member, name: str, new_name: str) -> LibraryEntry:
        entry = await self.find(member, name)
        self.check_manage(member, entry)
        new_name = clean_name(new_name)
        if not await self.store.library_rename(entry.id, new_name):
            raise InputError(
                Text("There is already an entry named {name} in this library.", name=inert(new_name))
            )
        return entry

    async def remove(self, member: Member, name: str) -> LibraryEntry:
        entry = await self.find(member, name)
        self.check_manage(member, entry)
        await self.store.library_remove(entry.id)
        return entry

    async def used(self, entry_id: int) -> None:
        await self.store.library_used(entry_id)

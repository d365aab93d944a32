"""Styles: named text a server's moderators add to a prompt, optionally with a model, shape and
duration. A few ship as data (`DEFAULT_STYLES`) and stay out of the database until a server
edits or removes one; the store keeps only what a server changed. Pure apart from the store
it reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import InputError, PermissionDenied
from bot.texts.formatting import inert
from bot.texts.i18n import Text

if TYPE_CHECKING:
    from bot.storage.interface import JobStore

NAME_LIMIT = 32
TEXT_LIMIT = 500


@dataclass(frozen=True)
class Style:
    name: str
    text: str
    model: str | None = None
    shape: str | None = None
    duration: int | None = None

    @property
    def key(self) -> str:
        return self.name.casefold()


# English: Veo follows English style words best, whatever the language of the prompt.
DEFAULT_STYLES = (
    Style("cinematic", "cinematic lighting, shallow depth of field, anamorphic lens, film grain"),
    Style("anime", "anime style, cel shading, vivid colours, hand-drawn look"),
    Style("documentary", "documentary footage, handheld camera, natural light, realistic detail"),
)


def clean_style_name(raw: str) -> str:
    name = re.sub(r"\s+", " ", raw).strip()
    if not 1 <= len(name) <= NAME_LIMIT:
        raise InputError(Text("A style's name has 1 to {limit} characters.", limit=NAME_LIMIT))
    return name


def styled(prompt: str, style: Style | None) -> str:
    """The prompt the relay gets: the member's, then the style's words."""
    if style is None or not style.text:
        return prompt
    return f"{prompt.rstrip().rstrip(',.')}, {style.text}"


class Styles:
    """The styles a place offers: the shipped ones as the server changed them."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    async def offered(self, guild_id: int | None) -> list[Style]:
        styles = {s.key: s for s in DEFAULT_STYLES}
        if guild_id is not None:
            for key, style in await self.store.guild_styles(guild_id):
                if style is None:
                    styles.pop(key, None)  # a shipped style the server removed
                else:
                    styles[key] = style
        return sorted(styles.values(), key=lambda s: s.key)

    async def find(self, guild_id: int | None, name: str) -> Style:
        key = name.strip().casefold()
        for style in await self.offered(guild_id):
            if style.key == key:
                return style
        raise InputError(
            Text("There is no style named {name} here; see /video-style list.", name=inert(name))
        )

    @staticmethod
    def check_moderator(manage_messages: bool) -> None:
        if not manage_messages:
            raise PermissionDenied(Text("Only members with Manage Messages can change this server's styles."))

    async def set(self, guild_id: int, style: Style, *, by: int) -> None:
        if not style.text.strip() or len(style.text) > TEXT_LIMIT:
            raise InputError(Text("A style's text has 1 to {limit} characters.", limit=TEXT_LIMIT))
        await self.store.set_guild_style(guild_id, style.key, style, by=by)

    async def remove(self, guild_id: int, name: str, *, by: int) -> Style:
        style = await self.find(guild_id, name)
        await self.store.set_guild_style(guild_id, style.key, None, by=by)
        return style

"""Command names, descriptions and choices in the member's language: discord.py's `Translator`
over the message catalogues (`bot.texts.i18n`). Discord gets every language in the sync payload
(`name_localizations`, `description_localizations`) and shows each member their own.

The catalogue keeps command texts apart from message texts by msgctxt: names follow Discord's
naming rules (lowercase, no spaces, at most 32 characters), the rest is free text of at most 100.
"""

from __future__ import annotations

from discord import Locale, app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.texts import i18n

NAME = "command name"  # slash commands, groups, options: ^[-_\p{L}\p{N}...]{1,32}$, lowercase
MENU = "menu name"  # context menu entries: free text, at most 32 characters
TEXT = "command text"  # descriptions and choice names: at most 100 characters


def context_of(context: app_commands.TranslationContextTypes) -> str:
    location = context.location
    if location is Where.command_name and isinstance(context.data, app_commands.ContextMenu):
        return MENU
    if location in (Where.command_name, Where.group_name, Where.parameter_name):
        return NAME
    return TEXT


class CatalogueTranslator(app_commands.Translator):
    async def load(self) -> None:
        i18n.load_all()

    async def translate(
        self, string: app_commands.locale_str, locale: Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        return i18n.command_text(locale, context_of(context), string.message)

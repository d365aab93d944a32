"""Keep the message catalogues in step with the code.

    python -m tools.catalogues          # write bot/locales/bot.pot and merge it into every bot.po

The template holds every text a member can read: what the code marks with `Text`, `Plural`,
`tr`, `ntr` and `N_` (found by Babel's extractor), and every command, option and choice name,
description and choice of the slash commands (collected from the command tree, with msgctxt
saying which kind, see bot/app/translator.py). New texts arrive in each `bot.po` untranslated (and
show in English) until a translator fills them in; `tests/test_i18n.py` fails until then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.texts import i18n

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = i18n.LOCALES_DIR / f"{i18n.DOMAIN}.pot"
# Babel keyword specs: which arguments of which calls are msgids (singular, plural).
KEYWORDS: dict[str, Any] = {"Text": (1,), "Plural": (1, 2), "tr": (2,), "ntr": (2, 3), "N_": (1,)}


def code_messages() -> Iterator[tuple[str | tuple[str, ...], str]]:
    """(msgid, where) of every marked text in bot/ and cogs/."""
    for folder in ("bot", "cogs"):
        found = extract_from_dir(
            REPO / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=(),
        )
        for filename, lineno, message, _comments, _context in found:
            yield message, f"{folder}/{filename}:{lineno}"


def command_tree() -> Any:
    """The bot's command tree, built offline from the cogs (nothing connects or runs), to read
    every command string from, or the payload the bot would sync."""
    import discord
    from discord.ext import commands

    from bot.jobs.tracker import JobTracker
    from bot.rules.intake import Intake
    from bot.settings import load_settings
    from bot.storage.store import Store
    from cogs.admin import VideoAdmin
    from cogs.video import HelpCog, JobInfoCog, LibraryCog, StylesCog, VideoCog

    bot: Any = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    bot.settings = load_settings({"DISCORD_TOKEN": "-", "VIDEO_API_KEY": "-"}, dotenv=False)
    bot.store, bot.api = Store.open(":memory:"), None  # the cogs are built, never run
    bot.intake = Intake(bot.settings, bot.store)
    bot.tracker = JobTracker(bot.store, bot.api)
    video = VideoCog(bot)
    cogs = (
        video,
        JobInfoCog(bot),
        HelpCog(bot),
        VideoAdmin(bot),
        LibraryCog(bot, video.starter),
        StylesCog(bot),
    )
    for cog in cogs:
        group = getattr(cog, "__cog_app_commands_group__", None)
        for command in [group] if group else cog.__cog_app_commands__:
            bot.tree.add_command(command)
    bot.tree.add_command(video._menu)
    return bot.tree


async def command_messages() -> list[tuple[str, str]]:
    """(msgctxt, msgid) of every translatable string of the application commands."""
    from discord import app_commands

    from bot.app.translator import context_of

    seen: list[tuple[str, str]] = []

    class Recorder(app_commands.Translator):
        async def translate(self, string: app_commands.locale_str, locale: Any, context: Any) -> str | None:
            key = (context_of(context), string.message)
            if key not in seen:
                seen.append(key)
            return None

    tree = command_tree()
    recorder = Recorder()
    for command in tree.get_commands():
        await command.get_translated_payload(tree, recorder)
    return seen


def template() -> Catalog:
    catalog = Catalog(
        domain=i18n.DOMAIN, project="veo-discord-bot", version="0.1.0", charset="utf-8", fuzzy=False
    )
    for message, where in code_messages():
        path, line = where.rsplit(":", 1)
        catalog.add(message, locations=[(path, int(line))], flags=_flags(message))
    for context, msgid in asyncio.run(command_messages()):
        catalog.add(msgid, context=context, locations=[("commands", 0)])
    return catalog


def _flags(message: str | tuple[str, ...]) -> list[str]:
    text = message if isinstance(message, str) else message[0]
    return ["python-brace-format"] if "{" in text else []


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale, domain=i18n.DOMAIN)


def write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=False, omit_header=False, include_previous=False)


def main() -> None:
    pot = template()
    write(TEMPLATE, pot)
    for locale in i18n.SHIPPED:
        path = i18n.po_path(locale)
        babel_locale = locale.replace("-", "_")
        catalog = (
            read(path, babel_locale) if path.exists() else Catalog(locale=babel_locale, domain=i18n.DOMAIN)
        )
        catalog.update(pot, no_fuzzy_matching=True)
        # The header is reviewed like any message (a fuzzy header would drop Plural-Forms).
        catalog.fuzzy = False
        catalog.project, catalog.version = "veo-discord-bot", "0.1.0"
        catalog.last_translator = catalog.language_team = "veo-discord-bot contributors"
        write(path, catalog)
        print(f"{locale}: {len(catalog)} messages")


if __name__ == "__main__":
    main()

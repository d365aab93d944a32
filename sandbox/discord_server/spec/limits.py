"""Discord's documented limits that its OpenAPI description does not carry (or carries loosely).

Messages: 2,000 characters of content (the description allows 4,000 on channel routes, which
only Nitro users get), 6,000 characters across a message's embeds, 5 action rows, custom ids
unique within a message, at most 10 files. Embed field lengths and counts are checked here too,
so they hold even if a future description drops them. Commands: the name rule (letters, digits,
`-`, `_`, Devanagari and Thai; lowercase where the script has case), descriptions of 1-100
characters, the same for every `*_localizations` value, keyed only by Discord's locales, at most
25 options and 25 choices, unique names, required options first.

Pure Python (no jsonschema): every function takes a parsed body and returns `Problem`s. Bodies of
the wrong shape are the description's to report; these checks skip what they cannot read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Generator, Iterator
from typing import Any

from sandbox.discord_server.spec.openapi import Problem, locales

Path = tuple[str | int, ...]

CONTENT = 2000
EMBEDS, EMBED_TOTAL = 10, 6000
EMBED_TEXT = {"title": 256, "description": 4096}
FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER, AUTHOR = 25, 256, 1024, 2048, 256
ROWS, ROW_ITEMS, CUSTOM_ID = 5, 5, 100
FILES = 10
NAME, DESCRIPTION, OPTIONS, CHOICES, CHOICE_NAME = 32, 100, 25, 25, 100
COMPONENTS_V2 = 1 << 15  # with this flag a message is laid out by components, not action rows

_MESSAGES = {
    ("POST", "/channels/{channel_id}/messages"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
}
_CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
_COMMANDS = {
    "/applications/{application_id}/commands",
    "/applications/{application_id}/guilds/{guild_id}/commands",
}


def check_limits(method: str, template: str, body: Any, files: int) -> list[Problem]:
    if (method, template) in _MESSAGES and isinstance(body, dict):
        return list(message(body, (), files))
    if template == _CALLBACK and isinstance(body, dict) and body.get("type") in (4, 7):
        data = body.get("data")
        return list(message(data if isinstance(data, dict) else {}, ("data",), files))
    if template in _COMMANDS and method == "PUT" and isinstance(body, list):
        return list(commands(body))
    return []


# --- messages ------------------------------------------------------------------------------------


def message(body: dict[str, Any], at: Path, files: int) -> Iterator[Problem]:
    yield from _max_length(body.get("content"), CONTENT, (*at, "content"))
    embeds = _list(body.get("embeds"))
    yield from _max_items(embeds, EMBEDS, (*at, "embeds"))
    total = 0
    for i, embed in enumerate(embeds):
        if isinstance(embed, dict):
            total += yield from _embed(embed, (*at, "embeds", i))
    if total > EMBED_TOTAL:
        yield Problem(
            (*at, "embeds"), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL}"
        )
    yield from _components(body, at)
    yield from _max_items(_list(body.get("attachments")), FILES, (*at, "attachments"))
    if files > FILES:
        yield Problem((*at, "files"), "BASE_TYPE_MAX_LENGTH", f"Must be {FILES} or fewer in length.")


def _embed(embed: dict[str, Any], at: Path) -> Generator[Problem, None, int]:
    """An embed's problems; returns the characters it counts toward the 6,000 of its message."""
    texts: list[tuple[Any, int, Path]] = [(embed.get(k), n, (*at, k)) for k, n in EMBED_TEXT.items()]
    fields = _list(embed.get("fields"))
    yield from _max_items(fields, FIELDS, (*at, "fields"))
    for j, field in enumerate(fields):
        if isinstance(field, dict):
            texts.append((field.get("name"), FIELD_NAME, (*at, "fields", j, "name")))
            texts.append((field.get("value"), FIELD_VALUE, (*at, "fields", j, "value")))
    for key, inner, limit in (("footer", "text", FOOTER), ("author", "name", AUTHOR)):
        part = embed.get(key)
        if isinstance(part, dict):
            texts.append((part.get(inner), limit, (*at, key, inner)))
    for text, limit, where in texts:
        yield from _max_length(text, limit, where)
    return sum(len(text) for text, _, _ in texts if isinstance(text, str))


def _components(body: dict[str, Any], at: Path) -> Iterator[Problem]:
    rows = _list(body.get("components"))
    flags = body.get("flags")
    if not (isinstance(flags, int) and flags & COMPONENTS_V2):
        yield from _max_items(rows, ROWS, (*at, "components"))
    seen: set[str] = set()
    for where, component in _walk(rows, (*at, "components")):
        if component.get("type") == 1:
            yield from _max_items(_list(component.get("components")), ROW_ITEMS, (*where, "components"))
        custom_id = component.get("custom_id")
        if isinstance(custom_id, str):
            yield from _max_length(custom_id, CUSTOM_ID, (*where, "custom_id"))
            if custom_id in seen:
                yield Problem(
                    (*where, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)


def _walk(components: list[Any], at: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every component, nested ones too (rows, containers, sections and their accessories)."""
    for i, component in enumerate(components):
        if not isinstance(component, dict):
            continue
        yield (*at, i), component
        yield from _walk(_list(component.get("components")), (*at, i, "components"))
        if isinstance(component.get("accessory"), dict):
            yield from _walk([component["accessory"]], (*at, i, "accessory"))


# --- application commands ------------------------------------------------------------------------


def commands(body: list[Any]) -> Iterator[Problem]:
    seen: set[tuple[Any, Any]] = set()
    for i, command in enumerate(body):
        if not isinstance(command, dict):
            continue
        kind = command.get("type") or 1
        if (kind, command.get("name")) in seen:
            yield Problem(
                (i, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add((kind, command.get("name")))
        # User and message commands (context menus) take any 1-32 characters and no description.
        chat = kind == 1
        yield from _named(command, (i,), chat=chat, describe=chat)
        yield from _options(command.get("options"), (i, "options"))


def _options(options: Any, at: Path) -> Iterator[Problem]:
    options = _list(options)
    yield from _max_items(options, OPTIONS, at)
    names: set[Any] = set()
    optional_seen = False
    for j, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        if option.get("name") in names:
            yield Problem(
                (*at, j, "name"),
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(option.get("name"))
        if option.get("required") and optional_seen:
            yield Problem(
                (*at, j, "required"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            )
        optional_seen = optional_seen or (not option.get("required") and option.get("type") not in (1, 2))
        yield from _named(option, (*at, j), chat=True, describe=True)
        choices = _list(option.get("choices"))
        yield from _max_items(choices, CHOICES, (*at, j, "choices"))
        for k, choice in enumerate(choices):
            if isinstance(choice, dict):
                where = (*at, j, "choices", k)
                yield from _length(choice.get("name"), 1, CHOICE_NAME, (*where, "name"))
                yield from _localized(
                    choice, "name_localizations", where, lambda v, w: _length(v, 1, CHOICE_NAME, w)
                )
        if option.get("type") in (1, 2):  # a subcommand (group) holds options of its own
            yield from _options(option.get("options"), (*at, j, "options"))


def _named(item: dict[str, Any], at: Path, *, chat: bool, describe: bool) -> Iterator[Problem]:
    def name(value: Any, where: Path) -> Iterator[Problem]:
        return _chat_name(value, where) if chat else _length(value, 1, NAME, where)

    def description(value: Any, where: Path) -> Iterator[Problem]:
        return _length(value, 1, DESCRIPTION, where)

    yield from name(item.get("name"), (*at, "name"))
    yield from _localized(item, "name_localizations", at, name)
    if describe:
        yield from description(item.get("description"), (*at, "description"))
        yield from _localized(item, "description_localizations", at, description)


def _localized(
    item: dict[str, Any], key: str, at: Path, check: Callable[[Any, Path], Iterator[Problem]]
) -> Iterator[Problem]:
    values = item.get(key)
    if not isinstance(values, dict):
        return
    valid = locales()
    for locale, value in values.items():
        where = (*at, key, locale)
        if locale not in valid:
            yield Problem(where, "LOCALE_INVALID", f"Invalid locale {locale!r}")
        yield from check(value, where)


def _chat_name(name: Any, at: Path) -> Iterator[Problem]:
    """`^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`, lowercase where the script has case."""
    if not isinstance(name, str):
        return
    if not 1 <= len(name) <= NAME or not all(_name_char(c) for c in name):
        yield Problem(at, "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
    elif name != name.lower():
        yield Problem(at, "APPLICATION_COMMAND_INVALID_NAME", f"Command name must be lowercase: {name!r}")


def _name_char(c: str) -> bool:
    if c in "-_" or unicodedata.category(c)[0] in "LN":
        return True
    # Devanagari and Thai signs (vowel marks, viramas) are marks, not letters; the ranges are the
    # blocks without the characters Unicode assigns to the Common script (dandas, baht sign).
    code = ord(c)
    devanagari = (0x0900 <= code <= 0x097F and code not in (0x0964, 0x0965)) or 0xA8E0 <= code <= 0xA8FF
    thai = 0x0E01 <= code <= 0x0E3A or 0x0E40 <= code <= 0x0E5B
    return devanagari or thai


# --- helpers -----------------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _max_length(text: Any, limit: int, at: Path) -> Iterator[Problem]:
    if isinstance(text, str) and len(text) > limit:
        yield Problem(at, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _length(text: Any, low: int, high: int, at: Path) -> Iterator[Problem]:
    if isinstance(text, str) and not low <= len(text) <= high:
        yield Problem(at, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
    elif text is None:
        yield Problem(at, "BASE_TYPE_REQUIRED", "This field is required")


def _max_items(items: list[Any], limit: int, at: Path) -> Iterator[Problem]:
    if len(items) > limit:
        yield Problem(at, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

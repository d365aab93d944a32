"""Languages: the message catalogues and how a text is put into a member's language.

Catalogues are gettext `.po` files in `bot/locales/<locale>/LC_MESSAGES/bot.po`, read with polib
at start (pure Python, nothing to compile, no binary `.mo` in git; Babel, which the extraction
tool uses, also loads its CLDR locale data: 3 MB more of the bot's memory for nothing). The
English source text is the msgid (gettext style): the code reads as what members see, and a
language without a translation for a text shows the English one. Placeholders are named,
python-brace-format.

Two ways to ask for a text, both found by the extraction command in the README:
- `Text(...)` / `Plural(...)`: a lazy value for texts that travel before anyone knows who will
  read them (errors raised in `bot/`, a job's stored failure reason); rendered at the edge.
- `tr(locale, ...)` / `ntr(locale, ...)`: at the edge itself, where the locale is known.

Private answers use the interaction's `locale`; public ones (the job message, notifications,
audit lines) the server's `guild_locale`, so one channel reads in one language.
"""

from __future__ import annotations

import gettext
import io
import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

import polib

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parents[1] / "locales"
DOMAIN = "bot"
SOURCE = "en"
# Discord locale codes (https://discord.com/developers/docs/reference#locales) of the shipped
# catalogues; the source language first.
SHIPPED = ("en", "zh-CN", "ja", "ko", "es-ES", "pt-BR", "fr", "de")
# Discord locales that read one of the shipped catalogues; anything else reads English.
ALIASES = {"en-US": "en", "en-GB": "en", "es-419": "es-ES"}


# Every job message renders a dozen texts: resolving the locale and looking the msgid up in the
# catalogue are remembered (both sets are small and fixed), so a render is mostly `format`.
_RESOLVED: dict[object, str] = {}


def resolve(locale: object) -> str:
    """The shipped catalogue for a Discord locale (`discord.Locale` or its code), English when
    there is none."""
    try:
        return _RESOLVED[locale]
    except (KeyError, TypeError):
        pass
    code = str(getattr(locale, "value", locale) or SOURCE)
    code = code if code in SHIPPED else ALIASES.get(code, SOURCE)
    if len(_RESOLVED) < 256 and (isinstance(locale, str | None) or hasattr(locale, "value")):
        _RESOLVED[locale] = code  # Discord's list of locales is short and fixed
    return code


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalogue of a shipped locale, read once. Fuzzy entries are left out (an unreviewed
    translation shows the English text instead)."""
    path = po_path(locale)
    if not path.exists():
        return gettext.NullTranslations()
    # The binary form holds the translated entries only: fuzzy and obsolete ones are left out.
    return gettext.GNUTranslations(io.BytesIO(polib.pofile(str(path)).to_binary()))


@cache
def _template(code: str, msgid: str) -> str:
    return translations(code).gettext(msgid)


def load_all() -> None:
    """Read every catalogue now, so a broken one stops start-up instead of a reply later."""
    for locale in SHIPPED:
        translations(locale)


class Text:
    """A member-facing text not rendered yet: a msgid and its named parameters.

    Parameters may be `Text`s themselves (rendered in the same language). `str(text)` and
    `english()` give the English text, for logs and for code that reads it."""

    __slots__ = ("msgid", "n", "params", "plural")

    def __init__(self, msgid: str, /, **params: Any) -> None:
        self.msgid = msgid
        self.plural: str | None = None
        self.n: int | None = None
        self.params = params

    def render(self, locale: object) -> str:
        code = resolve(locale)
        if self.plural is not None and self.n is not None:
            template = translations(code).ngettext(self.msgid, self.plural, self.n)
        else:
            template = _template(code, self.msgid)
        return _fill(
            code, template, self.params, self.msgid if self.plural is None or self.n == 1 else self.plural
        )

    def english(self) -> str:
        return self.render(SOURCE)

    def __str__(self) -> str:
        return self.english()

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and self.to_data() == other.to_data()

    def __hash__(self) -> int:
        return hash(self.dumps())

    # --- stored with a job (its failure reason), to be rendered again later -----------------

    def to_data(self) -> dict[str, Any]:
        params = {k: v.to_data() if isinstance(v, Text) else v for k, v in self.params.items()}
        # (Lists of names are not stored: no failure reason has one.)
        data: dict[str, Any] = {"id": self.msgid, "params": params}
        if self.plural is not None:
            data.update(plural=self.plural, n=self.n)
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_data(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Text:
        params = {k: cls.from_data(v) if isinstance(v, dict) else v for k, v in data["params"].items()}
        text = cls(data["id"], **params)
        text.plural, text.n = data.get("plural"), data.get("n")
        return text

    @classmethod
    def loads(cls, raw: str) -> Text:
        return cls.from_data(json.loads(raw))


def _fill(code: str, template: str, params: dict[str, Any], english: str) -> str:
    values = params
    if any(isinstance(v, Text | list | tuple) for v in params.values()):
        values = {k: _value(v, code) for k, v in params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        # A translation with a broken placeholder must not cost the member their answer
        # (the catalogue test catches it first).
        log.error("catalogue %s: bad placeholders in %r", code, template)
        return english.format(**values)


def _value(value: Any, locale: str) -> Any:
    if isinstance(value, Text):
        return value.render(locale)
    if isinstance(value, list | tuple):  # a list of names, each translated: "View Channel, Attach Files"
        return ", ".join(str(_value(v, locale)) for v in value)
    return value


def N_(msgid: str) -> str:
    """Marks a msgid for extraction where it is translated later (`Text(name)`, `tr`)."""
    return msgid


def Plural(singular: str, plural: str, /, n: int, **params: Any) -> Text:
    """A `Text` whose wording depends on the number `n` (also a parameter: `{n}`)."""
    text = Text(singular, n=n, **params)
    text.plural, text.n = plural, n
    return text


Message = str | Text  # a plain str is shown as it is, in every language (member or relay text)


def render(message: Message, locale: object) -> str:
    return message.render(locale) if isinstance(message, Text) else message


def english(message: Message) -> str:
    return render(message, SOURCE)


def tr(locale: object, msgid: str, /, **params: Any) -> str:
    """`msgid` in `locale`'s language, its placeholders filled."""
    code = resolve(locale)
    return _fill(code, _template(code, msgid), params, msgid)


def ntr(locale: object, singular: str, plural: str, /, n: int, **params: Any) -> str:
    return Plural(singular, plural, n=n, **params).render(locale)


def command_text(locale: object, context: str, msgid: str) -> str | None:
    """A command's name, description or choice in `locale` (`context` says which kind), or None
    when the catalogue has none: Discord then shows the English one."""
    code = resolve(locale)
    if code == SOURCE:
        return None
    found = translations(code).pgettext(context, msgid)
    return found if found != msgid else None

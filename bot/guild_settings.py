"""Per-server settings: what a server's moderators changed from the environment defaults.

Pure: parsing a moderator's value, checking a request against the rules. The store keeps the
JSON; the admin cog changes it; the video cog enforces it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from bot.errors import InputError, PermissionDenied


@dataclass(frozen=True)
class GuildSettings:
    allowed_channels: tuple[int, ...] = ()  # empty: every channel
    generator_roles: tuple[int, ...] = ()  # empty: every member
    max_duration: int | None = None  # None: whatever the environment offers
    allow_upsample: bool = True
    blocked_patterns: tuple[str, ...] = ()  # words, or regular expressions written /like this/
    reveal_blocked_words: bool = False
    allow_remix_others: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | None) -> GuildSettings:
        if not raw:
            return cls()
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)

    def with_value(self, name: str, raw: str) -> GuildSettings:
        """A copy with `name` set from a moderator's text; InputError says what is wrong."""
        parse = PARSERS.get(name)
        if parse is None:
            raise InputError(f"Unknown setting {name!r}. Settings: {', '.join(PARSERS)}.")
        return replace(self, **{name: parse(raw.strip())})

    def check_member(self, *, channel_id: int, role_ids: set[int], is_admin: bool) -> None:
        if self.allowed_channels and channel_id not in self.allowed_channels and not is_admin:
            where = ", ".join(f"<#{c}>" for c in self.allowed_channels)
            raise PermissionDenied(f"Videos can only be made in {where} on this server.")
        if self.generator_roles and not role_ids & set(self.generator_roles) and not is_admin:
            raise PermissionDenied("You need one of this server's video roles to make videos.")

    def pick_duration(self, offered: tuple[int, ...], default: int) -> int:
        """The duration for a member who chose none: the default, or the longest this server allows."""
        if self.max_duration is None or default <= self.max_duration:
            return default
        allowed = [d for d in offered if d <= self.max_duration]
        return max(allowed) if allowed else min(offered)

    def check_request(self, *, prompt: str, duration: int, upsample: bool) -> None:
        if self.max_duration is not None and duration > self.max_duration:
            raise InputError(f"This server allows videos of at most {self.max_duration} seconds.")
        if upsample and not self.allow_upsample:
            raise InputError("Upsample (HD) is turned off on this server.")
        matched = blocked_match(prompt, self.blocked_patterns)
        if matched is not None:
            detail = f" (matched: {matched})" if self.reveal_blocked_words else ""
            raise InputError(f"This prompt matches one of the server's blocked-words rules{detail}.")

    def describe(self) -> list[tuple[str, str]]:
        def ids(values: tuple[int, ...], mark: str) -> str:
            return ", ".join(f"<{mark}{v}>" for v in values) or "any"

        return [
            ("allowed_channels", ids(self.allowed_channels, "#")),
            ("generator_roles", ids(self.generator_roles, "@&")),
            ("max_duration", f"{self.max_duration} s" if self.max_duration else "no limit"),
            ("allow_upsample", _yes(self.allow_upsample)),
            ("blocked_patterns", f"{len(self.blocked_patterns)} rules" if self.blocked_patterns else "none"),
            ("reveal_blocked_words", _yes(self.reveal_blocked_words)),
            ("allow_remix_others", _yes(self.allow_remix_others)),
        ]


def blocked_match(prompt: str, patterns: tuple[str, ...]) -> str | None:
    text = prompt.casefold()
    for pattern in patterns:
        if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
            found = re.search(pattern[1:-1], prompt, flags=re.IGNORECASE)
            if found:
                return found.group(0)
        elif re.search(rf"(?<!\w){re.escape(pattern.casefold())}(?!\w)", text):
            return pattern
    return None


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _bool(raw: str) -> bool:
    value = raw.lower()
    if value in ("yes", "true", "on", "1"):
        return True
    if value in ("no", "false", "off", "0"):
        return False
    raise InputError("Expected yes or no.")


def _ids(raw: str) -> tuple[int, ...]:
    """Mentions or ids, separated by spaces or commas; `none` clears."""
    if raw.lower() in ("", "none", "any", "all"):
        return ()
    found = re.findall(r"\d{15,21}", raw)
    if not found:
        raise InputError("Expected channel or role mentions (or ids), or `none`.")
    return tuple(dict.fromkeys(int(x) for x in found))


def _duration(raw: str) -> int | None:
    if raw.lower() in ("none", "any", ""):
        return None
    try:
        value = int(raw.removesuffix("s").strip())
    except ValueError:
        raise InputError("Expected a number of seconds, or `none`.") from None
    if value <= 0:
        raise InputError("Expected a positive number of seconds.")
    return value


def _patterns(raw: str) -> tuple[str, ...]:
    if raw.lower() in ("none", ""):
        return ()
    items = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    for item in items:
        if len(item) > 2 and item.startswith("/") and item.endswith("/"):
            try:
                re.compile(item[1:-1])
            except re.error as exc:
                raise InputError(f"{item} is not a valid regular expression: {exc}.") from None
    return items


PARSERS: dict[str, Any] = {
    "allowed_channels": _ids,
    "generator_roles": _ids,
    "max_duration": _duration,
    "allow_upsample": _bool,
    "blocked_patterns": _patterns,
    "reveal_blocked_words": _bool,
    "allow_remix_others": _bool,
}

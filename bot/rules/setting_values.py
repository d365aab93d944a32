"""How each per-server setting is read from what a moderator typed (`/video-admin set`): one
parser per setting, each raising `ValueError` (or `InputError`) with what is expected."""

from __future__ import annotations

import re
from typing import Any

from bot.errors import InputError
from bot.rules import budget
from bot.rules.quota import zone
from bot.texts.i18n import Text


def _bool(raw: str) -> bool:
    value = raw.lower()
    if value in ("yes", "true", "on", "1"):
        return True
    if value in ("no", "false", "off", "0"):
        return False
    raise InputError(Text("Expected yes or no."))


def _ids(raw: str) -> tuple[int, ...]:
    """Mentions or ids, separated by spaces or commas; `none` clears."""
    if raw.lower() in ("", "none", "any", "all"):
        return ()
    found = re.findall(r"\d{15,21}", raw)
    if not found:
        raise InputError(Text("Expected channel or role mentions (or ids), or `none`."))
    return tuple(dict.fromkeys(int(x) for x in found))


def _duration(raw: str) -> int | None:
    if raw.lower() in ("none", "any", ""):
        return None
    try:
        value = int(raw.removesuffix("s").strip())
    except ValueError:
        raise InputError(Text("Expected a number of seconds, or `none`.")) from None
    if value <= 0:
        raise InputError(Text("Expected a positive number of seconds."))
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
                raise InputError(
                    Text("{item} is not a valid regular expression: {error}.", item=item, error=str(exc))
                ) from None
    return items


def _models(raw: str) -> tuple[str, ...]:
    if raw.lower() in ("", "all", "any", "default"):
        return ()
    return tuple(dict.fromkeys(m.strip() for m in raw.replace(" ", ",").split(",") if m.strip()))


def _model(raw: str) -> str | None:
    return None if raw.lower() in ("", "default", "none") else raw


def _count(raw: str) -> int | None:
    """A daily quota or a cooldown: a whole number, 0 or `none` for no limit, `default` to follow the bot."""
    value = raw.lower().removesuffix("s").strip()
    if value == "default":
        return None
    if value in ("none", "unlimited", "off"):
        return 0
    try:
        number = int(value)
    except ValueError:
        raise InputError(
            Text("Expected a whole number (0 or `none` for no limit, `default` for the bot's).")
        ) from None
    if number < 0:
        raise InputError(Text("Expected zero or a positive number."))
    return number


def _timezone(raw: str) -> str | None:
    if raw.lower() in ("", "default"):
        return None
    zone(raw)  # raises a clear InputError for an unknown name
    return raw


def _channel(raw: str) -> int | None:
    found = _ids(raw)
    if len(found) > 1:
        raise InputError(Text("Expected one channel."))
    return found[0] if found else None


PARSERS: dict[str, Any] = {
    "allowed_channels": _ids,
    "generator_roles": _ids,
    "models": _models,
    "default_model": _model,
    "max_duration": _duration,
    "allow_upsample": _bool,
    "member_daily_quota": _count,
    "server_daily_quota": _count,
    "cooldown_seconds": _count,
    "timezone": _timezone,
    "monthly_budget": budget.parse_setting,
    "blocked_patterns": _patterns,
    "reveal_blocked_words": _bool,
    "allow_remix_others": _bool,
    "approval_channels": _ids,
    "approver_roles": _ids,
    "audit_channel": _channel,
}

"""The `/video` options that come from the request's own table (`bot.relay.request.DERIVED_OPTIONS`).

discord.py builds a command's options from its callback's signature; the request fields that
declare an `Option` are added to that signature here, before the command is built, so a new
plain option is one field in `bot/relay/request.py` (plus the texts of its description).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from discord import app_commands

from bot.relay.request import DERIVED_OPTIONS, Option

Derived = Iterable[tuple[str, Option, Any]]


def _annotation(kind: Any, opt: Option) -> Any:
    if kind is str and opt.max_length is not None:
        # Discord refuses a longer text as the member types it, so nothing typed is lost.
        return app_commands.Range[str, 1, opt.max_length]
    return kind


def with_request_options(
    callback: Callable[..., Any], derived: Derived = DERIVED_OPTIONS
) -> Callable[..., Any]:
    """`callback` (which takes the derived options in `**extra`) with a signature that lists
    them, each optional, and their descriptions; apply before `app_commands.command`."""
    derived = tuple(derived)
    signature = inspect.signature(callback)
    params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params += [
        inspect.Parameter(
            opt.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=_annotation(kind, opt)
        )
        for _name, opt, kind in derived
    ]
    callback.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    if derived:
        callback = app_commands.describe(**{opt.name: opt.description for _name, opt, _kind in derived})(
            callback
        )
    return callback


def request_values(extra: dict[str, Any], derived: Derived = DERIVED_OPTIONS) -> dict[str, Any]:
    """The request fields a member gave through derived options (None: left out, the default)."""
    return {name: extra[opt.name] for name, opt, _kind in derived if extra.get(opt.name) is not None}

"""Per-server settings: what a server's moderators changed from the environment defaults.

Pure: parsing a moderator's value, checking a request against the rules. The store keeps the
JSON; the admin cog changes it; the video cog enforces it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from bot.errors import InputError, PermissionDenied
from bot.relay.models import KNOWN, Capability
from bot.rules.budget import Prices
from bot.rules.quota import Limits
from bot.rules.setting_values import PARSERS
from bot.settings import Settings
from bot.texts.i18n import Plural, Text, ntr, tr


@dataclass(frozen=True)
class Defaults:
    """What the bot owner set in the environment; a server's settings start from these."""

    models: tuple[str, ...]
    default_model: str
    limits: Limits = field(default_factory=Limits)
    # What each model takes (Settings.model_capabilities); the known table where not given.
    capabilities: Mapping[str, Capability] = field(default_factory=dict)
    prices: Prices = field(default_factory=Prices)
    bot_budget: int = 0  # MONTHLY_BUDGET, micros: the whole bot's cap (0: none)

    def capability(self, model: str) -> Capability:
        return self.capabilities.get(model) or KNOWN[model]

    @classmethod
    def from_settings(cls, s: Settings) -> Defaults:
        return cls(
            models=s.models,
            default_model=s.default_model,
            capabilities=s.model_capabilities,
            prices=Prices(s.model_prices, s.price_currency),
            bot_budget=s.monthly_budget,
            limits=Limits(
                member_daily=s.daily_quota_per_member,
                server_daily=s.daily_quota_per_server,
                cooldown=s.cooldown_seconds,
                timezone=s.quota_timezone,
                monthly_budget=s.server_monthly_budget,
            ),
        )


@dataclass(frozen=True)
class GuildSettings:
    allowed_channels: tuple[int, ...] = ()  # empty: every channel
    generator_roles: tuple[int, ...] = ()  # empty: every member
    models: tuple[str, ...] = ()  # empty: every model the bot owner offers
    default_model: str | None = None  # None: the bot owner's default
    max_duration: int | None = None  # None: whatever the environment offers
    allow_upsample: bool = True
    # Quotas and cooldown: None follows the environment; 0 means no limit.
    member_daily_quota: int | None = None
    server_daily_quota: int | None = None
    cooldown_seconds: int | None = None
    timezone: str | None = None  # the zone whose midnight resets the quotas (and the 1st, the budget)
    monthly_budget: int | None = None  # micros; None follows the environment, 0: no budget
    blocked_patterns: tuple[str, ...] = ()  # words, or regular expressions written /like this/
    reveal_blocked_words: bool = False
    allow_remix_others: bool = True
    approval_channels: tuple[int, ...] = ()  # channels where a moderator approves each job
    approver_roles: tuple[int, ...] = ()  # besides members with Manage Messages
    audit_channel: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | None) -> GuildSettings:
        if not raw:
            return cls()
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
        }
        return cls(**values)

    def with_value(self, name: str, raw: str, defaults: Defaults | None = None) -> GuildSettings:
        """A copy with `name` set from a moderator's text; InputError says what is wrong."""
        parse = PARSERS.get(name)
        if parse is None:
            raise InputError(
                Text("Unknown setting {name!r}. Settings: {names}.", name=name, names=", ".join(PARSERS))
            )
        updated = replace(self, **{name: parse(raw.strip())})
        if defaults is not None:
            if name == "models" and updated.default_model not in updated.offered_models(defaults):
                # A new list without the old default: the default follows the list rather than
                # refusing the change (which would leave no order in which to change both).
                updated = replace(updated, default_model=None)
            updated.check_models(defaults)
        return updated

    def with_ids(
        self, name: str, *, add: int | None = None, remove: int | None = None, clear: bool = False
    ) -> GuildSettings:
        """A copy with a list of channels or roles changed, as Discord's pickers give them."""
        if name not in ID_LISTS:
            raise InputError(Text("{name} is not a list of channels or roles.", name=name))
        ids: tuple[int, ...] = () if clear else tuple(getattr(self, name))
        if remove is not None:
            ids = tuple(i for i in ids if i != remove)
        if add is not None and add not in ids:
            ids = (*ids, add)
        changes: dict[str, Any] = {name: ids}
        return replace(self, **changes)

    def source(self, name: str, locale: object = None) -> str:
        """Where a setting's value comes from: this server, or the defaults."""
        own = getattr(self, name) != getattr(DEFAULT_RULES, name)
        return tr(locale, "this server") if own else tr(locale, "default")

    # --- models ---------------------------------------------------------------------------

    def offered_models(self, defaults: Defaults) -> tuple[str, ...]:
        # Only models the bot owner offers; if the owner removed all of this server's picks,
        # the owner's list applies rather than none.
        picked = tuple(m for m in defaults.models if m in self.models)
        return picked or defaults.models

    def model_default(self, defaults: Defaults) -> str:
        offered = self.offered_models(defaults)
        for candidate in (self.default_model, defaults.default_model):
            if candidate in offered:
                return candidate
        return offered[0]

    def check_models(self, defaults: Defaults) -> None:
        unknown = [m for m in self.models if m not in defaults.models]
        if unknown:
            raise InputError(
                Text(
                    "{unknown} is not offered by this bot. Models: {models}.",
                    unknown=", ".join(unknown),
                    models=", ".join(defaults.models),
                )
            )
        if self.default_model is not None and self.default_model not in self.offered_models(defaults):
            raise InputError(
                Text(
                    "The default model {model} must be one of this server's models: {models}.",
                    model=self.default_model,
                    models=", ".join(self.offered_models(defaults)),
                )
            )

    def check_model(self, model: str, defaults: Defaults) -> None:
        offered = self.offered_models(defaults)
        if model not in offered:
            raise InputError(
                Text(
                    "Model {model!r} is not offered on this server. Choose one of: {models}.",
                    model=model,
                    models=", ".join(offered),
                )
            )

    # --- quotas, approval ------------------------------------------------------------------

    def limits(self, defaults: Defaults) -> Limits:
        d = defaults.limits
        return Limits(
            member_daily=d.member_daily if self.member_daily_quota is None else self.member_daily_quota,
            server_daily=d.server_daily if self.server_daily_quota is None else self.server_daily_quota,
            cooldown=d.cooldown if self.cooldown_seconds is None else self.cooldown_seconds,
            timezone=self.timezone or d.timezone,
            monthly_budget=d.monthly_budget if self.monthly_budget is None else self.monthly_budget,
        )

    def needs_approval(self, channel_id: int) -> bool:
        return channel_id in self.approval_channels

    def can_approve(self, *, role_ids: set[int], manage_messages: bool) -> bool:
        return manage_messages or bool(role_ids & set(self.approver_roles))

    def check_member(self, *, channel_id: int, role_ids: set[int], is_admin: bool) -> None:
        if self.allowed_channels and channel_id not in self.allowed_channels and not is_admin:
            where = ", ".join(f"<#{c}>" for c in self.allowed_channels)
            raise PermissionDenied(
                Text("Videos can only be made in {channels} on this server.", channels=where)
            )
        if self.generator_roles and not role_ids & set(self.generator_roles) and not is_admin:
            raise PermissionDenied(Text("You need one of this server's video roles to make videos."))

    def pick_duration(self, offered: tuple[int, ...], default: int) -> int:
        """The duration for a member who chose none: the default, or the longest this server allows."""
        if self.max_duration is None or default <= self.max_duration:
            return default
        allowed = [d for d in offered if d <= self.max_duration]
        return max(allowed) if allowed else min(offered)

    def check_request(self, *, prompt: str, duration: int, upsample: bool) -> None:
        if self.max_duration is not None and duration > self.max_duration:
            raise InputError(
                Plural(
                    "This server allows videos of at most {n} second.",
                    "This server allows videos of at most {n} seconds.",
                    n=self.max_duration,
                )
            )
        if upsample and not self.allow_upsample:
            raise InputError(Text("Upsample (HD) is turned off on this server."))
        self.check_prompt(prompt)

    def check_prompt(self, prompt: str) -> None:
        """The server's blocked words: for a prompt asked for, and for one saved to its library."""
        matched = blocked_match(prompt, self.blocked_patterns)
        if matched is not None:
            if self.reveal_blocked_words:
                raise InputError(
                    Text(
                        "This prompt matches one of the server's blocked-words rules (matched: {matched}).",
                        matched=matched,
                    )
                )
            raise InputError(Text("This prompt matches one of the server's blocked-words rules."))

    def describe(self, defaults: Defaults, locale: object = None) -> list[tuple[str, str]]:
        def ids(values: tuple[int, ...], mark: str, empty: str | None = None) -> str:
            return ", ".join(f"<{mark}{v}>" for v in values) or empty or tr(locale, "any")

        limits = self.limits(defaults)
        none, no_limit = tr(locale, "none"), tr(locale, "no limit")

        def count(own: int | None, effective: int, unit: str = "", show: Any = str) -> str:
            # A cooldown of 0 is none, not "no limit".
            shown = f"{show(effective)}{unit}" if effective else (none if unit else no_limit)
            return shown if own is not None else tr(locale, "{value} (bot default)", value=shown)

        def yes(value: bool) -> str:
            return tr(locale, "yes") if value else tr(locale, "no")

        return [
            ("allowed_channels", ids(self.allowed_channels, "#")),
            ("generator_roles", ids(self.generator_roles, "@&")),
            ("models", ", ".join(self.offered_models(defaults))),
            ("default_model", self.model_default(defaults)),
            ("max_duration", f"{self.max_duration} s" if self.max_duration else no_limit),
            ("allow_upsample", yes(self.allow_upsample)),
            ("member_daily_quota", count(self.member_daily_quota, limits.member_daily)),
            ("server_daily_quota", count(self.server_daily_quota, limits.server_daily)),
            ("cooldown_seconds", count(self.cooldown_seconds, limits.cooldown, " s")),
            (
                "timezone",
                tr(locale, "{value} (bot default)", value=limits.timezone)
                if not self.timezone
                else limits.timezone,
            ),
            ("monthly_budget", count(self.monthly_budget, limits.monthly_budget, show=defaults.prices.show)),
            (
                "blocked_patterns",
                ntr(locale, "{n} rule", "{n} rules", n=len(self.blocked_patterns))
                if self.blocked_patterns
                else none,
            ),
            ("reveal_blocked_words", yes(self.reveal_blocked_words)),
            ("allow_remix_others", yes(self.allow_remix_others)),
            ("approval_channels", ids(self.approval_channels, "#", none)),
            ("approver_roles", ids(self.approver_roles, "@&", tr(locale, "members with Manage Messages"))),
            ("audit_channel", f"<#{self.audit_channel}>" if self.audit_channel else none),
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


# Set with Discord's channel and role pickers (/video-admin channels, roles, audit-channel).
ID_LISTS = ("allowed_channels", "approval_channels", "generator_roles", "approver_roles")
PICKED = (*ID_LISTS, "audit_channel")

DEFAULT_RULES = GuildSettings()

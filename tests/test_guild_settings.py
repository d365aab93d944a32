"""Per-server rules: parsing moderators' values and checking requests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InputError, PermissionDenied
from bot.rules.guild_settings import Defaults, GuildSettings, blocked_match
from bot.rules.quota import Limits


def test_round_trip_and_unknown_keys_ignored():
    s = GuildSettings().with_value("allowed_channels", "<#123456789012345678>, 223456789012345678")
    s = s.with_value("blocked_patterns", "dragon, /fire\\w*/").with_value("max_duration", "6s")
    again = GuildSettings.from_json(s.to_json())
    assert again == s
    assert again.allowed_channels == (123456789012345678, 223456789012345678)
    assert GuildSettings.from_json('{"something_new": 1}') == GuildSettings()


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("allow_upsample", "maybe"),
        ("max_duration", "-3"),
        ("allowed_channels", "#general"),
        ("blocked_patterns", "/([/"),
        ("no_such_setting", "1"),
    ],
)
def test_bad_values_are_refused_clearly(name, raw):
    with pytest.raises(InputError):
        GuildSettings().with_value(name, raw)


def test_blocked_words_match_whole_words_case_insensitively_and_regexes():
    patterns = ("dragon", "/fire\\w*/")
    assert blocked_match("A DRAGON flies", patterns) == "dragon"
    assert blocked_match("snapdragons bloom", patterns) is None
    assert blocked_match("a Fireball", patterns) == "Fireball"
    assert blocked_match("a calm lake", patterns) is None


@given(st.text(max_size=200))
def test_blocked_match_never_raises(prompt):
    blocked_match(prompt, ("dragon", "/fire\\w*/", "ß"))


def test_member_and_request_checks():
    rules = GuildSettings(allowed_channels=(1,), generator_roles=(7,), max_duration=4, allow_upsample=False)
    with pytest.raises(PermissionDenied):
        rules.check_member(channel_id=2, role_ids={7}, is_admin=False)
    with pytest.raises(PermissionDenied):
        rules.check_member(channel_id=1, role_ids=set(), is_admin=False)
    rules.check_member(channel_id=1, role_ids={7}, is_admin=False)
    rules.check_member(channel_id=2, role_ids=set(), is_admin=True)
    with pytest.raises(InputError, match="at most 4"):
        rules.check_request(prompt="x", duration=8, upsample=False)
    with pytest.raises(InputError, match="turned off"):
        rules.check_request(prompt="x", duration=4, upsample=True)


def test_pick_duration_respects_the_server_maximum():
    assert GuildSettings().pick_duration((4, 6, 8), 8) == 8
    assert GuildSettings(max_duration=6).pick_duration((4, 6, 8), 8) == 6
    assert GuildSettings(max_duration=2).pick_duration((4, 6, 8), 8) == 4


DEFAULTS = Defaults(
    models=("veo3.1-fast", "veo3.1", "veo3.1-components"),
    default_model="veo3.1-fast",
    limits=Limits(member_daily=5, server_daily=0, cooldown=0, timezone="UTC"),
)


def test_models_offered_and_default_follow_the_server_then_the_bot():
    rules = GuildSettings()
    assert rules.offered_models(DEFAULTS) == DEFAULTS.models
    assert rules.model_default(DEFAULTS) == "veo3.1-fast"
    rules = rules.with_value("models", "veo3.1, veo3.1-components", DEFAULTS)
    assert rules.offered_models(DEFAULTS) == ("veo3.1", "veo3.1-components")
    assert rules.model_default(DEFAULTS) == "veo3.1"  # the bot's default is not offered here
    rules = rules.with_value("default_model", "veo3.1-components", DEFAULTS)
    assert rules.model_default(DEFAULTS) == "veo3.1-components"
    with pytest.raises(InputError, match="not offered on this server"):
        rules.check_model("veo3.1-fast", DEFAULTS)
    with pytest.raises(InputError, match="not offered by this bot"):
        rules.with_value("models", "sora", DEFAULTS)
    with pytest.raises(InputError, match="must be one of this server's models"):
        rules.with_value("default_model", "veo3.1-fast", DEFAULTS)
    # A new list without the current default: the default follows the list, no deadlock.
    moved = rules.with_value("models", "veo3.1-fast, veo3.1", DEFAULTS)
    assert moved.default_model is None and moved.model_default(DEFAULTS) == "veo3.1-fast"


def test_quota_settings_fall_back_to_the_environment():
    rules = GuildSettings()
    assert rules.limits(DEFAULTS) == DEFAULTS.limits
    rules = rules.with_value("member_daily_quota", "none").with_value("server_daily_quota", "20")
    rules = rules.with_value("cooldown_seconds", "30s").with_value("timezone", "Europe/Berlin")
    assert rules.limits(DEFAULTS) == Limits(
        member_daily=0, server_daily=20, cooldown=30, timezone="Europe/Berlin"
    )
    assert rules.with_value("server_daily_quota", "default").limits(DEFAULTS).server_daily == 0
    shown = dict(rules.describe(DEFAULTS))
    assert shown["member_daily_quota"] == "no limit" and shown["server_daily_quota"] == "20"
    # No cooldown is "none": "Cooldown seconds: no limit" read as unlimited waiting.
    assert dict(GuildSettings().describe(DEFAULTS))["cooldown_seconds"] == "none (bot default)"
    assert dict(GuildSettings().describe(DEFAULTS))["member_daily_quota"] == "5 (bot default)"
    for bad in (("timezone", "Mars/Base"), ("cooldown_seconds", "-1"), ("member_daily_quota", "lots")):
        with pytest.raises(InputError):
            rules.with_value(*bad)


def test_approvers_and_moderated_channels():
    rules = GuildSettings().with_value("approval_channels", "<#123456789012345678>")
    rules = rules.with_value("approver_roles", "<@&223456789012345678>")
    rules = rules.with_value("audit_channel", "<#323456789012345678>")
    assert rules.needs_approval(123456789012345678) and not rules.needs_approval(1)
    assert rules.can_approve(role_ids={223456789012345678}, manage_messages=False)
    assert rules.can_approve(role_ids=set(), manage_messages=True)
    assert not rules.can_approve(role_ids={5}, manage_messages=False)
    assert rules.audit_channel == 323456789012345678
    assert GuildSettings.from_json(rules.to_json()) == rules
    with pytest.raises(InputError, match="one channel"):
        rules.with_value("audit_channel", "<#123456789012345678> <#223456789012345678>")

"""Per-server rules: parsing moderators' values and checking requests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InputError, PermissionDenied
from bot.guild_settings import GuildSettings, blocked_match


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

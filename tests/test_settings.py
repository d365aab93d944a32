from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.relay.models import Capability
from bot.settings import DISCORD_API_DEFAULT, VIDEO_API_DEFAULT, load_settings

BASE = {"DISCORD_TOKEN": "tok", "VIDEO_API_KEY": "key"}


def test_defaults_apply_when_only_secrets_are_set():
    s = load_settings(BASE, dotenv=False)
    assert s.video_api_base_url == VIDEO_API_DEFAULT
    assert s.discord_api_base_url == DISCORD_API_DEFAULT
    assert not s.uses_custom_discord
    assert s.database_path == Path("data/bot.db")
    assert s.default_model == s.models[0]
    assert s.default_duration == 8
    assert s.dev_guild_id is None
    assert s.log_format == "text"
    assert s.metrics_port is None and s.metrics_host == "127.0.0.1"


def test_operator_settings_parse():
    s = load_settings(
        {**BASE, "LOG_FORMAT": "JSON", "METRICS_PORT": "9464", "METRICS_HOST": "0.0.0.0"}, dotenv=False
    )
    assert (s.log_format, s.metrics_port, s.metrics_host) == ("json", 9464, "0.0.0.0")


@pytest.mark.parametrize("name", ["DISCORD_TOKEN", "VIDEO_API_KEY"])
def test_a_missing_secret_names_the_variable(name):
    env = {k: v for k, v in BASE.items() if k != name}
    with pytest.raises(ConfigError) as err:
        load_settings(env, dotenv=False)
    assert name in err.value.user_message
    assert "\n" not in err.value.user_message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VIDEO_API_BASE_URL", "ftp://relay"),
        ("DISCORD_API_BASE_URL", "not a url"),
        ("DEV_GUILD_ID", "abc"),
        ("LOG_LEVEL", "LOUD"),
        ("POLL_INTERVAL", "-1"),
        ("MAX_PROMPT_LENGTH", "9000"),
        ("DEFAULT_MODEL", "sora"),
        ("DEFAULT_DURATION", "7"),
        ("DEFAULT_ORIENTATION", "square"),
        ("INTERACTION_TOKEN_TTL", "1000"),
        ("LOG_FORMAT", "xml"),
        ("METRICS_PORT", "70000"),
        ("METRICS_PORT", "nine"),
        ("METRICS_HOST", "http://0.0.0.0:9464"),
    ],
)
def test_a_malformed_value_names_the_variable(name, value):
    with pytest.raises(ConfigError) as err:
        load_settings({**BASE, name: value}, dotenv=False)
    assert name in err.value.user_message


def test_secrets_stay_out_of_repr():
    s = load_settings({"DISCORD_TOKEN": "secret-token-123", "VIDEO_API_KEY": "secret-key-456"}, dotenv=False)
    assert "secret-token-123" not in repr(s)
    assert "secret-key-456" not in repr(s)


def test_custom_discord_and_lists_parse():
    s = load_settings(
        {
            **BASE,
            "DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10/",
            "VIDEO_MODELS": "a, b,a",
            "MODEL_IMAGES": "a=0-1, b=1-3",
            "DEFAULT_MODEL": "b",
            "VIDEO_DURATIONS": "8,4",
        },
        dotenv=False,
    )
    assert s.uses_custom_discord
    assert s.discord_api_base_url == "http://127.0.0.1:9/api/v10"
    assert s.models == ("a", "b")
    assert s.capability("b") == Capability(1, 3)
    assert s.durations == (4, 8)


def test_models_are_declared_in_the_table_or_by_the_owner():
    s = load_settings({**BASE, "VIDEO_MODELS": "veo2-fast-frames,veo3.1-fast-components"}, dotenv=False)
    assert s.capability("veo2-fast-frames") == Capability(0, 2)
    assert s.capability("veo3.1-fast-components") == Capability(1, 3)
    # An unknown model is named at start, with the setting that declares it.
    with pytest.raises(ConfigError, match="MODEL_IMAGES=my-model=0-1"):
        load_settings({**BASE, "VIDEO_MODELS": "my-model"}, dotenv=False)
    with pytest.raises(ConfigError, match="MODEL_IMAGES"):
        load_settings({**BASE, "VIDEO_MODELS": "my-model", "MODEL_IMAGES": "my-model=2-1"}, dotenv=False)


def test_sandbox_mode_needs_no_secrets_and_makes_throwaway_ones():
    first = load_settings({}, dotenv=False, sandbox=True)
    second = load_settings({}, dotenv=False, sandbox=True)
    assert first.discord_token and first.video_api_key
    assert first.discord_token != second.discord_token  # made fresh, never a constant
    assert first.sandbox_port == 8080
    assert load_settings({"SANDBOX_PORT": "0"}, dotenv=False, sandbox=True).sandbox_port == 0


@pytest.mark.parametrize("value", ["-1", "70000", "web"])
def test_a_bad_sandbox_port_names_the_variable(value):
    with pytest.raises(ConfigError) as err:
        load_settings({**BASE, "SANDBOX_PORT": value}, dotenv=False)
    assert "SANDBOX_PORT" in err.value.user_message


def test_shard_settings():
    assert (load_settings(BASE, dotenv=False).shard_count, load_settings(BASE, dotenv=False).shard_ids) == (
        None,
        None,
    )
    s = load_settings({**BASE, "SHARD_COUNT": "2", "SHARD_IDS": "1,0"}, dotenv=False)
    assert (s.shard_count, s.shard_ids, s.discord_global_share) == (2, (0, 1), 1.0)
    # One without the other is named at start.
    with pytest.raises(ConfigError, match="SHARD_IDS needs SHARD_COUNT"):
        load_settings({**BASE, "SHARD_IDS": "0"}, dotenv=False)
    with pytest.raises(ConfigError, match=r"SHARD_COUNT=4 needs SHARD_IDS .*SHARD_IDS=0,1,2,3"):
        load_settings({**BASE, "SHARD_COUNT": "4"}, dotenv=False)
    with pytest.raises(ConfigError, match=r"outside 0\.\.1"):
        load_settings({**BASE, "SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, dotenv=False)
    # Some of the shards only: that is for several processes on one shared database.
    with pytest.raises(ConfigError, match=r"only some of the 2 shards.*DATABASE_URL"):
        load_settings({**BASE, "SHARD_COUNT": "2", "SHARD_IDS": "1"}, dotenv=False)
    pg = {**BASE, "DATABASE_URL": "postgresql://bot:secret@db:5432/bot"}
    s = load_settings({**pg, "SHARD_COUNT": "4", "SHARD_IDS": "1"}, dotenv=False)
    # Discord's global limit is per token: one shard of four paces itself to a quarter of it.
    assert (s.shard_ids, s.database_url, s.discord_global_share) == ((1,), pg["DATABASE_URL"], 0.25)
    assert "secret" not in repr(s)
    half = {**pg, "SHARD_COUNT": "4", "SHARD_IDS": "1", "DISCORD_GLOBAL_SHARE": "0.5"}
    s = load_settings(half, dotenv=False)
    assert s.discord_global_share == 0.5


def test_database_url_malformed_is_named_without_echoing_it():
    with pytest.raises(ConfigError, match="DATABASE_URL is malformed") as err:
        load_settings({**BASE, "DATABASE_URL": "mysql://u:hunter2@h/db"}, dotenv=False)
    assert "hunter2" not in err.value.user_message

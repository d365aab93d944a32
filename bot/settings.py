"""Typed settings, read once from the environment (and a `.env` file through python-dotenv).

Every field is listed in `.env.example` with its default. A missing or malformed value raises
`ConfigError` naming the variable, which `python -m bot` prints as its one line before exiting.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from bot.errors import ConfigError
from bot.relay.models import KNOWN, Capability
from bot.rules.budget import parse_amount

DISCORD_API_DEFAULT = "https://discord.com/api/v10"
VIDEO_API_DEFAULT = "https://zx1.deepwl.net"
DEFAULT_MODELS: tuple[str, ...] = ("veo3.1-fast", "veo3.1", "veo3.1-fast-components", "veo3.1-components")
DEFAULT_DURATIONS: tuple[int, ...] = (4, 6, 8)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    discord_token: str = field(repr=False)
    video_api_key: str = field(repr=False)
    video_api_base_url: str = VIDEO_API_DEFAULT
    discord_api_base_url: str = DISCORD_API_DEFAULT
    database_path: Path = Path("data/bot.db")
    # PostgreSQL shared by every process (postgresql://user:password@host:port/db); None: SQLite
    # at database_path.
    database_url: str | None = field(default=None, repr=False)
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    models: tuple[str, ...] = DEFAULT_MODELS
    default_model: str = DEFAULT_MODELS[0]
    # What each offered model takes: the known table (bot/relay/models.py) and MODEL_IMAGES.
    model_capabilities: Mapping[str, Capability] = field(
        default_factory=lambda: {m: KNOWN[m] for m in DEFAULT_MODELS}
    )
    default_shape: str = "landscape"
    durations: tuple[int, ...] = (4, 6, 8)
    default_duration: int = 8
    max_prompt_length: int = 2000
    max_image_bytes: int = 10 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    video_download_timeout: float = 180.0
    api_timeout: float = 30.0
    poll_interval: float = 5.0
    poll_max_interval: float = 30.0
    poll_failure_deadline: float = 30 * 60.0
    job_timeout: float = 60 * 60.0
    progress_edit_interval: float = 4.0
    interaction_token_ttl: float = 14 * 60.0
    # This process's share of Discord's global 50 requests a second (the limit is per bot
    # token: processes of one sharded bot split it). DISCORD_GLOBAL_SHARE, or its shards over
    # SHARD_COUNT.
    discord_global_share: float = 1.0
    guild_ready_timeout: float = 2.0
    health_file: Path = Path("data/health.json")
    max_running_jobs: int = 10
    max_running_per_member: int = 2
    max_waiting_per_member: int = 5
    daily_quota_per_member: int = 0  # 0: no limit
    daily_quota_per_server: int = 0
    cooldown_seconds: int = 0
    # Use outside servers that added the bot (its DM, group DMs, user installs): videos per user
    # per day; 0 turns that use off.
    user_daily_quota: int = 3
    allowed_users: frozenset[int] = frozenset()  # empty: everyone
    allowed_guilds: frozenset[int] = frozenset()  # empty: every server
    quota_timezone: str = "UTC"
    # Money, in micros (bot/rules/budget.py): a price per video for some models, and monthly
    # budgets for each server (a default /video-admin set changes) and for the whole bot; 0: none.
    model_prices: Mapping[str, int] = field(default_factory=dict)
    price_currency: str = "USD"
    server_monthly_budget: int = 0
    monthly_budget: int = 0
    log_format: str = "text"
    metrics_port: int | None = None  # None: no metrics endpoint
    metrics_host: str = "127.0.0.1"
    sandbox_port: int = 8080
    # Discord shards this process runs: None, every shard Discord recommends (GET /gateway/bot).
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None

    def capability(self, model: str) -> Capability:
        return self.model_capabilities[model]

    @property
    def uses_custom_discord(self) -> bool:
        return self.discord_api_base_url.rstrip("/") != DISCORD_API_DEFAULT


def load_settings(
    env: Mapping[str, str] | None = None, *, dotenv: bool = True, sandbox: bool = False
) -> Settings:
    """Build `Settings` from `env` (default: the process environment after loading `.env`).

    `sandbox` (for `python -m bot --sandbox`) asks for no secrets: the sandbox's own Discord
    server and relay accept throwaway ones made here, so a newcomer needs no token to try the bot.
    """
    if env is None:
        if dotenv:
            # The .env of the directory the bot is started from, never one found elsewhere.
            load_dotenv(Path.cwd() / ".env")
        env = os.environ
    r = _Reader(env)
    if sandbox:
        token, api_key = f"sandbox.{secrets.token_urlsafe(24)}", f"sandbox-{secrets.token_urlsafe(24)}"
    else:
        token = r.secret("DISCORD_TOKEN", "the bot token from the Discord developer portal")
        api_key = r.secret("VIDEO_API_KEY", "the API key of your video relay")
    models = r.get("VIDEO_MODELS", _csv, DEFAULT_MODELS)
    default_model = r.get("DEFAULT_MODEL", str, models[0])
    if default_model not in models:
        raise ConfigError(f"DEFAULT_MODEL={default_model!r} is not one of VIDEO_MODELS ({', '.join(models)})")
    no_extra: dict[str, Capability] = {}
    declared = {**KNOWN, **r.get("MODEL_IMAGES", _model_images, no_extra)}
    unknown = [m for m in models if m not in declared]
    if unknown:
        raise ConfigError(
            f"VIDEO_MODELS names {', '.join(unknown)}, which the bot does not know: say how many images "
            f"each takes in MODEL_IMAGES (for example MODEL_IMAGES={unknown[0]}=0-1)"
        )
    durations = r.get("VIDEO_DURATIONS", _int_csv, DEFAULT_DURATIONS)
    default_duration = r.get("DEFAULT_DURATION", int, 8 if 8 in durations else durations[-1])
    if default_duration not in durations:
        raise ConfigError(f"DEFAULT_DURATION={default_duration} is not one of VIDEO_DURATIONS")
    database_url = postgres_url(r.env.get("DATABASE_URL", "").strip())
    shard_count, shard_ids = _shards(r, shared_database=database_url is not None)
    own_share = len(shard_ids) / shard_count if shard_ids is not None and shard_count else 1.0
    no_prices: dict[str, int] = {}
    prices = r.get("MODEL_PRICES", _prices, no_prices)
    unpriceable = [m for m in prices if m not in models]
    if unpriceable:
        raise ConfigError(f"MODEL_PRICES names {', '.join(unpriceable)}, which is not one of VIDEO_MODELS")
    return Settings(
        discord_token=token,
        video_api_key=api_key,
        video_api_base_url=r.get("VIDEO_API_BASE_URL", _http_url, VIDEO_API_DEFAULT),
        discord_api_base_url=r.get("DISCORD_API_BASE_URL", _http_url, DISCORD_API_DEFAULT),
        database_path=r.get("DATABASE_PATH", Path, Path("data/bot.db")),
        database_url=database_url,
        dev_guild_id=r.get("DEV_GUILD_ID", _snowflake, None),
        log_level=r.get("LOG_LEVEL", _log_level, "INFO"),
        models=models,
        default_model=default_model,
        model_capabilities={m: declared[m] for m in models},
        default_shape=r.get("DEFAULT_ORIENTATION", _shape, "landscape"),
        durations=durations,
        default_duration=default_duration,
        max_prompt_length=r.get("MAX_PROMPT_LENGTH", _positive(int, high=6000), 2000),
        max_image_bytes=r.get("MAX_IMAGE_BYTES", _positive(int), 10 * 1024 * 1024),
        max_video_bytes=r.get("MAX_VIDEO_BYTES", _positive(int), 200 * 1024 * 1024),
        video_download_timeout=r.get("VIDEO_DOWNLOAD_TIMEOUT", _positive(float), 180.0),
        api_timeout=r.get("VIDEO_API_TIMEOUT", _positive(float), 30.0),
        poll_interval=r.get("POLL_INTERVAL", _positive(float), 5.0),
        poll_max_interval=r.get("POLL_MAX_INTERVAL", _positive(float), 30.0),
        poll_failure_deadline=r.get("POLL_FAILURE_DEADLINE", _positive(float), 1800.0),
        job_timeout=r.get("JOB_TIMEOUT", _positive(float), 3600.0),
        progress_edit_interval=r.get("PROGRESS_EDIT_INTERVAL", _positive(float), 4.0),
        interaction_token_ttl=r.get("INTERACTION_TOKEN_TTL", _positive(float, high=900), 840.0),
        discord_global_share=r.get("DISCORD_GLOBAL_SHARE", _positive(float, high=1), own_share),
        guild_ready_timeout=r.get("GUILD_READY_TIMEOUT", _positive(float, high=60), 2.0),
        health_file=r.get("HEALTH_FILE", Path, Path("data/health.json")),
        max_running_jobs=r.get("MAX_RUNNING_JOBS", _positive(int), 10),
        max_running_per_member=r.get("MAX_RUNNING_PER_MEMBER", _positive(int), 2),
        max_waiting_per_member=r.get("MAX_WAITING_PER_MEMBER", _positive(int), 5),
        daily_quota_per_member=r.get("DAILY_QUOTA_PER_MEMBER", _not_negative, 0),
        daily_quota_per_server=r.get("DAILY_QUOTA_PER_SERVER", _not_negative, 0),
        cooldown_seconds=r.get("COOLDOWN_SECONDS", _not_negative, 0),
        user_daily_quota=r.get("USER_DAILY_QUOTA", _not_negative, 3),
        allowed_users=r.get("ALLOWED_USERS", _snowflakes, frozenset()),
        allowed_guilds=r.get("ALLOWED_GUILDS", _snowflakes, frozenset()),
        quota_timezone=r.get("QUOTA_TIMEZONE", _timezone, "UTC"),
        model_prices=prices,
        price_currency=r.get("PRICE_CURRENCY", _currency, "USD"),
        server_monthly_budget=r.get("SERVER_MONTHLY_BUDGET", parse_amount, 0),
        monthly_budget=r.get("MONTHLY_BUDGET", parse_amount, 0),
        log_format=r.get("LOG_FORMAT", _log_format, "text"),
        metrics_port=r.get("METRICS_PORT", _port, None),
        metrics_host=r.get("METRICS_HOST", _host, "127.0.0.1"),
        sandbox_port=r.get("SANDBOX_PORT", _port_or_any, 8080),
        shard_count=shard_count,
        shard_ids=shard_ids,
    )


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def secret(self, name: str, what: str) -> str:
        value = self.env.get(name, "").strip()
        if not value:
            raise ConfigError(f"{name} is not set: put {what} in the environment or in .env")
        return value

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            return parse(raw)
        except (ValueError, TypeError) as exc:
            # The value itself is echoed: none of these variables is a secret.
            raise ConfigError(f"{name}={raw!r} is malformed: {exc}") from None


def _csv(raw: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not items:
        raise ValueError("expected a comma-separated list")
    return items


def _int_csv(raw: str) -> tuple[int, ...]:
    values = tuple(sorted({int(part) for part in _csv(raw)}))
    if any(v <= 0 for v in values):
        raise ValueError("durations must be positive whole seconds")
    return values


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")
    return raw.rstrip("/")


def _snowflakes(raw: str) -> frozenset[int]:
    return frozenset(_snowflake(part) for part in _csv(raw))


def _snowflake(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a Discord id (a positive number)")
    return value


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return level


def _log_format(raw: str) -> str:
    value = raw.lower()
    if value not in LOG_FORMATS:
        raise ValueError(f"expected one of {', '.join(LOG_FORMATS)}")
    return value


def _port(raw: str, *, lowest: int = 1) -> int:
    value = int(raw)
    if not lowest <= value <= 65535:
        raise ValueError(
            "expected a TCP port between 1 and 65535" + (", or 0 for any free one" if lowest == 0 else "")
        )
    return value


def _host(raw: str) -> str:
    # An address or a name to bind to, not a URL: "http://..." or a port here is a common slip.
    if "/" in raw or " " in raw or raw.count(":") == 1:
        raise ValueError("expected an address to listen on, such as 127.0.0.1 or 0.0.0.0")
    return raw


def _shape(raw: str) -> str:
    value = raw.lower()
    if value not in ("portrait", "landscape"):
        raise ValueError("expected portrait or landscape")
    return value


def _not_negative(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected 0 (no limit) or a positive whole number")
    return value


def _port_or_any(raw: str) -> int:
    return _port(raw, lowest=0)


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected a time zone name like UTC or Europe/Berlin") from None
    return raw


def _positive(kind: Callable[[str], T], *, high: float | None = None) -> Callable[[str], T]:
    def parse(raw: str) -> T:
        value = kind(raw)
        if not value > 0:  # type: ignore[operator]
            raise ValueError("expected a positive number")
        if high is not None and value > high:  # type: ignore[operator]
            raise ValueError(f"expected at most {high:g}")
        return value

    return parse


def _model_images(raw: str) -> dict[str, Capability]:
    """`name=least-most,…`: how many images each model takes, e.g. `my-model=0-1,refs=1-3`."""
    declared = {}
    for item in _csv(raw):
        name, sep, span = item.partition("=")
        least, dash, most = span.partition("-")
        if not (sep and dash and least.isdigit() and most.isdigit() and int(least) <= int(most) <= 3):
            raise ValueError(f"{item!r} is not model=least-most with 0 <= least <= most <= 3")
        declared[name.strip()] = Capability(int(least), int(most))
    return declared


def _prices(raw: str) -> dict[str, int]:
    """`model=price,…`: each a price per video, e.g. `veo3.1-fast=0.40,veo3.1=1.20`."""
    prices = {}
    for item in _csv(raw):
        name, sep, amount = item.partition("=")
        if not (sep and name.strip()):
            raise ValueError(f"{item!r} is not model=price")
        prices[name.strip()] = parse_amount(amount)
    return prices


def _currency(raw: str) -> str:
    # Shown after every amount ("0.40 USD"): a code or a short word, no spaces.
    if len(raw) > 10 or any(c.isspace() for c in raw):
        raise ValueError("expected a currency code like USD or EUR")
    return raw


def _shards(r: _Reader, *, shared_database: bool) -> tuple[int | None, tuple[int, ...] | None]:
    """Neither: every shard Discord recommends, in this process. Both: the shards SHARD_IDS
    names of SHARD_COUNT, which several processes sharing one PostgreSQL split between them."""
    count = r.get("SHARD_COUNT", _positive(int), None)
    ids = r.get("SHARD_IDS", _int_list, None)
    if ids is not None and count is None:
        raise ConfigError("SHARD_IDS needs SHARD_COUNT (how many shards there are in all)")
    if count is not None and ids is None:
        raise ConfigError(
            f"SHARD_COUNT={count} needs SHARD_IDS (which of the {count} shards this process runs; "
            f"all of them: SHARD_IDS={','.join(map(str, range(count)))})"
        )
    if ids is not None and count is not None:
        wrong = [i for i in ids if not 0 <= i < count]
        if wrong:
            raise ConfigError(f"SHARD_IDS={','.join(map(str, ids))} names shards outside 0..{count - 1}")
        if set(ids) != set(range(count)) and not shared_database:
            # The other processes' jobs would be in files this one never reads.
            raise ConfigError(
                f"SHARD_IDS={','.join(map(str, ids))} runs only some of the {count} shards in this "
                "process, which needs a database every process shares: set DATABASE_URL to a "
                "PostgreSQL database (SQLite at DATABASE_PATH is one process's)"
            )
    return count, ids


def postgres_url(raw: str, *, name: str = "DATABASE_URL") -> str | None:
    """A PostgreSQL connection URL (`name` says where it was given), or None when empty. Not
    echoed when malformed, as other settings are: it may hold a password."""
    if not raw:
        return None
    scheme, sep, rest = raw.partition("://")
    if not sep or scheme not in ("postgresql", "postgres") or not rest.strip("/"):
        raise ConfigError(
            f"{name} is malformed (not shown: it may hold a password): expected "
            "postgresql://user:password@host:port/database"
        )
    return raw


def _int_list(raw: str) -> tuple[int, ...]:
    values = tuple(sorted({int(part) for part in _csv(raw)}))
    if any(v < 0 for v in values):
        raise ValueError("shard ids are whole numbers from 0")
    return values

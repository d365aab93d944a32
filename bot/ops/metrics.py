"""Prometheus metrics: what an operator graphs and alerts on. Served only when METRICS_PORT is set.

Counters and histograms are module-level and always counted (an increment costs nothing); the
gauges of jobs are read from the store when Prometheus scrapes, so they can never drift from
the truth. The endpoint runs on the bot's own event loop, which is the thread that owns the
store's SQLite connection.

No label ever holds a prompt, a member's name or id, a token or a URL: only fixed words
(routes, outcomes, kinds, states) and server ids.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, ParamSpec, TypeVar

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.errors import ConfigError

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

REGISTRY = CollectorRegistry()

CREATES = Counter(
    "veo_creates",
    "Create calls sent to the relay, by outcome (accepted = a task id came back, and is billed)",
    ["outcome"],
    registry=REGISTRY,
)
RELAY_LATENCY = Histogram(
    "veo_relay_request_seconds",
    "Time of one HTTP request to the relay, failed ones included, by route",
    ["route"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
RELAY_ERRORS = Counter(
    "veo_relay_errors",
    "Failed requests to the relay, by route and kind",
    ["route", "kind"],
    registry=REGISTRY,
)
DISCORD_RATE_LIMITED = Counter(
    "veo_discord_rate_limited",
    "HTTP 429 answers from Discord, by X-RateLimit-Scope (user, global, shared)",
    ["scope"],
    registry=REGISTRY,
)
DELIVERY = Histogram(
    "veo_delivery_seconds",
    "From the bot seeing a video done at the relay to the video shown in Discord",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
    registry=REGISTRY,
)
QUOTA_REFUSALS = Counter(
    "veo_quota_refusals",
    "Jobs refused by a daily quota or the cooldown, by which limit (member, server, cooldown)",
    ["scope"],
    registry=REGISTRY,
)

# Exception class -> error kind. Names, not imports, because bot.relay.unified imports this module.
ERROR_KINDS = {
    "_NotSent": "not_sent",
    "RateLimited": "rate_limited",
    "AuthError": "auth",
    "NoBalance": "no_balance",
    "BadRequest": "bad_request",
    "UpstreamUnavailable": "unavailable",
    "CreateOutcomeUnknown": "outcome_unknown",
    "MalformedResponse": "malformed",
}
CREATE_OUTCOMES = {
    "RateLimited": "rate_limited",
    "AuthError": "refused",
    "NoBalance": "refused",
    "BadRequest": "refused",
    "UpstreamUnavailable": "not_sent",
    "CreateOutcomeUnknown": "unknown",
}
DISCORD_SCOPES = ("user", "global", "shared")

for _outcome in ("accepted", *sorted(set(CREATE_OUTCOMES.values()))):
    CREATES.labels(_outcome)  # every outcome shows as 0 from the start, so rate() works at once
for _route in ("create", "query"):
    RELAY_LATENCY.labels(_route)


# --- instrumentation (decorators and one-line calls, so instrumented code stays readable) ------


def counted_create(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Count each call of `VideoAPI.create` by its outcome."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = await fn(*args, **kwargs)
        except Exception as exc:
            CREATES.labels(CREATE_OUTCOMES.get(type(exc).__name__, "error")).inc()
            raise
        CREATES.labels("accepted").inc()
        return result

    return wrapper


def timed_relay_request(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Time each HTTP request of `VideoAPI` and count its failures by kind."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        route = "create" if kwargs.get("creating") else "query"
        started = time.monotonic()
        try:
            return await fn(*args, **kwargs)
        except Exception as exc:
            RELAY_ERRORS.labels(route, ERROR_KINDS.get(type(exc).__name__, "other")).inc()
            raise
        finally:
            RELAY_LATENCY.labels(route).observe(time.monotonic() - started)

    return wrapper


def delivered(job: Any) -> None:
    """A job's video reached Discord (`job` is the DELIVERED `bot.storage.store.Job`, or None)."""
    if job is not None and job.succeeded_at is not None and job.delivered_at is not None:
        DELIVERY.observe(max(0.0, job.delivered_at - job.succeeded_at))


def quota_refused(scope: str) -> None:
    QUOTA_REFUSALS.labels(scope).inc()


def discord_trace() -> aiohttp.TraceConfig:
    """Hooks for discord.py's HTTP session (its `http_trace`) that count Discord's 429s."""

    async def on_request_end(
        _session: aiohttp.ClientSession, _ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        if params.response.status == 429:
            scope = params.response.headers.get("X-RateLimit-Scope", "")
            DISCORD_RATE_LIMITED.labels(scope if scope in DISCORD_SCOPES else "unknown").inc()

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


# --- gauges read from the store at scrape time ---------------------------------------------------


Counts = Callable[[], Awaitable[list[tuple[str, int | None, int]]]]


class StoreCollector(Collector):
    """prometheus-client collects synchronously, and the store is read with an await: the
    /metrics handler reads the counts (`refresh`) and then, with no await between, collects."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts  # Store.count_by_state
        self._rows: list[tuple[str, int | None, int]] = []

    async def refresh(self) -> None:
        self._rows = await self.counts()

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "veo_jobs", "Jobs in the database by state and server", labels=["state", "guild_id"]
        )
        queue = GaugeMetricFamily("veo_queue_length", "Jobs waiting for a slot at the relay")
        waiting = 0
        for state, guild_id, n in self._rows:
            jobs.add_metric([state, str(guild_id) if guild_id is not None else ""], n)
            if state == "pending":
                waiting += n
        queue.add_metric([], waiting)
        yield jobs
        yield queue


class RelayLimitsCollector(Collector):
    """The tracker's limits at the relay, read when Prometheus scrapes (see `watch_relay_limits`)."""

    def __init__(self) -> None:
        self.read: Callable[[], Any] | None = None  # JobTracker.relay_limits

    def collect(self) -> Iterator[Metric]:
        if self.read is None:
            return
        limits = self.read()
        yield GaugeMetricFamily(
            "veo_relay_create_limit",
            "Create calls the bot lets out at once now: halved when the relay answers 429, one more "
            "per accepted create, up to MAX_RUNNING_JOBS",
            value=limits.creates_at_once,
        )
        yield GaugeMetricFamily(
            "veo_relay_create_pause_seconds",
            "Seconds left before creates may leave again after the relay answered 429 (0: not paused)",
            value=limits.creates_paused_for,
        )
        yield GaugeMetricFamily(
            "veo_relay_poll_rate_limit",
            "Relay queries a second the bot allows itself now: halved on a 429, back up as polls succeed",
            value=limits.polls_per_second,
        )


RELAY_LIMITS = RelayLimitsCollector()
REGISTRY.register(RELAY_LIMITS)


def watch_relay_limits(read: Callable[[], Any]) -> None:
    """Serve `read()`'s figures (a `bot.jobs.relay_limits.RelayLimits`) as gauges."""
    RELAY_LIMITS.read = read


# --- the endpoint ----------------------------------------------------------------------------------


@asynccontextmanager
async def serving(host: str, port: int, counts: Counts) -> AsyncIterator[None]:
    """Serve /metrics on host:port for as long as the context is open."""
    collector = StoreCollector(counts)
    REGISTRY.register(collector)

    async def metrics(_request: web.Request) -> web.Response:
        await collector.refresh()
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise ConfigError(f"METRICS_PORT={port} on METRICS_HOST={host} cannot be used: {exc}") from None
        log.info("metrics at http://%s:%d/metrics", host, port)
        yield
    finally:
        await runner.cleanup()
        REGISTRY.unregister(collector)

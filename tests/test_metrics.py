"""Metrics: the relay client counts and times its requests; the store gauges read the database."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp import web

from bot.errors import BadRequest, ConfigError
from bot.jobs.model import JobState
from bot.ops import metrics
from bot.relay.request import VideoRequest
from bot.relay.unified import VideoAPI
from bot.storage.store import Store

REGISTRY = metrics.REGISTRY


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def api(fake_api):
    async with aiohttp.ClientSession() as session:
        yield VideoAPI(session, fake_api.base_url, fake_api.api_key, timeout=3, retry_base_delay=0.01)


async def test_creates_are_counted_by_outcome_and_timed(api, fake_api):
    accepted = value("veo_creates_total", outcome="accepted")
    refused = value("veo_creates_total", outcome="refused")
    timed = value("veo_relay_request_seconds_count", route="create")
    errors = value("veo_relay_errors_total", route="create", kind="bad_request")

    await api.create(VideoRequest(prompt="a cat", model="veo3.1-fast"))
    fake_api.fail_create(status=400)
    with pytest.raises(BadRequest):
        await api.create(VideoRequest(prompt="a cat", model="veo3.1-fast"))

    assert value("veo_creates_total", outcome="accepted") == accepted + 1
    assert value("veo_creates_total", outcome="refused") == refused + 1
    assert value("veo_relay_request_seconds_count", route="create") == timed + 2
    assert value("veo_relay_errors_total", route="create", kind="bad_request") == errors + 1


async def test_query_retries_count_each_failed_request(api, fake_api):
    status = await api.create(VideoRequest(prompt="a dog", model="veo3.1-fast"))
    unavailable = value("veo_relay_errors_total", route="query", kind="unavailable")
    timed = value("veo_relay_request_seconds_count", route="query")
    fake_api.fail_query(status=502, count=2)
    await api.query(status.task_id)  # two 502s, then the answer
    assert value("veo_relay_errors_total", route="query", kind="unavailable") == unavailable + 2
    assert value("veo_relay_request_seconds_count", route="query") == timed + 3


async def test_store_gauges_by_state_and_server():
    store = Store.open(":memory:")
    common = dict(
        channel_id=1, user_id=2, prompt="p", model="m", shape="landscape", size="1280x720", duration=8
    )
    for guild, state in [(10, JobState.PENDING), (10, JobState.PENDING), (20, JobState.PENDING)]:
        await store.add_job(**common, aspect_ratio="16:9", guild_id=guild, state=state)
    done = await store.add_job(**common, aspect_ratio="16:9", guild_id=20, state=JobState.PENDING)
    await store.transition(done.id, JobState.CANCELLED)
    collector = metrics.StoreCollector(store.count_by_state)
    await collector.refresh()  # what the /metrics handler does before prometheus-client collects
    families = {f.name: f for f in collector.collect()}
    jobs = {(s.labels["state"], s.labels["guild_id"]): s.value for s in families["veo_jobs"].samples}
    assert jobs == {("pending", "10"): 2, ("pending", "20"): 1, ("cancelled", "20"): 1}
    assert families["veo_queue_length"].samples[0].value == 3


def test_delivery_time_is_from_success_to_delivery():
    class Job:
        succeeded_at = 100.0
        delivered_at = 102.5

    count = value("veo_delivery_seconds_count")
    total = value("veo_delivery_seconds_sum")
    metrics.delivered(Job())
    metrics.delivered(None)  # the job was no longer SUCCEEDED: nothing to observe
    assert value("veo_delivery_seconds_count") == count + 1
    assert value("veo_delivery_seconds_sum") == pytest.approx(total + 2.5)


async def test_discord_429s_are_counted_by_scope():
    async def limited(request: web.Request) -> web.Response:
        scope = request.query.get("scope", "")
        return web.json_response({"retry_after": 0.1}, status=429, headers={"X-RateLimit-Scope": scope})

    app = web.Application()
    app.router.add_get("/", limited)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    before = {s: value("veo_discord_rate_limited_total", scope=s) for s in ("user", "global", "unknown")}
    try:
        async with aiohttp.ClientSession(trace_configs=[metrics.discord_trace()]) as session:
            for scope in ("user", "global", "made-up-scope"):
                async with session.get(f"http://127.0.0.1:{port}/", params={"scope": scope}):
                    pass
    finally:
        await runner.cleanup()
    assert value("veo_discord_rate_limited_total", scope="user") == before["user"] + 1
    assert value("veo_discord_rate_limited_total", scope="global") == before["global"] + 1
    # An unexpected header value never becomes a label of its own.
    assert value("veo_discord_rate_limited_total", scope="unknown") == before["unknown"] + 1


async def test_a_busy_port_stops_start_up_naming_metrics_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"METRICS_PORT={port}"):
            async with metrics.serving("127.0.0.1", port, list):
                pass
    # The collector was taken back out: a later start can register it again.
    async with metrics.serving("127.0.0.1", 0, list):
        pass

"""The relay client over real HTTP against the fake relay: bodies, auth, error mapping, retries."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from bot.errors import (
    AuthError,
    BadRequest,
    CreateOutcomeUnknown,
    MalformedResponse,
    NoBalance,
    RateLimited,
    UpstreamUnavailable,
)
from bot.relay.request import VideoRequest
from bot.relay.task_status import TaskState
from bot.relay.unified import VideoAPI
from sandbox.relay import FakeVideoAPI, Step


@pytest.fixture
async def relay():
    async with FakeVideoAPI() as fake, aiohttp.ClientSession() as session:
        yield fake, VideoAPI(session, fake.base_url, fake.api_key, timeout=1.0, retry_base_delay=0.01)


REQUEST = VideoRequest(
    prompt="牛飞上天了",
    model="veo3.1-fast-components",
    images=("https://example.com/frame-1.png", "https://example.com/frame-2.png"),
)


async def test_create_sends_the_documented_body_with_bearer_auth(relay):
    fake, api = relay
    status = await api.create(REQUEST)
    assert fake.creates == [
        {
            "prompt": "牛飞上天了",
            "model": "veo3.1-fast-components",
            "images": ["https://example.com/frame-1.png", "https://example.com/frame-2.png"],
            "orientation": "landscape",
            "size": "1280x720",
            "duration": 8,
            "aspect_ratio": "16:9",
            "enable_upsample": False,
        }
    ]
    assert status.task_id in fake.tasks and status.state is TaskState.WAITING
    assert api.last_success is not None


def test_portrait_request_is_consistent():
    body = VideoRequest(prompt="p", model="m", shape="portrait").payload()
    assert (body["size"], body["aspect_ratio"]) == ("720x1280", "9:16")


async def test_minimal_create_answer_and_full_life(relay):
    fake, api = relay
    fake.minimal_create = True
    fake.drop_prefix_in_query = True
    fake.script(
        [Step("pending"), Step("in_progress", 30, after=0.05), Step("SUCCESS", after=0.05, video="small")]
    )
    created = await api.create(REQUEST)
    import asyncio

    seen = []
    while True:
        status = await api.query(created.task_id)
        seen.append(status.state)
        if status.state in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED):
            break
        await asyncio.sleep(0.02)
    assert status.state is TaskState.SUCCEEDED and status.task_id == created.task_id
    assert status.video_url.endswith("/files/small.mp4")
    assert TaskState.RUNNING in seen


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": {"message": "invalid size"}}, BadRequest),
        (401, None, AuthError),
        (402, {"error": {"message": "Insufficient balance", "type": "insufficient_quota"}}, NoBalance),
        (403, {"error": {"message": "no access to model"}}, NoBalance),
        (429, None, RateLimited),
    ],
)
async def test_refusals_are_typed_and_create_nothing(relay, status, body, error):
    fake, api = relay
    fake.fail_create(status=status, body=body, headers={"Retry-After": "7"} if status == 429 else None)
    with pytest.raises(error) as caught:
        await api.create(REQUEST)
    assert fake.tasks == {}
    assert len(fake.creates) == 1
    if status == 429:
        assert caught.value.retry_after == 7


async def test_wrong_key_is_an_auth_error(relay):
    _fake, api = relay
    api._headers["Authorization"] = "Bearer wrong"
    with pytest.raises(AuthError):
        await api.query("anything")


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "body": "<html>oops</html>"},
        {"status": 502},
        {"reset": True},
        {"hang": 3},
        {"status": 200, "body": '{"id": "video_1", "status": "que'},  # truncated JSON
        {"status": 200, "body": {"status": "queued"}},  # no id
    ],
    ids=["500-html", "502", "reset-after-send", "read-timeout", "truncated-json", "no-id"],
)
async def test_create_failures_after_sending_are_never_retried(relay, fault):
    fake, api = relay
    fake.fail_create(accepted_anyway=True, **fault)
    with pytest.raises(CreateOutcomeUnknown):
        await api.create(REQUEST)
    assert len(fake.creates) == 1


async def test_create_with_nothing_listening_is_safe_to_retry():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        api = VideoAPI(session, f"http://127.0.0.1:{port}", "k", timeout=1.0, retry_base_delay=0.01)
        with pytest.raises(UpstreamUnavailable) as caught:
            await api.create(REQUEST)
    assert caught.value.retryable


async def test_query_retries_through_429_and_5xx(relay):
    fake, api = relay
    created = await api.create(REQUEST)
    fake.fail_query(status=429, headers={"Retry-After": "0.05"})
    fake.fail_query(status=503, body="<html>down</html>")
    status = await api.query(created.task_id)
    assert status.state is TaskState.WAITING
    assert len(fake.queries) == 3


async def test_query_gives_up_after_its_retries(relay):
    fake, api = relay
    created = await api.create(REQUEST)
    fake.fail_query(status=500, count=10)
    with pytest.raises(UpstreamUnavailable):
        await api.query(created.task_id)
    assert len(fake.queries) == 3


@pytest.mark.parametrize("body", ["not json at all", "[1, 2]", '{"id": "x", "status": '])
async def test_query_malformed_answers(relay, body):
    fake, api = relay
    fake.fail_query(status=200, body=body, count=5)
    with pytest.raises(MalformedResponse):
        await api.query("x")


async def test_error_body_with_200_is_a_refusal(relay):
    fake, api = relay
    fake.fail_create(
        status=200, body={"error": {"message": "Insufficient balance", "type": "insufficient_quota"}}
    )
    with pytest.raises(NoBalance):
        await api.create(REQUEST)

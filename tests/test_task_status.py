"""The lenient parser: every shared example, every status word, and any JSON at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import MalformedResponse
from bot.relay.task_status import TaskState, classify_failure, explain_failure, parse_task

EXAMPLES = Path(__file__).parent / "fixtures" / "api-examples"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "api" / "examples"


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_the_fixture_copies_match_the_shared_examples():
    if not SHARED.exists():
        pytest.skip("shared/ is not next to this clone (CI clones the repo alone)")
    for path in SHARED.glob("*.json"):
        assert (EXAMPLES / path.name).read_text() == path.read_text(), path.name


def test_create_response_full():
    s = parse_task(load("create-response.json"))
    assert s.task_id == "video_8b8232a3-847b-40e2-a3a3-912813b7ac60"
    assert s.state is TaskState.WAITING and s.progress == 0


def test_create_response_minimal_keeps_prefixed_id_and_reads_milliseconds():
    s = parse_task(load("create-response-minimal.json"))
    assert s.task_id == "jimeng:7391ad0e-9813-48ba-a742-ed0720e44e45"
    assert s.state is TaskState.WAITING


def test_query_completed():
    s = parse_task(load("query-completed.json"), task_id="video_8b8232a3-847b-40e2-a3a3-912813b7ac60")
    assert s.state is TaskState.SUCCEEDED and s.progress == 100
    assert s.video_url == "https://cdn.example.com/videos/8b8232a3.mp4"
    assert s.thumbnail_url == "https://cdn.example.com/videos/8b8232a3.jpg"


def test_query_pending_ms_with_empty_enhanced_prompt():
    s = parse_task(load("query-pending-ms.json"))
    assert s.state is TaskState.WAITING and s.video_url is None and s.enhanced_prompt is None
    assert s.progress is None


def test_query_processing_progress():
    s = parse_task(load("query-processing-progress.json"))
    assert s.state is TaskState.RUNNING and s.progress == 50


def test_query_success_unprefixed_id_keeps_our_id():
    s = parse_task(
        load("query-success-unprefixed-id.json"), task_id="veo3.1-fast:033fa60e-f37c-4ff6-a44d-5585ffea938d"
    )
    assert s.task_id == "veo3.1-fast:033fa60e-f37c-4ff6-a44d-5585ffea938d"
    assert s.state is TaskState.SUCCEEDED
    assert s.enhanced_prompt == "A cow flies up into the sky"


def test_error_example_is_not_a_task():
    s = parse_task(load("error-openai-style.json"))
    assert s.state is TaskState.UNKNOWN
    assert s.failure_reason == "Insufficient balance"


@pytest.mark.parametrize(
    ("word", "state"),
    [
        *[(w, TaskState.WAITING) for w in ("queued", "pending", "submitted", "not_start", "QUEUED")],
        *[(w, TaskState.RUNNING) for w in ("processing", "in_progress", "running", "Processing")],
        *[(w, TaskState.SUCCEEDED) for w in ("completed", "success", "succeeded", "SUCCESS")],
        *[(w, TaskState.FAILED) for w in ("failed", "failure", "error", "FAILED")],
        ("cancelled", TaskState.CANCELLED),
        ("unknown", TaskState.UNKNOWN),
        ("brewing", TaskState.UNKNOWN),
    ],
)
def test_every_status_word(word, state):
    assert parse_task({"id": "t", "status": word}).state is state


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "failed", "error": "content policy"},
        {"status": "failed", "error": {"message": "content policy", "code": "x"}},
        {"status": "failure", "fail_reason": "content policy"},
        {"status": "error", "message": "content policy"},
        {"status": "failed", "detail": {"reason": "content policy"}},
        {"status": "failed", "detail": "content policy"},
    ],
)
def test_failure_reason_wherever_the_relay_put_it(payload):
    s = parse_task({"id": "t", **payload})
    assert s.state is TaskState.FAILED and s.failure_reason == "content policy"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(50, 50), ("50", 50), ("75%", 75), (150, 100), (-3, 0), (True, None), ("x", None), (None, None)],
)
def test_progress_variants(raw, expected):
    assert parse_task({"id": "t", "status": "processing", "progress": raw}).progress == expected


def test_numeric_ids_become_strings():
    assert parse_task({"id": 12345, "status": "queued"}).task_id == "12345"


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("Content policy violation", "content_policy"),
        ("内容违规", "content_policy"),
        ("insufficient balance", "no_balance"),
        ("generation timeout", "timeout"),
        ("invalid parameter: size", "bad_parameters"),
        ("something odd", "upstream"),
        (None, "upstream"),
    ],
)
def test_failure_kinds(reason, kind):
    assert classify_failure(reason) == kind
    assert explain_failure(kind, reason)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "id",
        "status",
        "progress",
        "video_url",
        "status_update_time",
        "error",
        "detail",
        "data",
        "message",
        "fail_reason",
        "enhanced_prompt",
        "thumbnail_url",
    ]
)


@given(json_values)
def test_any_json_never_crashes_the_parser(value):
    try:
        s = parse_task(value)
    except MalformedResponse:
        assert not isinstance(value, dict)
    else:
        assert isinstance(value, dict)
        assert s.state in TaskState


@given(st.dictionaries(keys, json_values, max_size=8))
def test_task_shaped_junk_never_raises(payload):
    s = parse_task(payload, task_id="ours")
    assert s.task_id == "ours"
    assert s.progress is None or 0 <= s.progress <= 100

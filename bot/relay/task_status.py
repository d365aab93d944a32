"""Lenient parsing of the relay's task objects into one small typed result.

Relays of the unified video family differ in status words, timestamp units, where they put a
failure reason and whether `id` keeps its prefix, so every field is optional here and an
unknown shape becomes `TaskState.UNKNOWN` rather than an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.errors import MalformedResponse
from bot.texts.formatting import inert
from bot.texts.i18n import Text

REASON_LIMIT = 500


class TaskState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


_WORDS: dict[str, TaskState] = {
    **dict.fromkeys(
        ("queued", "pending", "submitted", "not_start", "not_started", "waiting"), TaskState.WAITING
    ),
    **dict.fromkeys(("processing", "in_progress", "running", "generating"), TaskState.RUNNING),
    **dict.fromkeys(
        ("completed", "complete", "success", "succeeded", "succeed", "done"), TaskState.SUCCEEDED
    ),
    **dict.fromkeys(("failed", "failure", "fail", "error"), TaskState.FAILED),
    **dict.fromkeys(("cancelled", "canceled"), TaskState.CANCELLED),
}


@dataclass(frozen=True)
class TaskStatus:
    task_id: str
    state: TaskState
    raw_status: str | None = None
    progress: int | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    enhanced_prompt: str | None = None
    failure_reason: str | None = None


def parse_task(payload: object, *, task_id: str | None = None) -> TaskStatus:
    """Read a create or query answer. `task_id` (ours) wins over the relay's echoed id."""
    if not isinstance(payload, dict):
        raise MalformedResponse(f"expected a JSON object, got {type(payload).__name__}")
    data: dict[str, Any] = payload
    # Some relays wrap the task: {"data": {...}}
    inner = data.get("data")
    if isinstance(inner, dict) and "status" not in data and ("status" in inner or "id" in inner):
        data = inner
    raw_status = _text(data.get("status"))
    state = (
        _WORDS.get(raw_status.strip().lower().replace(" ", "_"), TaskState.UNKNOWN)
        if raw_status
        else (TaskState.UNKNOWN)
    )
    echoed = data.get("id", data.get("task_id"))
    ident = task_id if task_id is not None else (_text(echoed) or "")
    reason = _reason(data) if state in (TaskState.FAILED, TaskState.CANCELLED, TaskState.UNKNOWN) else None
    return TaskStatus(
        task_id=ident,
        state=state,
        raw_status=raw_status,
        progress=_progress(data.get("progress")),
        video_url=_url(data.get("video_url")) or _url(data.get("url")),
        thumbnail_url=_url(data.get("thumbnail_url")),
        enhanced_prompt=_text(data.get("enhanced_prompt")) or None,
        failure_reason=reason,
    )


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _url(value: object) -> str | None:
    text = _text(value)
    return text.strip() or None if text else None


def _progress(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().rstrip("%").strip()
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        if 0 < value <= 1 and isinstance(value, float):
            value *= 100  # a fraction
        return max(0, min(100, int(value)))
    return None


def _reason(data: dict[str, Any]) -> str | None:
    for key in ("fail_reason", "failure_reason", "error", "message", "detail", "reason"):
        found = _reason_from(data.get(key))
        if found:
            return found[:REASON_LIMIT]
    return None


def _reason_from(value: object, depth: int = 0) -> str | None:
    if depth > 3 or value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("message", "reason", "fail_reason", "error", "msg", "detail"):
            found = _reason_from(value.get(key), depth + 1)
            if found:
                return found
    return None


# --- failure kinds, in words a member understands ---------------------------------------------

_KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "content_policy",
        (
            "policy",
            "safety",
            "moderation",
            "sensitive",
            "nsfw",
            "prohibited",
            "violat",
            "blocked",
            "违规",
            "敏感",
            "审核",
        ),
    ),
    ("no_balance", ("balance", "quota", "insufficient", "credit", "余额", "额度")),
    ("timeout", ("timeout", "timed out", "time out", "超时")),
    ("bad_parameters", ("invalid", "parameter", "unsupported", "not support", "bad request", "参数")),
)

_EXPLANATIONS = {
    "content_policy": Text("The video service refused this prompt or image under its content policy."),
    "no_balance": Text("The video service account has no balance left (or no access to this model)."),
    "timeout": Text("The video service took too long and gave up on this job."),
    "bad_parameters": Text("The video service did not accept the job's parameters."),
    "upstream": Text("The video service could not make this video."),
}


def classify_failure(reason: str | None) -> str:
    text = (reason or "").lower()
    for kind, words in _KIND_WORDS:
        if any(word in text for word in words):
            return kind
    return "upstream"


def explain_failure(kind: str, reason: str | None) -> Text:
    """In the member's words; the relay's own reason is quoted as it wrote it."""
    sentence = _EXPLANATIONS.get(kind, _EXPLANATIONS["upstream"])
    return (
        Text("{explanation} It said: “{reason}”", explanation=sentence, reason=inert(reason))
        if reason
        else sentence
    )

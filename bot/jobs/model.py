"""The job model: a job's states, which moves between them are allowed, and the job record.

Pure data. The store persists it, the tracker moves it, the cogs show it; every named group of
states lives here so no module keeps its own list that could drift from the others.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, fields
from enum import StrEnum
from typing import Any, get_origin, get_type_hints

from bot.relay.request import VideoRequest
from bot.texts.i18n import Message, Text, english


class JobState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # in a moderated channel, until a moderator decides
    PENDING = "pending"  # accepted here, not yet sent (waiting for a queue slot)
    SUBMITTING = "submitting"  # row written; the create call is about to be or being made
    QUEUED = "queued"  # task id stored; the relay has not started it
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # the video is ready; delivery to Discord not done yet
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"  # a moderator said no; nothing was sent

    @property
    def final(self) -> bool:
        return self in FINAL


FINAL = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED, JobState.REJECTED})
# Not sent to the relay (yet): nothing can have been billed.
NOT_SENT = frozenset({JobState.AWAITING_APPROVAL, JobState.PENDING})
# At the relay, or on the way there: these count against the running limits.
AT_RELAY = frozenset({JobState.SUBMITTING, JobState.QUEUED, JobState.RUNNING})
# Accepted upstream and not finished: the tracker polls these.
ACTIVE_UPSTREAM = frozenset({JobState.QUEUED, JobState.RUNNING})
# What /video-queue lists as running: at the relay, or done there and being delivered.
IN_PROGRESS = AT_RELAY | {JobState.SUCCEEDED}
CANCELLABLE = NOT_SENT | AT_RELAY
# Jobs that hold a place in a quota: sent and accepted upstream (they have a task id, and are
# billed whatever happened next), or on their way there. A failed create or a rejection frees it.
RESERVING = NOT_SENT | {JobState.SUBMITTING}
# Jobs a member has waiting: in the queue, or for a moderator (both count toward the cap).
WAITING = NOT_SENT

# `raw_status` of a job the relay refused (429) and that waits to be sent again: its message
# says the video service is busy rather than only giving its place in the queue.
RELAY_BUSY = "relay busy"

ALLOWED: dict[JobState, frozenset[JobState]] = {
    JobState.AWAITING_APPROVAL: frozenset(
        {JobState.PENDING, JobState.REJECTED, JobState.CANCELLED, JobState.FAILED}
    ),
    JobState.PENDING: frozenset({JobState.SUBMITTING, JobState.CANCELLED, JobState.FAILED}),
    # SUBMITTING -> PENDING only when the relay refused the create with a 429, which proves
    # nothing was created or billed: the job waits again, and a crash while it waits finds a
    # job that was never sent (not one that may have been billed, which is never sent again).
    JobState.SUBMITTING: frozenset(
        {
            JobState.PENDING,
            JobState.QUEUED,
            JobState.RUNNING,
            JobState.SUCCEEDED,
            JobState.FAILED,
            JobState.CANCELLED,
        }
    ),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}),
    JobState.RUNNING: frozenset({JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}),
    JobState.SUCCEEDED: frozenset({JobState.DELIVERED, JobState.FAILED}),
    JobState.DELIVERED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.REJECTED: frozenset(),
}

# The states each state can be reached from (ALLOWED read backwards).
ALLOWED_INTO = {to: frozenset(s for s, nxt in ALLOWED.items() if to in nxt) for to in JobState}

STATE_TIMESTAMP = {
    JobState.SUBMITTING: "submitted_at",
    JobState.QUEUED: "queued_at",
    JobState.RUNNING: "running_at",
    JobState.SUCCEEDED: "succeeded_at",
    JobState.DELIVERED: "delivered_at",
    JobState.FAILED: "failed_at",
    JobState.CANCELLED: "cancelled_at",
    JobState.REJECTED: "decided_at",
}


# slots: a busy bot keeps a thousand or more of these in memory (the store's live jobs).
# kw_only: the request's fields (inherited) come first and have defaults; a job is always built
# by name (from a row, or by the store).
@dataclass(frozen=True, slots=True, kw_only=True)
class Job(VideoRequest):
    id: int
    state: JobState
    created_at: float
    updated_at: float
    channel_id: int
    user_id: int
    # The request's fields (prompt, model, shape, duration, enable_upsample, images) come
    # from `VideoRequest`; size and aspect ratio follow from the shape, kept for readers.
    size: str
    aspect_ratio: str
    image_names: tuple[str, ...] = ()
    guild_id: int | None = None
    message_id: int | None = None
    interaction_id: int | None = None
    interaction_token: str | None = None
    token_issued_at: float | None = None
    application_id: int | None = None
    user_name: str = ""
    parent_id: int | None = None
    origin: str = "new"  # how it came about: new, reroll, remix, upscale
    scope: str = "guild"  # where it was asked: guild (a server that added the bot), dm, user
    task_id: str | None = None
    raw_status: str | None = None
    progress: int | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    enhanced_prompt: str | None = None
    failure_reason: str | None = None
    failure_kind: str | None = None
    submitted_at: float | None = None
    queued_at: float | None = None
    running_at: float | None = None
    succeeded_at: float | None = None
    delivered_at: float | None = None
    failed_at: float | None = None
    cancelled_at: float | None = None
    cancelled_by: int | None = None
    poll_failures: int = 0
    last_poll_at: float | None = None
    last_poll_ok_at: float | None = None
    delivery_mode: str | None = None
    result_message_id: int | None = None
    notified_at: float | None = None
    approval_channel_id: int | None = None
    approval_message_id: int | None = None
    decided_by: int | None = None
    decided_at: float | None = None
    # The server's language when the job was asked for: its public messages are rendered in it.
    locale: str | None = None
    # `failure_reason` as a message id and parameters (`Text.dumps`), to render in `locale`;
    # `failure_reason` keeps the English text for logs and older rows.
    failure_text: str | None = None
    # What the video cost when it was asked for (micros, bot/rules/budget.py; None: the model had
    # no price). Kept on the job so a later price change does not rewrite what was spent.
    price_micros: int | None = None
    # Where the prompt came from: a library entry (its name and author as they were then, so
    # the job message says "from ann's lantern market" even after a rename) and a style's name.
    library_id: int | None = None
    library_name: str | None = None
    library_author: str | None = None
    style: str | None = None

    def failure(self) -> Message | None:
        """What happened to a failed job, to render in a reader's language."""
        return Text.loads(self.failure_text) if self.failure_text else self.failure_reason

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(**from_columns(row))

    def with_columns(self, row: dict[str, Any]) -> Job:
        """This job with `row` (columns as `to_row` writes them) applied: what reading the
        row back after writing them would give. (`dataclasses.replace` would do, at twice the
        cost: the store calls this on every change of every job.)"""
        new = object.__new__(Job)
        for slot in _SLOTS:
            slot.__set__(new, slot.__get__(self))
        for name, value in from_columns(row).items():
            object.__setattr__(new, name, value)
        return new


JOB_COLUMNS = frozenset(f.name for f in fields(Job))
_TYPES = get_type_hints(Job)
# Stored as JSON text, and as 0/1: derived from the types, so a new request field needs nothing here.
_JSON_FIELDS = tuple(name for name, kind in _TYPES.items() if get_origin(kind) is tuple)
_BOOL_FIELDS = tuple(name for name, kind in _TYPES.items() if kind is bool)
_SLOTS = tuple(getattr(Job, f.name) for f in fields(Job))  # the slot descriptors
# Columns that read back as NULL or empty stand for these values; a request field's column is
# NULL in rows written before the field existed, and stands for the field's default.
_EMPTY_MEANS = {
    "user_name": "",
    "origin": "new",
    "scope": "guild",
    "poll_failures": 0,
    **{f.name: f.default for f in fields(VideoRequest) if f.default is not MISSING and f.default is not None},
}


def from_columns(row: dict[str, Any]) -> dict[str, Any]:
    """Job fields from (some of) a row's columns: the reverse of `to_row`."""
    data = {name: value for name, value in row.items() if name in JOB_COLUMNS}
    if "state" in data:
        data["state"] = JobState(data["state"])
    for key in _JSON_FIELDS:
        if key in data:
            data[key] = tuple(json.loads(data[key] or "[]"))
    for key in _BOOL_FIELDS:
        if key in data:
            data[key] = bool(data[key])
    for key, empty in _EMPTY_MEANS.items():
        if key in data and not data[key]:
            data[key] = empty
    return data


def to_row(changes: dict[str, Any]) -> dict[str, Any]:
    """Job fields as columns: tuples as JSON, booleans as 0/1, states as their names."""
    unknown = set(changes) - JOB_COLUMNS
    if unknown:
        raise TypeError(f"unknown job fields: {sorted(unknown)}")
    row = dict(changes)
    if "failure_reason" in row:
        # A `Text` is stored twice: in English (read by logs and people) and as its message id
        # and parameters, so every reader gets it in their own language.
        reason = row["failure_reason"]
        row["failure_text"] = reason.dumps() if isinstance(reason, Text) else None
        row["failure_reason"] = english(reason) if reason is not None else None
    for key in _JSON_FIELDS:
        if key in row:
            row[key] = json.dumps(list(row[key]))
    for key in _BOOL_FIELDS:
        if key in row:
            row[key] = int(row[key])
    for key, value in row.items():
        if isinstance(value, JobState):
            row[key] = value.value
    return row

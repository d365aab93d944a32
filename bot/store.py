"""The job store: the only module that touches SQLite.

One row per job, written before the create call so a crash in between is visible after a
restart. State changes are compare-and-set (`transition`), which is how two concurrent paths
(a poll and a Cancel click, say) can never both deliver or both finish a job.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.errors import StoreError
from bot.guild_settings import GuildSettings

log = logging.getLogger(__name__)


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
        return self in (JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED, JobState.REJECTED)

    @property
    def active(self) -> bool:
        return not self.final


ALLOWED: dict[JobState, frozenset[JobState]] = {
    JobState.AWAITING_APPROVAL: frozenset(
        {JobState.PENDING, JobState.REJECTED, JobState.CANCELLED, JobState.FAILED}
    ),
    JobState.PENDING: frozenset({JobState.SUBMITTING, JobState.CANCELLED, JobState.FAILED}),
    JobState.SUBMITTING: frozenset(
        {JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}
    ),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}),
    JobState.RUNNING: frozenset({JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}),
    JobState.SUCCEEDED: frozenset({JobState.DELIVERED, JobState.FAILED}),
    JobState.DELIVERED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.REJECTED: frozenset(),
}

# Jobs that hold a place in a quota: sent and accepted upstream (they have a task id, and are
# billed whatever happened next), or on their way there. A failed create or a rejection frees it.
RESERVING = (JobState.AWAITING_APPROVAL, JobState.PENDING, JobState.SUBMITTING)

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


@dataclass(frozen=True)
class Job:
    id: int
    state: JobState
    created_at: float
    updated_at: float
    channel_id: int
    user_id: int
    prompt: str
    model: str
    orientation: str
    size: str
    duration: int
    aspect_ratio: str
    enable_upsample: bool = False
    images: tuple[str, ...] = ()
    image_names: tuple[str, ...] = ()
    guild_id: int | None = None
    message_id: int | None = None
    interaction_id: int | None = None
    interaction_token: str | None = None
    token_issued_at: float | None = None
    application_id: int | None = None
    user_name: str = ""
    parent_id: int | None = None
    kind: str = "new"
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
    next_poll_at: float | None = None
    delivery_mode: str | None = None
    result_message_id: int | None = None
    notified_at: float | None = None
    approval_channel_id: int | None = None
    approval_message_id: int | None = None
    decided_by: int | None = None
    decided_at: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        data: dict[str, Any] = {f.name: row.get(f.name) for f in fields(cls) if f.name in row}
        data["state"] = JobState(row["state"])
        data["images"] = tuple(json.loads(row.get("images") or "[]"))
        data["image_names"] = tuple(json.loads(row.get("image_names") or "[]"))
        data["enable_upsample"] = bool(row.get("enable_upsample"))
        data["user_name"] = row.get("user_name") or ""
        data["kind"] = row.get("kind") or "new"
        data["poll_failures"] = row.get("poll_failures") or 0
        return cls(**data)


# --- schema ---------------------------------------------------------------------------------
# Add a new `@migrations()` function below the last one to change the schema; never edit one
# that has shipped, because databases in the field have already applied it.

migrations = Migrations("veo_bot")


@migrations()
def m001_jobs(db: sqlite_utils.Database) -> None:
    db.table("jobs").create(
        {
            "id": int,
            "state": str,
            "created_at": float,
            "updated_at": float,
            "guild_id": int,
            "channel_id": int,
            "message_id": int,
            "interaction_id": int,
            "interaction_token": str,
            "token_issued_at": float,
            "application_id": int,
            "user_id": int,
            "user_name": str,
            "prompt": str,
            "model": str,
            "images": str,
            "image_names": str,
            "orientation": str,
            "size": str,
            "duration": int,
            "aspect_ratio": str,
            "enable_upsample": int,
            "parent_id": int,
            "kind": str,
            "task_id": str,
            "raw_status": str,
            "progress": int,
            "video_url": str,
            "thumbnail_url": str,
            "enhanced_prompt": str,
            "failure_reason": str,
            "failure_kind": str,
            "submitted_at": float,
            "queued_at": float,
            "running_at": float,
            "succeeded_at": float,
            "delivered_at": float,
            "failed_at": float,
            "cancelled_at": float,
            "cancelled_by": int,
            "poll_failures": int,
            "last_poll_at": float,
            "last_poll_ok_at": float,
            "next_poll_at": float,
            "delivery_mode": str,
            "result_message_id": int,
            "notified_at": float,
        },
        pk="id",
        not_null={"state", "created_at", "updated_at", "channel_id", "user_id", "prompt", "model"},
        defaults={"poll_failures": 0, "kind": "new", "enable_upsample": 0},
    )
    db.table("jobs").create_index(["state"])
    db.table("jobs").create_index(["user_id", "created_at"])
    db.table("jobs").create_index(["guild_id", "created_at"])
    db.table("jobs").create_index(["task_id"], unique=True)
    db.table("job_events").create(
        {"id": int, "job_id": int, "at": float, "state_from": str, "state_to": str, "detail": str},
        pk="id",
        foreign_keys=[("job_id", "jobs", "id")],
    )
    db.table("job_events").create_index(["job_id"])
    db.table("meta").create({"key": str, "value": str}, pk="key")


@migrations()
def m002_guild_settings(db: sqlite_utils.Database) -> None:
    db.table("guild_settings").create(
        {"guild_id": int, "data": str, "updated_at": float, "updated_by": int}, pk="guild_id"
    )


@migrations()
def m003_approval(db: sqlite_utils.Database) -> None:
    for column, kind in (
        ("approval_channel_id", int),
        ("approval_message_id", int),
        ("decided_by", int),
        ("decided_at", float),
    ):
        db.table("jobs").add_column(column, kind)


JOB_COLUMNS = {f.name for f in fields(Job)}


class Store:
    def __init__(self, db: sqlite_utils.Database, path: str) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path | str, *, busy_timeout_ms: int = 5000) -> Store:
        where = str(path)
        if where != ":memory:":
            Path(where).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(where, timeout=busy_timeout_ms / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            check = conn.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check said {check[0] if check else 'nothing'}")
            db = sqlite_utils.Database(conn)
            if where != ":memory:":
                db.enable_wal()
            migrations.apply(db)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(f"DATABASE_PATH {where} is locked by another process: {exc}") from None
            raise StoreError(f"DATABASE_PATH {where} cannot be opened: {exc}") from None
        except sqlite3.DatabaseError as exc:
            # Never replace or repair it here: it may hold unfinished, paid-for jobs.
            raise StoreError(
                f"DATABASE_PATH {where} is not a readable SQLite database ({exc}); "
                "move it away or restore a backup, then start again"
            ) from None
        return cls(db, where)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite_utils.Database]:
        try:
            with self.db.atomic():
                yield self.db
        except sqlite3.OperationalError as exc:
            raise StoreError(f"The job database is unavailable ({exc}).") from None

    # --- jobs ---------------------------------------------------------------------------------

    def add_job(
        self,
        *,
        channel_id: int,
        user_id: int,
        prompt: str,
        model: str,
        orientation: str,
        size: str,
        duration: int,
        aspect_ratio: str,
        enable_upsample: bool = False,
        images: Iterable[str] = (),
        image_names: Iterable[str] = (),
        state: JobState = JobState.SUBMITTING,
        now: float | None = None,
        check: Callable[[], None] | None = None,
        **extra: Any,
    ) -> Job:
        """Insert a job. `check` runs inside the same write transaction, before the insert, and
        may raise to refuse it: counting and inserting together is what keeps a quota exact
        when several commands arrive at once."""
        unknown = set(extra) - JOB_COLUMNS
        if unknown:
            raise TypeError(f"unknown job fields: {sorted(unknown)}")
        now = time.time() if now is None else now
        row = {
            **extra,
            "channel_id": channel_id,
            "user_id": user_id,
            "prompt": prompt,
            "model": model,
            "orientation": orientation,
            "size": size,
            "duration": duration,
            "aspect_ratio": aspect_ratio,
            "enable_upsample": int(enable_upsample),
            "images": json.dumps(list(images)),
            "image_names": json.dumps(list(image_names)),
            "state": state.value,
            "created_at": now,
            "updated_at": now,
        }
        if state in STATE_TIMESTAMP:
            row[STATE_TIMESTAMP[state]] = now
        with self._writing() as db:
            if check is not None:
                check()
            pk = db.table("jobs").insert(row).last_pk
            assert pk is not None
            job_id = int(pk)
            self._event(db, job_id, None, state, now, "created")
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: int) -> Job | None:
        rows = list(self.db.query("select * from jobs where id = ?", [job_id]))
        return Job.from_row(rows[0]) if rows else None

    def get_by_task(self, task_id: str) -> Job | None:
        rows = list(self.db.query("select * from jobs where task_id = ?", [task_id]))
        return Job.from_row(rows[0]) if rows else None

    def update(self, job_id: int, **changes: Any) -> Job:
        if "state" in changes:
            raise TypeError("use transition() to change a job's state")
        row = self._encode(changes)
        row["updated_at"] = time.time()
        with self._writing() as db:
            db.table("jobs").update(job_id, row)
        job = self.get(job_id)
        assert job is not None
        return job

    def transition(
        self,
        job_id: int,
        to: JobState,
        *,
        expect: Iterable[JobState] | None = None,
        now: float | None = None,
        detail: str | None = None,
        **changes: Any,
    ) -> Job | None:
        """Move a job to `to` if its current state allows it; None (and no change) otherwise."""
        now = time.time() if now is None else now
        with self._writing() as db:
            rows = list(db.query("select state from jobs where id = ?", [job_id]))
            if not rows:
                return None
            current = JobState(rows[0]["state"])
            allowed = set(expect) if expect is not None else {s for s, nxt in ALLOWED.items() if to in nxt}
            if current not in allowed or to not in ALLOWED[current]:
                return None
            row = self._encode(changes)
            row.update(state=to.value, updated_at=now)
            if to in STATE_TIMESTAMP and current is not to:
                row[STATE_TIMESTAMP[to]] = now
            db.table("jobs").update(job_id, row)
            if current is not to:
                self._event(db, job_id, current, to, now, detail)
        return self.get(job_id)

    def mark_notified(
        self, job_id: int, *, now: float | None = None, result_message_id: int | None = None
    ) -> Job:
        """The final state is shown in Discord: the interaction token is no longer needed, so drop it."""
        changes: dict[str, Any] = {
            "notified_at": time.time() if now is None else now,
            "interaction_token": None,
        }
        if result_message_id is not None:
            changes["result_message_id"] = result_message_id
        return self.update(job_id, **changes)

    # --- queries --------------------------------------------------------------------------------

    def unfinished(self) -> list[Job]:
        finals = [s.value for s in JobState if s.final]
        marks = ",".join("?" * len(finals))
        sql = f"select * from jobs where state not in ({marks}) or notified_at is null order by id"
        return [Job.from_row(r) for r in self.db.query(sql, finals)]

    def jobs_for_user(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Job]:
        sql, params = "select * from jobs where user_id = ?", [user_id]
        if guild_id is not None:
            sql += " and guild_id = ?"
            params.append(guild_id)
        return [Job.from_row(r) for r in self.db.query(sql + " order by id desc limit ?", [*params, limit])]

    def jobs_for_guild(
        self, guild_id: int, *, states: Iterable[JobState] | None = None, limit: int = 50
    ) -> list[Job]:
        sql, params = "select * from jobs where guild_id = ?", [guild_id]
        sql, params = _with_states(sql, params, states)
        return [Job.from_row(r) for r in self.db.query(sql + " order by id desc limit ?", [*params, limit])]

    def count_jobs(
        self,
        *,
        since: float,
        user_id: int | None = None,
        guild_id: int | None = None,
        states: Iterable[JobState] | None = None,
    ) -> int:
        sql, params = "select count(*) as n from jobs where created_at >= ?", [since]
        if user_id is not None:
            sql += " and user_id = ?"
            params.append(user_id)
        if guild_id is not None:
            sql += " and guild_id = ?"
            params.append(guild_id)
        sql, params = _with_states(sql, params, states)
        return next(self.db.query(sql, params))["n"]

    def quota_usage(self, *, guild_id: int, user_id: int, since: float) -> tuple[int, int]:
        """(the member's, the server's) jobs created since `since` that use quota: accepted
        upstream, or still on their way. One query over the (guild_id, created_at) index."""
        sql = (
            "select count(*) as server, coalesce(sum(user_id = ?), 0) as member from jobs "
            "where guild_id = ? and created_at >= ? "
            f"and (task_id is not null or state in ({','.join('?' * len(RESERVING))}))"
        )
        row = next(self.db.query(sql, [user_id, guild_id, since, *(s.value for s in RESERVING)]))
        return row["member"], row["server"]

    def last_job_at(self, *, guild_id: int, user_id: int) -> float | None:
        """When the member last started a job here (rejected ones aside), for the cooldown."""
        rows = list(
            self.db.query(
                "select max(created_at) as at from jobs where guild_id = ? and user_id = ? and state != ?",
                [guild_id, user_id, JobState.REJECTED.value],
            )
        )
        return rows[0]["at"] if rows else None

    def jobs_between(self, guild_id: int, start: float, end: float, *, limit: int = 50_000) -> list[Job]:
        """A server's jobs requested in [start, end), oldest first (for /video-admin report)."""
        where = "guild_id = ? and created_at >= ? and created_at < ?"
        sql = f"select * from jobs where {where} order by id limit ?"
        return [Job.from_row(r) for r in self.db.query(sql, [guild_id, start, end, limit])]

    def count_by_state(self) -> list[tuple[str, int | None, int]]:
        """(state, guild id, jobs) for every pair that has jobs (the metrics gauge)."""
        sql = "select state, guild_id, count(*) as n from jobs group by state, guild_id"
        return [(r["state"], r["guild_id"], r["n"]) for r in self.db.query(sql)]

    def waiting(self) -> list[Job]:
        """Jobs waiting for a slot at the relay, first come first served."""
        return [
            Job.from_row(r)
            for r in self.db.query("select * from jobs where state = ? order by id", [JobState.PENDING.value])
        ]

    def queue_position(self, job_id: int) -> int:
        """1 for the next job to be sent; 0 when the job is not waiting."""
        rows = list(
            self.db.query(
                "select count(*) as n from jobs where state = ? and id <= ? and exists "
                "(select 1 from jobs j where j.id = ? and j.state = ?)",
                [JobState.PENDING.value, job_id, job_id, JobState.PENDING.value],
            )
        )
        return rows[0]["n"]

    def note(self, job_id: int, detail: str) -> None:
        """Record something that happened to a job without changing its state (e.g. deleted)."""
        with self._writing() as db:
            rows = list(db.query("select state from jobs where id = ?", [job_id]))
            if rows:
                state = JobState(rows[0]["state"])
                self._event(db, job_id, state, state, time.time(), detail)

    def lineage(self, job_id: int) -> list[Job]:
        """The job and its ancestors, newest first."""
        chain: list[Job] = []
        current = self.get(job_id)
        while current is not None and len(chain) < 50:
            chain.append(current)
            current = self.get(current.parent_id) if current.parent_id else None
        return chain

    def children(self, job_id: int, *, limit: int = 25) -> list[Job]:
        """Jobs built directly on this one (rerolls, remixes, upscales), oldest first."""
        sql = "select * from jobs where parent_id = ? order by id limit ?"
        return [Job.from_row(r) for r in self.db.query(sql, [job_id, limit])]

    def events(self, job_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("select * from job_events where job_id = ? order by id", [job_id]))

    # --- per-server settings (stored as the JSON of bot.guild_settings) --------------------------

    def guild_rules(self, guild_id: int | None) -> GuildSettings:
        """A server's settings; the defaults for a server that changed nothing (or no server)."""
        if guild_id is None:
            return GuildSettings()
        rows = list(self.db.query("select data from guild_settings where guild_id = ?", [guild_id]))
        return GuildSettings.from_json(rows[0]["data"] if rows else None)

    def set_guild_rules(self, guild_id: int, rules: GuildSettings, *, by: int) -> None:
        with self._writing() as db:
            db.table("guild_settings").upsert(
                {"guild_id": guild_id, "data": rules.to_json(), "updated_at": time.time(), "updated_by": by},
                pk="guild_id",
            )

    # --- small key/value facts (e.g. the hash of the last synced command set) -----------------

    def get_meta(self, key: str) -> str | None:
        rows = list(self.db.query("select value from meta where key = ?", [key]))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._writing() as db:
            db.table("meta").upsert({"key": key, "value": value}, pk="key")

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _event(
        db: sqlite_utils.Database,
        job_id: int,
        before: JobState | None,
        after: JobState,
        at: float,
        detail: str | None,
    ) -> None:
        db.table("job_events").insert(
            {
                "job_id": job_id,
                "at": at,
                "state_from": before.value if before else None,
                "state_to": after.value,
                "detail": detail,
            }
        )

    @staticmethod
    def _encode(changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - JOB_COLUMNS
        if unknown:
            raise TypeError(f"unknown job fields: {sorted(unknown)}")
        row = dict(changes)
        for key in ("images", "image_names"):
            if key in row:
                row[key] = json.dumps(list(row[key]))
        if "enable_upsample" in row:
            row["enable_upsample"] = int(row["enable_upsample"])
        for key, value in row.items():
            if isinstance(value, JobState):
                row[key] = value.value
        return row


def _with_states(sql: str, params: list[Any], states: Iterable[JobState] | None) -> tuple[str, list[Any]]:
    if states is None:
        return sql, params
    values = [JobState(s).value for s in states]
    return sql + f" and state in ({','.join('?' * len(values))})", [*params, *values]


@dataclass(frozen=True)
class SchemaStatus:
    pending: list[str]  # migrations the next start applies
    unknown: list[str]  # applied by a newer version of the bot
    writable: bool


def schema_status(path: Path | str) -> SchemaStatus:
    """What `python -m bot --check` needs to know of an existing database, without changing it.
    Opened "rw", never "rwc", so a missing file is an error rather than a new empty database;
    writability is tested by taking the write lock and rolling back."""
    uri = Path(path).resolve().as_uri() + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=5, isolation_level=None)
        try:
            db = sqlite_utils.Database(conn)
            known = {m.name for m in migrations.pending(sqlite_utils.Database(memory=True))}
            pending = [m.name for m in migrations.pending(db)]
            unknown = [m.name for m in migrations.applied(db) if m.name not in known]
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                writable = True
            except sqlite3.OperationalError as exc:
                if "readonly" not in str(exc) and "read-only" not in str(exc):
                    raise
                writable = False
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"DATABASE_PATH {path} cannot be read as a SQLite database ({exc})") from None
    return SchemaStatus(pending, unknown, writable)

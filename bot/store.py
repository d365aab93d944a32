"""The job store: the only module that touches SQLite (with `bot.schema`, its migrations).

One row per job, written before the create call so a crash in between is visible after a
restart. State changes are compare-and-set (`transition`), which is how two concurrent paths
(a poll and a Cancel click, say) can never both deliver or both finish a job.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError

from bot.errors import StoreError
from bot.guild_settings import GuildSettings
from bot.jobs import ALLOWED, FINAL, RESERVING, STATE_TIMESTAMP, Job, JobState, to_row
from bot.schema import connect


class Store:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    @classmethod
    def open(cls, path: Path | str, *, busy_timeout_ms: int = 5000) -> Store:
        return cls(connect(path, busy_timeout_ms=busy_timeout_ms))

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

    @contextmanager
    def _reading(self) -> Iterator[sqlite_utils.Database]:
        # A locked or vanished database is an expected failure for readers too: members get
        # the StoreError message instead of a traceback.
        try:
            yield self.db
        except sqlite3.OperationalError as exc:
            raise StoreError(f"The job database is unavailable ({exc}).") from None

    def _jobs(
        self, where: str, params: list[Any], *, order_by: str = "id", limit: int | None = None
    ) -> list[Job]:
        with self._reading() as db:
            rows = db.table("jobs").rows_where(where, params, order_by=order_by, limit=limit)
            return [Job.from_row(r) for r in rows]

    # --- jobs ---------------------------------------------------------------------------------

    def add_job(
        self,
        *,
        state: JobState = JobState.SUBMITTING,
        now: float | None = None,
        check: Callable[[], None] | None = None,
        **fields: Any,
    ) -> Job:
        """Insert a job with `fields` (the Job's columns; channel_id, user_id, prompt, model and
        the shape are required by the schema). `check` runs inside the same write transaction,
        before the insert, and may raise to refuse it: counting and inserting together is what
        keeps a quota exact when several commands arrive at once."""
        now = time.time() if now is None else now
        row = to_row({**fields, "state": state, "created_at": now, "updated_at": now})
        if state in STATE_TIMESTAMP:
            row[STATE_TIMESTAMP[state]] = now
        with self._writing() as db:
            if check is not None:
                check()
            pk = db.table("jobs").insert(row).last_pk
            assert pk is not None
            job_id = int(pk)
            self._event(db, job_id, None, state, now, "created")
        return self.require(job_id)

    def get(self, job_id: int) -> Job | None:
        with self._reading() as db:
            try:
                return Job.from_row(db.table("jobs").get(job_id))
            except NotFoundError:
                return None

    def require(self, job_id: int) -> Job:
        job = self.get(job_id)
        if job is None:
            raise StoreError(f"Job {job_id} is not in the database.")
        return job

    def get_by_task(self, task_id: str) -> Job | None:
        found = self._jobs("task_id = ?", [task_id], limit=1)
        return found[0] if found else None

    def update(self, job_id: int, **changes: Any) -> Job:
        if "state" in changes:
            raise TypeError("use transition() to change a job's state")
        row = to_row(changes)
        row["updated_at"] = time.time()
        with self._writing() as db:
            db.table("jobs").update(job_id, row)
        return self.require(job_id)

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
            current = self._state(db, job_id)
            if current is None:
                return None
            allowed = set(expect) if expect is not None else {s for s, nxt in ALLOWED.items() if to in nxt}
            if current not in allowed or to not in ALLOWED[current]:
                return None
            row = to_row(changes)
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
        job = self.update(job_id, **changes)
        # The old token also sits in the write-ahead log until a checkpoint copies the pages
        # back and truncates it; do that now (cheap: one job's pages) rather than someday.
        with self._reading() as db, contextlib.suppress(sqlite3.OperationalError):
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return job

    def jobs_between(self, guild_id: int, start: float, end: float, *, limit: int = 50_000) -> list[Job]:
        """A server's jobs requested in [start, end), oldest first (for /video-admin report)."""
        where = "guild_id = ? and created_at >= ? and created_at < ?"
        return self._jobs(where, [guild_id, start, end], limit=limit)

    def count_by_state(self) -> list[tuple[str, int | None, int]]:
        """(state, guild id, jobs) for every pair that has jobs (the metrics gauge)."""
        sql = "select state, guild_id, count(*) as n from jobs group by state, guild_id"
        with self._reading() as db:
            return [(r["state"], r["guild_id"], r["n"]) for r in db.query(sql)]

    def note(self, job_id: int, detail: str) -> None:
        """Record something that happened to a job without changing its state (e.g. deleted)."""
        with self._writing() as db:
            state = self._state(db, job_id)
            if state is not None:
                self._event(db, job_id, state, state, time.time(), detail)

    # --- queries --------------------------------------------------------------------------------

    def unfinished(self) -> list[Job]:
        where, params = _in_states("state not in", FINAL)
        return self._jobs(f"{where} or notified_at is null", params)

    def jobs_for_user(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Job]:
        where, params = "user_id = ?", [user_id]
        if guild_id is not None:
            where, params = where + " and guild_id = ?", [*params, guild_id]
        return self._jobs(where, params, order_by="id desc", limit=limit)

    def jobs_for_guild(
        self, guild_id: int, *, states: Iterable[JobState] | None = None, limit: int = 50
    ) -> list[Job]:
        where, params = _and_states("guild_id = ?", [guild_id], states)
        return self._jobs(where, params, order_by="id desc", limit=limit)

    def count_jobs(
        self,
        *,
        since: float = 0,
        user_id: int | None = None,
        guild_id: int | None = None,
        states: Iterable[JobState] | None = None,
    ) -> int:
        where, params = "created_at >= ?", [since]
        if user_id is not None:
            where, params = where + " and user_id = ?", [*params, user_id]
        if guild_id is not None:
            where, params = where + " and guild_id = ?", [*params, guild_id]
        where, params = _and_states(where, params, states)
        with self._reading() as db:
            return db.table("jobs").count_where(where, params)

    def quota_usage(self, *, guild_id: int, user_id: int, since: float) -> tuple[int, int]:
        """(the member's, the server's) jobs created since `since` that use quota: accepted
        upstream, or still on their way. One query over the (guild_id, created_at) index."""
        reserving, params = _in_states("state in", RESERVING)
        sql = (
            "select count(*) as server, coalesce(sum(user_id = ?), 0) as member from jobs "
            f"where guild_id = ? and created_at >= ? and (task_id is not null or {reserving})"
        )
        row = self._one(sql, [user_id, guild_id, since, *params])
        return row["member"], row["server"]

    def user_scope_usage(self, user_id: int, since: float) -> tuple[int, float | None]:
        """(jobs counting toward the user quota since `since`, when the last one was asked):
        the user's jobs outside servers that added the bot, counted as `quota_usage` does."""
        reserving, params = _in_states("state in", RESERVING)
        sql = (
            "select count(*) as n, max(created_at) as last from jobs where user_id = ? and scope != 'guild' "
            f"and created_at >= ? and (task_id is not null or {reserving})"
        )
        row = self._one(sql, [user_id, since, *params])
        return row["n"], row["last"]

    def last_job_at(self, *, guild_id: int, user_id: int) -> float | None:
        """When the member last started a job here (rejected ones aside), for the cooldown."""
        sql = "select max(created_at) as at from jobs where guild_id = ? and user_id = ? and state != ?"
        return self._one(sql, [guild_id, user_id, JobState.REJECTED.value])["at"]

    def typical_duration(self, model: str, *, samples: int = 20) -> float | None:
        """How long this model's recent jobs took at the relay (median seconds from sending to
        the video being ready), or None with fewer than 3 to go by."""
        sql = (
            "select succeeded_at - submitted_at as took from jobs where model = ? and "
            "succeeded_at is not null and submitted_at is not null order by id desc limit ?"
        )
        with self._reading() as db:
            took = sorted(r["took"] for r in db.query(sql, [model, samples]))
        return took[len(took) // 2] if len(took) >= 3 else None

    def waiting(self) -> list[Job]:
        """Jobs waiting for a slot at the relay, first come first served."""
        return self._jobs("state = ?", [JobState.PENDING.value])

    def queue_position(self, job_id: int) -> int:
        """1 for the next job to be sent; 0 when the job is not waiting."""
        sql = (
            "select count(*) as n from jobs where state = ? and id <= ? and exists "
            "(select 1 from jobs j where j.id = ? and j.state = ?)"
        )
        pending = JobState.PENDING.value
        return self._one(sql, [pending, job_id, job_id, pending])["n"]

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
        return self._jobs("parent_id = ?", [job_id], limit=limit)

    # --- per-server settings (stored as the JSON of bot.guild_settings) --------------------------

    def guild_rules(self, guild_id: int | None) -> GuildSettings:
        """A server's settings; the defaults for a server that changed nothing (or no server)."""
        if guild_id is None:
            return GuildSettings()
        with self._reading() as db:
            try:
                data = db.table("guild_settings").get(guild_id)["data"]
            except NotFoundError:
                data = None
        return GuildSettings.from_json(data)

    def set_guild_rules(self, guild_id: int, rules: GuildSettings, *, by: int) -> None:
        with self._writing() as db:
            db.table("guild_settings").upsert(
                {"guild_id": guild_id, "data": rules.to_json(), "updated_at": time.time(), "updated_by": by},
                pk="guild_id",
            )

    # --- a member's own choices -----------------------------------------------------------------

    def notify_pref(self, user_id: int) -> str:
        """How the member wants to hear that a job ended: mention (the default), dm or off."""
        with self._reading() as db:
            try:
                return str(db.table("member_prefs").get(user_id)["notify"])
            except NotFoundError:
                return "mention"

    def set_notify_pref(self, user_id: int, notify: str) -> None:
        with self._writing() as db:
            db.table("member_prefs").upsert(
                {"user_id": user_id, "notify": notify, "updated_at": time.time()}, pk="user_id"
            )

    # --- small key/value facts (e.g. the hash of the last synced command set) -----------------

    def get_meta(self, key: str) -> str | None:
        with self._reading() as db:
            try:
                return db.table("meta").get(key)["value"]
            except NotFoundError:
                return None

    def set_meta(self, key: str, value: str) -> None:
        with self._writing() as db:
            db.table("meta").upsert({"key": key, "value": value}, pk="key")

    # --- helpers ----------------------------------------------------------------------------------

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any]:
        """The one row of an aggregate query."""
        with self._reading() as db:
            return next(db.query(sql, params))

    @staticmethod
    def _state(db: sqlite_utils.Database, job_id: int) -> JobState | None:
        row = db.execute("select state from jobs where id = ?", [job_id]).fetchone()
        return JobState(row[0]) if row else None

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


def _in_states(prefix: str, states: Iterable[JobState]) -> tuple[str, list[str]]:
    values = sorted(JobState(s).value for s in states)
    return f"{prefix} ({','.join('?' * len(values))})", values


def _and_states(where: str, params: list[Any], states: Iterable[JobState] | None) -> tuple[str, list[Any]]:
    if states is None:
        return where, params
    clause, values = _in_states("state in", states)
    return f"{where} and {clause}", [*params, *values]

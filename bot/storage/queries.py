"""The store's read-only job queries: listings, counts and aggregates over the jobs table.

A mixin of both backends (`bot.storage.store.Store` on SQLite, `bot.storage.postgres.PostgresStore`),
kept apart so each store module holds its writes and their transaction rules. Everything here is
written once, in SQL both databases understand (`?` placeholders, which the PostgreSQL store
renumbers), on top of four primitives each backend provides: `_jobs`, `_one`, `_rows` and `get`.
A database that cannot answer is a `StoreError` from those, so here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.jobs.model import FINAL, RESERVING, Job, JobState

# The note the Delete button leaves on a job (`Store.note`): its message is gone for everyone.
DELETED_NOTE = "message deleted by"


class JobQueries:
    # --- what each backend provides ---------------------------------------------------------------

    async def _jobs(
        self, where: str, params: list[Any], *, order_by: str = "id", limit: int | None = None
    ) -> list[Job]:
        """The jobs matching `where` (with `?` placeholders for `params`), in that order."""
        raise NotImplementedError

    async def _one(self, sql: str, params: list[Any]) -> dict[str, Any]:
        """The one row of an aggregate query, by column name."""
        raise NotImplementedError

    async def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        """Every row of a query, by column name."""
        raise NotImplementedError

    async def get(self, job_id: int) -> Job | None:
        raise NotImplementedError

    # --- queries --------------------------------------------------------------------------------

    async def jobs_between(
        self, guild_id: int, start: float, end: float, *, limit: int = 50_000
    ) -> list[Job]:
        """A server's jobs requested in [start, end), oldest first (for /video-admin report)."""
        where = "guild_id = ? and created_at >= ? and created_at < ?"
        return await self._jobs(where, [guild_id, start, end], limit=limit)

    async def count_by_state(self) -> list[tuple[str, int | None, int]]:
        """(state, guild id, jobs) for every pair that has jobs (the metrics gauge)."""
        sql = "select state, guild_id, count(*) as n from jobs group by state, guild_id"
        return [(r["state"], r["guild_id"], r["n"]) for r in await self._rows(sql, [])]

    async def unfinished(self) -> list[Job]:
        where, params = in_states("state not in", FINAL)
        return await self._jobs(f"{where} or notified_at is null", params)

    async def count_unfinished(self) -> int:
        """How many jobs `unfinished` would return, without reading them (the heartbeat)."""
        where, params = in_states("state not in", FINAL)
        return (
            await self._one(f"select count(*) as n from jobs where {where} or notified_at is null", params)
        )["n"]

    async def jobs_for_user(self, user_id: int, *, guild_id: int | None = None, limit: int = 10) -> list[Job]:
        where, params = "user_id = ?", [user_id]
        if guild_id is not None:
            where, params = where + " and guild_id = ?", [*params, guild_id]
        return await self._jobs(where, params, order_by="id desc", limit=limit)

    async def jobs_for_guild(
        self, guild_id: int, *, states: Iterable[JobState] | None = None, limit: int = 50
    ) -> list[Job]:
        where, params = _and_states("guild_id = ?", [guild_id], states)
        return await self._jobs(where, params, order_by="id desc", limit=limit)

    async def count_jobs(
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
        return int((await self._one(f"select count(*) as n from jobs where {where}", params))["n"])

    async def quota_usage(self, *, guild_id: int, user_id: int, since: float) -> tuple[int, int]:
        """(the member's, the server's) jobs created since `since` that use quota: accepted
        upstream, or still on their way. One query over the (guild_id, created_at) index."""
        reserving, params = in_states("state in", RESERVING)
        sql = (
            "select count(*) as server, "
            "coalesce(sum(case when user_id = ? then 1 else 0 end), 0) as member from jobs "
            f"where guild_id = ? and created_at >= ? and (task_id is not null or {reserving})"
        )
        row = await self._one(sql, [user_id, guild_id, since, *params])
        return row["member"], row["server"]

    async def spend(
        self, *, since: float, guild_id: int | None = None, user_id: int | None = None, outside: bool = False
    ) -> int:
        """What the jobs created since `since` cost (micros), counted as `quota_usage` counts: accepted
        upstream, or still on their way. A server's (`guild_id`), a member's (`user_id`), the
        member's outside servers that added the bot (`outside`), or the whole bot's."""
        reserving, params = in_states("state in", RESERVING)
        where, values = f"created_at >= ? and (task_id is not null or {reserving})", [since, *params]
        if guild_id is not None:
            where, values = where + " and guild_id = ?", [*values, guild_id]
        if user_id is not None:
            where, values = where + " and user_id = ?", [*values, user_id]
        if outside:
            where += " and scope != 'guild'"
        sql = f"select coalesce(sum(price_micros), 0) as n from jobs where {where}"
        return int((await self._one(sql, values))["n"])

    async def user_scope_usage(self, user_id: int, since: float) -> tuple[int, float | None]:
        """(jobs counting toward the user quota since `since`, when the last one was asked):
        the user's jobs outside servers that added the bot, counted as `quota_usage` does."""
        reserving, params = in_states("state in", RESERVING)
        sql = (
            "select count(*) as n, max(created_at) as last from jobs where user_id = ? and scope != 'guild' "
            f"and created_at >= ? and (task_id is not null or {reserving})"
        )
        row = await self._one(sql, [user_id, since, *params])
        return row["n"], row["last"]

    async def last_job_at(self, *, guild_id: int, user_id: int) -> float | None:
        """When the member last started a job here (rejected ones aside), for the cooldown."""
        sql = "select max(created_at) as at from jobs where guild_id = ? and user_id = ? and state != ?"
        return (await self._one(sql, [guild_id, user_id, JobState.REJECTED.value]))["at"]

    async def typical_duration(self, model: str, *, samples: int = 20) -> float | None:
        """How long this model's recent jobs took at the relay (median seconds from sending to
        the video being ready), or None with fewer than 3 to go by."""
        sql = (
            "select succeeded_at - submitted_at as took from jobs where model = ? and "
            "succeeded_at is not null and submitted_at is not null order by id desc limit ?"
        )
        took = sorted(r["took"] for r in await self._rows(sql, [model, samples]))
        return took[len(took) // 2] if len(took) >= 3 else None

    async def waiting(self) -> list[Job]:
        """Jobs waiting for a slot at the relay, first come first served."""
        return await self._jobs("state = ?", [JobState.PENDING.value])

    async def queue_position(self, job_id: int) -> int:
        """1 for the next job to be sent; 0 when the job is not waiting."""
        sql = (
            "select count(*) as n from jobs where state = ? and id <= ? and exists "
            "(select 1 from jobs j where j.id = ? and j.state = ?)"
        )
        pending = JobState.PENDING.value
        return (await self._one(sql, [pending, job_id, job_id, pending]))["n"]

    async def lineage(self, job_id: int) -> list[Job]:
        """The job and its ancestors, newest first."""
        chain: list[Job] = []
        current = await self.get(job_id)
        while current is not None and len(chain) < 50:
            chain.append(current)
            current = await self.get(current.parent_id) if current.parent_id else None
        return chain

    async def children(self, job_id: int, *, limit: int = 25) -> list[Job]:
        """Jobs built directly on this one (rerolls, remixes, upscales), oldest first."""
        return await self._jobs("parent_id = ?", [job_id], limit=limit)

    async def deleted(self, job_ids: Iterable[int]) -> set[int]:
        """Those of `job_ids` whose message was deleted through the Delete button (the job row
        stays for history and quotas; a note in its events says the message went)."""
        ids = list(job_ids)
        if not ids:
            return set()
        sql = (
            f"select distinct job_id from job_events where job_id in ({','.join('?' * len(ids))}) "
            "and detail like ?"
        )
        return {int(row["job_id"]) for row in await self._rows(sql, [*ids, f"{DELETED_NOTE} %"])}


def in_states(prefix: str, states: Iterable[JobState]) -> tuple[str, list[str]]:
    values = sorted(JobState(s).value for s in states)
    return f"{prefix} ({','.join('?' * len(values))})", values


def _and_states(where: str, params: list[Any], states: Iterable[JobState] | None) -> tuple[str, list[Any]]:
    if states is None:
        return where, params
    clause, values = in_states("state in", states)
    return f"{where} and {clause}", [*params, *values]

"""The one store interface the tracker, intake, cogs and ops use, whatever the backend.

Two backends implement it: `bot.storage.store.Store` (SQLite at DATABASE_PATH, one process) and
`bot.storage.postgres.PostgresStore` (DATABASE_URL, shared by several processes). The read
queries are written once, in `JobQueries`, over four primitives each backend provides; the
writes are declared here and implemented by each backend with its own transactions. Callers
annotate `JobStore` and never learn which one they have.

What every implementation guarantees, and `tests/test_store_contract.py` checks on both:
- `transition` is a compare-and-set: a job moves only from a state `expect` (or the state
  machine) allows, and of two concurrent movers exactly one wins;
- `add_job(check=…)` runs `check` and the insert as one: no job admitted by another check,
  in this process or another, lands between them;
- `submit` is durable before it returns, so a create call leaves only for a recorded job;
- `claim_meta` sets a key once, whoever asks first.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Self

from bot.errors import StoreError
from bot.jobs.model import Job, JobState
from bot.rules.guild_settings import GuildSettings
from bot.rules.library import LibraryEntry
from bot.rules.styles import Style
from bot.storage.queries import JobQueries

# Jobs kept in memory for the writes' fast path, at most (the oldest go first; a job leaves as
# soon as it is over). Their rows decide: every write compares and sets.
LIVE_JOBS = 20_000


class JobStore(JobQueries):
    """Abstract: see the module docstring. Methods raise `StoreError` when the database is
    unreachable or locked, never the driver's own errors. What both backends do the same way
    over the primitives (keeping live jobs, `require`, `mark_notified`, …) is written here once."""

    _live: dict[int, Job]

    backend: str  # "sqlite" or "postgresql", for logs, --check and the benchmark
    # Statements sent to a database server (bench/burst.py reports them per job); SQLite has
    # no server and leaves it at 0.
    round_trips: int = 0
    # Whether a read suspends its caller (a database server) rather than answering in place (a
    # local file). A command in a burst then answers Discord before its checks read anything:
    # otherwise the read's answer queues behind the whole burst's work, and the ack with it.
    reads_wait: bool = False

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- jobs, the same on both backends ------------------------------------------------------

    def _keep(self, job: Job) -> Job:
        """Remember `job` as its row now stands; a job that is over (final and shown) is forgotten."""
        if job.state.final and job.notified_at is not None:
            self._live.pop(job.id, None)
            return job
        if job.id not in self._live and len(self._live) >= LIVE_JOBS:
            del self._live[next(iter(self._live))]
        self._live[job.id] = job
        return job

    async def unfinished(self) -> list[Job]:
        """Every job not over (what the tracker resumes at start-up), now also kept in memory:
        each is polled or shown again soon, and its first poll then needs no read."""
        return [self._keep(job) for job in await super().unfinished()]

    async def require(self, job_id: int) -> Job:
        job = await self.get(job_id)
        if job is None:
            raise StoreError(f"Job {job_id} is not in the database.")
        return job

    async def get_by_task(self, task_id: str) -> Job | None:
        found = await self._jobs("task_id = ?", [task_id], limit=1)
        return found[0] if found else None

    async def mark_notified(
        self, job_id: int, *, now: float | None = None, result_message_id: int | None = None
    ) -> Job:
        """The final state is shown in Discord: the interaction token is no longer needed, so drop it."""
        changes: dict[str, Any] = {
            "notified_at": time.time() if now is None else now,
            "interaction_token": None,
        }
        if result_message_id is not None:
            changes["result_message_id"] = result_message_id
        return await self.update(job_id, **changes)

    # --- jobs, each backend its own way ---------------------------------------------------------

    async def add_job(
        self,
        *,
        state: JobState = JobState.SUBMITTING,
        now: float | None = None,
        check: Callable[[], Awaitable[None]] | None = None,
        **fields: Any,
    ) -> Job:
        raise NotImplementedError

    async def update(self, job_id: int, **changes: Any) -> Job:
        raise NotImplementedError

    async def transition(
        self,
        job_id: int,
        to: JobState,
        *,
        expect: Iterable[JobState] | None = None,
        now: float | None = None,
        detail: str | None = None,
        **changes: Any,
    ) -> Job | None:
        raise NotImplementedError

    async def submit(self, job_ids: Iterable[int], *, now: float | None = None) -> list[Job]:
        raise NotImplementedError

    async def flush_checkpoint(self) -> None:
        raise NotImplementedError

    async def note(self, job_id: int, detail: str) -> None:
        raise NotImplementedError

    # --- server rules, members' choices, bot-wide values --------------------------------------

    async def guild_rules(self, guild_id: int | None) -> GuildSettings:
        raise NotImplementedError

    async def set_guild_rules(self, guild_id: int, rules: GuildSettings, *, by: int) -> None:
        raise NotImplementedError

    async def notify_pref(self, user_id: int) -> str:
        raise NotImplementedError

    async def set_notify_pref(self, user_id: int, notify: str) -> None:
        raise NotImplementedError

    async def get_meta(self, key: str) -> str | None:
        raise NotImplementedError

    async def set_meta(self, key: str, value: str) -> None:
        raise NotImplementedError

    async def claim_meta(self, key: str, value: str) -> bool:
        raise NotImplementedError

    # --- prompt libraries and server styles ---------------------------------------------------

    async def library_add(
        self, *, library: str, name: str, prompt: str, user_id: int, author_name: str, job_id: int | None
    ) -> LibraryEntry | None:
        raise NotImplementedError

    async def library_entry(self, library: str, name: str) -> LibraryEntry | None:
        raise NotImplementedError

    async def library_entries(
        self, library: str, *, typed: str = "", user_id: int | None = None, limit: int = 25
    ) -> list[LibraryEntry]:
        raise NotImplementedError

    async def library_rename(self, entry_id: int, name: str) -> bool:
        raise NotImplementedError

    async def library_remove(self, entry_id: int) -> None:
        raise NotImplementedError

    async def library_used(self, entry_id: int) -> None:
        raise NotImplementedError

    async def guild_styles(self, guild_id: int) -> list[tuple[str, Style | None]]:
        raise NotImplementedError

    async def set_guild_style(self, guild_id: int, key: str, style: Style | None, *, by: int) -> None:
        raise NotImplementedError

    # --- several processes --------------------------------------------------------------------

    async def claim_shards(self, shard_ids: Iterable[int], shard_count: int) -> None:
        """Make sure no other process runs these shards, for as long as this store is open;
        `StoreError` naming the conflict otherwise. One process on SQLite owns its file
        already (a second writer waits on SQLite's lock), so there it does nothing."""
        return None

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

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Self

from bot.jobs.model import Job, JobState
from bot.rules.guild_settings import GuildSettings
from bot.rules.library import LibraryEntry
from bot.rules.styles import Style
from bot.storage.queries import JobQueries


class JobStore(JobQueries):
    """Abstract: see the module docstring. Methods raise `StoreError` when the database is
    unreachable or locked, never the driver's own errors."""

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

    # --- jobs -------------------------------------------------------------------------------

    async def add_job(
        self,
        *,
        state: JobState = JobState.SUBMITTING,
        now: float | None = None,
        check: Callable[[], Awaitable[None]] | None = None,
        **fields: Any,
    ) -> Job:
        raise NotImplementedError

    async def require(self, job_id: int) -> Job:
        raise NotImplementedError

    async def get_by_task(self, task_id: str) -> Job | None:
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

    async def mark_notified(
        self, job_id: int, *, now: float | None = None, result_message_id: int | None = None
    ) -> Job:
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

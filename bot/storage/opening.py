"""Which store a process uses: PostgreSQL when DATABASE_URL is set (shared by several
processes), else SQLite at DATABASE_PATH, exactly as a single process always has."""

from __future__ import annotations

from bot.settings import Settings
from bot.storage.interface import JobStore
from bot.storage.store import Store


async def open_store(settings: Settings) -> JobStore:
    if settings.database_url:
        # Imported here: a bot on SQLite never loads PostgreSQL's driver (14 MiB resident).
        from bot.storage.postgres import PostgresStore

        return await PostgresStore.open(settings.database_url)
    return Store.open(settings.database_path)

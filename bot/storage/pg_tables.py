"""The PostgreSQL store's settings and library tables: server rules and members' notification
choices (cached, and dropped in every process when one writes them), the bot's own values,
prompt libraries and server styles. The SQLite counterparts are `bot.storage.settings_tables`
and `bot.storage.library_tables`, whose queries are reused here where the SQL is the same."""

from __future__ import annotations

import time

import asyncpg

from bot.rules.guild_settings import GuildSettings
from bot.rules.library import LibraryEntry
from bot.rules.styles import Style
from bot.storage.library_tables import ENTRY, entries_query
from bot.storage.pg_connection import PgConnection, pg_sql
from bot.storage.settings_tables import PREFS_KEPT


class PgTables(PgConnection):
    async def guild_rules(self, guild_id: int | None) -> GuildSettings:
        if guild_id is None:
            return GuildSettings()
        rules = self._rules.get(guild_id)
        if rules is None:
            data = await self._fetchval("select data from guild_settings where guild_id = $1", guild_id)
            rules = GuildSettings.from_json(data)
            if self._caching():
                self._rules[guild_id] = rules
        return rules

    async def set_guild_rules(self, guild_id: int, rules: GuildSettings, *, by: int) -> None:
        self._rules.pop(guild_id, None)
        data = rules.to_json()
        async with self._transaction():
            await self._execute(
                "insert into guild_settings (guild_id, data, updated_at, updated_by) values ($1, $2, $3, $4) "
                "on conflict (guild_id) do update set data = excluded.data, "
                "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                guild_id,
                data,
                time.time(),
                by,
            )
            await self._tell_others("rules", guild_id)

    async def notify_pref(self, user_id: int) -> str:
        pref = self._prefs.get(user_id)
        if pref is None:
            chosen = await self._fetchval("select notify from member_prefs where user_id = $1", user_id)
            pref = str(chosen) if chosen is not None else "mention"
            if self._caching():
                if len(self._prefs) >= PREFS_KEPT:
                    self._prefs.clear()
                self._prefs[user_id] = pref
        return pref

    async def set_notify_pref(self, user_id: int, notify: str) -> None:
        self._prefs.pop(user_id, None)
        async with self._transaction():
            await self._execute(
                "insert into member_prefs (user_id, notify, updated_at) values ($1, $2, $3) "
                "on conflict (user_id) do update set notify = excluded.notify, "
                "updated_at = excluded.updated_at",
                user_id,
                notify,
                time.time(),
            )
            await self._tell_others("prefs", user_id)

    async def get_meta(self, key: str) -> str | None:
        value = await self._fetchval("select value from meta where key = $1", key)
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        await self._execute(
            "insert into meta (key, value) values ($1, $2) "
            "on conflict (key) do update set value = excluded.value",
            key,
            value,
        )

    async def claim_meta(self, key: str, value: str) -> bool:
        done = await self._fetchval(
            "insert into meta (key, value) values ($1, $2) on conflict (key) do nothing returning key",
            key,
            value,
        )
        return done is not None

    # --- library and styles ---------------------------------------------------------------------

    async def library_add(
        self, *, library: str, name: str, prompt: str, user_id: int, author_name: str, job_id: int | None
    ) -> LibraryEntry | None:
        now = time.time()
        entry_id = await self._fetchval(
            "insert into library (library, name, name_key, prompt, user_id, author_name, job_id, uses, "
            "created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8) "
            "on conflict (library, name_key) do nothing returning id",
            library,
            name,
            name.casefold(),
            prompt,
            user_id,
            author_name,
            job_id,
            now,
        )
        if entry_id is None:
            return None
        return LibraryEntry(int(entry_id), library, name, prompt, user_id, author_name, job_id, 0, now)

    async def library_entry(self, library: str, name: str) -> LibraryEntry | None:
        row = await self._fetchrow(
            f"select {ENTRY} from library where library = $1 and name_key = $2", library, name.casefold()
        )
        return LibraryEntry(*row.values()) if row else None

    async def library_entries(
        self, library: str, *, typed: str = "", user_id: int | None = None, limit: int = 25
    ) -> list[LibraryEntry]:
        sql, params = entries_query(library, typed, user_id, limit)
        rows = await self._fetch(pg_sql(sql), *params)
        return [LibraryEntry(*r.values()) for r in rows]

    async def library_rename(self, entry_id: int, name: str) -> bool:
        try:
            await self._execute(
                "update library set name = $1, name_key = $2, updated_at = $3 where id = $4",
                name,
                name.casefold(),
                time.time(),
                entry_id,
            )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def library_remove(self, entry_id: int) -> None:
        await self._execute("delete from library where id = $1", entry_id)

    async def library_used(self, entry_id: int) -> None:
        await self._execute("update library set uses = uses + 1 where id = $1", entry_id)

    async def guild_styles(self, guild_id: int) -> list[tuple[str, Style | None]]:
        rows = await self._fetch(
            "select name_key, name, text, model, shape, duration, removed "
            "from guild_styles where guild_id = $1",
            guild_id,
        )
        return [(r[0], None if r[6] else Style(r[1], r[2], r[3], r[4], r[5])) for r in rows]

    async def set_guild_style(self, guild_id: int, key: str, style: Style | None, *, by: int) -> None:
        s = style or Style(key, "")
        await self._execute(
            "insert into guild_styles (guild_id, name_key, name, text, model, shape, duration, removed, "
            "updated_at, updated_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            "on conflict (guild_id, name_key) do update set name = excluded.name, text = excluded.text, "
            "model = excluded.model, shape = excluded.shape, duration = excluded.duration, "
            "removed = excluded.removed, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            guild_id,
            key,
            s.name,
            s.text,
            s.model,
            s.shape,
            s.duration,
            int(style is None),
            time.time(),
            by,
        )

"""The store's library and styles tables: each library's saved prompts (`bot.rules.library`) and
what each server changed of the shipped styles (`bot.rules.styles`). A mixin of
`bot.storage.store.Store`; read when a member types, so on the bare connection."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from bot.rules.library import LibraryEntry
from bot.rules.styles import Style
from bot.storage.schema import sqlite_errors

# A library entry's columns, in `LibraryEntry`'s order (both backends read them so).
ENTRY = "id, library, name, prompt, user_id, author_name, job_id, uses, created_at"


def entries_query(library: str, typed: str, user_id: int | None, limit: int) -> tuple[str, list[Any]]:
    """`library_entries`' query, in the SQL both backends understand: most used first (then by
    name); `typed` narrows to names or prompts containing it, as typed (no wildcards)."""
    where = "library = ?"
    params: list[Any] = [library]
    if typed:
        where += " and (name_key like ? escape '\\' or prompt like ? escape '\\')"
        pattern = "%" + typed.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern, pattern]
    if user_id is not None:
        where += " and user_id = ?"
        params.append(user_id)
    sql = f"select {ENTRY} from library where {where} order by uses desc, name_key limit ?"
    return sql, [*params, limit]


def _entry(row: tuple[Any, ...]) -> LibraryEntry:
    return LibraryEntry(*row)


class LibraryTables:
    conn: sqlite3.Connection

    def _run(self, sql: str, params: list[Any]) -> sqlite3.Cursor:
        with sqlite_errors():
            return self.conn.execute(sql, params)

    async def library_add(
        self, *, library: str, name: str, prompt: str, user_id: int, author_name: str, job_id: int | None
    ) -> LibraryEntry | None:
        """The new entry; None when the library has one of that name already (any case)."""
        now = time.time()
        try:
            cursor = self._run(
                "insert into library (library, name, name_key, prompt, user_id, author_name, job_id, "
                "uses, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                [library, name, name.casefold(), prompt, user_id, author_name, job_id, now, now],
            )
        except sqlite3.IntegrityError:
            return None
        assert cursor.lastrowid is not None
        return LibraryEntry(cursor.lastrowid, library, name, prompt, user_id, author_name, job_id, 0, now)

    async def library_entry(self, library: str, name: str) -> LibraryEntry | None:
        row = self._run(
            f"select {ENTRY} from library where library = ? and name_key = ?", [library, name.casefold()]
        ).fetchone()
        return _entry(row) if row else None

    async def library_entries(
        self, library: str, *, typed: str = "", user_id: int | None = None, limit: int = 25
    ) -> list[LibraryEntry]:
        sql, params = entries_query(library, typed, user_id, limit)
        rows = self._run(sql, params).fetchall()
        return [_entry(r) for r in rows]

    async def library_rename(self, entry_id: int, name: str) -> bool:
        """False when the library has another entry of that name."""
        try:
            self._run(
                "update library set name = ?, name_key = ?, updated_at = ? where id = ?",
                [name, name.casefold(), time.time(), entry_id],
            )
        except sqlite3.IntegrityError:
            return False
        return True

    async def library_remove(self, entry_id: int) -> None:
        self._run("delete from library where id = ?", [entry_id])

    async def library_used(self, entry_id: int) -> None:
        self._run("update library set uses = uses + 1 where id = ?", [entry_id])

    # --- a server's styles ------------------------------------------------------------------------

    async def guild_styles(self, guild_id: int) -> list[tuple[str, Style | None]]:
        """What the server changed, by name key: its style, or None for a shipped one it removed."""
        rows = self._run(
            "select name_key, name, text, model, shape, duration, removed from guild_styles "
            "where guild_id = ?",
            [guild_id],
        ).fetchall()
        return [(r[0], None if r[6] else Style(r[1], r[2], r[3], r[4], r[5])) for r in rows]

    async def set_guild_style(self, guild_id: int, key: str, style: Style | None, *, by: int) -> None:
        """Write the server's `style` under `key`, or (None) mark it removed: a shipped style
        stays removed rather than coming back from the defaults."""
        s = style or Style(key, "")
        self._run(
            "insert or replace into guild_styles (guild_id, name_key, name, text, model, shape, duration, "
            "removed, updated_at, updated_by) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
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
            ],
        )

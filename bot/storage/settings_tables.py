"""The store's small tables: each server's settings, each member's own choices, and key/value
facts about the bot itself (the hash of the last synced command set).

A mixin of `bot.storage.store.Store`. Server rules and notification choices are read on every command
and every render, so they are kept in memory after the first read and replaced when the bot
writes them (it is its database's only writer while it runs).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlite_utils

from bot.rules.guild_settings import GuildSettings
from bot.storage.schema import sqlite_errors

# Members' notification choices kept in memory at most (all dropped when full).
PREFS_KEPT = 10_000


class SettingsTables:
    db: sqlite_utils.Database
    conn: sqlite3.Connection
    _rules: dict[int, GuildSettings]
    _prefs: dict[int, str]

    @contextmanager
    def _writing(self) -> Iterator[sqlite_utils.Database]:
        with sqlite_errors(), self.db.atomic():
            yield self.db

    def _value(self, sql: str, key: object) -> Any:
        """The first column of the one row `sql` finds for `key`, or None (on the bare
        connection: these run on every command and render)."""
        with sqlite_errors():
            row = self.conn.execute(sql, [key]).fetchone()
        return row[0] if row else None

    # --- per-server settings (stored as the JSON of bot.rules.guild_settings) --------------------------

    async def guild_rules(self, guild_id: int | None) -> GuildSettings:
        """A server's settings; the defaults for a server that changed nothing (or no server)."""
        if guild_id is None:
            return GuildSettings()
        rules = self._rules.get(guild_id)
        if rules is None:
            data = self._value("select data from guild_settings where guild_id = ?", guild_id)
            rules = self._rules[guild_id] = GuildSettings.from_json(data)
        return rules

    async def set_guild_rules(self, guild_id: int, rules: GuildSettings, *, by: int) -> None:
        self._rules.pop(guild_id, None)
        data = rules.to_json()
        with self._writing() as db:
            db.table("guild_settings").upsert(
                {"guild_id": guild_id, "data": data, "updated_at": time.time(), "updated_by": by},
                pk="guild_id",
            )
        self._rules[guild_id] = GuildSettings.from_json(data)  # exactly what a read gives

    # --- a member's own choices -----------------------------------------------------------------

    async def notify_pref(self, user_id: int) -> str:
        """How the member wants to hear that a job ended: mention (the default), dm or off."""
        pref = self._prefs.get(user_id)
        if pref is None:
            chosen = self._value("select notify from member_prefs where user_id = ?", user_id)
            if len(self._prefs) >= PREFS_KEPT:
                self._prefs.clear()
            pref = self._prefs[user_id] = str(chosen) if chosen is not None else "mention"
        return pref

    async def set_notify_pref(self, user_id: int, notify: str) -> None:
        self._prefs.pop(user_id, None)
        with self._writing() as db:
            db.table("member_prefs").upsert(
                {"user_id": user_id, "notify": notify, "updated_at": time.time()}, pk="user_id"
            )
        self._prefs[user_id] = notify

    # --- small key/value facts ------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        value = self._value("select value from meta where key = ?", key)
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        with self._writing() as db:
            db.table("meta").upsert({"key": key, "value": value}, pk="key")

    async def claim_meta(self, key: str, value: str) -> bool:
        """Set `key` if it is not set yet; whether this call set it. What makes a once-a-month
        warning go out once even when several jobs cross the line together."""
        with sqlite_errors(), self.db.atomic():
            cursor = self.conn.execute("insert or ignore into meta (key, value) values (?, ?)", [key, value])
        return cursor.rowcount > 0

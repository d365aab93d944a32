"""The online backup: consistent while the bot writes, never replacing a file by accident."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.errors import BackupError
from bot.jobs.model import JobState
from bot.storage.backup import backup
from bot.storage.store import Store

REPO = Path(__file__).resolve().parents[1]


async def add(store: Store, n: int) -> None:
    for i in range(n):
        await store.add_job(
            channel_id=1,
            user_id=2,
            prompt=f"prompt {i} " + "x" * 400,  # some bulk, so the copy takes a while
            model="veo3.1-fast",
            shape="landscape",
            size="1280x720",
            duration=8,
            aspect_ratio="16:9",
            guild_id=3,
            state=JobState.PENDING,
        )


async def test_backup_while_another_thread_writes(tmp_path):
    live = tmp_path / "bot.db"
    async with Store.open(live) as store:
        await add(store, 3000)
    stop = threading.Event()
    written_during = []

    async def write() -> None:
        # Its own connection, like the running bot: the backup must not block it.
        async with Store.open(live) as store:
            while not stop.is_set():
                await add(store, 1)
                written_during.append(1)

    def writer() -> None:
        asyncio.run(write())  # the thread's own event loop, as the bot's process has

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written_during) < 20:  # the writer is going
            threading.Event().wait(0.01)
        with sqlite3.connect(live) as db:
            committed_before = db.execute("select max(id) from jobs").fetchone()[0]
        db.close()
        writes_before = len(written_during)
        result = backup(live, tmp_path / "copy.db")
        writes_after = len(written_during)
    finally:
        stop.set()
        thread.join(10)

    assert writes_after > writes_before, "the writer was blocked while the backup ran"
    copy = sqlite3.connect(result.path)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [row[0] for row in copy.execute("select id from jobs order by id")]
        # Every row committed before the backup started, and a consistent moment: no holes.
        assert ids[:committed_before] == list(range(1, committed_before + 1))
        assert ids == list(range(1, len(ids) + 1))
        assert result.jobs == len(ids)
        # Each job's creation event is there too: the two tables come from the same moment.
        events = copy.execute("select count(distinct job_id) from job_events").fetchone()[0]
        assert events == len(ids)
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        copy.close()
    assert not (tmp_path / "copy.db-wal").exists()
    assert not list(tmp_path.glob("*.partial"))


async def test_refuses_to_replace_an_existing_file_unless_forced(tmp_path):
    live = tmp_path / "bot.db"
    async with Store.open(live) as store:
        await add(store, 2)
    dest = tmp_path / "backup.db"
    dest.write_bytes(b"yesterday's backup")
    with pytest.raises(BackupError, match="already exists"):
        backup(live, dest)
    assert dest.read_bytes() == b"yesterday's backup"
    assert backup(live, dest, overwrite=True).jobs == 2


def test_a_missing_database_is_not_created(tmp_path):
    with pytest.raises(BackupError, match="no database"):
        backup(tmp_path / "nothing.db", tmp_path / "copy.db")
    assert not (tmp_path / "nothing.db").exists()
    assert not (tmp_path / "copy.db").exists()


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "VIDEO_", "DATABASE_"))}
    env.update(
        PYTHONPATH=str(REPO),
        DISCORD_TOKEN="unused-token",
        VIDEO_API_KEY="unused-key",
        DATABASE_PATH=str(tmp_path / "bot.db"),
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "backup", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_command_line(tmp_path):
    async with Store.open(tmp_path / "bot.db") as store:
        await add(store, 5)
    done = _cli(tmp_path, "first.db")
    assert done.returncode == 0, done.stderr
    assert "backed up 5 jobs" in done.stdout
    again = _cli(tmp_path, "first.db")
    assert again.returncode == 1
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert _cli(tmp_path, "first.db", "--force").returncode == 0

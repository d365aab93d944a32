"""`python -m bot backup PATH`: a consistent copy of the live job database.

Copying the file with `cp` while the bot runs can tear a page or miss what still sits in the
`-wal` file. SQLite's online backup API reads the database inside one read transaction, so the
copy is exactly the database as of one moment, and in WAL mode the bot keeps writing meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.errors import BackupError


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    jobs: int


def backup(src: Path | str, dest: Path | str, *, overwrite: bool = False) -> BackupResult:
    """Copy the database at `src` to `dest`, a single self-contained file.

    An existing `dest` is refused unless `overwrite`: a backup must never silently replace the
    previous good one. The copy is written next to `dest` and renamed into place once
    complete, so an interrupted backup never looks like a finished one.
    """
    src, dest = Path(src), Path(dest)
    if not src.is_file():
        raise BackupError(f"there is no database at {src} (DATABASE_PATH) to back up")
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} already exists; choose a new name, or pass --force to replace it")
    if dest.exists() and dest.resolve() == src.resolve():
        raise BackupError(f"{dest} is the live database itself")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a directory")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # "rw", not "rwc": never create an empty database where the live one should be.
        source = sqlite3.connect(src.resolve().as_uri() + "?mode=rw", uri=True, timeout=30)
        try:
            target = sqlite3.connect(partial)
            try:
                # pages=-1 (all at once) copies inside one read transaction: one consistent moment.
                source.backup(target, pages=-1)
                # The copy is a plain rollback-journal file, so it is complete without a -wal beside it.
                target.execute("PRAGMA journal_mode = DELETE")
                check = target.execute("PRAGMA quick_check").fetchone()
                if not check or check[0] != "ok":
                    said = check[0] if check else "no answer"
                    raise BackupError(f"the copy failed its integrity check ({said})")
                jobs = _count_jobs(target)
            finally:
                target.close()
        finally:
            source.close()
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise BackupError(f"the backup failed: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return BackupResult(dest, dest.stat().st_size, jobs)


def _count_jobs(db: sqlite3.Connection) -> int:
    try:
        return int(db.execute("select count(*) from jobs").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # a database the bot has not set up yet has no jobs table

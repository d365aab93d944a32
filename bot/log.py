"""Logging, configured once: to stdout (containers collect it), secrets redacted.

`LOG_FORMAT=text` writes readable lines; `LOG_FORMAT=json` one JSON object per line for log
collectors, with `job_id`, `guild_id` and `task_id` as their own fields when a log call passes
them (`extra=job_fields(job)`), so one job's lines can be found without parsing messages.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.relay.redact import Redactor


class RedactSecrets(logging.Filter):
    """Replaces every known secret (and any interaction token in a URL) before a line is written."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.redact = Redactor(secrets).secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


CONTEXT_FIELDS = ("job_id", "guild_id", "task_id")
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class _JobLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def guild_id(self) -> int | None: ...
    @property
    def task_id(self) -> str | None: ...


def job_fields(job: _JobLike) -> dict[str, Any]:
    """`extra=` for a log call about a job."""
    return {"job_id": job.id, "guild_id": job.guild_id, "task_id": job.task_id}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line. Runs after `RedactSecrets`, which has already
    replaced the message and the traceback text, so it formats those and never `exc_info` anew."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(out, ensure_ascii=False, default=str)
        # Prompts stay readable (no \uXXXX for every non-ASCII letter), but the three characters
        # some readers take as line breaks are escaped, so a record is always exactly one line.
        return line.translate(_LINE_BREAKS)


def setup_logging(level: str, secrets: Iterable[str] = (), fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # discord.http logs every request at DEBUG; keep the library quieter than our own modules.
    logging.getLogger("discord").setLevel(max(logging.INFO, logging.getLevelName(level)))
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    # Python's warnings go through the same handler, so a JSON log stays all JSON.
    logging.captureWarnings(True)

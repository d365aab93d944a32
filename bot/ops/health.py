"""A heartbeat file the Docker HEALTHCHECK reads (`python -m bot.ops.healthcheck`).

A file rather than a loopback port: nothing to bind, nothing to expose, and it survives the
container's read-only root when it sits on the data volume.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

STALE_AFTER = 90.0  # seconds without a heartbeat before the bot counts as hung


@dataclass(frozen=True)
class Heartbeat:
    at: float
    pid: int
    gateway_connected: bool
    latency: float | None
    api_last_success: float | None
    unfinished_jobs: int


def write(path: Path, beat: Heartbeat) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(beat)))
    # rename is atomic, so the checker never reads half a file
    os.replace(tmp, path)


def read(path: Path) -> Heartbeat | None:
    try:
        return Heartbeat(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def verdict(beat: Heartbeat | None, *, now: float | None = None) -> tuple[bool, str]:
    """Healthy means: the process wrote a heartbeat recently and its gateway is connected."""
    now = time.time() if now is None else now
    if beat is None:
        return False, "no heartbeat file yet"
    age = now - beat.at
    if age > STALE_AFTER:
        return False, f"last heartbeat {age:.0f}s ago"
    if not beat.gateway_connected:
        return False, "gateway disconnected"
    api = "never" if beat.api_last_success is None else f"{now - beat.api_last_success:.0f}s ago"
    return True, f"gateway connected, last video API success {api}, {beat.unfinished_jobs} unfinished jobs"

"""`python -m bot.ops.healthcheck`: exit 0 when the running bot's heartbeat is fresh and connected."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.ops import health


def main() -> int:
    # Only HEALTH_FILE is needed; the checker must not require the bot's secrets.
    path = Path(os.environ.get("HEALTH_FILE", "data/health.json"))
    ok, why = health.verdict(health.read(path))
    print(("healthy: " if ok else "unhealthy: ") + why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

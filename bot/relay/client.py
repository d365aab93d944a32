"""What the bot needs of a video relay, whatever its wire format.

The tracker, the health heartbeat and `--check` use a relay only through this interface;
`bot.relay.unified.VideoAPI` (the "unified video" routes, `POST /v1/video/create` and
`GET /v1/video/query`) is its one implementation today. A second relay (the same provider's
OpenAI-format video route, another family) is a new class with these members, chosen in
`bot/__main__.py`; nothing else changes. Failures are the typed errors of `bot.errors`: above
all `CreateOutcomeUnknown` (the request may have been billed: never send it again) versus the
refusals that prove nothing was created.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from bot.relay.request import VideoRequest
from bot.relay.task_status import TaskStatus


class RelayClient(Protocol):
    # When the relay last answered a request successfully (epoch seconds), for the heartbeat.
    last_success: float | None

    def create(self, request: VideoRequest) -> Awaitable[TaskStatus]:
        """Ask for a video; the task as the relay accepted it (with its task id)."""
        ...

    def query(self, task_id: str) -> Awaitable[TaskStatus]:
        """The task's status now, parsed into the states the tracker knows."""
        ...

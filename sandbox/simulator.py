"""How the sandbox's relay and Discord behave: a profile of task timings and injected faults.

`fast` makes a video in a few seconds, `realistic` takes about a minute as Veo does, and
`flaky` is fast but the relay answers 429s and 5xx and Discord rate-limits an edit on every
job, so an owner can watch the bot survive them. The profile can change while the sandbox runs
(from the page); jobs already made keep the life they started with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from sandbox.discord_server import FakeDiscord
from sandbox.relay import FakeVideoAPI, Step

log = logging.getLogger(__name__)

WATCH_EVERY = 0.25
# The relay simulator has one clip (no ffmpeg to make one per request): the page says so.
STAND_IN = (
    "Sandbox stand-in: the relay simulator sends this same 2-second 320×180 clip "
    "whatever length and size the job asked for."
)


def _life(total: float, steps: int, queued_for: float) -> tuple[Step, ...]:
    gap = (total - queued_for) / (steps + 1)
    out = [Step("queued", 0), Step("processing", 5, after=queued_for)]
    out += [Step("processing", round(5 + 95 * i / (steps + 1)), after=gap) for i in range(1, steps + 1)]
    out.append(Step("completed", 100, after=gap, video="small"))
    return tuple(out)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    life: tuple[Step, ...]
    flaky: bool = False


PROFILES = {
    p.name: p
    for p in (
        Profile("fast", "a video in about 6 seconds", _life(6.0, 4, 1.0)),
        Profile("realistic", "about a minute per video, as Veo takes", _life(60.0, 10, 8.0)),
        Profile(
            "flaky",
            "fast, but the relay answers 429 and 5xx and Discord rate-limits: watch the bot retry",
            _life(8.0, 4, 1.0),
            flaky=True,
        ),
    )
}


class Simulator:
    """Applies the current profile to the relay and Discord, and reports what they answered."""

    def __init__(self, discord: FakeDiscord, relay: FakeVideoAPI, profile: str = "fast") -> None:
        self.discord = discord
        self.relay = relay
        self.profile = PROFILES[profile]
        self._seen_relay = 0
        self._seen_discord = 0
        self._known_tasks: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.use(profile)

    def use(self, name: str) -> Profile:
        self.profile = PROFILES[name]
        self.relay.default_life = list(self.profile.life)
        self.relay.clear_faults()
        self.discord.clear_faults()
        if self.profile.flaky:
            self._refuse_next_create()
        self.discord.publish({"type": "profile", "profile": name})
        log.info("simulator profile: %s (%s)", name, self.profile.description)
        return self.profile

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="sandbox-simulator")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _refuse_next_create(self) -> None:
        # A 429 means "nothing created": the bot waits Retry-After and sends the same job again.
        self.relay.fail_create(status=429, headers={"Retry-After": "1"})

    def _on_new_task(self, task_id: str) -> None:
        """Flaky: each job's polls meet a 502, a 429 and a 503 page; one of its edits a 429."""
        if not self.profile.flaky:
            return
        self.relay.fail_query(status=502, task_id=task_id, body="<html><body>502 Bad Gateway</body></html>")
        self.relay.fail_query(status=429, task_id=task_id, headers={"Retry-After": "1"})
        self.relay.fail_query(status=503, task_id=task_id)
        self.discord.rate_limit("PATCH", r"/webhooks/.*/messages/", count=1, retry_after=1.0)
        self._refuse_next_create()

    async def _watch(self) -> None:
        while True:
            try:
                self._report()
            except Exception:
                log.exception("simulator watch failed")
            await asyncio.sleep(WATCH_EVERY)

    def _report(self) -> None:
        relay_requests = self.relay.requests[self._seen_relay :]
        self._seen_relay += len(relay_requests)
        for method, path, status in relay_requests:
            if status != 200:
                self._log("fault", f"relay answered {status} to {method} {path}; the bot retries")
        for task_id in [t for t in self.relay.tasks if t not in self._known_tasks]:
            self._known_tasks.add(task_id)
            body = self.relay.tasks[task_id].body
            self._log(
                "info",
                f"relay: task created ({body.get('model')}, {body.get('duration')} s asked; "
                "it sends the 2 s stand-in clip)",
            )
            self._on_new_task(task_id)
        discord_requests = self.discord.requests[self._seen_discord :]
        self._seen_discord += len(discord_requests)
        for record in discord_requests:
            if record.status >= 400:
                path = re.sub(r"/webhooks/(\d+)/[^/]+", r"/webhooks/\1/…", record.path)
                level = "fault" if record.status == 429 else "info"
                self._log(level, f"Discord answered {record.status} to {record.method} {path}")

    def _log(self, level: str, text: str) -> None:
        event: dict[str, Any] = {"type": "log", "level": level, "text": text}
        self.discord.publish(event)

"""A relay simulator of the unified video API on 127.0.0.1, scripted by whoever owns it (a test,
or `python -m bot --sandbox`).

Each created task plays a "life": a list of steps (status word, progress, delay), so a query
answers whatever step the task's age has reached. Faults are queued per route and consumed by
the next matching requests. Everything is recorded, so tests can count creates (billing) and
queries. The bot runs in another process and reaches this only over HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web

# A real 2 s, 320x180 H.264 clip shipped with the package: what every finished task "made".
SAMPLE_VIDEO = resources.files("sandbox").joinpath("sample.mp4")


@dataclass
class Step:
    status: str
    progress: int | None = None
    after: float = 0.0  # seconds after the previous step
    extra: dict[str, Any] = field(default_factory=dict)
    video: str | None = None  # "small", "large", "slow", "redirect", or an absolute URL


@dataclass
class Fault:
    status: int = 500
    body: str | dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    hang: float | None = None
    reset: bool = False
    accepted_anyway: bool = False  # the task is created (billed) although the client gets the fault
    task_id: str | None = None


@dataclass
class FakeTask:
    id: str
    body: dict[str, Any]
    life: list[Step]
    created: float

    def step(self, now: float) -> Step:
        elapsed, current = now - self.created, self.life[0]
        at = 0.0
        for step in self.life:
            at += step.after
            if elapsed >= at:
                current = step
            else:
                break
        return current


def _default_life() -> list[Step]:
    return [
        Step("queued", 0),
        Step("processing", 10, after=0.2),
        Step("processing", 50, after=0.3),
        Step("processing", 90, after=0.3),
        Step("completed", 100, after=0.3, video="small"),
    ]


class FakeVideoAPI:
    def __init__(self, *, api_key: str = "test-video-key-7f3a9c", ms_timestamps: bool = False) -> None:
        self.api_key = api_key
        self.ms_timestamps = ms_timestamps
        self.default_life: list[Step] = _default_life()
        self.id_styles = itertools.cycle(["video", "veo", "jimeng"])
        self.minimal_create = False
        self.drop_prefix_in_query = False
        self.large_video_bytes = 12 * 1024 * 1024
        self.creates: list[dict[str, Any]] = []
        self.queries: list[tuple[str, float]] = []
        self.tasks: dict[str, FakeTask] = {}
        self.requests: list[tuple[str, str, int]] = []
        self._lives: list[list[Step]] = []
        self._create_faults: list[Fault] = []
        self._query_faults: list[Fault] = []
        self._down = False
        self._download_hangs: list[float] = []
        self.downloads = 0
        self.small_video = SAMPLE_VIDEO.read_bytes()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- life --------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/video/create", self._create)
        app.router.add_get("/v1/video/query", self._query)
        app.router.add_get("/files/{name}", self._file)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeVideoAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def file_url(self, name: str) -> str:
        return f"{self.base_url}/files/{name}"

    # --- scripting ------------------------------------------------------------------------------

    def script(self, *lives: list[Step]) -> None:
        """The next creates play these lives, in order; later ones play `default_life`."""
        self._lives.extend(lives)

    def fail_create(self, *, count: int = 1, **fault: Any) -> None:
        self._create_faults.extend(Fault(**fault) for _ in range(count))

    def fail_query(self, *, count: int = 1, **fault: Any) -> None:
        self._query_faults.extend(Fault(**fault) for _ in range(count))

    def clear_faults(self) -> None:
        """Forget every fault queued and not yet met."""
        self._create_faults.clear()
        self._query_faults.clear()

    def hang_downloads(self, *, seconds: float, count: int = 1) -> None:
        """The next `count` video downloads stall for `seconds` before sending a byte."""
        self._download_hangs.extend([seconds] * count)

    async def set_down(self, down: bool) -> None:
        """Down = nothing listens on the port (connection refused); up again on the same port."""
        if down and self._runner:
            await self.close()
        elif not down and self._runner is None:
            await self.start()
        self._down = down

    # --- routes -----------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    async def _create(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if not self._authorized(request):
            return _error(401, "Invalid API key", "invalid_request_error", "invalid_api_key")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "Body is not JSON", "invalid_request_error", "bad_json")
        # Every create that reached the relay is recorded; `tasks` holds the ones it billed.
        self.creates.append(body)
        fault = self._create_faults.pop(0) if self._create_faults else None
        if fault and fault.status in (400, 401, 402, 403, 429) and not fault.accepted_anyway:
            self.requests.append(("POST", "/v1/video/create", fault.status))
            return await self._answer_fault(request, fault)
        task = self._new_task(body)
        if fault:
            self.requests.append(("POST", "/v1/video/create", fault.status))
            if not fault.accepted_anyway:
                del self.tasks[task.id]
            return await self._answer_fault(request, fault)
        self.requests.append(("POST", "/v1/video/create", 200))
        if self.minimal_create:
            return web.json_response(
                {"id": task.id, "status": "pending", "status_update_time": self._ts(True)}
            )
        return web.json_response(
            {
                "id": task.id,
                "object": "video",
                "model": body.get("model"),
                "status": "queued",
                "progress": 0,
                "created_at": int(time.time()),
                "size": body.get("size"),
                "detail": {"input": body},
                "status_update_time": self._ts(),
            }
        )

    def _new_task(self, body: dict[str, Any]) -> FakeTask:
        style = next(self.id_styles)
        if style == "video":
            task_id = f"video_{uuid.uuid4()}"
        elif style == "veo":
            task_id = f"{body.get('model', 'veo3.1-fast')}:{int(time.time())}-{uuid.uuid4().hex[:10]}"
        else:
            task_id = f"jimeng:{uuid.uuid4()}"
        life = self._lives.pop(0) if self._lives else self.default_life
        task = FakeTask(task_id, body, list(life), time.monotonic())
        self.tasks[task_id] = task
        return task

    async def _query(self, request: web.Request) -> web.StreamResponse:
        task_id = request.query.get("id", "")
        now = time.monotonic()
        if not self._authorized(request):
            return _error(401, "Invalid API key", "invalid_request_error", "invalid_api_key")
        self.queries.append((task_id, time.time()))
        fault = next(
            (f for f in self._query_faults if f.task_id in (None, task_id)),
            None,
        )
        if fault:
            self._query_faults.remove(fault)
            self.requests.append(("GET", "/v1/video/query", fault.status))
            return await self._answer_fault(request, fault)
        task = self.tasks.get(task_id)
        if task is None:
            return _error(404, f"task {task_id} not found", "invalid_request_error", "task_not_found")
        step = task.step(now)
        shown_id = task_id.split(":", 1)[-1] if self.drop_prefix_in_query else task_id
        payload: dict[str, Any] = {
            "id": shown_id,
            "status": step.status,
            "video_url": None,
            "status_update_time": self._ts(),
        }
        if step.progress is not None:
            payload["progress"] = step.progress
        if step.video:
            payload["video_url"] = (
                step.video if "://" in step.video else self.file_url(_VIDEO_FILES[step.video])
            )
        payload.update(step.extra)
        self.requests.append(("GET", "/v1/video/query", 200))
        return web.json_response(payload)

    async def _answer_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.hang:
            await asyncio.sleep(fault.hang)
        if fault.reset:
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        if isinstance(fault.body, dict):
            return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        if fault.body is None and fault.status < 500:
            return _error(fault.status, f"fault {fault.status}", "fault", str(fault.status), fault.headers)
        return web.Response(
            status=fault.status,
            text=fault.body if fault.body is not None else "<html><body>upstream error</body></html>",
            content_type="text/html" if (fault.body or "<").lstrip().startswith("<") else "application/json",
            headers=fault.headers,
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.downloads += 1
        if self._download_hangs:
            await asyncio.sleep(self._download_hangs.pop(0))
        if name == "small.mp4":
            return web.Response(body=self.small_video, content_type="video/mp4")
        if name == "large.mp4":
            response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
            response.content_length = self.large_video_bytes
            await response.prepare(request)
            # The small mp4 followed by a `free` box: still a valid file, just big.
            await response.write(self.small_video)
            left = self.large_video_bytes - len(self.small_video)
            await response.write(left.to_bytes(4, "big") + b"free")
            left -= 8
            chunk = b"\0" * 65536
            while left > 0:
                await response.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
            await response.write_eof()
            return response
        if name == "slow.mp4":
            response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
            await response.prepare(request)
            for byte in self.small_video[:50]:
                await response.write(bytes([byte]))
                await asyncio.sleep(0.5)
            return response
        if name == "chunked.mp4":  # no Content-Length: only counting the body can cap it
            response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            half = len(self.small_video) // 2
            await response.write(self.small_video[:half])
            await response.write(self.small_video[half:])
            await response.write_eof()
            return response
        if name == "redirect.mp4":
            raise web.HTTPFound("file:///etc/passwd")
        raise web.HTTPNotFound()

    def _ts(self, ms: bool | None = None) -> int:
        now = time.time()
        return int(now * 1000) if (self.ms_timestamps if ms is None else ms) else int(now)


_VIDEO_FILES = {"small": "small.mp4", "large": "large.mp4", "slow": "slow.mp4", "redirect": "redirect.mp4"}


def _error(
    status: int, message: str, type_: str, code: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": type_, "code": code}}, status=status, headers=headers
    )

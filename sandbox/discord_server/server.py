"""The Discord-compatible server: the state, the gateway and the REST routes on one aiohttp app."""

from __future__ import annotations

import contextlib

from aiohttp import web

from sandbox.discord_server.faults import FaultsMixin
from sandbox.discord_server.interactions import InteractionsMixin
from sandbox.discord_server.rest import RestMixin


class FakeDiscord(RestMixin, InteractionsMixin, FaultsMixin):
    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel}/{id}/{name}", self._cdn)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for session in list(self._sessions.values()):
            if session.ws is not None:
                with contextlib.suppress(Exception):
                    await session.ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

"""The sandbox's web page: a Discord-like view of the embedded server, served on 127.0.0.1.

Plain HTML, CSS and JavaScript from `static/`; nothing is loaded from elsewhere. The page reads
the embedded Discord server's state once and then its events (server-sent events), and acts in
it the way the tests do: a `/video` from the page is `FakeDiscord.slash`, a button press is
`click`, a modal is `submit_modal`. So what a person tries here is what the suite checks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.discord_server import DiscordError, FakeDiscord, FakeInteraction, FakeUser
from sandbox.simulator import PROFILES, STAND_IN, Simulator
from sandbox.world import World

log = logging.getLogger(__name__)

STATIC = Path(str(resources.files("sandbox").joinpath("static")))
KEEPALIVE = 15.0
ACK_WAIT = 3.5  # Discord's 3 s to acknowledge, and a little slack for the loopback hop
# Option types of an application command (Discord's numbering).
INTEGER, BOOLEAN, NUMBER, ATTACHMENT = 4, 5, 10, 11

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Page:
    def __init__(
        self,
        discord: FakeDiscord,
        world: World,
        simulator: Simulator,
        restart_bot: Callable[[], Awaitable[None]],
    ) -> None:
        self.discord = discord
        self.world = world
        self.simulator = simulator
        self.restart_bot = restart_bot
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self, port: int) -> int:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._only_this_host])
        app.router.add_get("/", self._index)
        app.router.add_static("/static", STATIC)
        app.router.add_get("/api/events", self._events)
        app.router.add_post("/api/slash", self._slash)
        app.router.add_post("/api/click", self._click)
        app.router.add_post("/api/modal", self._modal)
        app.router.add_post("/api/context", self._context)
        app.router.add_post("/api/say", self._say)
        app.router.add_get("/api/autocomplete", self._autocomplete)
        app.router.add_post("/api/profile", self._profile)
        app.router.add_post("/api/restart", self._restart)
        app.router.add_get("/files/{id}/{name}", self._file)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        # Loopback only: the sandbox has no login, so nothing else may reach it.
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @web.middleware
    async def _only_this_host(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        # A web page elsewhere could rebind its own name to 127.0.0.1; it would still send its name.
        if request.host not in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
            raise web.HTTPForbidden(text="the sandbox answers only to 127.0.0.1")
        return await handler(request)

    # --- reading ---------------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    def _state(self) -> dict[str, Any]:
        return {
            "type": "state",
            **self.discord.view(),
            "people": self.world.people(),
            "topics": self.world.topics(),
            "bot": {"id": str(self.discord.bot.id), "name": self.discord.bot.name},
            "profile": self.simulator.profile.name,
            "profiles": [{"name": p.name, "description": p.description} for p in PROFILES.values()],
            "stand_in": STAND_IN,
        }

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        with self.discord.watch() as events:
            await _send(response, self._state())
            while True:
                try:
                    event = await asyncio.wait_for(events.get(), KEEPALIVE)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event["type"] == "commands":
                    event = {**event, "commands": self.discord.view()["commands"]}
                await _send(response, event)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        att = self.discord.attachment(int(request.match_info["id"]))
        if att is None:
            raise web.HTTPNotFound()
        # discord.py uploads files as application/octet-stream; a browser plays only a video/mp4.
        given = att.content_type or "application/octet-stream"
        kind = given if given != "application/octet-stream" else _type_from_name(att.filename)
        return _ranged(request, att.data, kind)

    async def _autocomplete(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        user = self._person(q.get("user", ""))
        channel = self._channel(q.get("channel", ""))
        try:
            choices = await self.discord.autocomplete(
                q["command"], q["option"], q.get("value", ""), user=user, channel_id=channel
            )
        except (AssertionError, TimeoutError):
            choices = []
        return web.json_response({"choices": choices})

    # --- acting --------------------------------------------------------------------------------

    async def _slash(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        user = self._person(str(form.get("user", "")))
        channel = self._channel(str(form.get("channel", "")))
        name = str(form.get("command", ""))
        subcommand = str(form.get("subcommand") or "") or None
        try:
            command = self.discord.command(name)
        except KeyError:
            raise web.HTTPBadRequest(text=f"no command /{name}") from None
        spec = command.get("options", [])
        if subcommand:
            spec = next((o.get("options", []) for o in spec if o["name"] == subcommand), [])
        raw = json.loads(str(form.get("options") or "{}"))
        types = {option["name"]: option["type"] for option in spec}
        options: dict[str, Any] = {}
        attachments: dict[str, tuple[Any, ...]] = {}
        for option in spec:
            key, kind = option["name"], option["type"]
            if kind == ATTACHMENT:
                upload = form.get(key)
                if isinstance(upload, web.FileField):
                    data = upload.file.read()
                    attachments[key] = (upload.filename, data, upload.content_type or None)
            elif key in raw and raw[key] not in ("", None):
                options[key] = raw[key]
        try:
            typed = {key: _typed(types[key], value) for key, value in options.items()}
            # A user, channel or role stays the text the page sent: the loopback Discord
            # resolves it, and refuses a name or an unknown id as Discord does.
            sending = self.discord.slash(
                name, typed, user=user, channel_id=channel, subcommand=subcommand, attachments=attachments
            )
            return await self._act(sending)
        except DiscordError as exc:
            return web.json_response(exc.json(), status=exc.status)

    async def _click(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        user = self._person(str(body.get("user", "")))
        message = self.discord.message(int(body.get("message", 0)))
        if message is None or message.deleted:
            raise web.HTTPNotFound(text="that message is gone")
        return await self._act(self.discord.click(message, str(body["custom_id"]), user=user))

    async def _context(self, request: web.Request) -> web.StreamResponse:
        """A message command from a message's Apps menu (Discord: right-click → Apps)."""
        body = await request.json()
        user = self._person(str(body.get("user", "")))
        message = self.discord.message(int(str(body.get("message", "0")) or 0))
        if message is None or message.deleted:
            raise web.HTTPNotFound(text="that message is gone")
        name = str(body.get("command", ""))
        try:
            command = self.discord.command(name)
        except KeyError:
            raise web.HTTPBadRequest(text=f"no app {name!r}") from None
        if command.get("type") != 3:
            raise web.HTTPBadRequest(text=f"{name!r} is not a message command")
        return await self._act(self.discord.context_menu(name, message, user=user))

    async def _modal(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        user = self._person(str(body.get("user", "")))
        channel = self._channel(str(body.get("channel", "")))
        values = {str(k): str(v) for k, v in (body.get("values") or {}).items()}
        return await self._act(
            self.discord.submit_modal(str(body["custom_id"]), values, user=user, channel_id=channel)
        )

    async def _say(self, request: web.Request) -> web.StreamResponse:
        """A member's plain message (the bot sees none of them: it asks for no message intents)."""
        body = await request.json()
        user = self._person(str(body.get("user", "")))
        channel = self._channel(str(body.get("channel", "")))
        self.discord.post_message(channel, user, str(body.get("content", ""))[:2000])
        return web.json_response({"ok": True})

    async def _act(self, sending: Awaitable[FakeInteraction]) -> web.StreamResponse:
        """Send an interaction; answer whether the bot acknowledged it in time, as Discord would."""
        try:
            interaction = await sending
        except AssertionError:  # no gateway connection to send it on
            return web.json_response({"ok": False, "error": "VeoBot is offline (starting or restarting)"})
        try:
            await asyncio.wait_for(interaction.acked.wait(), ACK_WAIT)
        except TimeoutError:
            return web.json_response({"ok": False, "error": "The application did not respond"})
        return web.json_response({"ok": True, "interaction": str(interaction.id)})

    async def _profile(self, request: web.Request) -> web.StreamResponse:
        name = str((await request.json()).get("profile", ""))
        if name not in PROFILES:
            raise web.HTTPBadRequest(text=f"no profile {name!r}")
        self.simulator.use(name)
        return web.json_response({"ok": True, "profile": name})

    async def _restart(self, request: web.Request) -> web.StreamResponse:
        self._log("Restarting the bot: it gets SIGTERM, then python -m bot starts again")
        await self.restart_bot()
        self._log("The bot process started again: it reconnects and picks up its jobs")
        return web.json_response({"ok": True})

    def _log(self, text: str) -> None:
        self.discord.publish({"type": "log", "level": "info", "text": text})

    # --- lookups -------------------------------------------------------------------------------------

    def _person(self, user_id: str) -> FakeUser:
        user = self.world.guild.members.get(int(user_id)) if user_id.isdigit() else None
        if user is None or user.bot:
            raise web.HTTPBadRequest(text="pick a member to act as")
        return user

    def _channel(self, channel_id: str) -> int:
        """A channel of the server, or the bot's DM with one of its people."""
        known = {*self.world.guild.channels, *self.world.dms.values()}
        if not channel_id.isdigit() or int(channel_id) not in known:
            raise web.HTTPBadRequest(text="pick a channel")
        return int(channel_id)


def _typed(kind: int, value: Any) -> Any:
    """A number or a yes/no from the page's text; what is not one is refused as Discord does."""
    try:
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            return float(value)
    except ValueError:
        error = {"code": "NUMBER_TYPE_COERCE", "message": f'Value "{value}" is not a valid number.'}
        raise DiscordError(400, 50035, "Invalid Form Body", errors={"value": {"_errors": [error]}}) from None
    if kind == BOOLEAN:
        return value in (True, "true", "True", "1")
    return str(value)


async def _send(response: web.StreamResponse, event: dict[str, Any]) -> None:
    await response.write(f"data: {json.dumps(event)}\n\n".encode())


def _type_from_name(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    return {
        "mp4": "video/mp4",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "webp": "image/webp",
        "gif": "image/gif",
    }.get(ext, "application/octet-stream")


def _ranged(request: web.Request, data: bytes, content_type: str) -> web.Response:
    """The bytes, or the part a `Range: bytes=a-b` asks for (browsers seek videos that way)."""
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-store"}
    asked = request.headers.get("Range", "")
    if asked.startswith("bytes=") and "," not in asked:
        first, _, last = asked[6:].partition("-")
        try:
            start = int(first) if first else max(0, len(data) - int(last))
            end = min(int(last), len(data) - 1) if first and last else len(data) - 1
        except ValueError:
            start, end = 0, -1
        if 0 <= start <= end:
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return web.Response(
                body=data[start : end + 1], status=206, content_type=content_type, headers=headers
            )
        headers["Content-Range"] = f"bytes */{len(data)}"
        return web.Response(status=416, headers=headers)
    return web.Response(body=data, content_type=content_type, headers=headers)

"""Shared fixtures: the loopback Discord and video API servers, and a way to run the real bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

import pytest

from sandbox.discord_server import FakeDiscord
from sandbox.relay import FakeVideoAPI
from tests.e2e.harness import BotProcess, start_bot


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeVideoAPI]:
    async with FakeVideoAPI() as api:
        yield api


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as discord:
        yield discord


@pytest.fixture
async def run_bot(
    fake_discord: FakeDiscord, fake_api: FakeVideoAPI, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[BotProcess]]]:
    """Start `python -m bot` against the fakes; every process is stopped at the end of the test."""
    started: list[BotProcess] = []

    async def start(extra_env: Mapping[str, str] = (), *, wait_ready: bool = True) -> BotProcess:
        bot = await start_bot(fake_discord, fake_api, tmp_path, extra_env, wait_ready=wait_ready)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        if bot.running:
            await bot.kill9()
    # Discord would have accepted every request the bot sent: each REST body matched its route's
    # schema in Discord's OpenAPI description and the documented limits (sandbox/.../spec/).
    invalid = fake_discord.invalid_requests
    assert not invalid, f"{len(invalid)} request(s) Discord would refuse:\n" + "\n".join(
        f"{r.method} {r.path}: {'; '.join(r.errors)}\n  body: {str(r.body)[:600]}" for r in invalid[:3]
    )
    # Secrets never reach a log line or the database, whatever the test did.
    secrets = (fake_discord.token, fake_api.api_key)
    for bot in started:
        for secret in secrets:
            assert secret not in bot.output, "a secret reached the bot's log"
    # Nothing the bot posted could ping anyone but whom it meant to: every message with text
    # parses no mentions from its text (so @everyone or a mention in a prompt stays inert), and
    # a notification may ping exactly the member (or approver roles) its own text names, when it
    # is posted: an edit never pings (nor could it: Discord notifies only new messages).
    posted = [m for ms in fake_discord._messages.values() for m in ms if m.author.id == fake_discord.bot.id]
    for message in posted:
        for i, snapshot in enumerate(message.edits):
            if snapshot["content"]:
                mentions = snapshot["allowed_mentions"] or {}
                assert mentions.get("parse") == [], f"message {snapshot['content'][:60]!r} could ping"
                users, roles = mentions.get("users") or [], mentions.get("roles") or []
                if i > 0:
                    users, roles = (
                        [u for u in users if u not in mentions_at_creation(message, "users")],
                        [r for r in roles if r not in mentions_at_creation(message, "roles")],
                    )
                    assert not users and not roles, "an edit tried to ping"
                assert len(users) <= 1, "a notification pings one member"
                assert all(snapshot["content"].startswith(f"<@{u}>") for u in users)
                assert all(f"<@&{r}>" in snapshot["content"] for r in roles)
    # ... nor anything a member sees (messages, embeds, ephemeral answers).
    for message in posted:
        for snapshot in message.edits:
            shown = repr((snapshot["content"], snapshot["embeds"]))
            for secret in secrets:
                assert secret not in shown, "a secret reached a message"
    for path in tmp_path.glob("bot.db*"):
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret reached {path.name}"


def mentions_at_creation(message, kind: str) -> list:
    return (message.edits[0]["allowed_mentions"] or {}).get(kind) or []

"""`python -m bot --check`, the real process against the loopback Discord and the fake relay."""

from __future__ import annotations

import socket
import sqlite3
import tempfile
from pathlib import Path

import pytest

from bot.storage.store import Store
from tests.e2e.harness import bot_command

pytestmark = pytest.mark.e2e


async def run_check(fake_discord, fake_api, workdir: Path, **env: str) -> tuple[int, str]:
    code, text = await bot_command(fake_discord, fake_api, workdir, "--check", **env)
    # Whatever went wrong, the secrets never reach the terminal.
    assert fake_discord.token not in text and fake_api.api_key not in text
    return code, text


def problems(text: str) -> list[str]:
    return [line.removeprefix("PROBLEM").strip() for line in text.splitlines() if line.startswith("PROBLEM")]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unwritable_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        tempfile.NamedTemporaryFile(dir=directory).close()
    except OSError:
        return directory
    # Running as root, where file modes do not stop writes: nothing can be created under /proc.
    return Path("/proc/veo-bot-check-test")


async def test_a_good_setup_passes_and_names_the_app_and_bot(fake_discord, fake_api, tmp_path):
    code, out = await run_check(fake_discord, fake_api, tmp_path)
    assert code == 0, out
    app_id = fake_discord.application_id
    assert f"application 'VeoBot' (id {app_id})" in out
    assert f"bot user VeoBot (id {fake_discord.bot.id})" in out
    assert f"client_id={app_id}&scope=bot+applications.commands&permissions=" in out
    assert f"client_id={app_id}&integration_type=1&scope=applications.commands" in out
    assert "does not exist yet" in out and problems(out) == []
    # Nothing was created: no database, no task at the relay (only the harmless probe query).
    assert not (tmp_path / "bot.db").exists()
    assert fake_api.creates == [] and fake_api.tasks == {}
    assert [task for task, _ in fake_api.queries] == ["veo-bot-check-probe"]


async def test_a_wrong_token_names_discord_token(fake_discord, fake_api, tmp_path):
    code, out = await run_check(fake_discord, fake_api, tmp_path, DISCORD_TOKEN="not-the-token")
    assert code == 1
    (problem,) = problems(out)
    assert problem.startswith("DISCORD_TOKEN:")
    # No application id without a working token, and the invite line says so.
    assert "client_id=" not in out and "invite   none: a token Discord refused" in out


async def test_a_wrong_relay_key_names_video_api_key(fake_discord, fake_api, tmp_path):
    code, out = await run_check(fake_discord, fake_api, tmp_path, VIDEO_API_KEY="wrong-key-123")
    assert code == 1
    (problem,) = problems(out)
    assert problem.startswith("VIDEO_API_KEY:") and "401" in problem


async def test_an_unreachable_relay_names_the_base_url_not_the_key(fake_discord, fake_api, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    code, out = await run_check(fake_discord, fake_api, tmp_path, VIDEO_API_BASE_URL=url)
    assert code == 1
    (problem,) = problems(out)
    assert problem.startswith("VIDEO_API_BASE_URL:") and "unreachable" in problem and url in problem


async def test_an_unwritable_database_directory_names_database_path(fake_discord, fake_api, tmp_path):
    path = unwritable_dir(tmp_path) / "data" / "bot.db"
    code, out = await run_check(fake_discord, fake_api, tmp_path, DATABASE_PATH=str(path))
    assert code == 1
    (problem,) = problems(out)
    assert problem.startswith("DATABASE_PATH:")
    assert not path.parent.exists()


async def test_an_existing_database_is_checked_without_being_changed(fake_discord, fake_api, tmp_path):
    path = tmp_path / "bot.db"
    await Store.open(path).close()
    before = path.read_bytes()
    code, out = await run_check(fake_discord, fake_api, tmp_path)
    assert code == 0, out
    assert "schema current" in out
    assert path.read_bytes() == before


async def test_a_database_from_a_newer_bot_is_a_problem(fake_discord, fake_api, tmp_path):
    path = tmp_path / "bot.db"
    await Store.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) values (?, ?, ?)",
            ("veo_bot", "m999_future", "2099-01-01"),
        )
    db.close()
    code, out = await run_check(fake_discord, fake_api, tmp_path)
    assert code == 1
    (problem,) = problems(out)
    assert problem.startswith("DATABASE_PATH:") and "m999_future" in problem


async def test_an_old_schema_is_reported_as_upgraded_at_start(fake_discord, fake_api, tmp_path):
    path = tmp_path / "bot.db"
    await Store.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("delete from _sqlite_migrations where name = 'm003_approval'")
    db.close()
    code, out = await run_check(fake_discord, fake_api, tmp_path)
    assert code == 0, out
    assert "the next start upgrades its schema (m003_approval)" in out


async def test_an_unreachable_custom_discord_names_its_url_and_still_prints_the_invites(
    fake_discord, fake_api, tmp_path
):
    url = f"http://127.0.0.1:{closed_port()}/api/v10"
    code, out = await run_check(fake_discord, fake_api, tmp_path, DISCORD_API_BASE_URL=url)
    assert code == 1
    (problem,) = problems(out)
    assert problem.startswith("DISCORD_API_BASE_URL:") and url in problem
    # The token carries the application id: the links do not wait for Discord.
    app_id = fake_discord.application_id
    assert "application id read from the token" in out
    assert f"client_id={app_id}&scope=bot+applications.commands&permissions=" in out
    assert f"client_id={app_id}&integration_type=1&scope=applications.commands" in out

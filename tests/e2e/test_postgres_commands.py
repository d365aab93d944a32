"""The commands an operator moving to PostgreSQL types, as real processes against a real server:
`migrate --to`, `--check` with DATABASE_URL, and `backup` (which points at pg_dump)."""

from __future__ import annotations

import asyncpg
import pytest

from tests.e2e.harness import bot_command
from tests.e2e.helpers import life, settled_rows, video_attachment, wait_final
from tests.e2e.test_check import closed_port, problems, run_check
from tests.pg import TEST_DATABASE_URL, fresh_schema

pytestmark = pytest.mark.e2e


def schema_url(schema: str) -> str:
    # asyncpg passes unknown URL parameters to the server as settings: this puts the bot's
    # tables in the test's own schema.
    return f"{TEST_DATABASE_URL}?search_path={schema}"


async def test_a_sqlite_bot_moves_up_and_a_second_migrate_is_refused(
    fake_discord, fake_api, run_bot, tmp_path
):
    guild = fake_discord.add_guild()
    member = fake_discord.add_member(guild.id)
    fake_api.default_life = life(0.3)
    bot = await run_bot()
    await fake_discord.wait_commands()
    job = await fake_discord.slash(
        "video", {"prompt": "before the move"}, user=member, channel_id=guild.channels[0]
    )
    assert video_attachment(await wait_final(fake_discord, job)) is not None
    await settled_rows(fake_discord, tmp_path)
    await bot.stop()
    async with fresh_schema() as schema:
        url = schema_url(schema)
        code, out = await bot_command(fake_discord, fake_api, tmp_path, "migrate", "--to", url)
        assert code == 0, out
        assert "1 jobs" in out and "Set DATABASE_URL" in out
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch("select id, state, prompt from jobs")
            assert [(r["state"], r["prompt"]) for r in rows] == [("delivered", "before the move")]
        finally:
            await conn.close()
        # Twice would mix two copies of one bot's jobs.
        code, out = await bot_command(fake_discord, fake_api, tmp_path, "migrate", "--to", url)
        assert code == 1 and "not empty" in out and "nothing copied" in out
        # The moved bot runs on PostgreSQL: the old job is there (its /video-status shows it).
        bot = await run_bot({"DATABASE_URL": url, "DATABASE_PATH": str(tmp_path / "unused.db")})
        await fake_discord.wait_commands()
        status = await fake_discord.slash(
            "video-status", {"job": f"#{rows[0]['id']}"}, user=member, channel_id=guild.channels[0]
        )
        shown = await fake_discord.wait_for(lambda: status.followups and status.followups[0])
        assert video_attachment(shown) is not None and "before the move" in str(shown.embeds)
        assert not (tmp_path / "unused.db").exists()
        await bot.stop()


async def test_migrate_without_a_sqlite_database_copies_nothing(fake_discord, fake_api, tmp_path):
    async with fresh_schema() as schema:
        code, out = await bot_command(
            fake_discord,
            fake_api,
            tmp_path,
            "migrate",
            "--to",
            schema_url(schema),
            DATABASE_PATH=str(tmp_path / "none.db"),
        )
    assert code == 1 and "no SQLite database" in out
    code, out = await bot_command(fake_discord, fake_api, tmp_path, "migrate", "--to", "mysql://u:pw@h/db")
    assert code == 2 and "migrate --to is malformed" in out and "pw" not in out


async def test_check_reads_a_postgresql_database_without_changing_it(fake_discord, fake_api, tmp_path):
    async with fresh_schema() as schema:
        url = schema_url(schema)
        code, out = await run_check(fake_discord, fake_api, tmp_path, DATABASE_URL=url)
        assert code == 0, out
        assert "PostgreSQL at 127.0.0.1:5432/test is writable, the next start creates" in out
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("select to_regclass('jobs')") is None, "--check created tables"
        finally:
            await conn.close()
    secret = f"postgresql://bot:hunter2@127.0.0.1:{closed_port()}/veo"
    code, out = await run_check(fake_discord, fake_api, tmp_path, DATABASE_URL=secret)
    assert code == 1
    (database,) = [p for p in problems(out) if p.startswith("DATABASE_URL")]
    assert "cannot be reached" in database
    assert "hunter2" not in out


async def test_backup_points_a_postgresql_bot_at_pg_dump(fake_discord, fake_api, tmp_path):
    code, out = await bot_command(
        fake_discord,
        fake_api,
        tmp_path,
        "backup",
        str(tmp_path / "copy.db"),
        DATABASE_URL="postgresql://bot:hunter2@db:5432/veo",
    )
    assert code == 2 and "pg_dump" in out and "hunter2" not in out
    assert not (tmp_path / "copy.db").exists()

"""`python -m bot --check`: is this set-up ready to run? Tells, without creating anything.

It reaches Discord and the relay with the configured secrets, looks at the database, and
prints one line per finding. Every problem line starts with the setting to fix (or with
`network` or `Discord` when no setting is at fault), so an operator (or a deployment script
reading the exit code) knows where to look. It uses aiohttp directly rather than discord.py:
logging in to the gateway is not needed to know the token works, and a check must not sync
commands or start jobs.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.errors import StoreError
from bot.log import RedactSecrets
from bot.ops import invite
from bot.relay.unified import QUERY_PATH
from bot.settings import Settings
from bot.storage.schema import schema_status

# A task id no relay has made: querying it creates nothing and costs nothing.
PROBE_TASK_ID = "veo-bot-check-probe"
TIMEOUT = 10.0


@dataclass
class Report:
    ok: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # each starts with the setting to fix
    application_id: int | None = None
    # Set when the invite links come from the token alone (Discord could not be asked), or when
    # there are none to print: said on the invite line, so a missing link is never a mystery.
    invite_note: str | None = None


async def run_checks(settings: Settings, *, request_timeout: float = TIMEOUT) -> Report:
    report = Report()
    client_timeout = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        await check_discord(settings, session, report)
        await check_relay(settings, session, report)
    if settings.database_url:
        await check_database_url(settings.database_url, report)
    else:
        check_database(settings.database_path, report)
    check_prices(settings, report)
    return report


def check_prices(settings: Settings, report: Report) -> None:
    """While a budget is set, a model without a price cannot be used (what it costs is unknown):
    each such offered model is a problem. Servers' own budgets (/video-admin) are not read here."""
    budgets = [
        name
        for name, value in (
            ("MONTHLY_BUDGET", settings.monthly_budget),
            ("SERVER_MONTHLY_BUDGET", settings.server_monthly_budget),
        )
        if value
    ]
    if not budgets:
        return
    for model in settings.models:
        if model not in settings.model_prices:
            report.problems.append(
                f"MODEL_PRICES: {model} has no price, so it cannot be used while {' and '.join(budgets)} "
                f"is set (add {model}=<price per video>, or take it out of VIDEO_MODELS)"
            )


async def check_discord(settings: Settings, session: aiohttp.ClientSession, report: Report) -> None:
    base = settings.discord_api_base_url
    headers = {"Authorization": f"Bot {settings.discord_token}"}
    # Only a base the operator set is theirs to fix; with Discord's own, an answer that is not
    # 200 is Discord's trouble and no answer at all is this machine's network.
    answered = "DISCORD_API_BASE_URL" if settings.uses_custom_discord else "Discord"
    try:
        async with session.get(f"{base}/users/@me", headers=headers) as response:
            if response.status == 401:
                report.problems.append(
                    f"DISCORD_TOKEN: Discord at {base} refused it (HTTP 401); copy the token again "
                    "from the developer portal (your app → Bot → Reset Token)"
                )
                report.invite_note = "none: a token Discord refused names no application to invite"
                return
            if response.status != 200:
                report.problems.append(f"{answered}: {base}/users/@me answered HTTP {response.status}")
                _invite_from_token(settings, report)
                return
            user = await response.json()
        async with session.get(f"{base}/oauth2/applications/@me", headers=headers) as response:
            if response.status != 200:
                report.problems.append(
                    f"{answered}: {base}/oauth2/applications/@me answered HTTP {response.status}"
                )
                _invite_from_token(settings, report)
                return
            app = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        reason = f"cannot reach Discord at {base} ({_why(exc)})"
        report.problems.append(
            f"DISCORD_API_BASE_URL: {reason}; is it the server you meant?"
            if settings.uses_custom_discord
            else f"network: {reason}; check this machine's internet access, DNS and firewall"
        )
        _invite_from_token(settings, report)
        return
    report.application_id = int(app["id"])
    name = user.get("username", "?")
    if user.get("discriminator") not in (None, "0", "0000"):
        name += f"#{user['discriminator']}"
    report.ok.append(
        f"Discord: application {app.get('name', '?')!r} (id {app['id']}), "
        f"bot user {name} (id {user.get('id', '?')})"
    )


def _invite_from_token(settings: Settings, report: Report) -> None:
    """Discord could not say which application this is: the token says it, unconfirmed."""
    report.application_id = invite.application_id_from_token(settings.discord_token)
    report.invite_note = (
        "none: Discord could not be asked and the token holds no application id"
        if report.application_id is None
        else "application id read from the token, unconfirmed while Discord cannot be asked"
    )


async def check_relay(settings: Settings, session: aiohttp.ClientSession, report: Report) -> None:
    base = settings.video_api_base_url
    headers = {"Authorization": f"Bearer {settings.video_api_key}", "Accept": "application/json"}
    try:
        # A query, never a create: a create is billed.
        async with session.get(f"{base}{QUERY_PATH}", params={"id": PROBE_TASK_ID}, headers=headers) as r:
            status = r.status
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        report.problems.append(f"VIDEO_API_BASE_URL: the relay at {base} is unreachable ({_why(exc)})")
        return
    except (aiohttp.ClientError, TimeoutError) as exc:
        report.problems.append(f"VIDEO_API_BASE_URL: the relay at {base} did not answer ({_why(exc)})")
        return
    if status == 401:
        report.problems.append(
            f"VIDEO_API_KEY: the relay at {base} refused it (HTTP 401, wrong or revoked key)"
        )
        return
    # 404 or 400 for an unknown task is the usual answer; some relays say 200 or even 5xx. Any
    # answer but 401 means the relay is there and took the key.
    report.ok.append(f"relay: {base} is reachable and accepted the key (probe query answered HTTP {status})")


def check_database(path: Path, report: Report) -> None:
    if path.exists():
        if not path.is_file():
            report.problems.append(f"DATABASE_PATH: {path} is not a file")
            return
        try:
            status = schema_status(path)
        except StoreError as exc:
            report.problems.append(exc.user_message)
            return
        if status.unknown:
            report.problems.append(
                f"DATABASE_PATH: {path} was upgraded by a newer version of the bot "
                f"({', '.join(status.unknown)}); run that version or restore a backup"
            )
            return
        if not status.writable or not _dir_writable(path.parent):
            report.problems.append(f"DATABASE_PATH: {path} (or its directory) is not writable")
            return
        schema = (
            f"the next start upgrades its schema ({', '.join(status.pending)})"
            if status.pending
            else "schema current"
        )
        report.ok.append(f"database: {path} is writable, {schema}")
        return
    # Store.open creates the missing directories: the nearest existing one must be writable.
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not _dir_writable(parent):
        report.problems.append(
            f"DATABASE_PATH: {path} cannot be created ({parent} is not a writable directory)"
        )
        return
    report.ok.append(f"database: {path} does not exist yet; the first start creates it")


async def check_database_url(url: str, report: Report) -> None:
    """DATABASE_URL: reachable with its credentials, schema current (or upgradable), writable.
    The URL is never shown: it holds the password."""
    # Imported here: a bot on SQLite never loads PostgreSQL's driver (14 MiB resident).
    import asyncpg

    from bot.storage.pg_schema import pg_status, pg_where

    where = pg_where(url)
    try:
        conn = await asyncpg.connect(url, timeout=TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        report.problems.append(f"DATABASE_URL: PostgreSQL at {where} cannot be reached: {_why(exc)}")
        return
    try:
        status = await pg_status(conn)
    except asyncpg.PostgresError as exc:
        report.problems.append(f"DATABASE_URL: PostgreSQL at {where} answered with an error: {_why(exc)}")
        return
    finally:
        await conn.close()
    if status.unknown:
        report.problems.append(
            f"DATABASE_URL: the database at {where} was upgraded by a newer version of the bot "
            f"({', '.join(status.unknown)}); run that version"
        )
        return
    if not status.writable:
        report.problems.append(f"DATABASE_URL: the database at {where} is not writable for this role")
        return
    schema = (
        f"the next start creates or upgrades its tables ({', '.join(status.pending)})"
        if status.pending
        else "schema current"
    )
    report.ok.append(f"database: PostgreSQL at {where} is writable, {schema}")


def _dir_writable(directory: Path) -> bool:
    # Trying beats os.access: root passes os.access everywhere, a read-only mount does not.
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".veo-bot-check-"):
            pass
    except OSError:
        return False
    return True


def _why(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if exc.__class__.__name__ in text else f"{exc.__class__.__name__}: {text}"


def render(report: Report) -> list[str]:
    lines = [f"ok       {line}" for line in report.ok]
    if report.invite_note:
        lines.append(f"invite   {report.invite_note}")
    if report.application_id is not None:
        lines.append(f"invite   add the bot to a server: {invite.bot_invite_url(report.application_id)}")
        lines.append(f"invite   install for a user:      {invite.user_install_url(report.application_id)}")
    lines += [f"PROBLEM  {line}" for line in report.problems]
    if report.problems:
        count = len(report.problems)
        lines.append(f"{count} problem(s): fix the setting named on each line, then check again")
    else:
        lines.append("all checks passed")
    return lines


def main(settings: Settings, out: Callable[[str], None] = print) -> int:
    """Run the checks and print them; 0 when all passed, 1 otherwise."""
    report = asyncio.run(run_checks(settings))
    # An error text could quote a header back; the secrets never reach the terminal.
    redact = RedactSecrets((settings.discord_token, settings.video_api_key))
    for line in render(report):
        out(redact.redact(line))
    return 1 if report.problems else 0

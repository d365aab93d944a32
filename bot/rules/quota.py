"""Daily quotas and the per-member cooldown: the arithmetic, with no I/O.

A quota day runs from midnight to midnight in the server's stated time zone (the zone's own
midnight, so a day across a daylight-saving change is 23 or 25 hours long). The store counts;
`check` decides; `checker` ties the two together for `JobStore.add_job`, which runs it inside its
write transaction.
"""

from __future__ import annotations

import time as clock
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import InputError, QuotaExceeded
from bot.texts.i18n import Plural, Text, ntr, tr


@dataclass(frozen=True)
class Limits:
    member_daily: int = 0  # 0: no limit
    server_daily: int = 0
    cooldown: int = 0  # seconds between one member's jobs
    timezone: str = "UTC"
    monthly_budget: int = 0  # micros (bot/rules/budget.py); 0: no budget


@dataclass(frozen=True)
class Usage:
    member: int
    server: int
    last_job_at: float | None = None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            Text("{name!r} is not a time zone name like UTC or Europe/Berlin.", name=name)
        ) from None


def day_start(now: float, tz: str) -> float:
    """The Unix time of the last midnight (in `tz`) at or before `now`."""
    z = zone(tz)
    local = datetime.fromtimestamp(now, z)
    midnight = datetime.combine(local.date(), time(0), tzinfo=z)
    return midnight.timestamp()


def next_reset(now: float, tz: str) -> float:
    """The Unix time of the next midnight in `tz` after `now`."""
    z = zone(tz)
    local = datetime.fromtimestamp(now, z)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=z)
    return midnight.timestamp()


def check(usage: Usage, limits: Limits, *, now: float, cooldown_exempt: bool = False) -> None:
    """Raise `QuotaExceeded` with the member-facing reason when one more job is not allowed."""
    reset = int(next_reset(now, limits.timezone))
    if limits.server_daily and usage.server >= limits.server_daily:
        raise QuotaExceeded(
            Plural(
                "This server has used its {n} video for today; "
                "the quota resets <t:{reset}:R> (midnight {timezone}).",
                "This server has used its {n} videos for today; "
                "the quota resets <t:{reset}:R> (midnight {timezone}).",
                n=limits.server_daily,
                reset=reset,
                timezone=limits.timezone,
            ),
            scope="server",
        )
    if limits.member_daily and usage.member >= limits.member_daily:
        raise QuotaExceeded(
            Plural(
                "You have used your {n} video for today; "
                "your quota resets <t:{reset}:R> (midnight {timezone}).",
                "You have used your {n} videos for today; "
                "your quota resets <t:{reset}:R> (midnight {timezone}).",
                n=limits.member_daily,
                reset=reset,
                timezone=limits.timezone,
            ),
            scope="member",
        )
    if limits.cooldown and not cooldown_exempt and usage.last_job_at is not None:
        wait = usage.last_job_at + limits.cooldown - now
        if wait > 0:
            raise QuotaExceeded(
                Plural(
                    "Slow down: this server allows one video every {n} second per member. {again}",
                    "Slow down: this server allows one video every {n} seconds per member. {again}",
                    n=limits.cooldown,
                    again=Plural(
                        "Try again in {n} second.", "Try again in {n} seconds.", n=max(1, round(wait))
                    ),
                ),
                scope="cooldown",
            )


class UsageCounts(Protocol):
    """What the quota needs counted (the store provides it)."""

    async def quota_usage(self, *, guild_id: int, user_id: int, since: float) -> tuple[int, int]: ...

    async def last_job_at(self, *, guild_id: int, user_id: int) -> float | None: ...


def checker(
    counts: UsageCounts,
    limits: Limits,
    *,
    guild_id: int | None,
    user_id: int,
    cooldown_exempt: bool = False,
    now: Callable[[], float] = clock.time,
) -> Callable[[], Awaitable[None]]:
    """A check of the member's and the server's daily quota and cooldown. `JobStore.add_job` runs
    it inside its write transaction, so commands arriving together cannot overspend; intake runs
    it once early too, so a refusal comes before anything is posted. It awaits nothing but the
    store's reads (which on SQLite never suspend: see `Store.add_job`)."""

    async def run() -> None:
        if guild_id is None or not (limits.server_daily or limits.member_daily or limits.cooldown):
            # Nothing to refuse: skip counting today's jobs, which is a scan of the server's day
            # and, in a burst, would run once per command over ever more rows.
            return
        at = now()
        member, server = await counts.quota_usage(
            guild_id=guild_id, user_id=user_id, since=day_start(at, limits.timezone)
        )
        last = await counts.last_job_at(guild_id=guild_id, user_id=user_id) if limits.cooldown else None
        usage = Usage(member=member, server=server, last_job_at=last)
        check(usage, limits, now=at, cooldown_exempt=cooldown_exempt)

    return run


# The one rule of what counts, said the same way in /video-usage, /video-help and the README.
COUNTING_RULE = Text(
    "A video counts once the video service accepts it (it is billed from then on, even if it "
    "later fails), and while it waits for approval or in the queue. A request the service "
    "refuses, a rejected one and one cancelled before it was sent do not count."
)


def left_today(used: int, limit: int, locale: object = None) -> str | None:
    """`3 of 5 left today`, or None when there is no limit."""
    return (
        tr(locale, "{left} of {limit} left today", left=max(0, limit - used), limit=limit) if limit else None
    )


# The user quota (outside servers that added the bot) has no server to take a zone from.
USER_ZONE = "UTC"


class UserScopeCounts(Protocol):
    async def user_scope_usage(self, user_id: int, since: float) -> tuple[int, float | None]: ...


def user_checker(
    counts: UserScopeCounts, daily: int, *, user_id: int, now: Callable[[], float] = clock.time
) -> Callable[[], Awaitable[None]]:
    """The owner's quota for use outside servers that added the bot (`USER_DAILY_QUOTA`), per
    user per UTC day, across every DM and user-install place."""

    async def run() -> None:
        at = now()
        used, _last = await counts.user_scope_usage(user_id, day_start(at, USER_ZONE))
        if used >= daily:
            raise QuotaExceeded(
                Plural(
                    "You have used your {n} video for today outside servers that added the bot; "
                    "more <t:{reset}:R>.",
                    "You have used your {n} videos for today outside servers that added the bot; "
                    "more <t:{reset}:R>.",
                    n=daily,
                    reset=int(next_reset(at, USER_ZONE)),
                ),
                scope="user",
            )

    return run


def describe(used: int, limit: int, locale: object = None) -> str:
    """`5 videos (no limit)`, `3 of 5 videos (2 left)`: a day's use, where the sentence says which day."""
    if not limit:
        return ntr(locale, "{n} video (no limit)", "{n} videos (no limit)", n=used)
    return ntr(
        locale,
        "{used} of {n} video ({left} left)",
        "{used} of {n} videos ({left} left)",
        n=limit,
        used=used,
        left=max(0, limit - used),
    )

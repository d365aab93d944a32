"""Money: each model's price and the monthly budgets, the arithmetic with no I/O.

Amounts are exact: integer micros (millionths of the currency unit, the way ad platforms count
money), never floats. They are read from decimals with at most six places (`0.40`, `12.5`) and
shown with the currency and at least two decimals (`0.40 USD`, `0.125 USD`).

A budget month runs from the 1st at midnight to the next 1st in the budget's time zone. Spend
is counted like the daily quotas (`quota.COUNTING_RULE`): a job costs its price, recorded on its
row when it was asked, once the service accepts it and while it is on its way there. The store
sums; `check` decides; `checker` ties them together for `JobStore.add_job`, which runs it inside
its write transaction, so members asking together cannot overspend.
"""

from __future__ import annotations

import time as clock
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Protocol

from bot.errors import InputError, QuotaExceeded
from bot.rules.quota import zone
from bot.texts.i18n import Text

MICROS = 1_000_000
# The audit channel (or, for the whole bot, the log) is told once a month at this share of a budget.
WARN_PERCENT = 80


def parse_amount(raw: str) -> int:
    """`0.40` -> 400000 micros; ValueError says what is wrong (settings add the variable's name)."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError("expected an amount like 0.40") from None
    if not value.is_finite() or value < 0:
        raise ValueError("expected an amount of zero or more, like 0.40")
    micros = value * MICROS
    if micros != micros.to_integral_value():
        raise ValueError("expected at most six decimal places")
    return int(micros)


def amount(micros: int) -> str:
    """`0.40`: two decimals, more only where the amount has them (a CSV cell, or before the currency)."""
    value = Decimal(micros) / MICROS
    cents = value.quantize(Decimal("0.01"))
    return str(cents) if cents == value else format(value.normalize(), "f")


def show(micros: int, currency: str) -> str:
    """`0.40 USD`."""
    return f"{amount(micros)} {currency}"


@dataclass(frozen=True)
class Prices:
    """What the bot owner set: a price per video for some models (`MODEL_PRICES`), in `currency`."""

    per_video: Mapping[str, int] = field(default_factory=dict)  # micros, by model
    currency: str = "USD"

    def of(self, model: str) -> int | None:
        return self.per_video.get(model)

    def show(self, micros: int) -> str:
        return show(micros, self.currency)


def month_start(now: float, tz: str) -> float:
    """The Unix time of the 1st of `now`'s month, at midnight in `tz`."""
    z = zone(tz)
    local = datetime.fromtimestamp(now, z)
    return datetime.combine(local.date().replace(day=1), time(0), tzinfo=z).timestamp()


def next_month(now: float, tz: str) -> float:
    """The Unix time of the next 1st at midnight in `tz`: when the month's budget resets."""
    z = zone(tz)
    first = datetime.fromtimestamp(now, z).date().replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    return datetime.combine(following, time(0), tzinfo=z).timestamp()


def month_key(now: float, tz: str) -> str:
    """`2025-01`: the budget month `now` is in, for remembering a warning once per month."""
    return datetime.fromtimestamp(now, zone(tz)).strftime("%Y-%m")


@dataclass(frozen=True)
class Budget:
    """One cap on a month's spend: a server's (`monthly_budget`) or the whole bot's (`MONTHLY_BUDGET`)."""

    scope: str  # "server" or "bot"
    limit: int  # micros; 0: no budget
    timezone: str
    guild_id: int | None = None  # the server's; None for the whole bot

    def reached_warning(self, spent: int) -> bool:
        return bool(self.limit) and spent * 100 >= self.limit * WARN_PERCENT


def check_priced(model: str, price: int | None, budgets: tuple[Budget, ...]) -> None:
    """While a budget applies, a model without a price cannot be used: its cost is unknown."""
    if price is None and any(b.limit for b in budgets):
        raise InputError(
            Text(
                "{model} has no price, and spending here has a monthly budget, so it cannot be "
                "used: choose another model (/video-help lists the prices).",
                model=model,
            )
        )


def check(spent: int, price: int, budget: Budget, prices: Prices, *, now: float) -> None:
    """Raise `QuotaExceeded` (scope `budget` or `bot_budget`) when `price` would take the month's
    spend over the budget; a video that lands exactly on it is allowed."""
    if not budget.limit or spent + price <= budget.limit:
        return
    params = {
        "price": prices.show(price),
        "budget": prices.show(budget.limit),
        "spent": prices.show(spent),
        "reset": int(next_month(now, budget.timezone)),
        "timezone": budget.timezone,
    }
    if budget.scope == "server":
        message = Text(
            "This video ({price}) would take this server over its monthly budget of {budget} "
            "({spent} spent this month). The budget resets <t:{reset}:R> (the 1st, midnight {timezone}).",
            **params,
        )
        raise QuotaExceeded(message, scope="budget")
    message = Text(
        "This video ({price}) would take the bot over its owner's monthly budget of {budget} "
        "({spent} spent this month). The budget resets <t:{reset}:R> (the 1st, midnight {timezone}).",
        **params,
    )
    raise QuotaExceeded(message, scope="bot_budget")


class SpendCounts(Protocol):
    """What a budget needs summed (the store provides it)."""

    async def spend(
        self, *, since: float, guild_id: int | None = None, user_id: int | None = None
    ) -> int: ...


async def spent(counts: SpendCounts, budget: Budget, now: float) -> int:
    """This month's spend against `budget`: the server's, or every job's for the whole bot."""
    return await counts.spend(since=month_start(now, budget.timezone), guild_id=budget.guild_id)


def checker(
    counts: SpendCounts,
    prices: Prices,
    budgets: tuple[Budget, ...],
    *,
    model: str,
    now: Callable[[], float] = clock.time,
) -> Callable[[], Awaitable[None]]:
    """A check of every budget that applies, for one video of `model`. `JobStore.add_job` runs it
    inside its write transaction; intake runs it once early too. It awaits nothing but the
    store's reads (which on SQLite never suspend: see `Store.add_job`)."""

    async def run() -> None:
        price = prices.of(model)
        check_priced(model, price, budgets)
        at = now()
        for budget in budgets:
            if budget.limit:
                check(await spent(counts, budget, at), price or 0, budget, prices, now=at)

    return run


def parse_setting(raw: str) -> int | None:
    """`/video-admin set monthly_budget`: an amount, 0 or `none` for no budget, `default` for the bot's."""
    value = raw.strip().lower()
    if value in ("", "default"):
        return None
    if value in ("none", "off", "unlimited"):
        return 0
    try:
        return parse_amount(value)
    except ValueError:
        raise InputError(
            Text("Expected an amount like 25 or 12.50 (0 or `none` for no budget, `default` for the bot's).")
        ) from None

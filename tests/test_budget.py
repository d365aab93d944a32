"""Money: prices and monthly budgets, from the arithmetic to the store's exact count and the
intake's refusals and once-a-month warning."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import ConfigError, InputError, QuotaExceeded
from bot.jobs.model import JobState
from bot.rules import budget
from bot.rules.budget import Budget, Prices
from bot.rules.guild_settings import GuildSettings
from bot.rules.intake import Intake, JobRequest, Member
from bot.settings import load_settings
from bot.storage.store import Store
from bot.texts.i18n import english
from tests import job_life as life

ENV = {"DISCORD_TOKEN": "t", "VIDEO_API_KEY": "k"}
ANN = Member(user_id=1, guild_id=10, channel_id=100)
NOW = 1_800_000_000.0  # 2027-01-15


# --- amounts ---------------------------------------------------------------------------------


@given(st.integers(0, 10**15))
def test_an_amount_reads_back_exactly_as_it_is_shown(micros):
    shown = budget.show(micros, "USD")
    assert shown.endswith(" USD")
    assert budget.parse_amount(shown.removesuffix(" USD")) == micros


def test_amounts_show_two_decimals_and_more_only_when_they_have_them():
    assert budget.show(400_000, "USD") == "0.40 USD"
    assert budget.show(1_200_000, "EUR") == "1.20 EUR"
    assert budget.show(125_000, "USD") == "0.125 USD"
    assert budget.show(25_000_000, "USD") == "25.00 USD"
    assert budget.parse_amount("0.1") + budget.parse_amount("0.2") == budget.parse_amount("0.3")


@pytest.mark.parametrize("raw", ["abc", "-1", "0.0000001", "NaN", "Infinity", ""])
def test_malformed_amounts_are_refused(raw):
    with pytest.raises(ValueError):
        budget.parse_amount(raw)


# --- months ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Pacific/Kiritimati", "America/Los_Angeles"])
@pytest.mark.parametrize("when", ["2026-12-31T23:30", "2027-01-01T00:30", "2027-03-29T12:00"])
def test_a_budget_month_runs_from_the_first_to_the_next_in_the_zone(tz, when):
    now = datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(tz)).timestamp()
    start = datetime.fromtimestamp(budget.month_start(now, tz), ZoneInfo(tz))
    end = datetime.fromtimestamp(budget.next_month(now, tz), ZoneInfo(tz))
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    assert (start.day, start.hour, start.month) == (1, 0, local.month)
    assert (end.day, end.hour, end.month) == (1, 0, local.month % 12 + 1)
    assert budget.month_start(now, tz) <= now < budget.next_month(now, tz)
    assert budget.month_key(now, tz) == local.strftime("%Y-%m")


# --- the check -------------------------------------------------------------------------------

PRICES = Prices({"veo3.1-fast": 400_000}, "USD")
SERVER = Budget("server", 1_000_000, "Europe/Berlin", 10)


def test_a_video_that_lands_on_the_budget_is_allowed_and_one_past_it_refused_naming_it():
    budget.check(600_000, 400_000, SERVER, PRICES, now=NOW)
    with pytest.raises(QuotaExceeded) as refused:
        budget.check(800_000, 400_000, SERVER, PRICES, now=NOW)
    text = english(refused.value.text)
    assert refused.value.scope == "budget"
    assert "monthly budget of 1.00 USD" in text and "0.80 USD spent" in text
    assert f"<t:{int(budget.next_month(NOW, 'Europe/Berlin'))}:R>" in text
    assert "midnight Europe/Berlin" in text
    owner = Budget("bot", 1_000_000, "UTC")
    with pytest.raises(QuotaExceeded) as refused:
        budget.check(800_000, 400_000, owner, PRICES, now=NOW)
    assert refused.value.scope == "bot_budget"
    assert "the bot over its owner's monthly budget" in english(refused.value.text)


def test_no_budget_refuses_nothing():
    budget.check(10**12, 400_000, Budget("server", 0, "UTC", 10), PRICES, now=NOW)


def test_a_model_without_a_price_is_refused_only_while_a_budget_applies():
    budget.check_priced("veo3.1", None, (Budget("server", 0, "UTC", 10), Budget("bot", 0, "UTC")))
    with pytest.raises(InputError, match=r"veo3\.1 has no price"):
        budget.check_priced("veo3.1", None, (Budget("server", 0, "UTC", 10), Budget("bot", 5, "UTC")))


# --- the store's count, exact whatever happens to the jobs ------------------------------------

LIMIT = 2_000_000
PRICE_OF = {0: 400_000, 1: 700_000, 2: 0}
ops = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.integers(0, 2)),
        st.tuples(st.sampled_from(["accept", "refuse", "reject", "approve"]), st.integers(0, 30)),
    ),
    max_size=40,
)


async def ask(store: Store, model: int, moderated: bool) -> bool:
    prices = Prices({f"m{k}": v for k, v in PRICE_OF.items()})
    cap = Budget("server", LIMIT, "UTC", 1)
    check = budget.checker(store, prices, (cap,), model=f"m{model}", now=lambda: NOW)
    try:
        await store.add_job(
            guild_id=1,
            channel_id=1,
            user_id=1,
            prompt="p",
            model=f"m{model}",
            shape="landscape",
            size="1280x720",
            duration=8,
            aspect_ratio="16:9",
            price_micros=PRICE_OF[model],
            state=JobState.AWAITING_APPROVAL if moderated else JobState.PENDING,
            now=NOW,
            check=check,
        )
    except QuotaExceeded:
        return False
    return True


@settings(max_examples=60, deadline=None)
@given(ops, st.booleans())
async def test_a_job_is_accepted_exactly_when_its_price_fits_in_the_month(operations, moderated):
    async with Store.open(":memory:") as store:
        for op, arg in operations:
            jobs = await store.jobs_for_guild(1, limit=1000)
            holding = life.holding(jobs)
            spent = sum(j.price_micros or 0 for j in holding)
            assert await store.spend(since=budget.month_start(NOW, "UTC"), guild_id=1) == spent
            if op == "ask":
                assert await ask(store, arg, moderated) == (spent + PRICE_OF[arg] <= LIMIT)
                continue
            if not jobs:
                continue
            job = jobs[arg % len(jobs)]
            await life.move(store, job, op)
        assert await store.spend(since=0, guild_id=1) <= LIMIT


async def test_last_months_spend_does_not_count_and_other_servers_only_for_the_bot():
    async with Store.open(":memory:") as store:
        fields = dict(
            channel_id=1, user_id=1, prompt="p", model="m", shape="landscape", size="s", aspect_ratio="16:9"
        )
        month = budget.month_start(NOW, "UTC")
        await store.add_job(guild_id=1, price_micros=300, now=month - 1, state=JobState.PENDING, **fields)
        await store.add_job(guild_id=1, price_micros=500, now=month, state=JobState.PENDING, **fields)
        await store.add_job(guild_id=2, price_micros=700, now=NOW, state=JobState.PENDING, **fields)
        assert await store.spend(since=month, guild_id=1) == 500
        assert await store.spend(since=month) == 1200


# --- intake: settings, refusals, the recorded price, the warning ---------------------------------


def make_intake(store: Store, **env: str) -> Intake:
    return Intake(load_settings({**ENV, **env}, dotenv=False), store)


async def start(
    intake: Intake, member: Member, model: str = "veo3.1-fast", rules: GuildSettings | None = None
):
    rules = rules or GuildSettings()
    request = JobRequest(prompt="p", model=model, shape="landscape", duration=8)
    await intake.check(member, rules, request)
    return await intake.store.add_job(
        guild_id=member.guild_id,
        channel_id=member.channel_id,
        user_id=member.user_id,
        scope=member.scope,
        check=intake.quota_check(member, rules, model),
        price_micros=intake.price(model),
        state=JobState.PENDING,
        **request.job_fields(),
    )


def test_settings_read_prices_and_budgets_and_name_what_is_wrong():
    s = load_settings(
        {**ENV, "MODEL_PRICES": "veo3.1-fast=0.40, veo3.1=1.2", "SERVER_MONTHLY_BUDGET": "25"}, dotenv=False
    )
    assert dict(s.model_prices) == {"veo3.1-fast": 400_000, "veo3.1": 1_200_000}
    assert (s.price_currency, s.server_monthly_budget, s.monthly_budget) == ("USD", 25_000_000, 0)
    for env, named in (
        ({"MODEL_PRICES": "veo3.1-fast=cheap"}, "MODEL_PRICES"),
        ({"MODEL_PRICES": "veo9=1"}, "MODEL_PRICES names veo9"),
        ({"MONTHLY_BUDGET": "-5"}, "MONTHLY_BUDGET"),
        ({"PRICE_CURRENCY": "US dollars"}, "PRICE_CURRENCY"),
    ):
        with pytest.raises(ConfigError, match=named):
            load_settings({**ENV, **env}, dotenv=False)


def test_a_server_sets_its_own_budget_or_follows_the_bots():
    defaults = make_intake(Store.open(":memory:"), SERVER_MONTHLY_BUDGET="10").defaults
    rules = GuildSettings()
    assert rules.limits(defaults).monthly_budget == 10_000_000
    own = rules.with_value("monthly_budget", "2.50")
    assert own.limits(defaults).monthly_budget == 2_500_000
    assert GuildSettings.from_json(own.to_json()) == own
    assert own.with_value("monthly_budget", "none").limits(defaults).monthly_budget == 0
    assert own.with_value("monthly_budget", "default").limits(defaults).monthly_budget == 10_000_000
    assert dict(own.describe(defaults))["monthly_budget"] == "2.50 USD"
    assert dict(rules.describe(defaults))["monthly_budget"] == "10.00 USD (bot default)"
    with pytest.raises(InputError, match="amount like 25"):
        rules.with_value("monthly_budget", "lots")


async def test_while_a_budget_is_set_a_model_without_a_price_is_refused_in_one_line():
    async with Store.open(":memory:") as store:
        free = make_intake(store, MODEL_PRICES="veo3.1-fast=0.40")
        await start(free, ANN, "veo3.1")  # no budget: an unpriced model is fine
        capped = make_intake(store, MODEL_PRICES="veo3.1-fast=0.40", MONTHLY_BUDGET="100")
        with pytest.raises(InputError) as refused:
            await start(capped, ANN, "veo3.1")
        assert "\n" not in refused.value.user_message and "veo3.1 has no price" in refused.value.user_message
        dm = Member(user_id=1, guild_id=None, channel_id=5, scope="dm")
        with pytest.raises(InputError, match="no price"):
            await start(capped, dm, "veo3.1")  # the bot's budget applies outside servers too
        await start(capped, ANN, "veo3.1-fast")


async def test_the_price_is_kept_on_the_job_so_a_later_change_does_not_rewrite_the_month():
    async with Store.open(":memory:") as store:
        job = await start(make_intake(store, MODEL_PRICES="veo3.1-fast=0.40"), ANN)
        assert job.price_micros == 400_000 and (await store.require(job.id)).price_micros == 400_000
        await start(make_intake(store, MODEL_PRICES="veo3.1-fast=2"), ANN)
        assert await store.spend(since=0, guild_id=10) == 2_400_000


async def test_the_bots_budget_counts_every_server_and_user_installs():
    async with Store.open(":memory:") as store:
        intake = make_intake(store, MODEL_PRICES="veo3.1-fast=0.40", MONTHLY_BUDGET="1")
        await start(intake, ANN)
        await start(intake, Member(user_id=2, guild_id=None, channel_id=5, scope="dm"))
        with pytest.raises(QuotaExceeded) as refused:
            await start(intake, Member(user_id=3, guild_id=11, channel_id=6))
        assert refused.value.scope == "bot_budget"


async def test_the_warning_comes_once_a_month_at_80_percent(caplog):
    async with Store.open(":memory:") as store:
        intake = make_intake(
            store, MODEL_PRICES="veo3.1-fast=0.40", SERVER_MONTHLY_BUDGET="1", MONTHLY_BUDGET="1.2"
        )
        first = await start(intake, ANN)
        assert await intake.spend_warning(first) is None  # 40 %
        second = await start(intake, Member(user_id=2, guild_id=10, channel_id=100))
        with caplog.at_level(logging.WARNING, logger="bot.rules.intake"):
            warning = await intake.spend_warning(second)  # 80 %: the server's, and the bot's (67 %) not yet
        assert warning is not None
        assert "spent 0.80 USD of its monthly budget of 1.00 USD (80 %)" in english(warning)
        assert not caplog.records
        assert await intake.spend_warning(second) is None  # told already this month
        third = await start(intake, Member(user_id=3, guild_id=11, channel_id=7))
        with caplog.at_level(logging.WARNING, logger="bot.rules.intake"):
            assert await intake.spend_warning(third) is None  # server 11 has 0.40 of 1.00
            assert await intake.spend_warning(third) is None
        assert [r.getMessage() for r in caplog.records] == [
            "the bot has spent 1.20 USD of its MONTHLY_BUDGET of 1.20 USD (100 %) this month; "
            "videos that would pass it are refused"
        ]

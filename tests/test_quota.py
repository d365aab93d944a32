"""Quota days in a stated time zone, and the quota/cooldown decision."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InputError, QuotaExceeded
from bot.rules.quota import Limits, Usage, check, day_start, describe, next_reset

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"]


def ts(text: str, tz: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def test_the_day_starts_at_local_midnight():
    now = ts("2026-11-25T14:30:00", "Europe/Berlin")
    assert day_start(now, "Europe/Berlin") == ts("2026-11-25T00:00:00", "Europe/Berlin")
    assert next_reset(now, "Europe/Berlin") == ts("2026-11-26T00:00:00", "Europe/Berlin")
    # The same instant is already the next day in Tokyo.
    late = ts("2026-11-25T23:30:00", "UTC")
    assert day_start(late, "Asia/Tokyo") == ts("2026-11-26T00:00:00", "Asia/Tokyo")


def test_days_across_daylight_saving_changes_are_23_and_25_hours():
    spring = ts("2026-03-29T12:00:00", "Europe/Berlin")
    assert next_reset(spring, "Europe/Berlin") - day_start(spring, "Europe/Berlin") == 23 * 3600
    autumn = ts("2026-10-25T12:00:00", "Europe/Berlin")
    assert next_reset(autumn, "Europe/Berlin") - day_start(autumn, "Europe/Berlin") == 25 * 3600


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
    st.sampled_from(ZONES),
)
def test_now_always_lies_in_its_day(moment, tz):
    now = moment.replace(tzinfo=UTC).timestamp()
    start, end = day_start(now, tz), next_reset(now, tz)
    assert start <= now < end
    assert 22 * 3600 <= end - start <= 26 * 3600
    local_start = datetime.fromtimestamp(start, ZoneInfo(tz))
    assert (local_start.hour, local_start.minute) == (0, 0)


def test_unknown_zone_is_a_clear_input_error():
    with pytest.raises(InputError, match="time zone"):
        day_start(0, "Mars/Olympus")


def test_quota_and_cooldown_decisions():
    limits = Limits(member_daily=2, server_daily=3, cooldown=60, timezone="UTC")
    check(Usage(member=1, server=2, last_job_at=None), limits, now=1000)
    with pytest.raises(QuotaExceeded, match="your quota resets <t:"):
        check(Usage(member=2, server=2), limits, now=1000)
    with pytest.raises(QuotaExceeded, match="This server has used its 3"):
        check(Usage(member=0, server=3), limits, now=1000)
    with pytest.raises(QuotaExceeded, match="Try again in 30 seconds"):
        check(Usage(member=1, server=1, last_job_at=970), limits, now=1000)
    check(Usage(member=1, server=1, last_job_at=970), limits, now=1000, cooldown_exempt=True)
    check(Usage(member=1, server=1, last_job_at=940), limits, now=1000)
    check(Usage(member=99, server=99, last_job_at=999), Limits(), now=1000)  # 0 means no limit


def test_describe():
    assert describe(2, 5) == "2 of 5 videos (3 left)"
    assert describe(7, 0) == "7 videos (no limit)"
    assert describe(1, 0) == "1 video (no limit)" and describe(0, 1) == "0 of 1 video (1 left)"


def test_refusals_count_in_the_languages_plural_forms():
    one = Limits(member_daily=1, server_daily=0, cooldown=1, timezone="UTC")
    with pytest.raises(QuotaExceeded, match="You have used your 1 video for today;"):
        check(Usage(member=1, server=1), one, now=1000)
    with pytest.raises(QuotaExceeded, match=r"one video every 1 second per member\. Try again in 1 second\."):
        check(Usage(member=0, server=0, last_job_at=999.5), one, now=1000)

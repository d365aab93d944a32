from hypothesis import given
from hypothesis import strategies as st

from bot.formatting import elapsed, progress_bar, truncate


@given(st.one_of(st.none(), st.integers(-50, 200)))
def test_progress_bar_has_fixed_width(pct):
    assert len(progress_bar(pct, 20)) == 20


def test_progress_bar_fills_in_proportion():
    assert progress_bar(0, 10) == "░" * 10
    assert progress_bar(50, 10) == "█" * 5 + "░" * 5
    assert progress_bar(100, 10) == "█" * 10


def test_elapsed():
    assert elapsed(5) == "5s"
    assert elapsed(65) == "1m 05s"
    assert elapsed(3725) == "1h 02m"


@given(st.text(), st.integers(1, 100))
def test_truncate_respects_the_limit(text, limit):
    out = truncate(text, limit)
    assert len(out) <= limit
    assert out == text or out.endswith("…")

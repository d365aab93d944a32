import re

from hypothesis import given
from hypothesis import strategies as st

from bot.texts.formatting import elapsed, inert, progress_bar, truncate


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


def _unescape(text: str) -> str:
    """What Discord shows for escaped text: a backslash before punctuation is hidden."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text).replace("\u200b", "")


@given(st.text(max_size=200))
def test_inert_text_reads_as_written_and_carries_no_markup(text):
    shown = inert(text)
    assert _unescape(shown) == text
    # No unescaped markup character survives: a masked link, emphasis, or a mention needs one.
    assert not re.search(r"(?<!\\)(\\\\)*[\[\]()*_~|`<>#]", shown.replace("\\\\", ""))
    assert "@everyone" not in shown.lower() and "@here" not in shown.lower()
    # Nor a bare link: Discord makes `https://…` clickable by itself, `https\://…` it does not.
    assert not re.search(r"[A-Za-z]://", shown)


def test_inert_examples():
    assert inert("[click](https://x.invalid)") == "\\[click\\]\\(https\\://x.invalid\\)"
    assert inert("see https://x.invalid/a and HTTP://y.invalid") == (
        "see https\\://x.invalid/a and HTTP\\://y.invalid"
    )
    assert inert("1. first") == "1\\. first"
    assert inert("@everyone") == "@\u200beveryone"

"""The usage report: CSV rows, neutralised formulas, per-member sums, the period options."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InputError
from bot.jobs.model import Job, JobState
from bot.ops.report import COLUMNS, MemberSummary, build_csv, period, safe_cell, summarize, summary_text
from bot.rules import budget

T0 = datetime(2025, 3, 1, 12, 30, tzinfo=UTC).timestamp()


def job(id_: int = 1, *, state=JobState.DELIVERED, task_id: str | None = "task", **kw) -> Job:
    base = dict(
        id=id_,
        state=state,
        created_at=T0,
        updated_at=T0,
        channel_id=5,
        user_id=7,
        user_name="ann",
        prompt="a red kite",
        model="veo3.1-fast",
        shape="landscape",
        size="1280x720",
        duration=8,
        aspect_ratio="16:9",
        guild_id=9,
        task_id=task_id,
    )
    return Job(**{**base, **kw})


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_columns_and_one_row_per_job():
    text = build_csv(
        [
            job(1, price_micros=400_000),
            # Refused by the relay: it had a price, and cost nothing.
            job(
                2, state=JobState.FAILED, task_id=None, enable_upsample=True, duration=4, price_micros=400_000
            ),
            job(3, state=JobState.RUNNING, user_id=8, user_name="bob"),
            job(4, state=JobState.REJECTED, task_id=None),
            job(5, state=JobState.CANCELLED),  # cancelled after the relay accepted it: still billed
        ]
    )
    header, *body = rows(text)
    assert tuple(header) == COLUMNS
    assert body == [
        [
            "1",
            "2025-03-01T12:30:00+00:00",
            "7",
            "ann",
            "veo3.1-fast",
            "8",
            "no",
            "done",
            "yes",
            "0.40",
            "0.40",
            "a red kite",
        ],
        [
            "2",
            "2025-03-01T12:30:00+00:00",
            "7",
            "ann",
            "veo3.1-fast",
            "4",
            "yes",
            "failed",
            "no",
            "0.40",
            "0.00",
            "a red kite",
        ],
        [
            "3",
            "2025-03-01T12:30:00+00:00",
            "8",
            "bob",
            "veo3.1-fast",
            "8",
            "no",
            "in progress",
            "yes",
            "",
            "0.00",
            "a red kite",
        ],
        [
            "4",
            "2025-03-01T12:30:00+00:00",
            "7",
            "ann",
            "veo3.1-fast",
            "8",
            "no",
            "rejected",
            "no",
            "",
            "0.00",
            "a red kite",
        ],
        [
            "5",
            "2025-03-01T12:30:00+00:00",
            "7",
            "ann",
            "veo3.1-fast",
            "8",
            "no",
            "cancelled",
            "yes",
            "",
            "0.00",
            "a red kite",
        ],
    ]


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =1"])
def test_formula_cells_are_neutralised(name):
    (_, row) = rows(build_csv([job(user_name=name)]))
    assert row[3] == "'" + name


def test_the_prompt_is_reported_neutralised():
    (_, row) = rows(build_csv([job(prompt='=HYPERLINK("http://x", "a cat")\nand "quotes", commas')]))
    assert row[COLUMNS.index("prompt")] == '\'=HYPERLINK("http://x", "a cat")\nand "quotes", commas'


@given(st.text())
def test_any_name_round_trips_and_never_starts_a_formula(name):
    (_, row) = rows(build_csv([job(user_name=name, model=name, prompt=name)]))
    for cell in (row[3], row[4], row[COLUMNS.index("prompt")]):
        assert not cell.lstrip().startswith(("=", "+", "-", "@"))
        assert cell in (name, "'" + name)
    # Only a risky cell is changed.
    assert (row[3] == name) == (safe_cell(name) == name)


@given(st.lists(st.tuples(st.integers(1, 4), st.sampled_from(list(JobState)), st.booleans()), max_size=40))
def test_summary_adds_up_to_the_rows(specs):
    jobs = [
        job(i, user_id=u, user_name=f"m{u}", state=s, task_id="t" if a else None)
        for i, (u, s, a) in enumerate(specs, 1)
    ]
    summaries = summarize(jobs)
    assert sum(s.jobs for s in summaries) == len(jobs)
    assert sum(s.accepted for s in summaries) == sum(1 for j in jobs if j.task_id)
    assert len({s.member_id for s in summaries}) == len(summaries) == len({j.user_id for j in jobs})
    assert [s.accepted for s in summaries] == sorted((s.accepted for s in summaries), reverse=True)
    _, *body = rows(build_csv(jobs))
    for s in summaries:
        mine = [r for r in body if r[2] == str(s.member_id)]
        assert s.done == sum(r[7] == "done" for r in mine)
        assert s.in_progress == sum(r[7] == "in progress" for r in mine)
        assert s.accepted == sum(r[8] == "yes" for r in mine)


def test_summary_text_lists_members_and_escapes_names():
    jobs = [job(1), job(2, state=JobState.FAILED, task_id=None), job(3, user_id=8, user_name="*bob*")]
    text = summary_text(summarize(jobs), "the last 30 days", escape=lambda s: s.replace("*", "\\*"))
    assert text.splitlines() == [
        "**Videos in this server, the last 30 days:** 3 jobs, 2 accepted by the video service",
        "• ann: 1 accepted, 1 done, 1 failed",
        "• \\*bob\\*: 1 accepted, 1 done",
    ]
    assert "No jobs" in summary_text([], "the last day")


def test_the_summary_says_what_each_member_cost_at_the_price_they_asked():
    jobs = [
        job(1, price_micros=400_000),
        job(2, price_micros=1_200_000, state=JobState.FAILED, task_id=None),  # refused: free
        job(3, user_id=8, user_name="bob", price_micros=1_200_000),
        job(4, user_id=8, user_name="bob", price_micros=None),
    ]
    summaries = summarize(jobs)
    assert [(s.name, s.cost) for s in summaries] == [("bob", 1_200_000), ("ann", 400_000)]
    text = summary_text(summaries, "x", show=lambda m: budget.show(m, "EUR"))
    assert text.splitlines()[1:] == [
        "Cost: 1.60 EUR (each video the service accepted, at its price when it was asked).",
        "• bob: 2 accepted, 2 done, 1.20 EUR",
        "• ann: 1 accepted, 1 done, 1 failed, 0.40 EUR",
    ]
    assert "Cost" not in summary_text(summaries, "x")  # no prices: nothing said of money


def test_summary_text_caps_the_member_lines():
    jobs = [job(i, user_id=i, user_name=f"m{i}") for i in range(1, 21)]
    text = summary_text(summarize(jobs), "x", max_members=5)
    assert len(text.splitlines()) == 1 + 5 + 1 and "15 more members" in text


def test_period_by_days_and_by_dates():
    now = datetime(2025, 3, 10, 8, 0, tzinfo=UTC).timestamp()
    start, end, label = period(now)
    assert (end - start) == pytest.approx(30 * 86400 + 1) and label == "the last 30 days"
    start, end, _ = period(now, days=1)
    assert start == now - 86400 and end > now
    start, end, label = period(now, since="2025-03-01", until="2025-03-02")
    assert datetime.fromtimestamp(start, UTC) == datetime(2025, 3, 1, tzinfo=UTC)
    assert datetime.fromtimestamp(end, UTC) == datetime(2025, 3, 3, tzinfo=UTC)  # until is included
    assert label == "2025-03-01 to 2025-03-02 (UTC)"
    _, end, _ = period(now, since="2025-03-01")  # until defaults to today
    assert datetime.fromtimestamp(end, UTC) == datetime(2025, 3, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"days": 5, "since": "2025-01-01"}, "not both"),
        ({"until": "2025-01-01"}, "needs since"),
        ({"since": "yesterday"}, "like 2025-01-31"),
        ({"since": "2025-02-01", "until": "2025-01-01"}, "before since"),
        ({"since": "2023-01-01", "until": "2025-01-01"}, "at most 366"),
        ({"days": 0}, "between 1 and 366"),
    ],
)
def test_period_refuses_unclear_options(kw, says):
    with pytest.raises(InputError) as err:
        period(T0, **kw)
    assert says in err.value.user_message


def test_the_summary_counts_in_the_readers_words():
    one = [MemberSummary(member_id=1, name="ann", accepted=1, done=1)]
    assert "1 job, 1 accepted" in summary_text(one, "today", locale="en-US")
    assert "1 Auftrag," in summary_text(one, "heute", locale="de")
    many = [MemberSummary(member_id=i, name=f"m{i}", accepted=1, done=1) for i in range(3)]
    assert "… and 1 more member (all" in summary_text(many, "today", locale="en-US", max_members=2)

"""`/video-admin report`: a server's jobs for a period as CSV, and a per-member summary.

Pure functions over `Job`s; the admin cog reads the store and sends the file. The CSV is meant
for spreadsheets, so every text cell a spreadsheet could run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.errors import InputError
from bot.jobs.model import Job, JobState
from bot.rules.budget import amount
from bot.texts.i18n import Plural, Text, ntr, tr

DAY = 86400.0
DEFAULT_DAYS = 30
MAX_DAYS = 366

COLUMNS = (
    "job",
    "requested_at_utc",
    "member_id",
    "member_name",
    "model",
    "duration_s",
    "upsample",
    "outcome",
    "accepted_by_relay",
    # The job's price when it was asked (empty: the model had none) and what it cost: the price
    # once the relay accepted it, else 0. In PRICE_CURRENCY.
    "price",
    "cost",
    # What the money was spent on; last, as the one long free-text cell.
    "prompt",
)
OUTCOMES = {
    JobState.DELIVERED: "done",
    JobState.FAILED: "failed",
    JobState.CANCELLED: "cancelled",
    JobState.REJECTED: "rejected",
}
IN_PROGRESS = "in progress"
# A spreadsheet treats a cell starting with one of these as a formula (tab and carriage return
# because some strip them first): CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def outcome(job: Job) -> str:
    return OUTCOMES.get(job.state, IN_PROGRESS)


def accepted(job: Job) -> bool:
    """The relay accepted the job: it gave a task id, which is what is billed."""
    return job.task_id is not None


def cost(job: Job) -> int:
    """What the job cost (micros): its price, once the relay accepted it."""
    return (job.price_micros or 0) if accepted(job) else 0


def safe_cell(text: str) -> str:
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def build_csv(jobs: Iterable[Job]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for job in jobs:
        writer.writerow(
            [
                job.id,
                datetime.fromtimestamp(job.created_at, UTC).isoformat(timespec="seconds"),
                job.user_id,
                safe_cell(job.user_name),
                safe_cell(job.model),
                job.duration,
                "yes" if job.enable_upsample else "no",
                outcome(job),
                "yes" if accepted(job) else "no",
                "" if job.price_micros is None else amount(job.price_micros),
                amount(cost(job)),
                safe_cell(job.prompt),
            ]
        )
    return out.getvalue()


@dataclass
class MemberSummary:
    member_id: int
    name: str
    accepted: int = 0
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    rejected: int = 0
    in_progress: int = 0
    cost: int = 0  # micros

    @property
    def jobs(self) -> int:
        return self.done + self.failed + self.cancelled + self.rejected + self.in_progress


def summarize(jobs: Iterable[Job]) -> list[MemberSummary]:
    """One summary per member, the biggest spenders first."""
    members: dict[int, MemberSummary] = {}
    for job in sorted(jobs, key=lambda j: j.id):
        summary = members.setdefault(job.user_id, MemberSummary(job.user_id, job.user_name))
        summary.name = job.user_name or summary.name  # the latest name they used
        summary.accepted += accepted(job)
        summary.cost += cost(job)
        field = outcome(job).replace(" ", "_")
        setattr(summary, field, getattr(summary, field) + 1)
    return sorted(members.values(), key=lambda s: (-s.cost, -s.accepted, -s.jobs, s.member_id))


def summary_text(
    summaries: list[MemberSummary],
    period_label: str,
    *,
    escape: Callable[[str], str] = lambda s: s,
    max_members: int = 15,
    truncated: bool = False,
    locale: object = None,
    show: Callable[[int], str] | None = None,
) -> str:
    """The private reply: totals, then one line per member (at most `max_members`); with `show`
    (amounts with their currency, where models have prices) what each cost."""
    jobs = sum(s.jobs for s in summaries)
    paid = sum(s.accepted for s in summaries)
    lines = [
        ntr(
            locale,
            "**Videos in this server, {period}:** {jobs} job, {paid} accepted by the video service",
            "**Videos in this server, {period}:** {jobs} jobs, {paid} accepted by the video service",
            n=jobs,
            period=period_label,
            jobs=jobs,
            paid=paid,
        )
    ]
    if show is not None:
        lines.append(
            tr(
                locale,
                "Cost: {cost} (each video the service accepted, at its price when it was asked).",
                cost=show(sum(s.cost for s in summaries)),
            )
        )
    if truncated:
        lines.append(
            tr(locale, "Only the oldest jobs fit in one report: choose a shorter period for the rest.")
        )
    for s in summaries[:max_members]:
        name = escape(s.name[:32]) or str(s.member_id)
        others = (
            (s.failed, tr(locale, "{n} failed", n=s.failed)),
            (s.cancelled, tr(locale, "{n} cancelled", n=s.cancelled)),
            (s.rejected, tr(locale, "{n} rejected", n=s.rejected)),
            (s.in_progress, tr(locale, "{n} in progress", n=s.in_progress)),
        )
        parts = [
            tr(locale, "{n} accepted", n=s.accepted),
            tr(locale, "{n} done", n=s.done),
            *(words for n, words in others if n),
            *([show(s.cost)] if show is not None else []),
        ]
        lines.append(f"• {name}: " + ", ".join(parts))
    if len(summaries) > max_members:
        lines.append(
            ntr(
                locale,
                "… and {count} more member (all are in the CSV).",
                "… and {count} more members (all are in the CSV).",
                n=len(summaries) - max_members,
                count=len(summaries) - max_members,
            )
        )
    if not summaries:
        lines.append(tr(locale, "No jobs in this period."))
    return "\n".join(lines)


def period(
    now: float,
    *,
    days: int | None = None,
    since: str | None = None,
    until: str | None = None,
    locale: object = None,
) -> tuple[float, float, str]:
    """(start, end, label) of the report: the last `days` days up to now, or the UTC days from
    `since` to `until` (both included; `until` defaults to today). Jobs with start <= t < end."""
    if days is not None and (since or until):
        raise InputError(Text("Give either days, or since (and until), not both."))
    if until and not since:
        raise InputError(Text("until needs since: the first day of the period."))
    if not since:
        days = DEFAULT_DAYS if days is None else days
        if not 1 <= days <= MAX_DAYS:
            raise InputError(Text("days must be between 1 and {most}.", most=MAX_DAYS))
        return now - days * DAY, now + 1, ntr(locale, "the last {n} day", "the last {n} days", n=days)
    first = _date("since", since)
    last = _date("until", until) if until else datetime.fromtimestamp(now, UTC).date()
    if last < first:
        raise InputError(Text("until is before since."))
    if (last - first).days + 1 > MAX_DAYS:
        raise InputError(
            Plural(
                "A report covers at most {most} day.",
                "A report covers at most {most} days.",
                n=MAX_DAYS,
                most=MAX_DAYS,
            )
        )
    start = datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()
    end = datetime(last.year, last.month, last.day, tzinfo=UTC).timestamp() + DAY
    return start, end, tr(locale, "{first} to {last} (UTC)", first=first.isoformat(), last=last.isoformat())


def _date(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(Text("{name} must be a date like 2025-01-31.", name=name)) from None

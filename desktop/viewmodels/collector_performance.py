"""Collector performance: the weekly scores the server computes (Monday to Sunday IST), the
latest closed week ranked, and each collector's trend over the weeks before it.

The score itself is the server's (DOMAIN.md: 50 × efficiency + 20 × promise rate + 15 × (1 −
roll-forward share) + 15 × coverage); this only lays it out. A closed week's scores never
change, so a row here is a fact, not an estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from desktop.format import day, rupees
from desktop.viewmodels.online import (
    BRANCHES_PATH,
    Api,
    Branch,
    UnexpectedAnswer,
    grouped,
    iso_day,
    items,
    mapping,
    parse_branches,
    text,
    whole,
)
from loancore.dates import week_label

PATH = "/scores"
TREND_WEEKS = 8
MAX_SCORE_BP = 10_000
NO_WEEK_SCORED = (
    "No week has been scored yet. Scores appear after the weekly job has scored a full "
    "Monday-to-Sunday week."
)
COLUMNS = (
    "Rank",
    "Branch",
    "Collector",
    "Accounts",
    "Collected (₹)",
    "Due (₹)",
    "Efficiency",
    "Promises kept",
    "Rolled fwd",
    "Contacted",
    "Score",
    f"Last {TREND_WEEKS} weeks",
)
TREND_COLUMN = len(COLUMNS) - 1


@dataclass(frozen=True, slots=True)
class ScoreRow:
    week_start: date
    collector_id: str
    collector_name: str
    branch_id: int | None
    accounts: int
    due_paise: int
    collected_paise: int
    promises_due: int
    promises_kept: int
    rolled_forward: int
    contacted: int
    score_bp: int
    rank: int


def score_text(score_bp: int | None) -> str:
    """Basis points of 100 as the score people read: 8734 → '87.34'."""
    if score_bp is None:
        return "—"
    return f"{score_bp // 100}.{score_bp % 100:02d}"


def percent_text(part: int, whole_: int) -> str:
    """A whole-number percentage, rounded half up; '—' when there was nothing to measure."""
    if whole_ <= 0:
        return "—"
    return f"{(part * 200 + whole_) // (whole_ * 2)}%"


def week_text(week_start: date) -> str:
    """'2026-W47 (16-11-2026 to 22-11-2026)': the ISO week and its Monday and Sunday."""
    return f"{week_label(week_start)} ({day(week_start)} to {day(week_start + timedelta(days=6))})"


def _row(data: Any) -> ScoreRow:
    row = mapping(data, "a score row")
    branch = row.get("branch_id")
    score = whole(row, "score_bp")
    if not 0 <= score <= MAX_SCORE_BP:
        raise UnexpectedAnswer(f"a score of {score} basis points is outside 0 to 10000")
    return ScoreRow(
        week_start=iso_day(row, "week_start"),
        collector_id=str(row.get("collector_id") or ""),
        collector_name=text(row, "collector_name"),
        branch_id=None if branch is None else whole(row, "branch_id"),
        accounts=whole(row, "accounts"),
        due_paise=whole(row, "due_paise"),
        collected_paise=whole(row, "collected_paise"),
        promises_due=whole(row, "promises_due"),
        promises_kept=whole(row, "promises_kept"),
        rolled_forward=whole(row, "rolled_forward"),
        contacted=whole(row, "contacted"),
        score_bp=score,
        rank=whole(row, "rank"),
    )


@dataclass(frozen=True, slots=True)
class Performance:
    weeks: tuple[date, ...]
    """Newest first, as the server sends them."""
    rows: tuple[ScoreRow, ...]

    @property
    def latest_week(self) -> date | None:
        """The newest week with scores. The server lists the last weeks whether scored or not,
        so on a Monday morning, before the weekly job, this is the week before."""
        scored = {r.week_start for r in self.rows}
        return next((week for week in self.weeks if week in scored), None)

    @property
    def latest(self) -> tuple[ScoreRow, ...]:
        """The latest scored week's rows, by branch and then rank (ranks are within a branch),
        ties by name so the order is stable."""
        week = self.latest_week
        return tuple(
            sorted(
                (r for r in self.rows if r.week_start == week),
                key=lambda r: (r.branch_id or 0, r.rank, r.collector_name),
            )
        )

    def trend(self, collector_id: str) -> tuple[int | None, ...]:
        """Scores over the last TREND_WEEKS weeks, oldest first; None for a week in which the
        collector was not scored (joined later, or had no accounts)."""
        scored = {r.week_start: r.score_bp for r in self.rows if r.collector_id == collector_id}
        return tuple(scored.get(week) for week in reversed(self.weeks[:TREND_WEEKS]))

    @property
    def heading(self) -> str:
        week = self.latest_week
        if week is None:
            return NO_WEEK_SCORED
        text = f"Week {week_text(week)} · {len(self.latest)} collectors scored"
        if self.weeks and self.weeks[0] != week:
            text += f" · the week from {day(self.weeks[0])} is not scored yet"
        return text


def parse_performance(data: Any) -> Performance:
    body = mapping(data, "the scores")
    weeks = tuple(iso_day({"week": w}, "week") for w in items(body.get("weeks"), "the weeks"))
    if list(weeks) != sorted(weeks, reverse=True):
        raise UnexpectedAnswer("the weeks are not newest first")
    rows = tuple(_row(r) for r in items(body.get("rows"), "the score rows"))
    return Performance(weeks=weeks, rows=rows)


def table_row(
    performance: Performance, row: ScoreRow, branch_codes: Mapping[int, str]
) -> tuple[str, ...]:
    trend = performance.trend(row.collector_id)
    branch = "—" if row.branch_id is None else branch_codes.get(row.branch_id, str(row.branch_id))
    return (
        str(row.rank),
        branch,
        row.collector_name,
        grouped(row.accounts),
        rupees(row.collected_paise, symbol=False),
        rupees(row.due_paise, symbol=False),
        percent_text(row.collected_paise, row.due_paise),
        f"{grouped(row.promises_kept)} of {grouped(row.promises_due)}",
        grouped(row.rolled_forward),
        f"{grouped(row.contacted)} of {grouped(row.accounts)}",
        score_text(row.score_bp),
        " → ".join(score_text(s) for s in trend),
    )


def scores_params(*, weeks: int = TREND_WEEKS, branch_id: int | None = None) -> dict[str, Any]:
    if not 1 <= weeks <= 52:
        raise ValueError("Ask for between 1 and 52 weeks of scores")
    params: dict[str, Any] = {"weeks": weeks}
    if branch_id is not None:
        params["branch_id"] = branch_id
    return params


class CollectorPerformanceViewModel:
    def __init__(self, api: Api) -> None:
        self._api = api

    def load(self, branch_id: int | None = None) -> Performance:
        answer = self._api.request("GET", PATH, params=scores_params(branch_id=branch_id))
        return parse_performance(answer)

    def branches(self) -> tuple[Branch, ...]:
        return parse_branches(self._api.request("GET", BRANCHES_PATH))

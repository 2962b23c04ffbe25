"""Collector performance: the weekly scores the server computes (Monday to Sunday IST), the
latest closed week ranked, each collector's trend over the weeks before it, and the counts
behind each factor so a manager can see why a score is what it is.

The score itself is the server's (DOMAIN.md: 50 × efficiency + 20 × promise rate + 15 × (1 −
roll-forward share) + 15 × coverage, a factor with nothing to measure "n/a" and the other
weights scaled to 100); this only lays it out. A closed week's scores never change: an admin's
rescore is a new version, and the versions it superseded are listed beside it.
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
NOT_APPLICABLE = "n/a"
COLUMNS = (
    "Rank",
    "Branch",
    "Collector",
    "Due (₹)",
    "Collected (₹)",
    "Prepaid (₹)",
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
    score_bp: int | None
    rank: int | None
    version: int = 1
    latest: bool = True
    prepaid_paise: int = 0
    efficiency_bp: int | None = None
    promise_rate_bp: int | None = None
    roll_forward_bp: int | None = None
    coverage_bp: int | None = None
    rescored_by: str = ""
    reason: str = ""


def score_text(score_bp: int | None) -> str:
    """Basis points of 100 as the score people read: 8734 → '87.34'."""
    if score_bp is None:
        return "—"
    return f"{score_bp // 100}.{score_bp % 100:02d}"


def factor_text(factor_bp: int | None) -> str:
    """A factor the server sent in basis points of 1 as a whole percentage, rounded half up;
    'n/a' where it had nothing to measure (it then counts for nothing either way)."""
    if factor_bp is None:
        return NOT_APPLICABLE
    return f"{(factor_bp + 50) // 100}%"


def efficiency_text(row: ScoreRow) -> str:
    """Collected against demand ÷ demand as a whole percentage, rounded half up once from the
    counts shown beside it ('n/a' where nothing was due). The server's basis points are already
    rounded, and rounding them again could read a point above the counts (61.495% is 6,150
    basis points, '62%'), so the percentage is taken from the counts themselves."""
    if row.efficiency_bp is None or row.due_paise <= 0:
        return NOT_APPLICABLE
    return percent_text(min(row.collected_paise, row.due_paise), row.due_paise)


def percent_text(part: int, whole_: int) -> str:
    """A whole-number percentage, rounded half up; '—' when there was nothing to measure."""
    if whole_ <= 0:
        return "—"
    return f"{(part * 200 + whole_) // (whole_ * 2)}%"


def week_text(week_start: date) -> str:
    """'2026-W47 (16-11-2026 to 22-11-2026)': the ISO week and its Monday and Sunday."""
    return f"{week_label(week_start)} ({day(week_start)} to {day(week_start + timedelta(days=6))})"


def _maybe_whole(row: Mapping[str, Any], key: str, most: int | None = None) -> int | None:
    if row.get(key) is None:
        return None
    value = whole(row, key)
    if most is not None and not 0 <= value <= most:
        raise UnexpectedAnswer(f"'{key}' of {value} is outside 0 to {most}")
    return value


def _row(data: Any) -> ScoreRow:
    row = mapping(data, "a score row")
    branch = row.get("branch_id")
    latest = row.get("latest", True)
    if not isinstance(latest, bool):
        raise UnexpectedAnswer(f"'latest' is not true or false (got {latest!r})")
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
        score_bp=_maybe_whole(row, "score_bp", MAX_SCORE_BP),
        rank=_maybe_whole(row, "rank"),
        version=whole(row, "version"),
        latest=latest,
        prepaid_paise=whole(row, "prepaid_paise"),
        efficiency_bp=_maybe_whole(row, "efficiency_bp", MAX_SCORE_BP),
        promise_rate_bp=_maybe_whole(row, "promise_rate_bp", MAX_SCORE_BP),
        roll_forward_bp=_maybe_whole(row, "roll_forward_bp", MAX_SCORE_BP),
        coverage_bp=_maybe_whole(row, "coverage_bp", MAX_SCORE_BP),
        rescored_by=text(row, "rescored_by", optional=True),
        reason=text(row, "reason", optional=True),
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
        scored = {r.week_start for r in self.rows if r.latest}
        return next((week for week in self.weeks if week in scored), None)

    @property
    def latest(self) -> tuple[ScoreRow, ...]:
        """The latest scored week's rows, by branch and then rank (ranks are within a branch),
        ties by name so the order is stable."""
        week = self.latest_week
        return tuple(
            sorted(
                (r for r in self.rows if r.week_start == week and r.latest),
                key=lambda r: (r.branch_id or 0, r.rank or 0, r.collector_name),
            )
        )

    def trend(self, collector_id: str) -> tuple[int | None, ...]:
        """Scores over the last TREND_WEEKS weeks, oldest first; None for a week in which the
        collector was not scored (joined later, or had no accounts)."""
        scored = {
            r.week_start: r.score_bp
            for r in self.rows
            if r.collector_id == collector_id and r.latest
        }
        return tuple(scored.get(week) for week in reversed(self.weeks[:TREND_WEEKS]))

    def superseded(self, row: ScoreRow) -> tuple[ScoreRow, ...]:
        """The earlier versions of a rescored week's score for this collector, newest first."""
        return tuple(
            sorted(
                (
                    r
                    for r in self.rows
                    if not r.latest
                    and r.week_start == row.week_start
                    and r.collector_id == row.collector_id
                ),
                key=lambda r: -r.version,
            )
        )

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
    promises = (
        NOT_APPLICABLE
        if row.promises_due == 0
        else f"{grouped(row.promises_kept)} of {grouped(row.promises_due)}"
    )
    return (
        "—" if row.rank is None else str(row.rank),
        branch,
        row.collector_name,
        rupees(row.due_paise, symbol=False),
        rupees(row.collected_paise, symbol=False),
        rupees(row.prepaid_paise, symbol=False),
        efficiency_text(row),
        promises,
        grouped(row.rolled_forward),
        f"{grouped(row.contacted)} of {grouped(row.accounts)}",
        score_text(row.score_bp) + ("*" if row.version > 1 else ""),
        " → ".join(score_text(s) for s in trend),
    )


def details_text(performance: Performance, row: ScoreRow) -> str:
    """Why the score is what it is, in the lender's words, for the collector chosen."""

    def applies(factor_bp: int | None, said: str, shown: str | None = None) -> str:
        return (
            f"{said} ({shown or factor_text(factor_bp)})"
            if factor_bp is not None
            else (
                f"{said}: {NOT_APPLICABLE}, nothing to measure; the other factors share its points"
            )
        )

    lines = [
        f"{row.collector_name}, week {week_text(row.week_start)}: score "
        f"{score_text(row.score_bp)} of 100.",
        applies(
            row.efficiency_bp,
            f"Collected {rupees(row.collected_paise)} against {rupees(row.due_paise)} due "
            "(arrears carried in and installments falling due)",
            efficiency_text(row),
        )
        + f"; prepaid {rupees(row.prepaid_paise)} (advances, foreclosure principal) is not "
        "counted in it.",
        applies(
            row.promise_rate_bp,
            f"Promises kept {grouped(row.promises_kept)} of {grouped(row.promises_due)} due",
        )
        + ".",
        applies(
            row.roll_forward_bp,
            f"Rolled to a worse bucket {grouped(row.rolled_forward)} of "
            f"{grouped(row.accounts)} accounts",
        )
        + "; "
        + applies(
            row.coverage_bp,
            f"contacted {grouped(row.contacted)} of {grouped(row.accounts)}",
        )
        + ".",
    ]
    if row.version > 1:
        who = row.rescored_by or "the system"
        lines.append(f"* Rescored (version {row.version}) by {who}: {row.reason}")
    for old in performance.superseded(row):
        lines.append(
            f"Version {old.version}: score {score_text(old.score_bp)}, collected "
            f"{rupees(old.collected_paise)} against {rupees(old.due_paise)} due."
        )
    return "\n".join(lines)


def scores_params(*, weeks: int = TREND_WEEKS, branch_id: int | None = None) -> dict[str, Any]:
    if not 1 <= weeks <= 52:
        raise ValueError("Ask for between 1 and 52 weeks of scores")
    params: dict[str, Any] = {"weeks": weeks, "history": "true"}
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

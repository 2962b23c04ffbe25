"""The dashboard's figures, read from GET /dashboard and put in the words a branch manager or
head office uses: the portfolio, what is overdue in each bucket, today's collections and the
work waiting (promises, legal cases, disputes, reviews).

Buckets come from the last day-end (the server names it in `figures_as_of`), while today's
collections are live; the screen shows both dates so nobody reads yesterday's DPD as today's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from desktop.format import asset_class_label, bucket_label, count, day, rupees, rupees_short
from desktop.viewmodels.online import (
    Api,
    UnexpectedAnswer,
    grouped,
    iso_day,
    items,
    mapping,
    text,
    whole,
)
from loancore.delinquency import Bucket

PATH = "/dashboard"


@dataclass(frozen=True, slots=True)
class Tally:
    """A number of loans and the principal they still owe."""

    key: str
    label: str
    loans: int
    outstanding_paise: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    business_date: date
    figures_as_of: date | None
    portfolio: Tally
    buckets: tuple[Tally, ...]
    asset_classes: tuple[Tally, ...]
    payments_today: int
    collected_today_paise: int
    promises_due_today: int
    promises_due_tomorrow: int
    open_legal_cases: int
    open_disputes: int
    pending_reviews: int
    pending_reversals: int

    @property
    def overdue(self) -> tuple[Tally, ...]:
        """Every bucket but Current, worst last, as the chart shows them."""
        return tuple(t for t in self.buckets if t.key != Bucket.CURRENT.value)

    @property
    def overdue_total(self) -> Tally:
        return Tally(
            "overdue",
            "Overdue",
            sum(t.loans for t in self.overdue),
            sum(t.outstanding_paise for t in self.overdue),
        )

    @property
    def as_of_text(self) -> str:
        if self.figures_as_of is None:
            return (
                f"Business date {day(self.business_date)} · no day-end has run yet, "
                "so no loan has a bucket"
            )
        return (
            f"Business date {day(self.business_date)} · buckets as of the day-end of "
            f"{day(self.figures_as_of)}"
        )


def _tally(data: Any, key_field: str, label: str, what: str) -> Tally:
    row = mapping(data, what)
    return Tally(
        key=text(row, key_field) if key_field else "",
        label=label,
        loans=whole(row, "loans"),
        outstanding_paise=whole(row, "principal_outstanding"),
    )


def _bucket(data: Any) -> Tally:
    row = mapping(data, "a bucket")
    key = text(row, "bucket")
    try:
        label = bucket_label(key)
    except ValueError:
        raise UnexpectedAnswer(f"unknown bucket {key!r}") from None
    return _tally(row, "bucket", label, "a bucket")


def _asset_class(data: Any) -> Tally:
    row = mapping(data, "an asset class")
    key = text(row, "asset_class")
    try:
        label = asset_class_label(key)
    except ValueError:
        raise UnexpectedAnswer(f"unknown asset class {key!r}") from None
    return _tally(row, "asset_class", label, "an asset class")


def parse_dashboard(data: Any) -> Dashboard:
    """Raises UnexpectedAnswer when the answer lacks a figure; a dashboard with a figure
    silently shown as zero would be worse than none."""
    body = mapping(data, "the dashboard")
    collections = mapping(body.get("collections_today"), "today's collections")
    as_of = body.get("figures_as_of")
    return Dashboard(
        business_date=iso_day(body, "business_date"),
        figures_as_of=None if as_of is None else iso_day(body, "figures_as_of"),
        portfolio=_tally(body.get("portfolio"), "", "Portfolio", "the portfolio"),
        buckets=tuple(_bucket(b) for b in items(body.get("buckets"), "the buckets")),
        asset_classes=tuple(
            _asset_class(c) for c in items(body.get("asset_classes"), "the asset classes")
        ),
        payments_today=whole(collections, "payments"),
        collected_today_paise=whole(collections, "amount_paise"),
        promises_due_today=whole(body, "promises_due_today"),
        promises_due_tomorrow=whole(body, "promises_due_tomorrow"),
        open_legal_cases=whole(body, "open_legal_cases"),
        open_disputes=whole(body, "open_disputes"),
        pending_reviews=whole(body, "pending_reviews"),
        pending_reversals=whole(body, "pending_reversals"),
    )


def share_text(part: int, whole_: int) -> str:
    """A share of the portfolio to one decimal, rounded half up: '12.5%'."""
    if whole_ <= 0:
        return "—"
    tenths = (part * 1000 * 2 + whole_) // (whole_ * 2)
    return f"{tenths // 10}.{tenths % 10}%"


def _rows(tallies: tuple[Tally, ...], total_paise: int) -> list[tuple[str, str, str, str]]:
    return [
        (
            t.label,
            grouped(t.loans),
            rupees(t.outstanding_paise, symbol=False),
            share_text(t.outstanding_paise, total_paise),
        )
        for t in tallies
    ]


def bucket_rows(dashboard: Dashboard) -> list[tuple[str, str, str, str]]:
    """Bucket, loans, principal outstanding (₹), share of the portfolio's principal; then the
    overdue total and the portfolio, so the column visibly sums."""
    shown = (*dashboard.buckets, dashboard.overdue_total, dashboard.portfolio)
    return _rows(shown, dashboard.portfolio.outstanding_paise)


def class_rows(dashboard: Dashboard) -> list[tuple[str, str, str, str]]:
    return _rows(dashboard.asset_classes, dashboard.portfolio.outstanding_paise)


def bar_caption(tally: Tally) -> str:
    return f"{rupees(tally.outstanding_paise)} · {count(tally.loans, 'loan')}"


@dataclass(frozen=True, slots=True)
class Tile:
    title: str
    value: str
    note: str


def tiles(dashboard: Dashboard) -> tuple[Tile, ...]:
    overdue = dashboard.overdue_total
    return (
        Tile(
            "Portfolio outstanding",
            rupees_short(dashboard.portfolio.outstanding_paise),
            f"{rupees(dashboard.portfolio.outstanding_paise)} · "
            f"{count(dashboard.portfolio.loans, 'active loan')}",
        ),
        Tile(
            "Overdue",
            rupees_short(overdue.outstanding_paise),
            f"{count(overdue.loans, 'loan')} · "
            f"{share_text(overdue.outstanding_paise, dashboard.portfolio.outstanding_paise)} "
            "of the portfolio",
        ),
        Tile(
            "Collected today",
            rupees_short(dashboard.collected_today_paise),
            f"{rupees(dashboard.collected_today_paise)} · "
            f"{count(dashboard.payments_today, 'payment')}",
        ),
        Tile(
            "Promises due",
            grouped(dashboard.promises_due_today),
            f"today · {grouped(dashboard.promises_due_tomorrow)} tomorrow",
        ),
        Tile(
            "Legal cases",
            grouped(dashboard.open_legal_cases),
            f"open · {count(dashboard.open_disputes, 'open dispute')}",
        ),
        Tile(
            "Waiting for a checker",
            grouped(dashboard.pending_reviews + dashboard.pending_reversals),
            f"{count(dashboard.pending_reviews, 'suspected duplicate')} · "
            f"{count(dashboard.pending_reversals, 'reversal')}",
        ),
    )


class DashboardViewModel:
    def __init__(self, api: Api) -> None:
        self._api = api

    def load(self) -> Dashboard:
        """One server call; raises TransportError offline and ApiError when refused."""
        return parse_dashboard(self._api.request("GET", PATH))

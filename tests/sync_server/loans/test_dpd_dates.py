"""DPD is read from the date a loan fell overdue and the book's day-end date: a night whose
day-end moves the date on, and leaves a loan's row alone, shows its DPD one day higher in the
list, the filters and the loan screen alike."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from sync_server.db.models import DelinquencyDate, LoanState
from tests.sync_server.loans.portfolio import DAY_END, LOANS, Book, expected

ACCOUNT = "PNC000004"  # 45 DPD at DAY_END
DPDS = {row[0]: row[5] for row in LOANS}


def _move_day_end(book: Book, day: date | None) -> None:
    """What a day-end that rewrote no loan leaves behind: only the book's date moves."""
    with book.db.unit_of_work() as session:
        if day is None:
            session.execute(delete(DelinquencyDate))
        else:
            session.execute(update(DelinquencyDate).values(business_date=day))


def _row(book: Book, account: str) -> tuple[Any, ...]:
    with book.db.read_only() as session:
        state = session.execute(
            select(LoanState.__table__).where(LoanState.loan_id == book.loans[account])
        ).one()
    return tuple(state)


def _listed_dpds(book: Book) -> dict[str, int]:
    items = book.get("/loans", "admin", limit=500).json()["items"]
    return {item["account_no"]: item["dpd"] for item in items}


def _position(book: Book, account: str) -> dict[str, Any]:
    response = book.get(f"/loans/{book.loans[account]}", "admin")
    assert response.status_code == 200, response.text
    position: dict[str, Any] = response.json()["position"]
    return position


def test_a_loan_s_dpd_grows_a_day_when_the_day_end_moves_and_its_row_stays(book: Book) -> None:
    before = _row(book, ACCOUNT)
    assert _listed_dpds(book) == DPDS
    assert (_position(book, ACCOUNT)["dpd"], _position(book, ACCOUNT)["collections_dpd"]) == (
        45,
        45,
    )

    _move_day_end(book, DAY_END + timedelta(days=1))

    assert _row(book, ACCOUNT) == before
    assert _listed_dpds(book) == {a: d + 1 if d else 0 for a, d in DPDS.items()}
    position = _position(book, ACCOUNT)
    assert (position["dpd"], position["collections_dpd"]) == (46, 46)


def test_the_loan_screen_reads_actual_and_collections_dpd_from_their_own_dates(
    book: Book,
) -> None:
    """Under a dispute the collections date is moved forward (the frozen DPD); the actual
    one is not, and the list shows the collections figure."""
    with book.db.unit_of_work() as session:
        session.execute(
            update(LoanState)
            .where(LoanState.loan_id == book.loans[ACCOUNT])
            .values(collections_since=DAY_END - timedelta(days=29), dispute_open=True)
        )
    position = _position(book, ACCOUNT)
    assert (position["dpd"], position["collections_dpd"]) == (45, 30)
    assert _listed_dpds(book)[ACCOUNT] == 30


def test_dpd_filters_include_their_bounds_and_exclude_a_day_past_them(book: Book) -> None:
    def between(low: int | None = None, high: int | None = None) -> set[str]:
        params = {"dpd_min": low, "dpd_max": high, "limit": 500}
        return set(
            book.accounts("/loans", "admin", **{k: v for k, v in params.items() if v is not None})
        )

    def dpd_in(low: int, high: int) -> set[str]:
        return expected(lambda r: low <= r[5] <= high)

    assert between(45, 45) == {ACCOUNT}
    assert between(44, 46) == {ACCOUNT}
    assert between(46) == dpd_in(46, 999)
    assert between(high=44) == dpd_in(0, 44)
    assert len(between(12, 12)) == 4
    assert between(high=0) == dpd_in(0, 0)
    assert between(low=0) == set(DPDS)
    assert between(1) == dpd_in(1, 999)
    assert between(high=10**12) == set(DPDS), "a bound past any date is no bound"
    assert between(low=10**12) == set()

    _move_day_end(book, DAY_END + timedelta(days=1))
    assert between(46, 46) == {ACCOUNT}
    assert between(45, 45) == set()
    assert between(high=0) == dpd_in(0, 0)


def test_before_any_day_end_every_loan_reads_dpd_zero(book: Book) -> None:
    _move_day_end(book, None)
    assert set(_listed_dpds(book).values()) == {0}
    assert book.accounts("/loans", "admin", dpd_min=1) == []
    assert set(book.accounts("/loans", "admin", dpd_max=0)) == set(DPDS)
    position = _position(book, ACCOUNT)
    assert (position["dpd"], position["collections_dpd"]) == (0, 0)


def test_a_dpd_page_cursor_keeps_its_place_across_a_day_end(book: Book) -> None:
    """The cursor carries the date, which a day-end does not move, so the next page goes on
    from the same loan even though every DPD grew overnight."""
    whole = book.accounts("/loans", "admin", sort="-dpd", limit=500)
    first = book.get("/loans", "admin", sort="-dpd", limit=4).json()
    _move_day_end(book, DAY_END + timedelta(days=1))
    rest = book.accounts("/loans", "admin", sort="-dpd", limit=500, cursor=first["next_cursor"])
    assert [item["account_no"] for item in first["items"]] + rest == whole
    assert [DPDS[a] for a in whole] == sorted(DPDS.values(), reverse=True)
    ascending = book.accounts("/loans", "admin", sort="dpd", limit=500)
    assert [DPDS[a] for a in ascending] == sorted(DPDS.values())

"""A book's schedule and payments sheets, the bulk of it, stream through the checks: once they
are read, no row of theirs is held, only the installments and payment lines the plan needs
(a 50,000-loan book held every row, 1.29 GB). The reference and loans sheets are held whole
on purpose: every later row is checked against them."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from sync_server.book.reader import Problem, Row, stream_sheets
from sync_server.book.service import IMPORTED_SHEETS
from sync_server.book.template import PAYMENTS
from sync_server.book.validation import check_book
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from tests.sync_server.book.sheets import messy_book, prepare_org

CLOCK = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))


def _held(read: dict[int, tuple[str, int, str]]) -> Counter[str]:
    """The rows of this workbook still alive, by sheet. Only rows this test saw are counted
    (by identity and content): an import another test left running in a thread of this process
    makes and frees rows of its own meanwhile."""
    gc.collect()
    held: Counter[str] = Counter()
    for o in gc.get_objects():
        if isinstance(o, Row):
            sheet, number, values = read.get(id(o), ("", -1, ""))
            if (number, values) == (o.number, repr(o.values)):
                held[sheet] += 1
    return held


def test_no_schedule_or_payment_row_is_held_once_the_sheets_are_read(
    db: Database, tmp_path: Path
) -> None:
    prepare_org(db)
    path = tmp_path / "book.xlsx"
    messy_book(path)
    held_at_end: list[Counter[str]] = []
    seen: dict[str, int] = {}
    read: dict[int, tuple[str, int, str]] = {}

    def watched(rows: Iterable[Row], name: str) -> Iterator[Row]:
        for row in rows:
            seen[name] = seen.get(name, 0) + 1
            read[id(row)] = (name, row.number, repr(row.values))
            yield row
        if name == PAYMENTS.name:
            held_at_end.append(_held(read))

    problems: list[Problem] = []
    with db.read_only() as session:
        plan = check_book(
            session,
            (
                (name, watched(rows, name))
                for name, rows in stream_sheets(path, IMPORTED_SHEETS, problems)
            ),
            business_date=CLOCK.business_date(),
            new_only=False,
            problems=problems,
        )
    assert problems == []
    assert (seen["branches"], seen["loans"], seen["schedule"], seen["payments"]) == (1, 6, 12, 18)
    # Held at the end of the payments sheet: the loans sheet's six rows (the plan keeps them) and
    # the payments sheet's last row, which the reader's loop still names until it moves on; none
    # of the 12 schedule rows nor the other 17 payment rows.
    assert held_at_end == [Counter({"loans": 6, "payments": 1})]
    assert sum(len(loan.payments) for loan in plan.loans) == 18
    assert [len(loan.schedule or ()) for loan in plan.loans] == [0, 12, 0, 0, 0, 0]

"""The day-end for a date sees the loan as of that date: a catch-up over missed nights, run
after payments dated inside the gap were posted, writes exactly what the nights run on time
would have written."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from sync_server.db.engine import Database
from sync_server.loans.book import loan_dues
from tests.sync_server.jobs.built_once import twin_of
from tests.sync_server.jobs.lender_book import Lender, lender

DISBURSED = date(2026, 1, 10)
GAP = [date(2026, 5, 11) + timedelta(days=n) for n in range(5)]
"""Five nights: on time in one book, missed and caught up on the sixth day in the other."""

_ROWS = {
    "loan_state": """SELECT l.account_no, s.principal_outstanding, s.charges_outstanding,
        s.excess_paise, s.overdue_since, s.collections_since, s.bucket, s.asset_class,
        s.npa_since, s.arrears_paise, s.dispute_open, s.oldest_unpaid_due, s.next_due_date,
        s.last_payment_date, s.as_of, s.arrears_next_due, l.status, l.closed_on
        FROM loan_state s JOIN loans l ON l.id = s.loan_id""",
    "loan_history": """SELECT l.account_no, h.valid_from, h.valid_to, h.overdue_since,
        h.frozen_dpd, h.bucket, h.asset_class, h.principal_outstanding, h.arrears_paise
        FROM loan_history h JOIN loans l ON l.id = h.loan_id""",
    "charges": """SELECT l.account_no, c.kind, c.reason, c.installment_seq, c.amount_paise,
        c.levied_on FROM charges c JOIN loans l ON l.id = c.loan_id""",
    "legal_cases": """SELECT l.account_no, c.status, c.opened_on, c.dpd_at_open
        FROM legal_cases c JOIN loans l ON l.id = c.loan_id""",
    "installment_state": """SELECT l.account_no, i.seq, i.interest_paid, i.principal_paid,
        i.paid_off_on, i.late_charge_levied
        FROM installment_state i JOIN loans l ON l.id = i.loan_id""",
}


def _rows(db: Database) -> dict[str, list[tuple[str, ...]]]:
    with db.read_only() as session:
        return {
            name: sorted(tuple(str(v) for v in row) for row in session.execute(text(query)))
            for name, query in _ROWS.items()
        }


def _owed(book: Lender, loan_id: uuid.UUID) -> int:
    with book.db.read_only() as session:
        installments, charges = loan_dues(session, loan_id)
    owed = sum(r.interest_outstanding + r.principal_outstanding for r in installments)
    return owed + sum(c.outstanding for c in charges)


def _book(db: Database) -> tuple[Lender, list[tuple[date, int, str]]]:
    """Loans that each do something inside the gap, and the payments dated in it (day, loan
    number, what): the plan both books follow."""
    book = lender(db)
    for first_due in (
        date(2026, 2, 10),  # 1: its 10-05 EMI paid on 15-05, a day after its late charge
        date(2026, 2, 11),  # 2: nothing paid since: DPD 90 (a legal case) in the gap, then paid
        date(2026, 2, 12),  # 3: paid until March, closed by a foreclosure inside the gap
        date(2026, 2, 13),  # 4: its EMI falls due in the gap: paid early, then a half more
        date(2026, 2, 14),  # 5: never paid, for contrast
    ):
        book.loan(DISBURSED, first_due)
    book.run_through(DISBURSED)
    return book, [
        (GAP[4], 1, "emi"),
        (GAP[3], 2, "all"),
        (GAP[2], 3, "close"),
        (GAP[0], 4, "emi"),
        (GAP[2], 4, "half"),
    ]


def _prepare(book: Lender) -> None:
    """The months before the gap: loans 1 and 4 pay on time until May; 3 until March."""
    ids = _ids(book)
    emi = book.emi(ids[1])
    for month, day in ((2, 10), (3, 10), (4, 10)):
        book.run_through(date(2026, month, day) - timedelta(days=1))
        book.pay(ids[1], emi, date(2026, month, day))
        book.pay(ids[4], emi, date(2026, month, day))
        if month < 4:
            book.pay(ids[3], emi, date(2026, month, day))
    book.run_through(GAP[0] - timedelta(days=1))


def _ids(book: Lender) -> dict[int, uuid.UUID]:
    with book.db.read_only() as session:
        rows = session.execute(text("SELECT account_no, id FROM loans")).all()
    return {
        int(account[2:]): loan_id if isinstance(loan_id, uuid.UUID) else uuid.UUID(str(loan_id))
        for account, loan_id in rows
    }


def _pay(book: Lender, day: date, number: int, what: str) -> None:
    loan_id = _ids(book)[number]
    emi = book.emi(loan_id)
    if what == "close":
        assert book.pay(loan_id, _owed(book, loan_id), day, foreclosure=True) == "posted"
    elif what == "all":
        assert book.pay(loan_id, 4 * emi, day) == "posted"
    else:
        assert book.pay(loan_id, emi if what == "emi" else emi // 2, day) == "posted"


def test_a_catch_up_over_five_missed_nights_writes_what_five_nights_on_time_wrote(
    db: Database, tmp_path: Path
) -> None:
    on_time, plan = _book(db)
    _prepare(on_time)
    with twin_of(on_time, tmp_path) as caught_up:
        _catch_up_beside(on_time, caught_up, plan)


def _catch_up_beside(on_time: Lender, caught_up: Lender, plan: list[tuple[date, int, str]]) -> None:
    """The gap's nights run on time in one book and caught up at once in its twin."""
    db, twin_db = on_time.db, caught_up.db
    assert _rows(db) == _rows(twin_db)

    for day in GAP:
        for _, number, what in [p for p in plan if p[0] == day]:
            _pay(on_time, day, number, what)
        on_time.run_through(day)
    for day, number, what in sorted(plan):
        _pay(caught_up, day, number, what)
    caught_up.run_through(GAP[-1])

    expected, actual = _rows(db), _rows(twin_db)
    in_gap = {day.isoformat() for day in GAP}
    assert any(row[5] in in_gap for row in expected["charges"]), "a late charge in the gap"
    assert any(row[2] in in_gap for row in expected["legal_cases"]), "a legal case in the gap"
    differ = {
        name: sorted(set(actual[name]) ^ set(expected[name]))
        for name in _ROWS
        if actual[name] != expected[name]
    }
    assert differ == {}

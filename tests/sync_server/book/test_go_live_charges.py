"""Late charges at go-live: the old book's charges are not carried over (the template has no
sheet for them), so an installment that reached its late-charge day (DPD 5) before the import's
day-end is marked as charged under the old book and LoanDesk never levies it a backlog; one
that reaches its charge day after go-live is charged by that night's day-end, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from sync_server.book.service import import_book
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import Charge, InstallmentState, Loan, LoanState
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.tasks import run_day_end
from tests.sync_server.book.sheets import GO_LIVE, go_live_book, prepare_org

IMPORTED_AT = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
LATER = FixedClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))


def _flags(db: Database, account: str) -> dict[int, tuple[date, bool]]:
    with db.read_only() as session:
        rows = session.execute(
            select(
                InstallmentState.seq, InstallmentState.due_date, InstallmentState.late_charge_levied
            )
            .join(Loan, Loan.id == InstallmentState.loan_id)
            .where(Loan.account_no == account)
        ).all()
    return {int(seq): (due, bool(levied)) for seq, due, levied in rows}


def _charges(db: Database) -> list[tuple[str, int | None, date, int]]:
    with db.read_only() as session:
        rows = session.execute(
            select(Loan.account_no, Charge.installment_seq, Charge.levied_on, Charge.amount_paise)
            .join(Loan, Loan.id == Charge.loan_id)
            .order_by(Charge.levied_on)
        ).all()
    return [(str(a), s, d, int(p)) for a, s, d, p in rows]


def _charges_outstanding(db: Database, account: str) -> int:
    with db.read_only() as session:
        return int(
            session.execute(
                select(LoanState.charges_outstanding)
                .join(Loan, Loan.id == LoanState.loan_id)
                .where(Loan.account_no == account)
            ).scalar_one()
        )


def test_charges_owed_before_go_live_are_marked_and_never_levied_again(
    db: Database, tmp_path: Path
) -> None:
    importer = prepare_org(db)
    path = tmp_path / "book.xlsx"
    go_live_book(path)
    outcome = import_book(db, path, actor=importer, clock=IMPORTED_AT)
    assert outcome.problems == []
    assert outcome.as_of == GO_LIVE
    with db.read_only() as session:
        settings = delinquency_settings(session, GO_LIVE)
        overdue_since = dict(
            session.execute(
                select(Loan.account_no, LoanState.overdue_since).join(
                    LoanState, LoanState.loan_id == Loan.id
                )
            ).all()
        )
    # Settled as the day-end of 26-11 would: the 24-10 EMI unpaid (DPD 34), the other loan current.
    assert overdue_since == {"PUN01-LATE": date(2026, 10, 24), "PUN01-PAID": None}

    late = _flags(db, "PUN01-LATE")
    charge_day = settings.late_charge_dpd - 1
    assert late[1] == (date(2026, 9, 24), False)  # paid on its due date: never chargeable
    assert late[2] == (date(2026, 10, 24), True)  # reached DPD 5 on 28-10, under the old book
    assert late[3] == (date(2026, 11, 24), False)  # DPD 3 at go-live: LoanDesk charges it
    assert all(not levied for seq, (_, levied) in late.items() if seq > 3)
    assert all(
        levied == (due + timedelta(days=charge_day) <= GO_LIVE and seq != 1)
        for seq, (due, levied) in late.items()
    )
    assert not any(levied for _, levied in _flags(db, "PUN01-PAID").values())
    assert _charges(db) == []  # the import itself levies nothing

    # The first nights after go-live: 27-11 (DPD 4) levies nothing, not the old book's 24-10
    # charge; 28-11 (DPD 5 on the 24-11 EMI) levies that one charge; 29-11 nothing more.
    (first,) = run_day_end(db, GO_LIVE + timedelta(days=1), LATER)
    assert first.status == "done"
    assert _charges(db) == []
    run_day_end(db, GO_LIVE + timedelta(days=3), LATER)
    owed = settings.late_charge_paise
    assert _charges(db) == [("PUN01-LATE", 3, date(2026, 11, 28), owed)]
    assert _charges_outstanding(db, "PUN01-LATE") == owed
    assert _charges_outstanding(db, "PUN01-PAID") == 0
    assert _flags(db, "PUN01-LATE")[3] == (date(2026, 11, 24), True)

"""A person matching by hand while the reconciliation job matches: one payment, two lines.

Finance confirms a suggested line (the borrower's name, no reference) for payment P at the
moment the night's job, in its match step, stores the exact line (P's UTR) for the same P.
Each read P as unmatched before the other wrote; nothing in the database stops two live matches
of one payment (the unique index is per line), so the two writers must queue: the second to
write finds P taken and is refused. Deterministic: the job's match step is held open, not
committed, while the manual match is tried.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert, select

from loancore.roles import Role
from sync_server.auth.service import create_user
from sync_server.db.engine import Database
from sync_server.db.models import BankLine, BankMatch, Borrower, Loan, Payment, StatementImport
from sync_server.errors import Conflict
from sync_server.principal import Principal
from sync_server.reconciliation.manual import match_manually
from sync_server.reconciliation.matches import match_bank_lines
from tests.sync_server.hardening.recon_book import (
    AS_OF,
    borrower_row,
    loan_row,
    org,
    payment_row,
)
from tests.sync_server.hardening.state import figure

HELD_S = 2.0
"""How long the job's match step stays open while the manual match is tried."""


def _book(db: Database) -> tuple[uuid.UUID, int]:
    """Payment P (NEFT, UTR on it) and two credits of its amount: one naming the UTR (the job
    matches it), one naming only the borrower (finance confirms it by hand); the second
    line's id."""
    account_id = org(db)
    emi = 4_150_00
    on = AS_OF - timedelta(days=3)
    utr = "HDFCN50000000000000007"
    with db.unit_of_work() as session:
        session.execute(insert(Borrower), [borrower_row(7)])
        session.execute(insert(Loan), [loan_row(7, emi)])
        session.execute(insert(Payment), [payment_row(7, emi, "neft", utr, on)])
        statement = StatementImport(
            bank_account_id=account_id,
            file_name="hdfc.csv",
            file_sha256="7" * 64,
            currency="INR",
            opening_balance=0,
            closing_balance=2 * emi,
            lines_added=2,
            lines_already_there=0,
        )
        session.add(statement)
        session.flush()
        lines = [
            BankLine(
                bank_account_id=account_id,
                fingerprint=str(n) * 64,
                statement_import_id=statement.id,
                booked_on=on,
                value_date=on,
                amount_paise=emi,
                currency="INR",
                narration=narration,
                reference=reference,
            )
            for n, narration, reference in (
                (1, f"NEFT CR-{utr}-KIRAN IYER 7", utr),
                (2, "NEFT/P2A/KIRAN IYER 7", None),
            )
        ]
        session.add_all(lines)
        session.flush()
        return payment_row(7, emi, "neft", utr, on)["id"], lines[1].id


def test_a_manual_match_while_the_job_matches_never_gives_one_payment_two_lines(
    db: Database,
) -> None:
    payment, by_hand = _book(db)
    with db.unit_of_work() as session:
        finance = create_user(
            session,
            actor=None,
            username="fatima",
            full_name="Fatima",
            role=Role.FINANCE,
            branch_id=None,
            password="correct horse battery staple",
        ).id
    job_wrote = threading.Event()
    manual: dict[str, object] = {}

    def job() -> None:
        session = db.sessions()
        try:
            assert match_bank_lines(session).matched == 1
            job_wrote.set()
            time.sleep(HELD_S)
            session.commit()
        finally:
            session.close()

    def person() -> None:
        try:
            with db.unit_of_work() as session:
                match_manually(
                    session,
                    Principal(finance, "fatima", Role.FINANCE, None),
                    line_id=by_hand,
                    payment_id=payment,
                    deposit_id=None,
                    reason="the borrower's name, and the amount",
                )
            manual["answer"] = "matched"
        except Conflict as exc:
            manual["answer"] = exc.code

    runner = threading.Thread(target=job)
    runner.start()
    assert job_wrote.wait(60)
    hand = threading.Thread(target=person)
    hand.start()
    hand.join(60)
    runner.join(60)
    with db.read_only() as session:
        lines = session.execute(
            select(BankMatch.bank_line_id).where(
                BankMatch.payment_id == payment, BankMatch.unmatched_at.is_(None)
            )
        ).all()
    figure(
        f"manual match during the job's match step: payment matched to {len(lines)} line(s); "
        f"the person was told {manual.get('answer')}"
    )
    assert len(lines) == 1
    assert manual["answer"] == "entry_matched"

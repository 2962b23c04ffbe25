"""Stored bank credits matched to payments posted through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from loancore.reconciliation.matching import Step
from sync_server.db.models import AuditEntry, BankLine, BankMatch
from sync_server.principal import SYSTEM
from sync_server.reconciliation.matches import match_bank_lines
from sync_server.reconciliation.service import import_statement_file
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.shared_fixtures import shared_file

__all__ = ["_cheap_password_hashing", "app", "desk"]

HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
STATEMENT = HEADER + "\n".join(
    [
        "27/11/26,NEFT CR-SBIN0001234-ASHA PATIL-HDFCN52026112712345678,,27/11/26,,2500.00,102500.00",
        "28/11/26,UPI/399999999999/asha@okaxis/LN0001 EMI,,28/11/26,,1875.50,104375.50",
        "28/11/26,BY CASH DEP SLIP 00123 LN0001,00123,28/11/26,,3000.00,107375.50",
        "29/11/26,IMPS/P2A/377777777777/ASHA PATIL,,29/11/26,,1200.00,108575.50",
        "30/11/26,CHQ RETURN CHGS,,30/11/26,590.00,,107985.50",
    ]
)


def pay_all(desk: Desk) -> dict[str, str]:
    payments = {
        "neft": (250000, "HDFCN52026112712345678"),
        "upi": (187550, "301234567890"),
        "cash": (300000, "RB-000777"),
        "imps": (120000, "300000000001"),
    }
    ids = {}
    for mode, (amount, reference) in payments.items():
        answer = desk.pay(amount, mode=mode, reference=reference)
        assert answer.status_code == 201, answer.text
        ids[mode] = answer.json()["id"]
    return ids


def test_credits_match_their_payments_by_reference_and_account_and_stay_matched(
    desk: Desk,
) -> None:
    """The cash deposit line names the loan's account, so it would be a strong match for the
    cash receipt of the same amount if cash receipts were matched alone: it stays unidentified."""
    ids = pay_all(desk)
    with desk.db.unit_of_work() as session:
        import_statement_file(
            session, data=STATEMENT.encode(), file_name="s.csv", account_code="HDFC", actor=SYSTEM
        )
        run = match_bank_lines(session)
    assert (run.matched, run.suggested, run.unidentified, run.other_currency) == (2, 1, 1, 0)
    with desk.db.unit_of_work() as session:
        stored = session.execute(
            select(BankLine.narration, BankMatch.payment_id, BankMatch.step, BankMatch.reason)
            .join(BankLine, BankLine.id == BankMatch.bank_line_id)
            .order_by(BankLine.id)
        ).all()
        assert [(n[:12], str(p), s, r) for n, p, s, r in stored] == [
            (
                "NEFT CR-SBIN",
                ids["neft"],
                Step.EXACT,
                "reference HDFCN52026112712345678 and amount",
            ),
            ("UPI/39999999", ids["upi"], Step.STRONG, "account number LN0001 in narration, 1 d"),
        ]
        (suggestion,) = run.outcome.suggested
        assert [c.entry_id for c in suggestion.candidates] == [ids["imps"]]
        assert suggestion.candidates[0].reason == "name 100% alike, 2 d"
        assert session.scalars(
            select(AuditEntry.action).order_by(AuditEntry.id.desc())
        ).first() == ("reconciliation.match")
    with desk.db.unit_of_work() as session:
        again = match_bank_lines(session)
    assert (again.matched, again.suggested, again.unidentified) == (0, 1, 1)
    with desk.db.unit_of_work() as session:
        assert len(session.scalars(select(BankMatch.id)).all()) == 2


def test_credits_in_another_currency_are_never_matched(desk: Desk) -> None:
    with desk.db.unit_of_work() as session:
        import_statement_file(
            session,
            data=shared_file("camt053/camt053.v2.multi.statement.xml"),
            file_name="camt.xml",
            account_code=None,
            actor=SYSTEM,
        )
        run = match_bank_lines(session)
    assert (run.matched, run.suggested, run.unidentified, run.other_currency) == (0, 0, 0, 1)


def test_a_payment_whose_reversal_was_approved_is_no_longer_expected_in_the_bank(
    desk: Desk,
) -> None:
    ids = pay_all(desk)
    asked = desk.http.post(
        f"/api/v1/payments/{ids['neft']}/reversals",
        json={"kind": "wrong_loan", "reason": "posted to the wrong loan"},
        headers=desk.headers(desk.manager),
    )
    assert asked.status_code == 201, asked.text
    decided = desk.http.post(
        f"/api/v1/reversals/{asked.json()['id']}/decision",
        json={"approve": True},
        headers=desk.headers(desk.second_manager),
    )
    assert decided.status_code == 200, decided.text
    with desk.db.unit_of_work() as session:
        import_statement_file(
            session, data=STATEMENT.encode(), file_name="s.csv", account_code="HDFC", actor=SYSTEM
        )
        run = match_bank_lines(session)
    assert [m.entry_id for m in run.outcome.matched] == [ids["upi"]]
    assert run.unidentified == 2

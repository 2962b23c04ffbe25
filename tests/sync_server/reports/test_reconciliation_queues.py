"""Missing in bank and cash in hand in the MIS against a reckoning written here in Python over
the ORM's rows (not the report's SQL): what the book held at the as-of date's close and the
bank had not shown, or the branch had not deposited, past the lender's windows; a branch's MIS
holds only its own; a re-run after later matches, deposits and reversals gives the same
figures; both documents show them."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pypdf
from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.dates import add_working_days
from loancore.money import format_rupees
from sync_server.db.engine import Database
from sync_server.db.models import (
    BankAccount,
    BankLine,
    BankMatch,
    CashDeposit,
    CashDepositReceipt,
    Loan,
    Payment,
    PaymentReversal,
    StatementImport,
    User,
)
from sync_server.reports.figures import QueueLine
from sync_server.reports.pdf import render_pdf
from sync_server.reports.query import Scope
from sync_server.reports.reconciliation import missing_in_bank
from sync_server.reports.service import mis_figures
from sync_server.reports.xlsx import render_xlsx
from tests.sync_server.reports.book import AS_OF

CLOSE = datetime(2026, 4, 12, 18, 30, tzinfo=UTC)
"""Midnight after the as-of date in IST, written out here rather than computed."""
BEFORE = datetime(2026, 4, 11, 10, 0, tzinfo=UTC)
AFTER = datetime(2026, 4, 13, 5, 0, tzinfo=UTC)
MISSING_DAYS, CASH_DAYS = 3, 1
"""The lender's windows on the date: DOMAIN.md's defaults, which the test book keeps."""


class _Maker:
    def __init__(self, session: Session, user: uuid.UUID) -> None:
        self.session = session
        self.user = user
        self.n = 0

    def payment(
        self,
        loan: Loan,
        on: date,
        amount: int,
        mode: str,
        *,
        status: str = "posted",
        posted_at: datetime | None = BEFORE,
    ) -> uuid.UUID:
        self.n += 1
        payment_id = uuid.UUID(int=0xFEED0000 + self.n)
        self.session.add(
            Payment(
                id=payment_id,
                loan_id=loan.id,
                borrower_id=loan.borrower_id,
                branch_id=loan.branch_id,
                amount_paise=amount,
                mode=mode,
                reference=f"RQ{self.n:06d}",
                payment_date=on,
                status=status,
                content_hash=f"{self.n:064d}",
                recorded_by=self.user,
                recorded_at=BEFORE,
                posted_at=posted_at,
            )
        )
        return payment_id


def _queues(db: Database) -> None:
    """Digital receipts, deposits and cash on both sides of every window and every stamp."""
    with db.unit_of_work() as session:
        loans = list(session.execute(select(Loan).order_by(Loan.account_no)).scalars())
        main = next(loan for loan in loans if loan.branch_id == 1)
        other = next(loan for loan in loans if loan.branch_id == 2)
        make = _Maker(session, session.execute(select(User.id).limit(1)).scalar_one())
        account = BankAccount(code="HDFC-9", account_no="50100098765432", currency="INR")
        session.add(account)
        session.flush()
        imported = StatementImport(
            bank_account_id=account.id,
            file_name="apr.sta",
            file_sha256="1" * 64,
            currency="INR",
            opening_balance=0,
            closing_balance=0,
            lines_added=0,
            lines_already_there=0,
        )
        session.add(imported)
        session.flush()
        lines = 0

        def match(
            *,
            payment: uuid.UUID | None = None,
            deposit: uuid.UUID | None = None,
            made: datetime,
            undone: datetime | None = None,
        ) -> None:
            nonlocal lines
            lines += 1
            line = BankLine(
                bank_account_id=account.id,
                fingerprint=f"q{lines:063d}",
                statement_import_id=imported.id,
                booked_on=date(2026, 4, 10),
                value_date=date(2026, 4, 10),
                amount_paise=1_00,
                currency="INR",
                narration=f"NEFT {lines}",
            )
            session.add(line)
            session.flush()
            session.add(
                BankMatch(
                    bank_line_id=line.id,
                    payment_id=payment,
                    deposit_id=deposit,
                    step=1,
                    reason="test",
                    matched_at=made,
                    unmatched_at=undone,
                )
            )

        # Digital receipts.
        make.payment(main, date(2026, 3, 30), 11_000_00, "upi")  # never matched
        seen = make.payment(main, date(2026, 4, 1), 12_000_00, "neft")
        match(payment=seen, made=BEFORE)  # matched in time
        late = make.payment(main, date(2026, 4, 2), 13_000_00, "upi")
        match(payment=late, made=AFTER)  # matched only after the close: missing then
        undone = make.payment(main, date(2026, 4, 3), 14_000_00, "upi")
        match(payment=undone, made=BEFORE, undone=BEFORE)  # undone before the close
        make.payment(main, date(2026, 4, 8), 15_000_00, "upi")  # inside the window
        make.payment(main, date(2026, 4, 1), 16_000_00, "upi", posted_at=AFTER)  # posted later
        make.payment(main, date(2026, 4, 1), 17_000_00, "upi", posted_at=None)  # recorded_at
        make.payment(
            main, date(2026, 4, 1), 18_000_00, "upi", status="pending_review", posted_at=None
        )
        back = make.payment(main, date(2026, 4, 1), 19_000_00, "upi")
        gone = make.payment(main, date(2026, 4, 1), 20_000_00, "upi")
        make.payment(other, date(2026, 4, 6), 21_000_00, "cheque")  # the other branch's
        # Cash: receipts in a deposit made before the close, in one made after it, in none.
        cash = [make.payment(main, date(2026, 4, 2), 1_000_00 * (n + 1), "cash") for n in range(4)]
        cash.append(make.payment(other, date(2026, 4, 9), 5_500_00, "cash"))
        cash.append(make.payment(main, date(2026, 4, 10), 6_500_00, "cash"))  # inside window
        session.flush()
        deposits = []
        for n, (on, made, carried) in enumerate(
            ((date(2026, 4, 3), BEFORE, cash[:2]), (date(2026, 4, 6), AFTER, cash[2:3]))
        ):
            deposit_id = uuid.UUID(int=0xDE90000 + n)
            total = sum(
                session.execute(select(Payment.amount_paise).where(Payment.id.in_(carried)))
                .scalars()
                .all()
            )
            session.add(
                CashDeposit(
                    id=deposit_id,
                    branch_id=1,
                    bank_account_id=account.id,
                    slip_no=f"SLIP{n}",
                    deposit_date=on,
                    total_paise=total,
                    made_by=make.user,
                    made_at=made,
                )
            )
            session.flush()
            for payment_id in carried:
                session.add(CashDepositReceipt(payment_id=payment_id, deposit_id=deposit_id))
            deposits.append(deposit_id)
        session.flush()
        match(deposit=deposits[1], made=AFTER)  # the late deposit, matched later still
        for payment_id, decided in ((back, BEFORE), (gone, AFTER)):
            session.add(
                PaymentReversal(
                    payment_id=payment_id,
                    kind="bounce",
                    reason="cheque returned",
                    status="approved",
                    requested_by=make.user,
                    requested_at=BEFORE,
                    decided_by=make.user,
                    decided_at=decided,
                )
            )


def _late(on: date, window: int) -> bool:
    """Late on the as-of date: the entry's `window`-th bank working day is already behind it."""
    return add_working_days(on, window) < AS_OF


def _reckoned(db: Database, branch: int | None) -> tuple[QueueLine, QueueLine]:
    with db.read_only() as session:
        payments = [
            (p.id, p.branch_id, p.mode, p.status, p.payment_date, p.amount_paise, posted)
            for p in session.execute(select(Payment)).scalars()
            for posted in [p.posted_at if p.posted_at is not None else p.recorded_at]
        ]
        live = [
            (m.payment_id, m.deposit_id)
            for m in session.execute(select(BankMatch)).scalars()
            if m.matched_at < CLOSE and (m.unmatched_at is None or m.unmatched_at >= CLOSE)
        ]
        deposits = [
            (d.id, d.branch_id, d.deposit_date, d.total_paise, d.made_at)
            for d in session.execute(select(CashDeposit)).scalars()
        ]
        carried = {
            row.payment_id: row.deposit_id
            for row in session.execute(select(CashDepositReceipt)).scalars()
        }
        reversed_ = {
            r.payment_id
            for r in session.execute(select(PaymentReversal)).scalars()
            if r.status == "approved" and r.decided_at is not None and r.decided_at < CLOSE
        }
    seen = {payment for payment, _ in live} | {deposit for _, deposit in live}
    made = {deposit_id: made_at for deposit_id, _, _, _, made_at in deposits}
    in_book = [
        (p_id, mode, on, amount)
        for p_id, p_branch, mode, status, on, amount, posted in payments
        if status == "posted"
        and posted < CLOSE
        and p_id not in reversed_
        and (branch is None or p_branch == branch)
    ]
    missing = [
        (on, amount)
        for p_id, mode, on, amount in in_book
        if mode != "cash" and _late(on, MISSING_DAYS) and p_id not in seen
    ] + [
        (on, total)
        for d_id, d_branch, on, total, made_at in deposits
        if made_at < CLOSE
        and _late(on, MISSING_DAYS)
        and d_id not in seen
        and (branch is None or d_branch == branch)
    ]
    held = [
        (on, amount)
        for p_id, mode, on, amount in in_book
        if mode == "cash"
        and _late(on, CASH_DAYS)
        and not (p_id in carried and made[carried[p_id]] < CLOSE)
    ]

    def line(window: int, entries: list[tuple[date, int]]) -> QueueLine:
        oldest = min((on for on, _ in entries), default=None)
        return QueueLine(
            window,
            len(entries),
            sum(amount for _, amount in entries),
            None if oldest is None else (AS_OF - oldest).days,
        )

    return line(MISSING_DAYS, missing), line(CASH_DAYS, held)


def test_the_queues_agree_with_a_reckoning_over_the_rows(built: Database) -> None:
    _queues(built)
    missing, held = _reckoned(built, None)
    # The digital receipts of 30-03, 02-04 (matched late), 03-04 (match undone), 01-04 (no
    # posted_at; reversal approved late), the other branch's cheque of 06-04, and the deposit
    # of 03-04 that no line has matched.
    assert missing.entries == 7
    assert missing.amount == (11_000 + 13_000 + 14_000 + 17_000 + 20_000 + 21_000 + 3_000) * 100
    assert missing.oldest_age_days == 13
    with built.read_only() as session:
        whole = mis_figures(session, AS_OF)
        branch = mis_figures(session, AS_OF, "BR02")
    assert whole.missing_in_bank == missing
    assert whole.cash_in_hand == held
    assert held.entries > 0
    assert (branch.missing_in_bank, branch.cash_in_hand) == _reckoned(built, 2)
    assert branch.missing_in_bank.entries == 1
    assert branch.missing_in_bank.amount == 21_000_00
    assert whole.cash_in_hand.entries > branch.cash_in_hand.entries > 0


def test_a_rerun_after_later_work_gives_the_same_figures(built: Database) -> None:
    """Matches, deposits, postings and reversals after the close leave the date's figures
    as they were; a receipt they touch moves in a later date's MIS."""
    _queues(built)
    with built.read_only() as session:
        first = mis_figures(session, AS_OF)
    with built.unit_of_work() as session:
        user = session.execute(select(User.id).limit(1)).scalar_one()
        account = session.execute(select(BankAccount.id)).scalar_one()
        open_cash = (
            session.execute(
                select(Payment.id).where(Payment.mode == "cash", Payment.payment_date <= AS_OF)
            )
            .scalars()
            .all()
        )
        carried = set(session.execute(select(CashDepositReceipt.payment_id)).scalars())
        later = [p for p in open_cash if p not in carried][:3]
        session.add(
            CashDeposit(
                id=uuid.uuid4(),
                branch_id=1,
                bank_account_id=account,
                slip_no="LATER",
                deposit_date=AS_OF + timedelta(days=2),
                total_paise=sum(
                    session.execute(select(Payment.amount_paise).where(Payment.id.in_(later)))
                    .scalars()
                    .all()
                ),
                made_by=user,
                made_at=AFTER + timedelta(days=2),
            )
        )
        session.flush()
        deposit = session.execute(
            select(CashDeposit.id).where(CashDeposit.slip_no == "LATER")
        ).scalar_one()
        for payment_id in later:
            session.add(CashDepositReceipt(payment_id=payment_id, deposit_id=deposit))
        unmatched = session.execute(
            select(Payment).where(Payment.mode == "upi", Payment.amount_paise == 11_000_00)
        ).scalar_one()
        session.add(
            PaymentReversal(
                payment_id=unmatched.id,
                kind="bounce",
                reason="returned",
                status="approved",
                requested_by=user,
                requested_at=AFTER,
                decided_by=user,
                decided_at=AFTER + timedelta(days=1),
            )
        )
    with built.read_only() as session:
        again = mis_figures(session, AS_OF)
        scope = Scope(session, None)
        later = missing_in_bank(session, scope, AS_OF + timedelta(days=2))
    assert again.missing_in_bank == first.missing_in_bank
    assert again.cash_in_hand == first.cash_in_hand
    assert again.digest() == first.digest()
    # Two days on, the close has seen the match of 13,000, the reversals of 20,000 and
    # 11,000 and the posting of 16,000, and the receipt of 08-04 (15,000) has fallen late.
    expected = first.missing_in_bank.amount - (13_000 + 20_000 + 11_000 - 16_000 - 15_000) * 100
    assert later.amount == expected


def test_the_documents_show_both_queues_for_the_lender_and_a_branch(built: Database) -> None:
    _queues(built)
    now = datetime(2026, 4, 13, 3, 0, tzinfo=UTC)
    with built.read_only() as session:
        whole = mis_figures(session, AS_OF)
        branch = mis_figures(session, AS_OF, "BR02")
    for figures in (whole, branch):
        pages = pypdf.PdfReader(io.BytesIO(render_pdf(figures, now))).pages
        text = "\n".join(page.extract_text() for page in pages)
        part = text[text.index("Reconciliation with the bank statements") :]
        for name, queue, days in (
            ("Missing in bank", figures.missing_in_bank, "3 working days"),
            ("Cash in hand", figures.cash_in_hand, "1 working day"),
        ):
            shown = part[part.index(f"{name} (over {days})") :][:120]
            assert format_rupees(queue.amount) in shown
            assert f"{queue.oldest_age_days} days" in shown
        assert "Not reported yet" not in text
        sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(figures, now)))["Reconciliation"]
        values = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert values["Missing in bank: entries"] == figures.missing_in_bank.entries
        assert values["Missing in bank: amount"] == figures.missing_in_bank.amount / 100
        assert values["Cash in hand: oldest (days)"] == figures.cash_in_hand.oldest_age_days
        assert values["Cash in hand: window (working days)"] == CASH_DAYS

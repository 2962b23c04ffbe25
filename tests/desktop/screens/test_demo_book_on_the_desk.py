"""The demo book as a branch manager's desk holds it after a real sync: its closed loans are
found by account number whatever the filters, Home counts what Loans can show, and each loan's
provisional split is the split the server would book (its product's order, its own charges)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.cache.models import CachedLoan
from desktop.qt import QApplication
from desktop.screens import ScreenContext
from desktop.screens.loans import LoansScreen, scope_filter
from desktop.sync.api import ApiClient
from desktop.sync.engine import SyncEngine
from desktop.viewmodels.foreclosure import FORECLOSURE_CHARGE_ID
from desktop.viewmodels.home import home_figures
from desktop.viewmodels.record_payment import RecordPaymentViewModel
from loancore.acceptance import PaymentMode
from loancore.foreclosure import split_payment
from sync_server.db.models import Branch, Loan
from sync_server.loans.position import closing_quote, read_dues
from tests.desktop.screens.conftest import OFFSCREEN_NOISE
from tests.desktop.screens.demo_server import DEMO_TODAY, DemoServer, demo_server

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-desk")) as server:
        yield server


def _synced_desk(demo: DemoServer, username: str, tmp_path: Path) -> ScreenContext:
    context = demo.context(username, tmp_path)
    api = context.session.api
    assert isinstance(api, ApiClient)
    report = SyncEngine(api, context.book.cache).sync()
    assert report.ok, report.error
    return context


def _closed_loan(demo: DemoServer) -> tuple[str, str]:
    with demo.db.read_only() as session:
        row = session.execute(
            select(Loan.account_no, Branch.code)
            .join(Branch, Branch.id == Loan.branch_id)
            .where(Loan.status == "closed")
            .order_by(Loan.account_no)
            .limit(1)
        ).one()
    return str(row[0]), str(row[1])


def test_a_closed_demo_loan_is_found_by_its_account_number_and_counted_on_home(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    account_no, branch = _closed_loan(demo)
    context = _synced_desk(demo, f"bm.{branch.lower()}", tmp_path)
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    qtbot.wait_until(lambda: not screen.model.loading)
    assert screen.status.currentText() == "Active"
    active = screen.model.total
    screen.search.setText(account_no)
    screen.apply_filter()
    qtbot.wait_until(lambda: not screen.model.loading)
    assert screen.model.total == 1
    assert (screen.model.row_of(0).account_no, screen.model.row_of(0).status) == (
        account_no,
        "closed",
    )
    screen.search.setText("")
    screen.status.setCurrentIndex(screen.status.findText("All statuses"))
    qtbot.wait_until(lambda: not screen.model.loading)
    figures = home_figures(context.book.cache, scope_filter(context))
    assert figures.loans == screen.model.total > active
    assert figures.by_status["active"] == active
    assert figures.by_status["closed"] >= 1


def test_every_demo_loan_of_a_branch_is_split_on_the_desk_as_the_server_would_book_it(
    demo: DemoServer, tmp_path: Path
) -> None:
    """Each active loan of the branch, paid one and a half EMIs today: the desk's split is the
    waterfall the server's posting runs on the dues it reads under the loan's lock."""
    context = _synced_desk(demo, "bm.nsk", tmp_path)
    with context.book.cache.transaction() as session:
        loans = [
            (loan.id, int(loan.data["emi_paise"]), str(loan.data["product"]))
            for loan in session.execute(
                select(CachedLoan).where(CachedLoan.status == "active")
            ).scalars()
        ]
    assert loans
    compared: set[str] = set()
    for loan_id, emi, product in loans:
        desk = RecordPaymentViewModel(
            context.book.cache,
            loan_id,
            user_id=context.user.id,
            user_name=context.user.full_name,
            role=context.user.role,
            business_date=DEMO_TODAY,
        )
        amount = min(emi * 3 // 2, desk.assess().closing_amount)
        shown = desk.update(
            mode=PaymentMode.NEFT,
            amount_text=f"{amount // 100}.{amount % 100:02d}",
            reference="SBIN0000000099ZZ",
        ).allocation
        assert shown is not None
        with demo.db.read_only() as session:
            loan = session.get(Loan, uuid.UUID(loan_id))
            assert loan is not None
            dues = read_dues(session, loan)
            quote = closing_quote(session, loan, dues, DEMO_TODAY)
        # As posting splits it: a payment reaching the closing quote closes the loan.
        booked = split_payment(
            amount,
            dues.installments,
            dues.charges,
            DEMO_TODAY,
            dues.strategy,
            foreclosure=quote,
            foreclosure_charge_id=FORECLOSURE_CHARGE_ID if quote.foreclosure_charge else None,
        )
        assert shown == booked, (product, loan_id)
        compared.add(f"{product}:{dues.strategy}:{'charges' if dues.charges else 'none'}")
    assert {
        "MSME:charges_first:charges",
        "PL:installments_first:charges",
        "GOLD:installments_first:none",
    } <= compared

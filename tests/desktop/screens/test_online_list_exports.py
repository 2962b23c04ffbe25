"""Export to XLSX from the lists read from the server (legal cases, the audit log, collector
scores, held payments): the workbook holds the headings and the rows the screen shows under
its filter, money as numbers in the Indian format, dates as dates, counts as numbers, and a
borrower named like a formula as text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update
from uuid6 import uuid7

from desktop.cache.store import Cache
from desktop.qt import QApplication, Qt
from desktop.screens.audit_log import AuditLogScreen
from desktop.screens.collector_performance import CollectorPerformanceScreen
from desktop.screens.legal_cases import LegalCasesScreen
from desktop.screens.payment_review import COLUMNS as REVIEW_COLUMNS
from desktop.screens.payment_review import PaymentReviewScreen
from desktop.viewmodels.audit_log import COLUMNS as AUDIT_COLUMNS
from desktop.viewmodels.collector_performance import COLUMNS as SCORE_COLUMNS
from loancore.dates import business_date
from loancore.roles import Role
from sync_server.db.models import Borrower, Branch, Loan, User
from tests.desktop.screens import exported as xl
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, click, make_context, type_text
from tests.desktop.screens.demo_server import SERVER_NOW, DemoServer, demo_server
from tests.desktop.viewmodels.cached import BUSINESS_DATE
from tests.desktop.viewmodels.legal_api import LegalApi, legal_case

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-exports")) as server:
        yield server


def test_legal_cases_export_the_status_shown_with_dates_and_names_as_they_are(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    api = LegalApi(
        [
            legal_case(1, "filed", borrower_name=xl.FORMULA_NAME, opened_on="2026-01-15"),
            legal_case(2, "open"),
            legal_case(3, "filed", next_hearing="2026-04-20", court="Pune Civil Court"),
        ],
        BUSINESS_DATE,
    )
    screen = xl.on_screen(
        qtbot, LegalCasesScreen(make_context(cache, clock, tmp_path, Role.LEGAL, api=api))
    )
    qtbot.wait_until(lambda: len(screen.cases) == 3)
    screen.status_filter.setCurrentIndex(screen.status_filter.findData("filed"))
    qtbot.wait_until(lambda: len(screen.cases) == 2 and screen.rows.rowCount() == 2)

    cells = xl.export_shown(qtbot, screen, screen.export_button, tmp_path / "legal.xlsx")

    assert xl.headings(cells)[:4] == ["Account", "Borrower", "Status", "Opened on"]
    assert len(cells) == 1 + 2, "only the filed cases the filter shows"
    assert [cell.value for cell in xl.column(cells, "Account")] == [
        "LDPNCPL000001",
        "LDPNCPL000003",
    ]
    xl.assert_text(xl.column(cells, "Borrower")[0], xl.FORMULA_NAME)
    xl.assert_day(xl.column(cells, "Opened on")[0], date(2026, 1, 15))
    assert xl.column(cells, xl.headings(cells)[4])[0].value == 90, "DPD at opening, a number"
    xl.assert_day(xl.column(cells, xl.headings(cells)[5])[1], date(2026, 4, 20))


def test_the_audit_log_exports_the_entries_its_action_filter_shows(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = xl.on_screen(qtbot, AuditLogScreen(demo.context("auditor", tmp_path)), (1200, 720))
    qtbot.wait_until(lambda: screen.model.rows.started and not screen.model.rows.loading)
    line = screen.action.lineEdit()
    assert line is not None
    type_text(qtbot, line, "user.create")
    click(qtbot, screen.apply_button)
    qtbot.wait_until(
        lambda: (
            screen.model.rows.started
            and not screen.model.rows.loading
            and screen.model.rowCount() == len(demo.summary.users)
        )
    )

    cells = xl.export_shown(qtbot, screen, screen.export_button, tmp_path / "audit.xlsx")

    assert xl.headings(cells) == list(AUDIT_COLUMNS)
    assert len(cells) == 1 + len(demo.summary.users)
    shown = [
        [screen.model.data(screen.model.index(row, c)) for c in range(len(AUDIT_COLUMNS))]
        for row in range(screen.model.rowCount())
    ]
    assert [cell.value for cell in xl.column(cells, "#")] == [int(row[0]) for row in shown]
    assert all(cell.is_date for cell in xl.column(cells, "When (IST)")), "a time, not text"
    assert {cell.value for cell in xl.column(cells, "What happened")} == {row[3] for row in shown}


def test_collector_scores_export_the_branch_shown_with_counts_as_numbers(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    screen = xl.on_screen(
        qtbot, CollectorPerformanceScreen(demo.context("bm.pnc", tmp_path)), (1200, 520)
    )
    qtbot.wait_until(lambda: screen.performance is not None, timeout=15_000)
    assert screen.model.rowCount() > 0

    cells = xl.export_shown(qtbot, screen, screen.export_button, tmp_path / "scores.xlsx")

    shown = [
        screen.model.headerData(c, Qt.Orientation.Horizontal)
        for c in range(screen.model.columnCount())
        if not screen.table.isColumnHidden(c)
    ]
    assert xl.headings(cells) == [" ".join(str(h).split()) for h in shown]
    assert len(cells) == 1 + screen.model.rowCount()
    assert [cell.value for cell in xl.column(cells, SCORE_COLUMNS[0])] == [
        int(screen.model.text(row, 0)) for row in range(screen.model.rowCount())
    ], "ranks are numbers"
    assert {cell.value for cell in xl.column(cells, SCORE_COLUMNS[1])} == {"PNC"}
    for heading in ("Due (₹)", "Collected (₹)"):
        at = SCORE_COLUMNS.index(heading)
        for row, cell in enumerate(xl.column(cells, heading)):
            shown_rupees = Decimal(screen.model.text(row, at).lstrip("₹").replace(",", ""))
            xl.assert_money(cell, int(shown_rupees * 100))
    assert [cell.value for cell in xl.column(cells, SCORE_COLUMNS[2])] == [
        screen.model.text(row, 2) for row in range(screen.model.rowCount())
    ]


def _held_twice(demo: DemoServer) -> str:
    """Two equal UPI payments on one Pune Camp loan, whose borrower is renamed like a formula:
    the second is held as a suspected duplicate. Returns the loan's account number."""
    with demo.db.unit_of_work() as session:
        loan, collector = session.execute(
            select(Loan, User.username)
            .join(User, User.id == Loan.collector_id)
            .join(Branch, Branch.id == Loan.branch_id)
            .where(Branch.code == "PNC", Loan.status == "active")
            .order_by(Loan.account_no)
            .limit(1)
        ).one()
        session.execute(
            update(Borrower).where(Borrower.id == loan.borrower_id).values(name=xl.FORMULA_NAME)
        )
        account_no = loan.account_no
        loan_id = str(loan.id)
    api, _ = demo.api(collector)
    held = [
        api.request(
            "POST",
            "/payments",
            json={
                "id": str(uuid7()),
                "loan_id": loan_id,
                "amount_paise": 4_500_00,
                "mode": "upi",
                "reference": f"41234567890{n}",
                "payment_date": business_date(SERVER_NOW).isoformat(),
            },
        )["held_for_review"]
        for n in range(2)
    ]
    assert held == [False, True]
    return account_no


def test_held_payments_export_with_amounts_dates_and_names_as_they_are(
    qtbot: QtBot, looked: QApplication, demo: DemoServer, tmp_path: Path
) -> None:
    account_no = _held_twice(demo)
    screen = xl.on_screen(qtbot, PaymentReviewScreen(demo.context("bm.pnc", tmp_path)), (1200, 720))
    qtbot.wait_until(lambda: screen.model.rowCount() == 1, timeout=15_000)

    cells = xl.export_shown(qtbot, screen, screen.export_button, tmp_path / "held.xlsx")

    assert xl.headings(cells) == list(REVIEW_COLUMNS)
    assert len(cells) == 1 + 1
    xl.assert_row(
        cells,
        0,
        text={"Account": account_no, "Borrower": xl.FORMULA_NAME},
        money={"Amount (₹)": 4_500_00},
        days={"Payment date": business_date(SERVER_NOW)},
    )
    assert xl.column(cells, "Entered")[0].is_date, "the time entered, not text"

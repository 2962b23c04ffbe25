"""Sorting the loans list from its header: the arrow shows the column and direction, a second
click turns the order round, and "Record payment" is offered only with a loan selected."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QPoint, Qt
from desktop.screens import ScreenContext
from desktop.screens.loans import LoansScreen
from tests.desktop.screens.conftest import OFFSCREEN_NOISE
from tests.desktop.viewmodels.cached import loan_data, put_loans

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

NAMES = ("Meena Iyer", "Anil Rao", "Zoya Khan", "Ravi Shankar")
DPDS = (33, 5, 95, 0)
BUCKETS = {33: "31-60", 5: "1-30", 95: "90+", 0: "current"}
BORROWER, DPD = 1, 2


@pytest.fixture
def screen(qtbot: QtBot, context: ScreenContext) -> LoansScreen:
    put_loans(
        context.book.cache,
        [
            loan_data(n + 1, name=name, dpd=dpd, bucket=BUCKETS[dpd])
            for n, (name, dpd) in enumerate(zip(NAMES, DPDS, strict=True))
        ],
    )
    shown = LoansScreen(context)
    qtbot.add_widget(shown)
    shown.resize(1000, 500)
    shown.show()
    qtbot.wait_until(lambda: shown.model.rowCount() == len(NAMES))
    return shown


def _column(screen: LoansScreen, column: int) -> list[str]:
    model = screen.model
    return [str(model.data(model.index(row, column))) for row in range(model.rowCount())]


def _click_header(qtbot: QtBot, screen: LoansScreen, column: int) -> None:
    header = screen.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(  # type: ignore[no-untyped-call]
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )
    qtbot.wait_until(lambda: not screen.model.loading)  # the new order is read off the UI thread


def test_the_header_shows_the_sort_and_a_second_click_turns_it_round(
    qtbot: QtBot, screen: LoansScreen
) -> None:
    header = screen.table.horizontalHeader()
    assert header.isSortIndicatorShown()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        DPD,
        Qt.SortOrder.DescendingOrder,
    )
    assert _column(screen, DPD) == ["95", "33", "5", "0"]

    _click_header(qtbot, screen, DPD)
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert _column(screen, DPD) == ["0", "5", "33", "95"]

    _click_header(qtbot, screen, BORROWER)
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        BORROWER,
        Qt.SortOrder.AscendingOrder,
    )
    assert _column(screen, BORROWER) == sorted(NAMES)
    _click_header(qtbot, screen, BORROWER)
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert _column(screen, BORROWER) == sorted(NAMES, reverse=True)


def test_record_payment_is_offered_only_with_a_loan_selected(
    qtbot: QtBot, screen: LoansScreen
) -> None:
    assert screen.pay_button.isVisible()
    assert not screen.pay_button.isEnabled()
    screen.table.selectRow(1)
    assert screen.pay_button.isEnabled()
    assert screen.selected_loan_id() == screen.model.loan_id(1)

    screen.table.clearSelection()  # the keyboard's current row stays: not a choice
    assert screen.table.currentIndex().isValid()
    assert not screen.pay_button.isEnabled()
    assert screen.selected_loan_id() is None

    screen.table.selectRow(0)
    _click_header(qtbot, screen, BORROWER)  # a new order: the selection is gone
    assert not screen.pay_button.isEnabled()

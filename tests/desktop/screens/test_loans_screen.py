"""The loans list on screen: rows arrive a page at a time, the search filters after a pause,
money is right-aligned in Indian format, and Enter opens the loan."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QModelIndex, Qt
from desktop.screens import ScreenContext
from desktop.screens._loans_model import LoansTableModel
from desktop.screens.loan_detail import LoanDetailDialog
from desktop.screens.loans import EMPTY_TEXT, LoansScreen, scope_filter
from desktop.signals import Topic
from desktop.viewmodels.home import home_figures
from desktop.viewmodels.loans import PAGE_SIZE, LoansQuery
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, press, type_text
from tests.desktop.viewmodels.cached import (
    OTHER_COLLECTOR,
    bulk_loans,
    loan_data,
    put_loans,
    since_for,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


def _many(cache: Cache, count: int) -> None:
    template = loan_data(1)
    template["installments"] = template["installments"][:1]
    bulk_loans(
        cache,
        [
            dict(
                template,
                id=f"loan-{n:06d}",
                account_no=f"LN{n:07d}",
                collections_since=since_for(n % 120),
            )
            for n in range(count)
        ],
    )


def _read(qtbot: QtBot, model: LoansTableModel) -> LoansTableModel:
    """Every page is read off the UI thread: waits until none is on its way."""
    qtbot.wait_until(lambda: not model.loading)
    return model


def _screen(qtbot: QtBot, context: ScreenContext) -> LoansScreen:
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    _read(qtbot, screen.model)
    return screen


def test_the_table_starts_with_one_page_and_grows_on_fetch_more(qtbot: QtBot, cache: Cache) -> None:
    _many(cache, 2 * PAGE_SIZE + 50)
    model = _read(qtbot, LoansTableModel(LoansQuery(cache)))
    root = QModelIndex()
    assert model.rowCount() == PAGE_SIZE
    assert model.total == 2 * PAGE_SIZE + 50
    assert model.canFetchMore(root)
    with qtbot.wait_signal(model.rowsInserted):
        model.fetchMore(root)
    assert model.rowCount() == 2 * PAGE_SIZE
    with qtbot.wait_signal(model.rowsInserted):
        model.fetchMore(root)
    assert model.rowCount() == 2 * PAGE_SIZE + 50
    assert not model.canFetchMore(root)
    assert len({model.loan_id(row) for row in range(model.rowCount())}) == model.rowCount()


def test_scrolling_the_view_to_the_bottom_fetches_the_next_page(
    qtbot: QtBot, context: ScreenContext
) -> None:
    _many(context.book.cache, 3 * PAGE_SIZE)
    screen = _screen(qtbot, context)
    screen.resize(900, 500)
    screen.show()
    assert screen.model.rowCount() == PAGE_SIZE
    screen.table.scrollToBottom()
    qtbot.wait_until(lambda: screen.model.rowCount() > PAGE_SIZE)


def test_outstanding_is_shown_in_indian_format_and_right_aligned(
    qtbot: QtBot, cache: Cache
) -> None:
    put_loans(cache, [loan_data(1, principal=12_34_567_89)])
    model = _read(qtbot, LoansTableModel(LoansQuery(cache)))
    index = model.index(0, 4)
    assert model.data(index) == "12,34,567.89"
    alignment = Qt.AlignmentFlag(model.data(index, Qt.ItemDataRole.TextAlignmentRole))
    assert alignment & Qt.AlignmentFlag.AlignRight
    assert model.headerData(4, Qt.Orientation.Horizontal) == "Outstanding (₹)"
    assert model.data(model.index(0, 5)) == "05-11-2025"


def test_the_search_box_filters_after_the_user_pauses(qtbot: QtBot, context: ScreenContext) -> None:
    put_loans(
        context.book.cache,
        [loan_data(1, name="Ramesh Kumar"), loan_data(2, name="Sita Devi"), loan_data(3)],
    )
    screen = _screen(qtbot, context)
    assert screen.model.total == 3
    type_text(qtbot, screen.search, "ramesh")
    assert screen.model.total == 3
    qtbot.wait_until(lambda: screen.model.total == 1)
    assert screen.model.row_of(0).borrower_name == "Ramesh Kumar"
    assert screen.count_label.text() == "1 loan"


def test_a_search_that_matches_nothing_shows_the_empty_state(
    qtbot: QtBot, context: ScreenContext
) -> None:
    put_loans(context.book.cache, [loan_data(1)])
    screen = _screen(qtbot, context)
    screen.search.setText("nobody")
    screen.apply_filter()
    _read(qtbot, screen.model)
    assert screen.stack.currentWidget() is screen.empty
    assert screen.empty.text() == EMPTY_TEXT


def test_the_bucket_filter_keeps_only_that_bucket(qtbot: QtBot, context: ScreenContext) -> None:
    put_loans(
        context.book.cache,
        [
            loan_data(1, dpd=40, bucket="31-60"),
            loan_data(2, dpd=0),
            loan_data(3, dpd=95, bucket="90+"),
        ],
    )
    screen = _screen(qtbot, context)
    screen.bucket.setCurrentIndex(screen.bucket.findText("31–60"))
    _read(qtbot, screen.model)
    assert screen.model.total == 1
    assert screen.model.row_of(0).dpd == 40


def test_enter_on_a_row_opens_that_loan(qtbot: QtBot, context: ScreenContext) -> None:
    put_loans(context.book.cache, [loan_data(1, dpd=3, bucket="1-30"), loan_data(2)])
    screen = _screen(qtbot, context)
    screen.show()
    screen.table.setFocus()
    screen.table.selectRow(0)
    with qtbot.wait_signal(screen.open_loan) as opened:
        press(qtbot, screen.table, Qt.Key.Key_Return)
    assert opened.args == [loan_data(1)["id"]]
    detail = screen.findChild(LoanDetailDialog)
    assert detail is not None
    qtbot.wait_until(lambda: "connected" in detail.audit_note.text())
    detail.close()


def test_the_list_reloads_when_a_sync_announces_new_loans(
    qtbot: QtBot, context: ScreenContext
) -> None:
    put_loans(context.book.cache, [loan_data(1)])
    screen = _screen(qtbot, context)
    put_loans(context.book.cache, [loan_data(2)], cursor=2)
    assert screen.model.total == 1
    context.changes.announce(Topic.LOANS)
    qtbot.wait_until(lambda: screen.model.total == 2)


def _book_with_closed_loans(cache: Cache) -> None:
    put_loans(
        cache,
        [
            loan_data(1, dpd=40, bucket="31-60"),
            loan_data(2),
            loan_data(7, status="closed", paid_through=12),
            loan_data(8, status="written_off", dpd=400, bucket="90+"),
            loan_data(9, status="closed", paid_through=12, collector_id=OTHER_COLLECTOR),
        ],
    )


def test_the_status_filter_shows_active_loans_first_and_closed_or_written_off_on_request(
    qtbot: QtBot, context: ScreenContext
) -> None:
    _book_with_closed_loans(context.book.cache)
    screen = _screen(qtbot, context)
    assert screen.status.currentText() == "Active"
    assert {screen.model.row_of(r).account_no for r in range(screen.model.rowCount())} == {
        "LN0000001",
        "LN0000002",
    }
    screen.status.setCurrentIndex(screen.status.findText("Closed"))
    _read(qtbot, screen.model)
    assert [screen.model.row_of(r).account_no for r in range(screen.model.rowCount())] == [
        "LN0000007"
    ]
    screen.status.setCurrentIndex(screen.status.findText("Written off"))
    _read(qtbot, screen.model)
    assert [screen.model.row_of(r).account_no for r in range(screen.model.rowCount())] == [
        "LN0000008"
    ]
    screen.status.setCurrentIndex(screen.status.findText("All statuses"))
    _read(qtbot, screen.model)
    assert screen.model.total == 4
    assert screen.count_label.text() == "4 loans"


def test_an_exact_account_number_finds_a_closed_loan_whatever_the_filters(
    qtbot: QtBot, context: ScreenContext
) -> None:
    _book_with_closed_loans(context.book.cache)
    screen = _screen(qtbot, context)
    screen.bucket.setCurrentIndex(screen.bucket.findText("31–60"))
    _read(qtbot, screen.model)
    assert screen.status.currentText() == "Active"
    for typed in ("LN0000007", "ln0000007"):
        screen.search.setText(typed)
        screen.apply_filter()
        _read(qtbot, screen.model)
        assert screen.model.total == 1, typed
        found = screen.model.row_of(0)
        assert (found.account_no, found.status) == ("LN0000007", "closed")
    screen.search.setText("LN0000008")
    screen.apply_filter()
    _read(qtbot, screen.model)
    assert [screen.model.row_of(r).status for r in range(screen.model.rowCount())] == [
        "written_off"
    ]
    # Another collector's loan, still cached, is not theirs to see.
    screen.search.setText("LN0000009")
    screen.apply_filter()
    _read(qtbot, screen.model)
    assert screen.model.total == 0


def test_home_counts_the_loans_that_loans_can_show(qtbot: QtBot, context: ScreenContext) -> None:
    _book_with_closed_loans(context.book.cache)
    figures = home_figures(context.book.cache, scope_filter(context))
    screen = _screen(qtbot, context)
    screen.status.setCurrentIndex(screen.status.findText("All statuses"))
    _read(qtbot, screen.model)
    assert figures.loans == screen.model.total == 4
    assert figures.by_status == {"active": 2, "closed": 1, "written_off": 1}
    assert figures.loans_text == "4 loans: 2 active, 1 closed, 1 written off"


def test_a_closed_loan_says_closed_where_an_active_one_shows_its_bucket(
    qtbot: QtBot, context: ScreenContext
) -> None:
    _book_with_closed_loans(context.book.cache)
    screen = _screen(qtbot, context)
    screen.status.setCurrentIndex(screen.status.findText("All statuses"))
    _read(qtbot, screen.model)
    shown = {
        screen.model.data(screen.model.index(r, 0)): screen.model.data(screen.model.index(r, 3))
        for r in range(screen.model.rowCount())
    }
    assert shown == {
        "LN0000001": "31–60",
        "LN0000002": "Current",
        "LN0000007": "Closed",
        "LN0000008": "Written off",
    }

"""The loans list on screen: rows arrive a page at a time, the search filters after a pause,
money is right-aligned in Indian format, and Enter opens the loan."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QModelIndex, Qt
from desktop.screens import ScreenContext
from desktop.screens.loan_detail import LoanDetailDialog
from desktop.screens.loans import EMPTY_TEXT, LoansScreen, LoansTableModel
from desktop.signals import Topic
from desktop.viewmodels.loans import PAGE_SIZE, LoansQuery
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, press, type_text
from tests.desktop.viewmodels.cached import bulk_loans, loan_data, put_loans, since_for

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


def test_the_table_starts_with_one_page_and_grows_on_fetch_more(qtbot: QtBot, cache: Cache) -> None:
    _many(cache, 2 * PAGE_SIZE + 50)
    model = LoansTableModel(LoansQuery(cache))
    root = QModelIndex()
    assert model.rowCount() == PAGE_SIZE
    assert model.total == 2 * PAGE_SIZE + 50
    assert model.canFetchMore(root)
    with qtbot.wait_signal(model.rowsInserted):
        model.fetchMore(root)
    assert model.rowCount() == 2 * PAGE_SIZE
    model.fetchMore(root)
    assert model.rowCount() == 2 * PAGE_SIZE + 50
    assert not model.canFetchMore(root)
    assert len({model.loan_id(row) for row in range(model.rowCount())}) == model.rowCount()


def test_scrolling_the_view_to_the_bottom_fetches_the_next_page(
    qtbot: QtBot, context: ScreenContext
) -> None:
    _many(context.cache, 3 * PAGE_SIZE)
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    screen.resize(900, 500)
    screen.show()
    assert screen.model.rowCount() == PAGE_SIZE
    screen.table.scrollToBottom()
    qtbot.wait_until(lambda: screen.model.rowCount() > PAGE_SIZE)


def test_outstanding_is_shown_in_indian_format_and_right_aligned(
    qtbot: QtBot, cache: Cache
) -> None:
    put_loans(cache, [loan_data(1, principal=12_34_567_89)])
    model = LoansTableModel(LoansQuery(cache))
    index = model.index(0, 4)
    assert model.data(index) == "12,34,567.89"
    alignment = Qt.AlignmentFlag(model.data(index, Qt.ItemDataRole.TextAlignmentRole))
    assert alignment & Qt.AlignmentFlag.AlignRight
    assert model.headerData(4, Qt.Orientation.Horizontal) == "Outstanding (₹)"
    assert model.data(model.index(0, 5)) == "05-11-2025"


def test_the_search_box_filters_after_the_user_pauses(qtbot: QtBot, context: ScreenContext) -> None:
    put_loans(
        context.cache,
        [loan_data(1, name="Ramesh Kumar"), loan_data(2, name="Sita Devi"), loan_data(3)],
    )
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    assert screen.model.total == 3
    type_text(qtbot, screen.search, "ramesh")
    assert screen.model.total == 3
    qtbot.wait_until(lambda: screen.model.total == 1)
    assert screen.model.row_of(0).borrower_name == "Ramesh Kumar"
    assert screen.count_label.text() == "1 loan"


def test_a_search_that_matches_nothing_shows_the_empty_state(
    qtbot: QtBot, context: ScreenContext
) -> None:
    put_loans(context.cache, [loan_data(1)])
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    screen.search.setText("nobody")
    screen.apply_filter()
    assert screen.stack.currentWidget() is screen.empty
    assert screen.empty.text() == EMPTY_TEXT


def test_the_bucket_filter_keeps_only_that_bucket(qtbot: QtBot, context: ScreenContext) -> None:
    put_loans(
        context.cache,
        [
            loan_data(1, dpd=40, bucket="31-60"),
            loan_data(2, dpd=0),
            loan_data(3, dpd=95, bucket="90+"),
        ],
    )
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    screen.bucket.setCurrentIndex(screen.bucket.findText("31–60"))
    assert screen.model.total == 1
    assert screen.model.row_of(0).dpd == 40


def test_enter_on_a_row_opens_that_loan(qtbot: QtBot, context: ScreenContext) -> None:
    put_loans(context.cache, [loan_data(1, dpd=3, bucket="1-30"), loan_data(2)])
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
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
    put_loans(context.cache, [loan_data(1)])
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    put_loans(context.cache, [loan_data(2)], cursor=2)
    assert screen.model.total == 1
    context.changes.announce(Topic.LOANS)
    qtbot.wait_until(lambda: screen.model.total == 2)

"""My day on screen: promises due, the collector's loans worst first, and logging a contact,
which needs a reason after 19:00 IST."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot

from desktop.screens import ScreenContext
from desktop.screens.my_day import MyDayScreen
from desktop.viewmodels.my_day import OUTSIDE_HOURS_MESSAGE
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, click, type_text
from tests.desktop.viewmodels.cached import COLLECTOR, OTHER_COLLECTOR, loan_data, put, put_loans

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def screen(qtbot: QtBot, context: ScreenContext) -> MyDayScreen:
    put_loans(
        context.book.cache,
        [
            loan_data(1, dpd=5, bucket="1-30", name="Asha"),
            loan_data(2, dpd=70, bucket="61-90", name="Bhaskar"),
            loan_data(3, dpd=99, bucket="90+", collector_id=OTHER_COLLECTOR),
        ],
    )
    put(
        context.book.cache,
        "promise",
        {
            "id": str(uuid.uuid4()),
            "loan_id": loan_data(1)["id"],
            "collector_id": COLLECTOR,
            "amount_paise": 4_000_00,
            "promised_date": "2026-03-10",
            "note": "after harvest sale",
            "outcome": "pending",
        },
    )
    shown = MyDayScreen(context)
    qtbot.add_widget(shown)
    qtbot.wait_until(lambda: shown.loans.rowCount() == 2)
    return shown


def test_my_loans_are_listed_worst_first_with_todays_promise(screen: MyDayScreen) -> None:
    assert [screen.loans.text(row, 1) for row in range(2)] == ["Bhaskar", "Asha"]
    assert screen.today.item(0).text() == "LN0000001  Asha\n₹4,000.00 — after harvest sale"
    assert screen.tomorrow.item(0).text() == "Nothing due"
    assert not screen.log_button.isEnabled()


def test_a_visit_logged_in_hours_is_queued_and_listed(
    qtbot: QtBot, screen: MyDayScreen, context: ScreenContext
) -> None:
    screen.table.selectRow(1)
    assert screen.log_button.isEnabled()
    with qtbot.wait_signal(context.changes.changed):
        click(qtbot, screen.log_button)
    (queued,) = context.book.cache.outbox()
    assert queued.type == "contact_log"
    assert queued.command["payload"]["loan_id"] == loan_data(1)["id"]
    qtbot.wait_until(lambda: "LN0000001" in screen.logged.item(0).text())
    assert "(pending sync)" in screen.logged.item(0).text()


def test_a_call_after_seven_in_the_evening_asks_for_a_reason_first(
    qtbot: QtBot, screen: MyDayScreen, context: ScreenContext, clock: Clock
) -> None:
    clock.instant = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 19:30 IST
    screen.table.selectRow(0)
    screen.kind.setCurrentIndex(screen.kind.findData("call"))
    screen.log_contact()
    assert screen.log_message.text() == OUTSIDE_HOURS_MESSAGE
    assert context.book.cache.outbox_size() == 0
    type_text(qtbot, screen.reason, "Borrower asked for an evening call")
    with qtbot.wait_signal(context.changes.changed):
        screen.log_contact()
    (queued,) = context.book.cache.outbox()
    assert queued.command["payload"]["outside_hours_reason"] == "Borrower asked for an evening call"
    assert "flagged for the branch manager" in screen.log_message.text()


def test_borrower_names_and_every_header_fit_at_the_usual_window_size(
    qtbot: QtBot, context: ScreenContext
) -> None:
    """At the main window's 1280x800 the screen gets about 1080x760 beside the navigation;
    the borrower column had been squeezed to "Haris…" under a header cut to "orrowe"."""
    demo_like = {
        **loan_data(7, dpd=211, bucket="90+", name="Harish Gaikwad", principal=5_48_207_06),
        "account_no": "LDPNCMSME000168",
    }
    put_loans(context.book.cache, [demo_like])
    shown = MyDayScreen(context)
    qtbot.add_widget(shown)
    shown.resize(1080, 760)
    shown.show()
    qtbot.wait_until(lambda: shown.loans.rowCount() == 1)
    qtbot.wait_until(lambda: shown.table.horizontalHeader().sectionSize(1) > 0)
    header = shown.table.horizontalHeader()
    for column in range(shown.loans.columnCount()):
        assert header.sectionSize(column) >= header.sectionSizeHint(column), column
    assert header.sectionSize(1) >= shown.table.sizeHintForColumn(1)
    assert header.length() <= shown.table.viewport().width()

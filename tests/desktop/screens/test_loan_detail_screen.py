"""The loan detail window: the History tab (online, from the server), the amount needed to
close and the foreclosure statement."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot

from desktop.qt import QDesktopServices
from desktop.screens import ScreenContext
from desktop.screens.loan_detail import LoanDetailDialog
from desktop.viewmodels.loan_history import OFFLINE_HISTORY_NOTE
from tests.desktop.viewmodels.cached import loan_data, put_loans


class HistoryApi:
    """A server that knows the loan's last two day-ends and an empty audit trail."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.asked.append((path, kwargs))
        if path.endswith("/history"):
            day = {"in_book": True, "collections_dpd": 40, "bucket": "31-60"}
            return {
                "days": [
                    {
                        **day,
                        "day": "2026-03-08",
                        "dpd": 39,
                        "asset_class": "SMA-1",
                        "arrears_paise": 10_000_00,
                    },
                    {
                        **day,
                        "day": "2026-03-09",
                        "dpd": 40,
                        "asset_class": "SMA-1",
                        "arrears_paise": 10_000_00,
                    },
                ]
            }
        return {"audit": []}


@pytest.fixture
def loan(context: ScreenContext) -> dict[str, Any]:
    data = loan_data(1, paid_through=3, dpd=33, bucket="31-60")
    put_loans(context.book.cache, [data])
    return data


def test_the_history_tab_lists_the_day_ends_newest_first_with_indian_dates(
    qtbot: QtBot, context: ScreenContext, loan: dict[str, Any]
) -> None:
    online = replace(context, session=replace(context.session, api=HistoryApi()))  # type: ignore[arg-type]
    detail = LoanDetailDialog(online, loan["id"])
    qtbot.add_widget(detail)

    qtbot.wait_until(lambda: detail.history.rowCount() == 2)
    assert [detail.history.text(0, c) for c in range(6)] == [
        "09-03-2026",
        "40",
        "40",
        "31–60",
        "SMA-1",
        "₹10,000.00",
    ]
    assert detail.history.text(1, 0) == "08-03-2026"
    assert detail.tabs.tabText(detail.tabs.count() - 1) == "History"


def test_offline_the_history_tab_says_it_needs_the_server(
    qtbot: QtBot, context: ScreenContext, loan: dict[str, Any]
) -> None:
    detail = LoanDetailDialog(context, loan["id"])
    qtbot.add_widget(detail)

    qtbot.wait_until(lambda: detail.history_note.text() == OFFLINE_HISTORY_NOTE)
    assert detail.history.rowCount() == 0


def test_the_foreclosure_statement_is_written_for_the_amount_shown(
    qtbot: QtBot, context: ScreenContext, loan: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True
    )
    detail = LoanDetailDialog(context, loan["id"])
    qtbot.add_widget(detail)
    closing = detail.vm.load().closing
    assert closing is not None
    qtbot.wait_until(lambda: "Needed to close today (10-03-2026)" in detail.facts.text())

    detail.statement_button.click()
    qtbot.wait_until(lambda: detail.statement_path is not None)

    assert detail.statement_path is not None
    assert opened == [str(detail.statement_path)]
    text = PdfReader(Path(detail.statement_path)).pages[0].extract_text()
    assert loan["account_no"] in text
    assert "10-03-2026" in text

"""Export to XLSX from the lists the desk reads from its own cache (promises, disputes, loans):
the workbook holds the headings and exactly the rows the screen shows under its filter, money
as numbers in the Indian format, dates as dates, and a borrower named like a formula as text."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.screens import ScreenContext
from desktop.screens.disputes import DisputesScreen
from desktop.screens.loans import LoansScreen
from desktop.screens.promises import PromisesScreen
from desktop.viewmodels.promises import PromiseFilter
from tests.desktop.screens.conftest import OFFSCREEN_NOISE
from tests.desktop.screens.exported import (
    FORMULA_NAME,
    assert_row,
    column,
    export_shown,
    headings,
    on_screen,
)
from tests.desktop.viewmodels.cached import COLLECTOR, loan_data, put, put_loans

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

PROMISES = ("Account", "Borrower", "Amount (₹)", "Promised for", "Outcome", "Note")
DISPUTES = ("Account", "Borrower", "DPD frozen at", "Opened on", "Reason", "State")
LOANS = ("Account", "Borrower", "DPD", "Bucket", "Outstanding (₹)", "Next due", "Collector")


def _promise(loan: dict[str, Any], paise: int, on: str, outcome: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "loan_id": loan["id"],
        "collector_id": COLLECTOR,
        "amount_paise": paise,
        "promised_date": on,
        "note": "",
        "outcome": outcome,
    }


def test_promises_export_the_filtered_rows_with_amounts_dates_and_names_as_they_are(
    qtbot: QtBot, looked: QApplication, context: ScreenContext, cache: Cache, tmp_path: Path
) -> None:
    hostile, plain = loan_data(1, name=FORMULA_NAME), loan_data(2, name="Ravi Shankar")
    put_loans(cache, [hostile, plain])
    put(cache, "promise", _promise(hostile, 12_34_567_89, "2026-03-05", "broken"), cursor=2)
    put(cache, "promise", _promise(plain, 3_000_00, "2026-03-12", "pending"), cursor=3)
    screen = on_screen(qtbot, PromisesScreen(context))
    qtbot.wait_until(lambda: screen.listed is not None and screen.rows.rowCount() == 2)
    screen.filter.setCurrentIndex(screen.filter.findData(PromiseFilter.BROKEN))
    qtbot.wait_until(
        lambda: screen.listed is not None and screen.listed.shown is PromiseFilter.BROKEN
    )
    assert screen.rows.rowCount() == 1

    cells = export_shown(qtbot, screen, screen.export_button, tmp_path / "promises.xlsx")

    assert headings(cells) == list(PROMISES)
    assert len(cells) == 1 + 1, "only the broken promise the filter shows"
    assert_row(
        cells,
        0,
        text={"Account": "LN0000001", "Borrower": FORMULA_NAME, "Outcome": "Broken"},
        money={"Amount (₹)": 12_34_567_89},
        days={"Promised for": date(2026, 3, 5)},
    )


def test_disputes_export_the_open_disputes_shown_with_dates_and_names_as_they_are(
    qtbot: QtBot, looked: QApplication, context: ScreenContext, cache: Cache, tmp_path: Path
) -> None:
    hostile, other = loan_data(1, name=FORMULA_NAME, dpd=33), loan_data(2, name="Ravi Shankar")
    put_loans(cache, [hostile, other])
    opened = ((hostile, "open", "2026-03-02"), (other, "closed", "2026-02-01"))
    for cursor, (loan, status, on) in enumerate(opened, start=2):
        dispute = {"id": str(uuid.uuid4()), "loan_id": loan["id"], "status": status}
        reason = {"reason": "Bounce charge disputed", "dpd_at_open": 25, "opened_on": on}
        put(cache, "dispute", dispute | reason, cursor=cursor)
    screen = on_screen(qtbot, DisputesScreen(context))
    qtbot.wait_until(lambda: screen.rows.rowCount() == 1)  # the closed one is not listed

    cells = export_shown(qtbot, screen, screen.export_button, tmp_path / "disputes.xlsx")

    assert headings(cells) == list(DISPUTES)
    assert len(cells) == 1 + 1, "only the open dispute"
    assert column(cells, "DPD frozen at")[0].value == 25
    assert_row(
        cells,
        0,
        text={"Borrower": FORMULA_NAME, "Reason": "Bounce charge disputed"},
        days={"Opened on": date(2026, 3, 2)},
    )


def test_loans_export_only_the_loans_the_search_leaves_on_screen(
    qtbot: QtBot, looked: QApplication, context: ScreenContext, cache: Cache, tmp_path: Path
) -> None:
    put_loans(
        cache,
        [
            loan_data(1, name=FORMULA_NAME, principal=12_34_567_89),
            loan_data(2, name="Ravi Shankar"),
            loan_data(3, name="Meena Iyer"),
        ],
    )
    screen = on_screen(qtbot, LoansScreen(context), (1100, 600))
    qtbot.wait_until(lambda: screen.model.rowCount() == 3)
    screen.search.setText("LN0000001")
    qtbot.wait_until(lambda: screen.model.rowCount() == 1 and not screen.model.loading)

    cells = export_shown(qtbot, screen, screen.export_button, tmp_path / "loans.xlsx")

    assert headings(cells) == list(LOANS)
    assert len(cells) == 1 + 1, "only the loan the search leaves"
    assert_row(
        cells,
        0,
        text={"Account": "LN0000001", "Borrower": FORMULA_NAME},
        money={"Outstanding (₹)": 12_34_567_89},
        days={"Next due": date(2025, 11, 5)},
    )

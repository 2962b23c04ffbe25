"""Pictures of the collections screens over demo-like data, into artifacts/screens/, for people
to look at; each also checks the picture is a real rendering, not a blank."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication
from desktop.screens import ScreenContext
from desktop.screens.disputes import DisputesScreen
from desktop.screens.promises import PromisesScreen
from desktop.screens.sync_problems import SyncProblemsScreen
from desktop.sync.outbox import record_payment
from desktop.viewmodels.disputes import DisputesViewModel
from desktop.viewmodels.promises import PromiseEntry, PromiseInput
from loancore.acceptance import PaymentMode
from loancore.contract import PaymentPayload
from loancore.roles import Role
from loancore.settings import DEFAULTS
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, Clock, make_context
from tests.desktop.screens.demo_server import shoot
from tests.desktop.viewmodels.cached import BUSINESS_DATE, COLLECTOR, loan_data, put, put_loans

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

NAMES = (
    "Ramesh Kumar",
    "Lakshmi Narayanan",
    "Mohammed Irfan",
    "Sunita Devi",
    "Gurpreet Singh",
    "Priya Menon",
)
PROMISES = (
    ("2026-03-10", "pending", 5_000_00, "salary on 10th"),
    ("2026-03-10", "pending", 12_500_00, ""),
    ("2026-03-12", "pending", 8_250_50, "crop sale"),
    ("2026-03-04", "broken", 6_000_00, "not at home on the day"),
    ("2026-03-02", "partly_kept", 10_000_00, ""),
    ("2026-02-27", "kept", 4_500_00, "paid by UPI"),
)


def _book(cache: Cache) -> list[dict[str, object]]:
    loans = [
        loan_data(n + 1, name=name, dpd=(n * 17) % 95, principal=(n + 2) * 1_25_000_00)
        for n, name in enumerate(NAMES)
    ]
    put_loans(cache, loans)
    for loan, (day, outcome, amount, note) in zip(loans, PROMISES, strict=True):
        put(
            cache,
            "promise",
            {
                "id": str(uuid.uuid4()),
                "loan_id": loan["id"],
                "collector_id": COLLECTOR,
                "amount_paise": amount,
                "promised_date": day,
                "note": note,
                "outcome": outcome,
            },
        )
    for loan, opened, dpd, reason in (
        (loans[1], "2026-02-20", 14, "Bounce charge of ₹590 disputed: NACH was debited on time"),
        (loans[4], "2026-03-02", 61, "Borrower says the EMI of 05-02-2026 was paid in cash"),
    ):
        put(
            cache,
            "dispute",
            {
                "id": str(uuid.uuid4()),
                "loan_id": loan["id"],
                "reason": reason,
                "status": "open",
                "opened_on": opened,
                "dpd_at_open": dpd,
            },
        )
    return loans


def test_pictures_of_promises_disputes_and_sync_problems(
    qtbot: QtBot, looked: QApplication, cache: Cache, clock: Clock, tmp_path: Path
) -> None:
    loans = _book(cache)
    collector = make_context(cache, clock, tmp_path, Role.COLLECTOR)
    PromiseEntry(cache, user_id=COLLECTOR, business_date=BUSINESS_DATE, settings=DEFAULTS).save(
        PromiseInput("LN0000006", "7,000", "13-03-2026", "will pay after harvest")
    )
    DisputesViewModel(cache, business_date=BUSINESS_DATE).open_dispute(
        "LN0000003", "Borrower disputes the late-payment charge"
    )
    refused = record_payment(
        cache,
        PaymentPayload(
            loan_id=loans[2]["id"],
            amount_paise=15_000_00,
            mode=PaymentMode.CASH,
            reference="RB-0419",
            payment_date=date(2026, 3, 1),
        ),
    )
    cache.settle(
        [
            {
                "id": str(refused),
                "status": "rejected",
                "code": "backdated_too_far",
                "reason": "A collector may date a payment at most 3 days back (07-03-2026 or "
                "later); 01-03-2026 is 9 days back. Older payments are entered by an admin",
            }
        ]
    )

    promises = PromisesScreen(collector)
    qtbot.add_widget(promises)
    promises.resize(1100, 520)
    promises.show()
    qtbot.wait_until(lambda: promises.rows.rowCount() == 7)
    assert shoot(promises, "promises")
    dialog = promises.log_promise()
    assert dialog is not None
    dialog.account.setText("LN0000002")
    dialog.amount.setText("2,500")
    dialog.date.setText("09-03-2026")
    dialog.adjustSize()
    assert shoot(dialog, "promises_log_refused")

    manager = make_context(cache, clock, tmp_path, Role.BRANCH_MANAGER)
    disputes = DisputesScreen(manager)
    qtbot.add_widget(disputes)
    disputes.resize(1100, 420)
    disputes.show()
    qtbot.wait_until(lambda: disputes.rows.rowCount() == 3)
    disputes.table.selectRow(0)
    assert shoot(disputes, "disputes")

    problems = SyncProblemsScreen(collector)
    qtbot.add_widget(problems)
    problems.resize(1100, 420)
    problems.show()
    qtbot.wait_until(lambda: problems.rows.rowCount() == 1)
    assert shoot(problems, "sync_problems")


def test_a_picture_of_sync_problems_with_nothing_refused(
    qtbot: QtBot, context: ScreenContext
) -> None:
    problems = SyncProblemsScreen(context)
    qtbot.add_widget(problems)
    problems.resize(900, 360)
    problems.show()
    qtbot.wait_until(lambda: problems.stack.currentWidget() is problems.empty)
    assert shoot(problems, "sync_problems_empty")

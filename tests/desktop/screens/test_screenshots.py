"""Pictures of each screen over demo-like data, into artifacts/screens/, for people to look at.

Each test also checks the picture is a real rendering (not blank), so a screen that stops
drawing fails here rather than in a reviewer's eyes.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.cache.store import Cache
from desktop.qt import QApplication, QPixmap, QWidget
from desktop.screens import ScreenContext
from desktop.screens.loan_detail import LoanDetailDialog
from desktop.screens.loans import LoansScreen
from desktop.screens.my_day import MyDayScreen
from desktop.screens.record_payment import RecordPaymentDialog, payment_view_model
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, type_text
from tests.desktop.viewmodels.cached import COLLECTOR, loan_data, put, put_loans, synced_payment

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

SHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screens"
NAMES = (
    "Ramesh Kumar",
    "Lakshmi Narayanan",
    "Mohammed Irfan",
    "Sunita Devi",
    "Gurpreet Singh",
    "Priya Menon",
    "Anjali Deshpande",
    "Venkatesh Rao",
    "Fatima Sheikh",
    "Rajesh Patil",
    "Kavita Joshi",
    "Sanjay Ghosh",
)
DPDS = (0, 3, 12, 27, 33, 45, 61, 75, 88, 95, 130, 0)
BUCKET = {0: "current", 3: "1-30", 12: "1-30", 27: "1-30", 33: "31-60", 45: "31-60"}


def _bucket(dpd: int) -> str:
    if dpd in BUCKET:
        return BUCKET[dpd]
    return "61-90" if dpd <= 90 else "90+"


def _demo(cache: Cache) -> dict[str, Any]:
    loans = [
        loan_data(
            n + 1,
            name=name,
            dpd=DPDS[n],
            bucket=_bucket(DPDS[n]),
            paid_through=max(0, 4 - DPDS[n] // 30),
            principal=(n + 2) * 75_000_00 + n * 1_234_56,
        )
        for n, name in enumerate(NAMES)
    ]
    put_loans(cache, loans)
    featured = loans[4]
    put(
        cache,
        "payment",
        synced_payment(
            featured,
            amount_paise=9_168_00,
            allocations=[
                {"component": "interest", "amount": 2_550_00, "installment_seq": 3},
                {"component": "principal", "amount": 6_618_00, "installment_seq": 3},
            ],
            payment_date="2026-01-06",
            reference="RB-0412",
        ),
    )
    for loan, day in ((loans[1], "2026-03-10"), (loans[4], "2026-03-10"), (loans[6], "2026-03-11")):
        put(
            cache,
            "promise",
            {
                "id": str(uuid.uuid4()),
                "loan_id": loan["id"],
                "collector_id": COLLECTOR,
                "amount_paise": 5_000_00,
                "promised_date": day,
                "note": "salary on 10th",
                "outcome": "pending",
            },
        )
    put(
        cache,
        "dispute",
        {
            "id": str(uuid.uuid4()),
            "loan_id": featured["id"],
            "reason": "Bounce charge disputed",
            "status": "open",
            "opened_on": "2026-03-02",
            "dpd_at_open": 25,
        },
    )
    return featured


def _shoot(widget: QWidget, name: str) -> QPixmap:
    """Lays the widget out first: a grab right after a change would otherwise show the
    geometry from before it, which the event loop has not yet had a turn to update."""
    QApplication.sendPostedEvents()
    layout = widget.layout()
    if layout is not None:
        layout.activate()
    try:
        from tests.desktop.screens_grab import grab  # the shell's helper, when present
    except ImportError:
        SHOTS.mkdir(parents=True, exist_ok=True)
        picture = widget.grab()
        picture.save(str(SHOTS / f"{name}.png"))
        return picture
    grab(widget, name)
    return widget.grab()


def _drawn(picture: QPixmap) -> bool:
    image = picture.toImage()
    first = image.pixel(0, 0)
    return any(
        image.pixel(x, y) != first
        for x in range(0, image.width(), 7)
        for y in range(0, image.height(), 7)
    )


def test_a_picture_of_the_loans_list(qtbot: QtBot, context: ScreenContext) -> None:
    _demo(context.cache)
    screen = LoansScreen(context)
    qtbot.add_widget(screen)
    screen.resize(1000, 520)
    screen.show()
    assert _drawn(_shoot(screen, "loans"))


def test_a_picture_of_the_record_payment_dialog(qtbot: QtBot, context: ScreenContext) -> None:
    featured = _demo(context.cache)
    dialog = RecordPaymentDialog(payment_view_model(context, featured["id"]))
    qtbot.add_widget(dialog)
    dialog.show()
    type_text(qtbot, dialog.reference, "RB-0419")
    type_text(qtbot, dialog.amount, "15,000")
    dialog.adjustSize()
    assert _drawn(_shoot(dialog, "record_payment"))
    type_text(qtbot, dialog.amount, ".505")
    assert _drawn(_shoot(dialog, "record_payment_refused"))


def test_a_picture_of_a_loans_page_with_a_pending_payment(
    qtbot: QtBot, context: ScreenContext
) -> None:
    featured = _demo(context.cache)
    dialog = RecordPaymentDialog(payment_view_model(context, featured["id"]))
    qtbot.add_widget(dialog)
    type_text(qtbot, dialog.reference, "RB-0419")
    type_text(qtbot, dialog.amount, "15000")
    dialog.vm.save()
    detail = LoanDetailDialog(context, featured["id"])
    qtbot.add_widget(detail)
    detail.show()
    qtbot.wait_until(lambda: "connected" in detail.audit_note.text())
    assert _drawn(_shoot(detail, "loan_detail_schedule"))
    detail.tabs.setCurrentIndex(1)
    assert _drawn(_shoot(detail, "loan_detail_payments"))


def test_a_picture_of_my_day(qtbot: QtBot, context: ScreenContext) -> None:
    _demo(context.cache)
    screen = MyDayScreen(context)
    qtbot.add_widget(screen)
    screen.resize(1100, 640)
    screen.show()
    qtbot.wait_until(lambda: screen.loans.rowCount() > 0)
    assert _drawn(_shoot(screen, "my_day"))

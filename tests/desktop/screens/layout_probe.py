"""Run in its own process, on one simulated screen (`QT_QPA_PLATFORM=offscreen:configfile=…`
names its physical size, `QT_SCALE_FACTOR` its scaling): opens the sign-in dialog, the record
payment dialog (empty, then with every message showing, then saved with Print receipt) and
the main window, pictures each under artifacts/screens/, and writes what it found wrong as
JSON. `python -m tests.desktop.screens.layout_probe OUT.json NAME WORKDIR`.

Qt lays out in logical pixels (physical ÷ scale), so a 1920×1080 screen at 150 % is 1280×720
to every widget: the checks here are in those, as the widgets see them.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from desktop.qt import QApplication, QPushButton, QRect, QThreadPool, QWidget
from desktop.resources import apply_look
from tests.desktop.screens_grab import save_png

SETTLE_S = 20.0
LAYOUT_ROUNDS = 10
BUTTON_CHROME = 2 * 16 + 2 * 1
"""style.qss: 16 px of padding and a 1 px border on each side of a button's text."""


def _settle(app: QApplication, until: Any = None) -> None:
    deadline = time.monotonic() + SETTLE_S
    pool = QThreadPool.globalInstance()
    while time.monotonic() < deadline:
        app.processEvents()
        if pool.activeThreadCount() == 0 and (until is None or until()):
            for _ in range(LAYOUT_ROUNDS):  # a resize posts layout requests, which post more
                app.sendPostedEvents()
                app.processEvents()
                time.sleep(0.02)
            return
        time.sleep(0.02)
    raise TimeoutError("the probe's window did not settle")


def _global(widget: QWidget) -> QRect:
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    return QRect(top_left, widget.size())


def check(name: str, window: QWidget, primary: QPushButton | None, found: list[str]) -> None:
    """The window on the screen's available area, the primary button wholly on it, and no
    button whose text is wider than the room it has."""
    available = window.screen().availableGeometry()
    frame = window.frameGeometry()
    if not available.contains(frame):
        found.append(
            f"{name}: the window {frame.getRect()} leaves the screen {available.getRect()}"
        )
    if primary is not None:
        if not primary.isVisible():
            found.append(f"{name}: {primary.text()!r} is not visible")
        elif not available.contains(_global(primary)):
            found.append(
                f"{name}: {primary.text()!r} at {_global(primary).getRect()} is off screen"
            )
    for button in window.findChildren(QPushButton):
        if not button.isVisible():
            continue
        needed = button.fontMetrics().horizontalAdvance(button.text().replace("&", ""))
        room = button.width() - BUTTON_CHROME
        if needed > room:
            found.append(f"{name}: {button.text()!r} needs {needed} px and has {room}")


def shoot(window: QWidget, name: str) -> str:
    return str(save_png(window.grab(), name))


def main(out: Path, name: str, work: Path) -> None:
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(work / "keyring.cfg")
    keyring.set_keyring(backend)

    from desktop.auth import SessionManager
    from desktop.screens.login import LoginDialog
    from desktop.screens.main_window import MainWindow
    from desktop.screens.record_payment import RecordPaymentDialog, payment_view_model
    from desktop.sync.engine import SyncEngine
    from desktop.sync_worker import SyncWorker
    from loancore.roles import Role
    from tests.desktop.screens.conftest import NOW, Clock, make_context
    from tests.desktop.viewmodels.cached import loan_data, open_cache, put_loans

    app = QApplication([])
    apply_look(app)
    found: list[str] = []
    shots: list[str] = []
    screen = app.primaryScreen()
    cache = open_cache(work)
    loan = loan_data(1, paid_through=3, dpd=33, bucket="31-60", name="Meena Iyer")
    put_loans(cache, [loan])
    offline = make_context(cache, Clock(NOW), work, role=Role.COLLECTOR)
    worker = SyncWorker(SyncEngine(offline.session.api, cache), cache, offline.changes)
    context = dataclasses.replace(offline, sync=worker)  # never started: no round runs

    login = LoginDialog(
        SessionManager(context.settings), context.settings, server_url="http://127.0.0.1:9"
    )
    login.show()
    _settle(app)
    check(f"login {name}", login, login.sign_in_button, found)
    shots.append(shoot(login, f"login_{name}"))
    login.close()

    window = MainWindow(context)
    window.show()
    _settle(app)
    check(f"main window {name}", window, None, found)
    hint = window.minimumSizeHint()
    if hint.width() > screen.availableGeometry().width() or hint.height() > (
        screen.availableGeometry().height()
    ):
        found.append(f"main window {name}: its minimum {hint.toTuple()} exceeds the screen")
    shots.append(shoot(window, f"main_window_{name}"))

    dialog = RecordPaymentDialog(
        payment_view_model(context, loan["id"]),
        receipts_dir=work / "receipts",
        parent=window,
    )
    dialog.show()
    _settle(app)
    check(f"record payment {name}", dialog, dialog.save_button, found)
    shots.append(shoot(dialog, f"record_payment_{name}"))

    dialog.amount.setText("1,50,000")  # above what closes the loan: a refusal and a warning
    dialog.date.setText("05-03-2026")  # backdated: the reason field appears
    dialog.reference.setText("")
    dialog.save()  # every field touched: every message shows
    _settle(app)
    check(f"record payment with messages {name}", dialog, dialog.save_button, found)
    shots.append(shoot(dialog, f"record_payment_messages_{name}"))

    dialog.amount.setText("15,000")
    dialog.date.setText("10-03-2026")
    dialog.reference.setText("RBPNC0004419")
    dialog.save()
    _settle(app, until=lambda: dialog.saved_payment is not None)
    check(f"record payment saved {name}", dialog, dialog.print_button, found)
    shots.append(shoot(dialog, f"record_payment_saved_{name}"))
    dialog.close()
    window.close()
    cache.close()
    logical = screen.availableGeometry()
    out.write_text(
        json.dumps(
            {
                "problems": found,
                "shots": shots,
                "screen": [logical.width(), logical.height()],
                "scale": screen.devicePixelRatio(),
            }
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))

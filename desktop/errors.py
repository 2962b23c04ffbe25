"""The one function that shows an error to a person, and the words it uses.

Every failure a screen or an op meets ends here, so the same problem always reads the same
way: what happened, whether anything was changed, and what to do. Stack traces never reach
the message itself; an unexpected error is logged in full and the box offers the details.
"""

from __future__ import annotations

import logging
import traceback

from desktop.failures import KEPT, UNREACHABLE, Failure, describe
from desktop.qt import QMessageBox, Qt, QWidget

log = logging.getLogger("loandesk.desktop")

OFFLINE_TEXT = f"{UNREACHABLE} {KEPT}"

Friendly = Failure
"""The words are `desktop.failures`' (no Qt there, so the sync engine uses them too)."""


def friendly(exc: BaseException) -> Failure:
    return describe(exc)


def show_error(parent: QWidget | None, exc: BaseException) -> QMessageBox:
    """Shows `exc` without blocking the caller (a window-modal sheet over `parent`) and
    returns the box, so tests and callers can look at it or close it."""
    message = friendly(exc)
    details = "".join(traceback.format_exception(exc))
    log.info("shown to the user as %r:\n%s", message.title, details)
    box = QMessageBox(parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowTitle(f"LoanDesk — {message.title}")
    box.setText(message.text)
    if message.expected:
        box.setIcon(QMessageBox.Icon.Warning)
    else:
        box.setIcon(QMessageBox.Icon.Critical)
        log.error("unexpected error shown to the user:\n%s", details)
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box

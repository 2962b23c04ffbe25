"""The one function that shows an error to a person, and the words it uses.

Every failure a screen or an op meets ends here, so the same problem always reads the same
way: what happened, whether anything was changed, and what to do. Stack traces never reach
the message itself; an unexpected error is logged in full and the box offers the details.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from desktop.auth import SignInError
from desktop.qt import QMessageBox, Qt, QWidget
from desktop.settings import SettingsError
from desktop.sync.api import (
    ApiError,
    NotSignedInError,
    ServerBusyError,
    TransportError,
    UpgradeNeededError,
)
from loancore.dates import InvalidDate
from loancore.money import InvalidAmount

log = logging.getLogger("loandesk.desktop")

OFFLINE_TEXT = (
    "The server cannot be reached. Anything you entered is kept on this computer and will be "
    "sent when the connection is back."
)


@dataclass(frozen=True, slots=True)
class Friendly:
    title: str
    text: str
    expected: bool = True
    """False for a bug: the box then carries the technical details and the log has them."""


def friendly(exc: BaseException) -> Friendly:
    match exc:
        case SignInError():
            return Friendly("Sign-in", exc.message)
        case NotSignedInError():
            return Friendly(
                "Signed out", "Your sign-in has ended. Sign in again to continue; nothing is lost."
            )
        case UpgradeNeededError():
            return Friendly(
                "Update needed",
                f"This copy of LoanDesk is older than the server accepts. "
                f"Install the new version. ({exc.detail})",
            )
        case ServerBusyError():
            return Friendly(
                "Server busy",
                f"{exc.detail or 'The server is busy'}. Nothing was changed; try again shortly.",
            )
        case ApiError():
            return Friendly("Not done", exc.detail or "The server refused the request.")
        case TransportError():
            return Friendly("Offline", OFFLINE_TEXT)
        case InvalidAmount() | InvalidDate():
            return Friendly("Check the entry", str(exc))
        case SettingsError():
            return Friendly("Settings", str(exc))
        case PermissionError() | FileNotFoundError():
            return Friendly(
                "File problem",
                f"LoanDesk could not use the file {getattr(exc, 'filename', '') or ''}: "
                f"{exc.strerror or exc}.",
            )
        case _:
            return Friendly(
                "Something went wrong",
                "LoanDesk met a problem it did not expect; nothing more was done. "
                "If it happens again, send the details below to support.",
                expected=False,
            )


def show_error(parent: QWidget | None, exc: BaseException) -> QMessageBox:
    """Shows `exc` without blocking the caller (a window-modal sheet over `parent`) and
    returns the box, so tests and callers can look at it or close it."""
    message = friendly(exc)
    box = QMessageBox(parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowTitle(f"LoanDesk — {message.title}")
    box.setText(message.text)
    if message.expected:
        box.setIcon(QMessageBox.Icon.Warning)
    else:
        box.setIcon(QMessageBox.Icon.Critical)
        details = "".join(traceback.format_exception(exc))
        log.error("unexpected error shown to the user:\n%s", details)
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box

"""The sign-in dialog: server address (asked once, then remembered), username, password.

The sign-in itself runs in the background, because reaching a server that is down can take
seconds and the window must not freeze. When the server cannot be reached, the same dialog
signs a known user in offline and says so, and says beforehand until when that is possible.

Once signed in, the dialog stays up (its fields greyed, a line saying what it waits for) while
the user's records on this computer are opened (`open_records`, in the background too: the
first opening after an update upgrades the file), and says in a sentence if they cannot be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from desktop.auth import SessionManager, UserSession, ist_text
from desktop.errors import friendly
from desktop.operations import QueryOp
from desktop.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.settings import ClientSettings

log = logging.getLogger("loandesk.desktop")

OPENING_RECORDS = "Signed in. Opening your records on this computer…"
RECORDS_NOT_OPENED = (
    "Signed in, but your records on this computer could not be opened, so nothing was "
    "changed: close any other LoanDesk window and sign in again, and if it happens again, "
    "tell support."
)


class LoginDialog(QDialog):
    signed_in = Signal(object, object)
    """(the session, what `open_records` opened for it or None without it), once both are
    ready; the dialog closes right after."""

    def __init__(
        self,
        sessions: SessionManager,
        settings: ClientSettings,
        *,
        server_url: str | None = None,
        open_records: Callable[[UserSession], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle("LoanDesk — Sign in")
        self.sessions = sessions
        self.open_records = open_records
        self.session: UserSession | None = None

        title = QLabel("Sign in to LoanDesk")
        title.setObjectName("heading")
        self.server = QLineEdit(server_url or settings.server_url or "")
        self.server.setPlaceholderText("https://loandesk.example.in")
        self.username = QLineEdit(settings.last_username or "")
        self.username.setPlaceholderText("your username")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.offline_note = QLabel()
        self.offline_note.setObjectName("notice")
        self.offline_note.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self.message.hide()

        form = QFormLayout()
        form.addRow("Server", self.server)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.sign_in_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_in_button.setText("Sign in")
        self.sign_in_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.offline_note)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)

        self.server.textChanged.connect(self._show_offline_note)
        self.username.textChanged.connect(self._show_offline_note)
        self._show_offline_note()
        if not self.server.text():
            self.server.setFocus()
        elif not self.username.text():
            self.username.setFocus()
        else:
            self.password.setFocus()

    def _show_offline_note(self) -> None:
        until = self.sessions.offline_until(self.username.text(), self.server.text() or None)
        if until is None:
            self.offline_note.setText("")
            self.offline_note.hide()
            return
        self.offline_note.setText(
            f"If the server cannot be reached, {self.username.text().strip()} can sign in "
            f"offline on this computer until {ist_text(until)}."
        )
        self.offline_note.show()

    def submit(self) -> None:
        server, name, password = self.server.text(), self.username.text(), self.password.text()
        if not server.strip() or not name.strip() or not password:
            self.show_message("Enter the server address, your username and your password.")
            return
        self._busy(True)
        self._wait_for("Signing in…")
        sessions = self.sessions
        QueryOp(
            parent=self, op=lambda: sessions.login(server, name, password), success=self._done
        ).failure(self._failed).run_in_background()

    def _done(self, session: UserSession) -> None:
        open_records = self.open_records
        if open_records is None:
            self._enter(session, None)
            return
        self._wait_for(OPENING_RECORDS)
        QueryOp(
            parent=self,
            op=lambda: open_records(session),
            success=lambda records: self._enter(session, records),
        ).failure(self._records_failed).run_in_background()

    def _enter(self, session: UserSession, records: object) -> None:
        self._busy(False)
        self.session = session
        self.signed_in.emit(session, records)
        self.accept()

    def _records_failed(self, exc: Exception) -> None:
        log.error("the records on this computer could not be opened", exc_info=exc)
        self._busy(False)
        self.password.setFocus()
        self.show_message(RECORDS_NOT_OPENED)

    def _failed(self, exc: Exception) -> None:
        self._busy(False)
        self.password.clear()
        self.password.setFocus()
        self.show_message(friendly(exc).text)

    def _wait_for(self, text: str) -> None:
        self._say(text, "notice")

    def show_message(self, text: str) -> None:
        self._say(text, "error")

    def _say(self, text: str, kind: str) -> None:
        self.message.setObjectName(kind)
        self._restyle()
        self.message.setText(text)
        self.message.show()
        self._grow_to_fit()

    def _grow_to_fit(self) -> None:
        """Taller when a longer message needs more lines: a shown dialog keeps its size, and
        would otherwise squeeze the fields and cut the message's last line."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = layout.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def _busy(self, busy: bool) -> None:
        for widget in (self.server, self.username, self.password, self.sign_in_button):
            widget.setEnabled(not busy)
        if not busy:
            self.sign_in_button.setDefault(True)  # disabling it handed "default" to Cancel

    def _restyle(self) -> None:
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

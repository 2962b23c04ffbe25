"""Kill switches: every switch with what it controls and whether it is on, and the one way to
flip one, through a dialog where the administrator types the switch's key.

The dialog's button stays disabled until the key is typed exactly, which is what the server
checks too; what was typed is sent as it is, so the server's refusal (if any) is the word.
"""

from __future__ import annotations

from typing import Any

from desktop.operations import QueryOp
from desktop.qt import (
    QColor,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QModelIndex,
    QPersistentModelIndex,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._online import answer_failure, fill_with_online, say
from desktop.screens._picking import Picked, picking_table
from desktop.screens._tables import RowsModel
from desktop.viewmodels.admin_flags import COLUMNS, AdminFlagsViewModel, Flag
from loancore.roles import Action

AnyIndex = QModelIndex | QPersistentModelIndex
OFF_COLOUR = "#8a0016"


class FlagsModel(RowsModel):
    """Switches that are off are drawn in the error colour, so a stopped intake is seen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent=parent)
        self.off: set[int] = set()

    def show_flags(self, flags: tuple[Flag, ...]) -> None:
        self.off = {row for row, flag in enumerate(flags) if not flag.enabled}
        self.set_rows([flag.row for flag in flags])

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.row() in self.off:
            return QColor(OFF_COLOUR)
        return super().data(index, role)


class ConfirmSwitchDialog(QDialog):
    """Window-modal, opened with `open()`: the screen gets `accepted` and reads `typed`."""

    def __init__(self, flag: Flag, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flag = flag
        self.setWindowTitle(f"LoanDesk — {flag.action_text.rstrip('…')} {flag.key}")
        self.prompt = QLabel(flag.confirm_prompt, self)
        self.prompt.setWordWrap(True)
        self.typed = QLineEdit(self)
        self.typed.setPlaceholderText(flag.key)
        self.buttons = QDialogButtonBox(self)
        self.confirm_button = self.buttons.addButton(
            flag.action_text.rstrip("…"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button.setDefault(True)
        self.confirm_button.setEnabled(False)
        self.typed.textChanged.connect(
            lambda text: self.confirm_button.setEnabled(self.flag.confirmed_by(text))
        )
        self.buttons.accepted.connect(self._accept_if_typed)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.typed)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def _accept_if_typed(self) -> None:
        if self.flag.confirmed_by(self.typed.text()):
            self.accept()


class AdminFlagsScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adminFlagsScreen")
        self.context = context
        self.vm = AdminFlagsViewModel(context.session.api)
        self.dialog: ConfirmSwitchDialog | None = None

        body = QWidget(self)
        heading = QLabel("Kill switches", body)
        heading.setObjectName("heading")
        intro = QLabel(
            "Each switch stops one kind of work on the server at once, however it is reached "
            "(this desktop, a device syncing, the scheduler). Use one when that work is doing "
            "harm, and turn it back on when the cause is fixed.",
            body,
        )
        intro.setWordWrap(True)
        self.model = FlagsModel(self)
        self.table = picking_table(self.model, body, self._selection)
        self.picked: Picked[Flag] = Picked(self.table, lambda flag: flag.key)
        self.table.doubleClicked.connect(lambda _i: self.ask_to_flip())
        self.flip_button = QPushButton("Turn off…", body)
        self.flip_button.setEnabled(False)
        self.flip_button.setVisible(context.can(Action.MANAGE_FLAGS))
        self.flip_button.clicked.connect(self.ask_to_flip)
        self.refresh_button = QPushButton("Refresh (F5)", body)
        self.refresh_button.clicked.connect(self.reload)
        self.message = QLabel(body)
        self.message.setObjectName("notice")
        self.message.setWordWrap(True)
        self.message.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.flip_button)
        layout = QVBoxLayout(body)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self.panel = fill_with_online(self, body, self.reload)
        self.reload()

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.panel.retry_button.setEnabled(False)
        QueryOp(parent=self, op=self.vm.load, success=self.show_flags).failure(
            self._failed
        ).run_in_background()

    def show_flags(self, flags: tuple[Flag, ...]) -> None:
        self.panel.show_content()
        self.panel.retry_button.setEnabled(True)
        self.picked.replace(flags, self.model.show_flags)
        self._selection()

    @property
    def flags(self) -> tuple[Flag, ...]:
        return self.picked.rows

    def selected(self) -> Flag | None:
        return self.picked.current()

    def select(self, key: str) -> None:
        self.picked.select(key)

    def _selection(self) -> None:
        flag = self.selected()
        self.flip_button.setEnabled(flag is not None)
        self.flip_button.setText(flag.action_text if flag else "Turn off…")

    def ask_to_flip(self) -> None:
        flag = self.selected()
        if flag is None or not self.context.can(Action.MANAGE_FLAGS):
            return
        dialog = ConfirmSwitchDialog(flag, self)
        dialog.accepted.connect(lambda: self._send(flag, dialog.typed.text()))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def _send(self, flag: Flag, typed: str) -> None:
        self.flip_button.setEnabled(False)
        QueryOp(parent=self, op=lambda: self.vm.flip(flag, typed), success=self._flipped).failure(
            self._failed
        ).run_in_background()

    def _flipped(self, flag: Flag) -> None:
        self._say(f"{flag.key} is now {'on' if flag.enabled else 'off'}.", error=False)
        self.reload()

    def _failed(self, exc: Exception) -> None:
        self._selection()
        answer_failure(self.panel, self.message, exc)

    def _say(self, text: str, *, error: bool) -> None:
        say(self.message, text, error=error)


register(
    ScreenSpec(
        key="admin_flags",
        title="Kill switches",
        # An auditor sees which work is switched off (read-only: no flip button); only an
        # admin flips a switch.
        action=Action.VIEW_FLAGS,
        factory=AdminFlagsScreen,
        icon="flags",
        order=95,
    )
)

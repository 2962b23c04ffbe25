"""Open disputes, with the DPD each loan was frozen at, and the dialogs to open and close one.

Opening is collections work (a collector records what the borrower raises at the door);
closing is the branch manager's decision, so the Close button is not even built for a role
that may not close. Both work offline: they are queued like a payment.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.format import count, day
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._export import ExportButton
from desktop.screens._fields import field_error_label
from desktop.screens._tables import RowsModel
from desktop.signals import Topic
from desktop.viewmodels.disputes import DisputeRow, DisputesViewModel
from desktop.viewmodels.local_entries import LoanPick
from desktop.viewmodels.online import message_for
from loancore.roles import Action

_SHOWN_TOPICS = frozenset({Topic.DISPUTES, Topic.LOANS, Topic.OUTBOX, Topic.SYNC})
EMPTY_TEXT = "No open disputes. Collections DPD runs as usual on every loan."
FROZEN_NOTE = (
    "While a dispute is open the loan's collections DPD, bucket and escalation stay frozen."
)


class _EntryDialog(QDialog):
    """A short form with one "Save": the subclass says what is checked and what is queued."""

    saved = Signal()

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.form = QFormLayout()
        self.message = QLabel(self)
        self.message.setObjectName("notice")
        self.message.setWordWrap(True)
        self.message.hide()
        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.close_button = QPushButton("Cancel", self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        self.done_text = ""
        self._check: Callable[[], Callable[[], dict[str, str]]] = lambda: dict
        self._show: Callable[[dict[str, str]], None] = lambda _errors: None
        self._work: Callable[[], Callable[[], object]] = lambda: lambda: None

    def bind(
        self,
        *,
        check: Callable[[], Callable[[], dict[str, str]]],
        show: Callable[[dict[str, str]], None],
        work: Callable[[], Callable[[], object]],
        done_text: str,
    ) -> None:
        """What "Save" checks, where it shows the messages, and what it queues. `check` and
        `work` take the typed text on the UI thread and return what runs off it (the check
        may read the cache: is the loan here, has it an open dispute)."""
        self._check, self._show, self._work, self.done_text = check, show, work, done_text

    def save(self) -> None:
        self.save_button.setEnabled(False)
        QueryOp(parent=self, op=self._check(), success=self._checked).failure(
            self._not_saved
        ).run_in_background()

    def _checked(self, errors: dict[str, str]) -> None:
        self._show(errors)
        if errors:
            self.save_button.setEnabled(True)
            return
        QueryOp(parent=self, op=self._work(), success=self._saved).failure(
            self._not_saved
        ).run_in_background()

    def _saved(self, _result: object) -> None:
        for child in self.findChildren(QLineEdit) + self.findChildren(QPlainTextEdit):
            child.setEnabled(False)
        self.save_button.hide()
        self.close_button.setText("Close")
        self.message.setText(self.done_text)
        self.message.show()
        self.saved.emit()

    def _not_saved(self, exc: Exception) -> None:
        self.message.setText(f"Not saved: {message_for(exc)}")
        self.message.show()
        self.save_button.setEnabled(True)


class OpenDisputeDialog(_EntryDialog):
    def __init__(self, vm: DisputesViewModel, parent: QWidget | None = None) -> None:
        super().__init__("Open a dispute", parent)
        self.vm = vm
        self.account = QLineEdit(self)
        self.account.setPlaceholderText("Account number")
        self.reason = QPlainTextEdit(self)
        self.reason.setPlaceholderText("What does the borrower dispute? (required)")
        self.reason.setMaximumHeight(90)
        self.loan_label = QLabel(self)
        self.loan_label.setObjectName("subheading")
        self.loan_error = field_error_label(self)
        self.reason_error = field_error_label(self)
        self.form.addRow("Loan", self.account)
        self.form.addRow("", self.loan_label)
        self.form.addRow("", self.loan_error)
        self.account.textChanged.connect(self._show_loan)
        self.form.addRow("Reason", self.reason)
        self.form.addRow("", self.reason_error)
        note = QLabel(FROZEN_NOTE, self)
        note.setWordWrap(True)
        note.setObjectName("caption")
        self.form.addRow("", note)
        self.bind(
            check=self.errors,
            show=self.show_errors,
            work=self.work,
            done_text="Dispute saved on this computer: pending sync.",
        )

    def _show_loan(self, text: str) -> None:
        """Looks the loan up off the UI thread on every keystroke; only the answer for the
        text still in the box is shown."""
        find = self.vm.find_loan
        QueryOp(
            parent=self, op=lambda: find(text), success=lambda loan: self._loan_found(text, loan)
        ).failure(lambda _exc: self._loan_found(text, None)).run_in_background()

    def _loan_found(self, text: str, loan: LoanPick | None) -> None:
        if text != self.account.text():
            return  # a later keystroke's answer is on its way
        self.loan_label.setText(
            f"{loan.borrower_name} · DPD {loan.dpd}, frozen there once opened" if loan else ""
        )

    def errors(self) -> Callable[[], dict[str, str]]:
        account, reason, check = self.account.text(), self.reason.toPlainText(), self.vm.check_open
        return lambda: check(account, reason)[1]

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, label in (("loan", self.loan_error), ("reason", self.reason_error)):
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)

    def work(self) -> Callable[[], object]:
        account, reason = self.account.text(), self.reason.toPlainText()
        return lambda: self.vm.open_dispute(account, reason)


class CloseDisputeDialog(_EntryDialog):
    def __init__(
        self, vm: DisputesViewModel, dispute: DisputeRow, parent: QWidget | None = None
    ) -> None:
        super().__init__("Close a dispute", parent)
        self.vm = vm
        self.dispute = dispute
        about = QLabel(
            f"<b>{dispute.account_no}</b> — {dispute.borrower_name}<br>"
            f"Opened {day(dispute.opened_on)} at DPD {dispute.dpd_at_open}: {dispute.reason}",
            self,
        )
        about.setWordWrap(True)
        self.resolution = QPlainTextEdit(self)
        self.resolution.setPlaceholderText("How was it resolved? (required)")
        self.resolution.setMaximumHeight(90)
        self.resolution_error = field_error_label(self)
        self.form.addRow("Dispute", about)
        self.form.addRow("Resolution", self.resolution)
        self.form.addRow("", self.resolution_error)
        self.bind(
            check=self.errors,
            show=self.show_errors,
            work=self.work,
            done_text="Close saved on this computer: pending sync. DPD runs again once applied.",
        )

    def errors(self) -> Callable[[], dict[str, str]]:
        resolution, check = self.resolution.toPlainText(), self.vm.check_close
        return lambda: check(resolution)

    def show_errors(self, errors: dict[str, str]) -> None:
        self.resolution_error.setText(errors.get("resolution", ""))
        self.resolution_error.setVisible("resolution" in errors)

    def work(self) -> Callable[[], object]:
        resolution = self.resolution.toPlainText()
        return lambda: self.vm.close_dispute(self.dispute, resolution)


class DisputesScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("disputesScreen")
        self.context = context
        self.vm = context.book.disputes(business_date=context.book.business_date(context.clock()))
        self.disputes: tuple[DisputeRow, ...] = ()
        self.heading = QLabel("Open disputes", self)
        self.heading.setObjectName("heading")
        self.summary = QLabel(self)
        self.summary.setObjectName("subheading")
        self.summary.setWordWrap(True)
        self.open_button = QPushButton("Open a dispute… (Ctrl+N)", self)
        self.open_button.setShortcut("Ctrl+N")
        self.open_button.setVisible(context.can(Action.OPEN_DISPUTE))
        self.open_button.clicked.connect(self.open_dispute)
        self.close_button: QPushButton | None = None
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.open_button)
        if context.can(Action.CLOSE_DISPUTE):
            self.close_button = QPushButton("Close dispute…", self)
            self.close_button.clicked.connect(self.close_dispute)
            bar.addWidget(self.close_button)

        self.rows = RowsModel(
            ("Account", "Borrower", "DPD frozen at", "Opened on", "Reason", "State"), right={2}
        )
        self.table = QTableView(self)
        self.table.setModel(self.rows)
        self.export_button = ExportButton(self, self.table, "Disputes")
        bar.addWidget(self.export_button)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        context.changes.changed.connect(self._data_changed)
        self._selection_changed()
        self.reload()

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        QueryOp(parent=self, op=self.vm.load, success=self.show_disputes).run_in_background()

    def show_disputes(self, disputes: tuple[DisputeRow, ...]) -> None:
        current = self.selected()
        self.disputes = disputes
        self.summary.setText(f"{count(len(disputes), 'open dispute')}. {FROZEN_NOTE}")
        self.rows.set_rows(
            [
                (
                    row.account_no,
                    row.borrower_name,
                    str(row.dpd_at_open),
                    day(row.opened_on),
                    row.reason,
                    row.state_label,
                )
                for row in disputes
            ]
        )
        self.stack.setCurrentWidget(self.table if disputes else self.empty)
        ids = [row.dispute_id for row in disputes]
        if current is not None and current.dispute_id in ids:
            self.table.selectRow(ids.index(current.dispute_id))
        self._selection_changed()

    def selected(self) -> DisputeRow | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.disputes):
            return None
        return self.disputes[index.row()]

    def _selection_changed(self) -> None:
        if self.close_button is not None:
            chosen = self.selected()
            self.close_button.setEnabled(chosen is not None and not chosen.closing)

    def _dialog(self, dialog: _EntryDialog) -> _EntryDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.saved.connect(self._entered)
        dialog.show()
        return dialog

    def _entered(self) -> None:
        self.context.changes.announce(Topic.DISPUTES, Topic.OUTBOX)

    def open_dispute(self) -> _EntryDialog | None:
        if not self.context.can(Action.OPEN_DISPUTE):
            return None
        return self._dialog(OpenDisputeDialog(self.vm, self))

    def close_dispute(self) -> _EntryDialog | None:
        chosen = self.selected()
        if chosen is None or not self.context.can(Action.CLOSE_DISPUTE):
            return None
        return self._dialog(CloseDisputeDialog(self.vm, chosen, self))

    def _data_changed(self, topics: frozenset[Topic]) -> None:
        if topics & _SHOWN_TOPICS:
            self.reload()


register(
    ScreenSpec(
        key="disputes",
        title="Disputes",
        action=Action.VIEW_LOANS,
        factory=DisputesScreen,
        shortcut="Ctrl+Shift+D",
        icon="dispute",
        order=30,
    )
)

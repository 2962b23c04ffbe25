"""Sync problems: the entries the server refused, why, and what to do about each.

"Edit and send again" opens the entry's own dialog (record payment, log a promise) filled
with what was sent, under a new id; the old problem goes only once the new entry is queued,
so closing the dialog without saving leaves the problem where it was. "Dismiss" asks first:
it forgets the refusal on this computer (the server keeps its record).
"""

from __future__ import annotations

from html import escape
from typing import Any

from desktop.format import count, day, instant, rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._tables import RowsModel
from desktop.screens.promises import PromiseDialog, open_log_promise
from desktop.screens.record_payment import RecordPaymentDialog, open_record_payment
from desktop.signals import Topic
from desktop.viewmodels.promises import promise_input_from
from desktop.viewmodels.sync_problems import ALL_REACHED, Resend, SyncProblem
from loancore.acceptance import PaymentMode
from loancore.roles import Action

_SHOWN_TOPICS = frozenset(
    {Topic.OUTBOX, Topic.SYNC, Topic.PAYMENTS, Topic.PROMISES, Topic.DISPUTES}
)
_RETIRED_TOPICS = (Topic.PAYMENTS, Topic.PROMISES, Topic.DISPUTES, Topic.OUTBOX)
RESEND_ACTION = {Resend.PAYMENT: Action.RECORD_PAYMENT, Resend.PROMISE: Action.LOG_PROMISE}
EXPLAINED = (
    "The server refused these entries, so they were not recorded. Fix and send one again "
    "as a new entry, or dismiss it once it has been dealt with."
)


class SyncProblemsScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncProblemsScreen")
        self.context = context
        self.vm = context.book.sync_problems()
        self.problems: tuple[SyncProblem, ...] = ()
        self.confirm: QMessageBox | None = None
        self._dismissing: str | None = None
        self._resending: str | None = None
        self.heading = QLabel("Sync problems", self)
        self.heading.setObjectName("heading")
        self.summary = QLabel(self)
        self.summary.setObjectName("subheading")
        self.summary.setWordWrap(True)
        self.rows = RowsModel(
            ("Refused on", "Entry", "Loan", "What was sent", "The server's reason")
        )
        self.table = QTableView(self)
        self.table.setModel(self.rows)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.detail = QLabel(self)
        self.detail.setObjectName("warning")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.resend_button = QPushButton("Edit and send again…", self)
        self.dismiss_button = QPushButton("Dismiss…", self)
        self.resend_button.clicked.connect(self.send_again)
        self.dismiss_button.clicked.connect(self.dismiss)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.resend_button)
        buttons.addWidget(self.dismiss_button)
        self.listing = listing = QWidget(self)
        listing_layout = QVBoxLayout(listing)
        listing_layout.setContentsMargins(0, 0, 0, 0)
        listing_layout.addWidget(self.table, 1)
        listing_layout.addWidget(self.detail)
        listing_layout.addLayout(buttons)
        self.empty = QLabel(ALL_REACHED, self)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(listing)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        context.changes.changed.connect(self._data_changed)
        self._selection_changed()
        self.reload()

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        QueryOp(parent=self, op=self.vm.load, success=self.show_problems).run_in_background()

    def show_problems(self, problems: tuple[SyncProblem, ...]) -> None:
        current = self.selected()
        self.problems = problems
        self.summary.setText(
            f"{count(len(problems), 'entry', 'entries')} refused by the server. {EXPLAINED}"
            if problems
            else "Entries the server refuses are listed here until you deal with them."
        )
        self.rows.set_rows(
            [
                (
                    instant(p.answered_at),
                    f"{p.kind_label} ({p.status_label.lower()})"
                    if p.status == "conflict"
                    else p.kind_label,
                    p.loan_text,
                    p.sent,
                    p.reason,
                )
                for p in problems
            ]
        )
        self.stack.setCurrentWidget(self.listing if problems else self.empty)
        ids = [p.command_id for p in problems]
        if problems:
            chosen = ids.index(current.command_id) if current and current.command_id in ids else 0
            self.table.selectRow(chosen)
        self._selection_changed()

    def selected(self) -> SyncProblem | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.problems):
            return None
        return self.problems[index.row()]

    def _selection_changed(self) -> None:
        problem = self.selected()
        self.dismiss_button.setEnabled(problem is not None)
        allowed = (
            problem is not None
            and problem.resend is not None
            and self.context.can(RESEND_ACTION[problem.resend])
        )
        self.resend_button.setEnabled(allowed)
        if problem is None:
            self.detail.setText("")
            self.detail.hide()
            return
        # The table elides a long note or reason; here it is whole, and escaped, since a
        # note is the person's own text and the label reads it as rich text.
        lines = [
            f"<b>{escape(problem.kind_label)}</b> on {escape(problem.loan_text)}, refused "
            f"{instant(problem.answered_at)}",
            f"Sent: {escape(problem.sent)}",
            f"The server said: {escape(problem.reason)}",
        ]
        if problem.resend is None:
            lines.append(escape(problem.why_no_resend))
        self.detail.setText("<br>".join(lines))
        self.detail.show()

    # -- the two ways out ------------------------------------------------------------------

    def send_again(self) -> RecordPaymentDialog | PromiseDialog | None:
        problem = self.selected()
        if problem is None or problem.resend is None or problem.loan_id is None:
            return None
        if not self.context.can(RESEND_ACTION[problem.resend]):
            return None
        old = problem.command_id
        if problem.resend is Resend.PROMISE:
            promise = open_log_promise(
                self.context,
                self,
                typed=promise_input_from(problem.sent_data, problem.account_no),
                replaces=old,
            )
            promise.saved.connect(self._promise_resent)
            return promise
        sent = problem.sent_data
        open_record_payment(
            self.context,
            problem.loan_id,
            self,
            then=lambda dialog: self._fill_resent_payment(dialog, old, sent),
        )
        return None

    def _fill_resent_payment(
        self, dialog: RecordPaymentDialog, old: str, sent: dict[str, Any]
    ) -> None:
        """The refused payment's details, typed again into the dialog opened for it."""
        # The borrower holds a receipt for the refused payment: the new entry keeps its number.
        dialog.vm.receipt_of = old
        dialog.mode.setCurrentIndex(dialog.mode.findData(PaymentMode(str(sent.get("mode")))))
        dialog.reference.setText(str(sent.get("reference") or ""))
        dialog.amount.setText(rupees(int(sent.get("amount_paise") or 0), symbol=False))
        if sent.get("payment_date"):
            dialog.date.setText(day(str(sent["payment_date"])))
        dialog.foreclosure.setChecked(bool(sent.get("foreclosure")))
        dialog.reason.setText(str(sent.get("backdate_reason") or ""))
        self._resending = old
        # A plain bound method: PySide6 crashes when a dialog deleted on close drops a lambda
        # or a partial connected to its signal.
        dialog.saved.connect(self._payment_resent)

    def _promise_resent(self, _promise_id: str) -> None:
        self.reload()

    def _payment_resent(self, _payment_id: str) -> None:
        command_id, self._resending = self._resending, None
        if command_id is None:
            return
        QueryOp(
            parent=self, op=lambda: self.vm.retire_payment(command_id), success=self._retired
        ).announcing(self.context.changes, Topic.PAYMENTS, Topic.OUTBOX).run_in_background()

    def _retired(self, _none: object) -> None:
        self.reload()

    def dismiss(self) -> QMessageBox | None:
        problem = self.selected()
        if problem is None:
            return None
        box = QMessageBox(self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("LoanDesk — Dismiss a sync problem")
        box.setText(
            f"Dismiss the refused {problem.kind_label.lower()} on {problem.loan_text}? "
            "It is removed from this computer; the server was never changed by it and keeps "
            "its record of the refusal."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self._dismissing = problem.command_id
        box.buttonClicked.connect(self._dismiss_answered)
        self.confirm = box
        box.open()
        return box

    def _dismiss_answered(self, clicked: QPushButton) -> None:
        box, command_id = self.confirm, self._dismissing
        self.confirm, self._dismissing = None, None
        if box is None or command_id is None:
            return
        if box.standardButton(clicked) != QMessageBox.StandardButton.Yes:
            return
        QueryOp(
            parent=self, op=lambda: self.vm.dismiss(command_id), success=self._retired
        ).announcing(self.context.changes, *_RETIRED_TOPICS).run_in_background()

    def _data_changed(self, topics: frozenset[Topic]) -> None:
        if topics & _SHOWN_TOPICS:
            self.reload()


register(
    ScreenSpec(
        key="sync_problems",
        title="Sync problems",
        action=Action.SYNC,
        factory=SyncProblemsScreen,
        shortcut="Ctrl+Shift+Y",
        icon="sync_problem",
        order=75,
    )
)

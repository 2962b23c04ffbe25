"""Promises to pay: the list (due today, this week, broken) and the "Log a promise" dialog.

The dialog judges each keystroke with the server's rules (`PromiseEntry.check`, off the UI
thread: it looks the loan up in the cache) and shows a
message beside a field once that field has been touched, like the record-payment dialog, so
the collector fixes a past date at the door rather than in Sync problems the next day.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.format import count, day, rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
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
from desktop.signals import DataChanged, Topic
from desktop.viewmodels.local_entries import LoanPick
from desktop.viewmodels.online import message_for
from desktop.viewmodels.promises import (
    FILTER_LABELS,
    PromiseCheck,
    PromiseEntry,
    PromiseFilter,
    PromiseInput,
    PromiseList,
    SavedPromise,
)
from loancore.dates import format_date
from loancore.roles import Action

_SHOWN_TOPICS = frozenset({Topic.PROMISES, Topic.LOANS, Topic.OUTBOX, Topic.SYNC})
EMPTY_TEXT = {
    PromiseFilter.ALL: "No promises on this computer yet. Log one when a borrower promises to pay.",
    PromiseFilter.DUE_TODAY: "No promises fall due today.",
    PromiseFilter.THIS_WEEK: "No promises fall due this week.",
    PromiseFilter.BROKEN: "No broken promises.",
}
FIELDS = ("loan", "amount", "date", "note")


class PromiseDialog(QDialog):
    """`saved(promise_id)` is emitted once the promise is in the outbox."""

    saved = Signal(str)

    def __init__(
        self,
        entry: PromiseEntry,
        *,
        changes: DataChanged | None = None,
        typed: PromiseInput | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.entry = entry
        self._changes = changes
        self._touched: set[str] = set()
        self.saved_promise: SavedPromise | None = None
        self.setObjectName("promiseDialog")
        self.setWindowTitle("Log a promise to pay" if entry.replaces is None else "Send again")
        self.setMinimumWidth(480)
        self.account = QLineEdit(self)
        self.account.setPlaceholderText("Account number, e.g. LDPNCPL000123")
        self.loan_label = QLabel(self)
        self.loan_label.setObjectName("subheading")
        self.amount = QLineEdit(self)
        self.amount.setPlaceholderText("e.g. 5,000")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.date = QLineEdit(self)
        self.date.setInputMask("99-99-9999")
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("Optional: what the borrower said")
        self.errors = {name: field_error_label(self) for name in FIELDS}
        window = QLabel(
            f"A promise may fall from today ({format_date(entry.business_date)}) to "
            f"{format_date(entry.latest_date())}.",
            self,
        )
        window.setObjectName("caption")
        form = QFormLayout()
        form.addRow("Loan", self._with_error(self.account, "loan"))
        form.addRow("", self.loan_label)
        form.addRow("Amount (₹)", self._with_error(self.amount, "amount"))
        form.addRow("Promised for", self._with_error(self.date, "date"))
        form.addRow("Note", self._with_error(self.note, "note"))
        self.status = QLabel(self)
        self.status.setObjectName("notice")
        self.status.setWordWrap(True)
        self.status.hide()
        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.close_button = QPushButton("Cancel", self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(window)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        typed = typed or PromiseInput(date_text=format_date(entry.business_date))
        self.account.setText(typed.account_text)
        self.amount.setText(typed.amount_text)
        self.date.setText(typed.date_text)
        self.note.setText(typed.note)
        self.account.textChanged.connect(lambda: self._edit("loan"))
        self.amount.textChanged.connect(lambda: self._edit("amount"))
        self.date.textChanged.connect(lambda: self._edit("date"))
        self.note.textChanged.connect(lambda: self._edit("note"))
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        if entry.replaces is not None:
            self._touched.update(FIELDS)
        self.check: PromiseCheck | None = None
        """The last check of what is typed now; None while one is on its way."""
        self.save_button.setEnabled(False)
        self._recheck()

    def _with_error(self, editor: QWidget, name: str) -> QWidget:
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(editor)
        column.addWidget(self.errors[name])
        return box

    def typed(self) -> PromiseInput:
        return PromiseInput(
            self.account.text(), self.amount.text(), self.date.text(), self.note.text()
        )

    def _edit(self, name: str) -> None:
        self._touched.add(name)
        self._recheck()

    def _recheck(self, then: Callable[[PromiseCheck], None] | None = None) -> None:
        """Checks what is typed off the UI thread (the loan is looked up in the cache on every
        keystroke); only the answer for the text still typed is shown."""
        typed, entry = self.typed(), self.entry
        self.check = None
        QueryOp(
            parent=self,
            op=lambda: entry.check(typed),
            success=lambda seen: self._checked(typed, seen, then),
        ).run_in_background()

    def _checked(
        self, typed: PromiseInput, seen: PromiseCheck, then: Callable[[PromiseCheck], None] | None
    ) -> None:
        if typed != self.typed():
            return  # a later keystroke's check is on its way
        self.check = self._show(seen)
        if then is not None:
            then(seen)

    def _show(self, seen: PromiseCheck) -> PromiseCheck:
        for name, label in self.errors.items():
            message = seen.errors.get(name, "")
            label.setText(message)
            label.setVisible(bool(message) and name in self._touched)
        loan = seen.loan
        self.loan_label.setText(
            f"{loan.borrower_name} · DPD {loan.dpd}" if loan is not None else ""
        )
        self.save_button.setEnabled(seen.ok and self.saved_promise is None)
        return seen

    def save(self) -> None:
        if self.saved_promise is not None:
            return
        self._touched.update(FIELDS)
        self._recheck(then=self._save_checked)

    def _save_checked(self, seen: PromiseCheck) -> None:
        if not seen.ok or self.saved_promise is not None:
            return
        self.save_button.setEnabled(False)
        typed = self.typed()
        op = QueryOp(parent=self, op=lambda: self.entry.save(typed), success=self._saved)
        op = op.failure(self._not_saved)
        if self._changes is not None:
            op = op.announcing(self._changes, Topic.PROMISES, Topic.OUTBOX)
        op.run_in_background()

    def _saved(self, promise: SavedPromise) -> None:
        self.saved_promise = promise
        for editor in (self.account, self.amount, self.date, self.note):
            editor.setEnabled(False)
        self.save_button.hide()
        self.close_button.setText("Close")
        self.status.setText(promise.text)
        self.status.show()
        self.saved.emit(promise.promise_id)

    def _not_saved(self, exc: Exception) -> None:
        self.status.setText(f"Not saved: {message_for(exc)}")
        self.status.show()
        self.save_button.setEnabled(True)


def open_log_promise(
    context: ScreenContext,
    parent: QWidget | None = None,
    *,
    typed: PromiseInput | None = None,
    replaces: str | None = None,
) -> PromiseDialog:
    """Opens the dialog (window-modal over `parent`); `replaces` names a refused promise that
    this one sends again."""
    entry = context.book.promise_entry(
        user_id=context.user.id,
        business_date=context.book.business_date(context.clock()),
        replaces=replaces,
    )
    dialog = PromiseDialog(entry, changes=context.changes, typed=typed, parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    return dialog


class PromisesScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promisesScreen")
        self.context = context
        self.vm = context.book.promises(business_date=context.book.business_date(context.clock()))
        self.listed: PromiseList | None = None
        self.heading = QLabel("Promises to pay", self)
        self.heading.setObjectName("heading")
        self.summary = QLabel(self)
        self.summary.setObjectName("subheading")
        self.filter = QComboBox(self)
        for kind in PromiseFilter:
            self.filter.addItem(FILTER_LABELS[kind], kind)
        self.log_button = QPushButton("Log a promise… (Ctrl+N)", self)
        self.log_button.setShortcut("Ctrl+N")
        self.log_button.setVisible(context.can(Action.LOG_PROMISE))
        self.log_button.clicked.connect(self.log_promise)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show", self))
        bar.addWidget(self.filter)
        bar.addStretch(1)
        bar.addWidget(self.log_button)

        self.rows = RowsModel(
            ("Account", "Borrower", "Amount (₹)", "Promised for", "Outcome", "Note"), right={2}
        )
        self.table = QTableView(self)
        self.table.setModel(self.rows)
        self.export_button = ExportButton(self, self.table, "Promises")
        bar.addWidget(self.export_button)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel(self)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.filter.currentIndexChanged.connect(self.reload)
        context.changes.changed.connect(self._data_changed)
        self.reload()

    def activated(self) -> None:
        self.reload()

    def shown_filter(self) -> PromiseFilter:
        return PromiseFilter(self.filter.currentData())

    def reload(self) -> None:
        shown = self.shown_filter()
        QueryOp(
            parent=self, op=lambda: self.vm.load(shown), success=self.show_list
        ).run_in_background()

    def show_list(self, listed: PromiseList) -> None:
        self.listed = listed
        counts = listed.counts
        for index in range(self.filter.count()):
            kind = PromiseFilter(self.filter.itemData(index))
            self.filter.setItemText(index, f"{FILTER_LABELS[kind]} ({counts[kind]})")
        parts = [
            f"{count(counts[PromiseFilter.DUE_TODAY], 'promise')} due today",
            f"{counts[PromiseFilter.THIS_WEEK]} this week",
            f"{counts[PromiseFilter.BROKEN]} broken",
        ]
        if listed.pending_sync:
            parts.append(f"{listed.pending_sync} pending sync")
        self.summary.setText(f"{day(listed.today)} · " + " · ".join(parts))
        self.rows.set_rows(
            [
                (
                    row.account_no,
                    row.borrower_name,
                    rupees(row.amount_paise, symbol=False),
                    day(row.promised_date),
                    row.outcome_label,
                    row.note,
                )
                for row in listed.rows
            ]
        )
        self.empty.setText(EMPTY_TEXT[listed.shown])
        self.stack.setCurrentWidget(self.table if listed.rows else self.empty)

    def selected_account(self) -> str:
        index = self.table.currentIndex()
        return self.rows.text(index.row(), 0) if index.isValid() else ""

    def log_promise(self) -> PromiseDialog | None:
        if not self.context.can(Action.LOG_PROMISE):
            return None
        account = self.selected_account()
        dialog = open_log_promise(self.context, self)
        if account:
            # The selected promise's loan, once found in the cache off the UI thread, fills
            # the account unless something was typed there meanwhile.
            find = self.context.book.find_loan
            QueryOp(
                parent=dialog,
                op=lambda: find(account),
                success=lambda loan: self._fill_account(dialog, account, loan),
            ).failure(lambda _exc: None).run_in_background()
        return dialog

    @staticmethod
    def _fill_account(dialog: PromiseDialog, account: str, loan: LoanPick | None) -> None:
        if loan is not None and not dialog.account.text():
            dialog.account.setText(account)

    def _data_changed(self, topics: frozenset[Topic]) -> None:
        if topics & _SHOWN_TOPICS:
            self.reload()


register(
    ScreenSpec(
        key="promises",
        title="Promises",
        action=Action.VIEW_LOANS,
        factory=PromisesScreen,
        shortcut="Ctrl+Shift+P",
        icon="promise",
        order=25,
    )
)

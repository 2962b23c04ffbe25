"""My day: the collector's start page. Promises due today and tomorrow, reminders, assigned loans
worst first, what was logged today, and the form to log a visit or call.

The form judges the contact hour when "Log" is pressed, with the clock of that moment: a
collector who opens the screen at 18:55 and logs at 19:05 must give the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop.format import count, day, rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._tables import RowsModel
from desktop.screens.loan_detail import open_loan_detail
from desktop.screens.record_payment import open_record_payment
from desktop.signals import Topic
from desktop.viewmodels.my_day import OUTCOMES, MyDay, PromiseDue
from desktop.viewmodels.online import message_for
from loancore.roles import Action

_SHOWN_TOPICS = frozenset(
    {Topic.LOANS, Topic.PROMISES, Topic.REMINDERS, Topic.CONTACTS, Topic.OUTBOX, Topic.SYNC}
)
NOTHING_DUE = "Nothing due"


def _fill(widget: QListWidget, lines: Sequence[str], empty: str = NOTHING_DUE) -> None:
    widget.clear()
    widget.addItems(list(lines) or [empty])
    widget.setEnabled(bool(lines))


def _promise_lines(promises: Sequence[PromiseDue]) -> list[str]:
    return [
        f"{p.account_no}  {p.borrower_name}\n{rupees(p.amount_paise)}"
        + (f" — {p.note}" if p.note else "")
        for p in promises
    ]


class MyDayScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("myDayScreen")
        self.context = context
        self.vm = context.book.my_day(
            user_id=context.user.id,
            business_date=context.book.business_date(context.clock()),
            clock=context.clock,
        )
        self.loan_ids: list[str] = []
        self.heading = QLabel(self)
        self.heading.setObjectName("heading")
        self.summary = QLabel(self)
        self.summary.setObjectName("subheading")
        self.today = QListWidget(self)
        self.tomorrow = QListWidget(self)
        self.reminders = QListWidget(self)
        self.logged = QListWidget(self)
        for widget in (self.today, self.tomorrow, self.reminders, self.logged):
            widget.setObjectName("dayList")
            widget.setWordWrap(True)
            widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for widget in (self.today, self.tomorrow, self.reminders):
            widget.setMaximumHeight(130)

        self.loans = RowsModel(
            ("Account", "Borrower", "DPD", "Bucket", "Outstanding (₹)", "Next due"), right={2, 4}
        )
        self.table = QTableView(self)
        self.table.setModel(self.loans)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self._open_loan())

        self.open_button = QPushButton("Open loan", self)
        self.pay_button = QPushButton("Record payment…", self)
        self.pay_button.setVisible(context.can(Action.RECORD_PAYMENT))
        self.open_button.clicked.connect(self._open_loan)
        self.pay_button.clicked.connect(self._record_payment)

        self.kind = QComboBox(self)
        self.kind.addItem("Visit", "visit")
        self.kind.addItem("Call", "call")
        self.outcome = QComboBox(self)
        self.outcome.setEditable(True)
        self.outcome.addItems(list(OUTCOMES))
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("Optional note")
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Only outside 08:00–19:00")
        self.reason.setToolTip("A reason is needed for a contact outside 08:00–19:00 IST")
        self.log_button = QPushButton("Log contact", self)
        self.log_button.clicked.connect(self.log_contact)
        self.log_message = QLabel(self)
        self.log_message.setObjectName("fieldError")
        self.log_message.setWordWrap(True)
        self.selected = QLabel("Select a loan in the list", self)
        form_box = QGroupBox("Log a visit or call", self)
        form = QFormLayout(form_box)
        form.addRow("Loan", self.selected)
        form.addRow("Kind", self.kind)
        form.addRow("Outcome", self.outcome)
        form.addRow("Note", self.note)
        form.addRow("Reason", self.reason)
        form.addRow(self.log_button, self.log_message)

        grid = QGridLayout()
        grid.addWidget(self._boxed("Promises due today", self.today), 0, 0)
        grid.addWidget(self._boxed("Promises due tomorrow", self.tomorrow), 0, 1)
        grid.addWidget(self._boxed("Reminders", self.reminders), 0, 2)
        loans_box = QGroupBox("My loans, highest DPD first", self)
        loans_layout = QVBoxLayout(loans_box)
        loans_layout.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.pay_button)
        loans_layout.addLayout(buttons)
        grid.addWidget(loans_box, 1, 0, 1, 2)
        right = QVBoxLayout()
        right.addWidget(self._boxed("Logged today", self.logged))
        right.addWidget(form_box)
        grid.addLayout(right, 1, 2)
        grid.setRowStretch(0, 0)
        grid.setRowStretch(1, 1)
        # The loans table spans the first two columns and needs room for its six columns;
        # the lists and the form on the right read well at a third of the width.
        for column in range(3):
            grid.setColumnStretch(column, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addLayout(grid, 1)

        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        context.changes.changed.connect(self._data_changed)
        self._selection_changed()
        self.reload()

    def _boxed(self, title: str, widget: QWidget) -> QGroupBox:
        box = QGroupBox(title, self)
        QVBoxLayout(box).addWidget(widget)
        return box

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        QueryOp(parent=self, op=self.vm.load, success=self.show_day).run_in_background()

    def show_day(self, my_day: MyDay) -> None:
        self.heading.setText(f"My day — {day(my_day.today)}")
        self.summary.setText(
            f"{count(len(my_day.promises_today), 'promise')} due today · "
            f"{count(len(my_day.loans), 'active loan')} · "
            f"{count(len(my_day.contacts_today), 'contact')} logged today"
        )
        _fill(self.today, _promise_lines(my_day.promises_today))
        _fill(self.tomorrow, _promise_lines(my_day.promises_tomorrow))
        _fill(self.reminders, _promise_lines(my_day.reminders), "No reminders")
        _fill(self.logged, [c.text for c in my_day.contacts_today], "Nothing logged yet today")
        current = self.selected_loan_id()
        self.loan_ids = [row.loan_id for row in my_day.loans]
        self.loans.set_rows(
            [
                (
                    row.account_no,
                    row.borrower_name,
                    str(row.dpd),
                    row.bucket_label,
                    rupees(row.outstanding_paise, symbol=False),
                    day(row.next_due),
                )
                for row in my_day.loans
            ]
        )
        if current in self.loan_ids:
            self.table.selectRow(self.loan_ids.index(current))
        self._selection_changed()

    def selected_loan_id(self) -> str | None:
        """None unless a row is selected (the keyboard's current row alone is not a choice)."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.loan_ids):
            return None
        return self.loan_ids[rows[0].row()]

    def _selection_changed(self) -> None:
        loan_id = self.selected_loan_id()
        chosen = loan_id is not None
        for button in (self.open_button, self.pay_button, self.log_button):
            button.setEnabled(chosen)
        if loan_id is not None:
            row = self.loan_ids.index(loan_id)
            self.selected.setText(f"{self.loans.text(row, 0)} — {self.loans.text(row, 1)}")
        else:
            self.selected.setText("Select a loan in the list")

    def log_contact(self) -> None:
        loan_id = self.selected_loan_id()
        if loan_id is None:
            return
        kind = self.kind.currentData()
        outcome = self.outcome.currentText()
        reason = self.reason.text()
        now = self.context.clock()
        check = self.vm.check_contact(kind=kind, outcome=outcome, at=now, reason=reason)
        if not check.ok:
            self.log_message.setText(" ".join(check.errors.values()))
            if "reason" in check.errors:
                self.reason.setFocus()
            return
        self.log_button.setEnabled(False)
        note = self.note.text()
        QueryOp(
            parent=self,
            op=lambda: self.vm.log_contact(
                loan_id, kind=kind, outcome=outcome, note=note, reason=reason, at=now
            ),
            success=lambda _id: self._logged(outside=check.outside_hours),
        ).failure(self._not_logged).announcing(
            self.context.changes, Topic.CONTACTS, Topic.OUTBOX
        ).run_in_background()

    def _logged(self, *, outside: bool) -> None:
        self.note.clear()
        self.reason.clear()
        self.log_message.setText(
            "Logged outside contact hours: flagged for the branch manager."
            if outside
            else "Logged; it will be sent with the next sync."
        )
        self._selection_changed()

    def _not_logged(self, exc: Exception) -> None:
        self.log_message.setText(message_for(exc))
        self._selection_changed()

    def _open_loan(self) -> None:
        loan_id = self.selected_loan_id()
        if loan_id is not None:
            open_loan_detail(self.context, loan_id, self)

    def _record_payment(self) -> None:
        loan_id = self.selected_loan_id()
        if loan_id is not None:
            open_record_payment(self.context, loan_id, self)

    def _data_changed(self, topics: frozenset[Topic]) -> None:
        if topics & _SHOWN_TOPICS:
            self.reload()


register(
    ScreenSpec(
        key="my_day",
        title="My day",
        action=Action.LOG_CONTACT,
        factory=MyDayScreen,
        shortcut="Ctrl+D",
        icon="contact",
        order=15,
    )
)

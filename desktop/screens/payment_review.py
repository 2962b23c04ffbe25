"""Payment review: the payments the server held as suspected duplicates, each beside the
earlier payment it resembles, for a branch manager to confirm (post it) or reject, with a note.

Online only (the queue is the server's): while the server cannot be reached the screen says
so and offers Retry. The server's answer to each decision is shown as it came, with the
allocation of a payment it posted, and the queue is read again.
"""

from __future__ import annotations

from desktop.format import NOTHING, count, day, instant, rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QModelIndex,
    QPersistentModelIndex,
    QPushButton,
    QStackedWidget,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._export import ExportButton
from desktop.screens._online import fill_with_online
from desktop.screens._tables import RowsModel
from desktop.signals import Topic
from desktop.viewmodels.online import ApiError, is_offline, message_for
from desktop.viewmodels.payment_review import (
    Decision,
    HeldPayment,
    PaymentFacts,
    PaymentReviewViewModel,
    ReviewInputError,
    ReviewOutcome,
)
from loancore.roles import Action

EMPTY_TEXT = "No payments are waiting for review."
NO_TWIN = "Not on the loan's list any more"
AnyIndex = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[str, ...] = (
    "Account",
    "Borrower",
    "Amount (₹)",
    "Payment date",
    "Mode",
    "Collector",
    "Entered",
)
_RIGHT_ALIGNED = frozenset({2})
FACTS: tuple[str, ...] = ("Amount", "Payment date", "Mode", "Reference", "Collector", "Entered")


def _row(item: HeldPayment) -> tuple[str, ...]:
    held = item.held
    return (
        item.account_no,
        item.borrower_name,
        rupees(held.amount_paise, symbol=False),
        day(held.payment_date),
        held.mode_label,
        held.collector,
        instant(held.entered_at),
    )


def _facts(payment: PaymentFacts | None) -> tuple[str, ...]:
    if payment is None:
        return (NO_TWIN, *(NOTHING for _ in FACTS[1:]))
    return (
        rupees(payment.amount_paise),
        day(payment.payment_date),
        payment.mode_label,
        payment.reference or NOTHING,
        payment.collector,
        instant(payment.entered_at),
    )


class PaymentReviewScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentReviewScreen")
        self.context = context
        self.vm = PaymentReviewViewModel(
            context.session.api, user_names={context.user.id: context.user.full_name}
        )
        self.outcome: ReviewOutcome | None = None

        content = QWidget(self)
        self.heading = QLabel("Payments held as suspected duplicates", content)
        self.heading.setObjectName("heading")
        self.summary = QLabel(content)
        self.summary.setObjectName("subheading")
        self.model = RowsModel(COLUMNS, right=_RIGHT_ALIGNED, parent=self)
        self.table = QTableView(content)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel(EMPTY_TEXT, content)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list_stack = QStackedWidget(content)
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)

        compare = QGroupBox("The held payment beside the earlier one it resembles", content)
        grid = QGridLayout(compare)
        grid.addWidget(QLabel("<b>Held payment</b>", compare), 0, 1)
        grid.addWidget(QLabel("<b>Earlier payment</b>", compare), 0, 2)
        self.held_labels: list[QLabel] = []
        self.earlier_labels: list[QLabel] = []
        for line, name in enumerate(FACTS, start=1):
            grid.addWidget(QLabel(name, compare), line, 0)
            for column, labels in ((1, self.held_labels), (2, self.earlier_labels)):
                label = QLabel(NOTHING, compare)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                grid.addWidget(label, line, column)
                labels.append(label)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)

        self.note = QLineEdit(content)
        self.note.setPlaceholderText("Why you confirm or reject it (kept with the decision)")
        self.note.setMaxLength(400)
        self.confirm_button = QPushButton("&Confirm (post it)", content)
        self.reject_button = QPushButton("&Reject", content)
        self.answer = QLabel(content)
        self.answer.setObjectName("reviewAnswer")
        self.answer.setWordWrap(True)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        decide = QHBoxLayout()
        decide.addWidget(self.note, 1)
        decide.addWidget(self.confirm_button)
        decide.addWidget(self.reject_button)
        self.export_button = ExportButton(self, self.table, "Held payments")
        decide.addWidget(self.export_button)

        layout = QVBoxLayout(content)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.list_stack, 2)
        layout.addWidget(compare, 1)
        layout.addLayout(decide)
        layout.addWidget(self.answer)

        self.panel = fill_with_online(self, content, self.reload)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self.confirm_button.clicked.connect(lambda: self.decide("confirm"))
        self.reject_button.clicked.connect(lambda: self.decide("reject"))
        self._busy = False
        self._selection_changed()
        self.reload()

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.panel.retry_button.setEnabled(False)
        self.summary.setText("Reading the queue from the server…")
        QueryOp(parent=self, op=self.vm.load, success=self.show_queue).failure(
            self._load_failed
        ).run_in_background()

    def show_queue(self, items: list[HeldPayment]) -> None:
        self.panel.show_content()
        current = self.selected()
        self.model.set_rows([_row(item) for item in items], items)
        self.summary.setText(f"{count(len(items), 'payment')} waiting for a decision")
        self.list_stack.setCurrentWidget(self.table if items else self.empty)
        ids = [item.held.payment_id for item in items]
        if items:
            keep = current.held.payment_id if current is not None else None
            self.table.selectRow(ids.index(keep) if keep in ids else 0)
        self._selection_changed()

    def _load_failed(self, exc: Exception) -> None:
        self.summary.setText("")
        self.panel.failed(exc)
        self.panel.retry_button.setEnabled(True)

    def selected(self) -> HeldPayment | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.items):
            return None
        item: HeldPayment = self.model.item(index.row())
        return item

    def _selection_changed(self) -> None:
        item = self.selected()
        blank = (NOTHING,) * len(FACTS)
        held = _facts(item.held) if item else blank
        earlier = _facts(item.earlier) if item else blank
        for label, text in zip(self.held_labels, held, strict=True):
            label.setText(text)
        for label, text in zip(self.earlier_labels, earlier, strict=True):
            label.setText(text)
        for button in (self.confirm_button, self.reject_button):
            button.setEnabled(item is not None and not self._busy)

    def decide(self, decision: Decision) -> None:
        item = self.selected()
        if item is None or self._busy:
            return
        try:
            note = self.vm.check_note(self.note.text())
        except ReviewInputError as exc:
            self._say(str(exc), error=True)
            self.note.setFocus()
            return
        self._busy = True
        self._selection_changed()
        self._say("Sending the decision…", error=False)
        payment_id = item.held.payment_id
        QueryOp(
            parent=self,
            op=lambda: self.vm.decide(payment_id, decision, note),
            success=self._decided,
        ).failure(self._not_decided).announcing(
            self.context.changes, Topic.PAYMENTS, Topic.LOANS
        ).run_in_background()

    def _decided(self, outcome: ReviewOutcome) -> None:
        self._busy = False
        self.outcome = outcome
        self.note.clear()
        self._say(outcome.text, error=False)
        self.context.sync.sync_now()
        self.reload()

    def _not_decided(self, exc: Exception) -> None:
        self._busy = False
        self._selection_changed()
        if is_offline(exc):
            self.panel.show_offline()
            return
        self._say(f"Not done: {message_for(exc)}", error=True)
        if isinstance(exc, ApiError):
            self.reload()
        else:
            self.panel.failed(exc)

    def _say(self, text: str, *, error: bool) -> None:
        self.answer.setProperty("error", error)
        self.answer.setStyleSheet("color: #a61b1b;" if error else "")
        self.answer.setText(text)


register(
    ScreenSpec(
        key="payment_review",
        title="Payment review",
        action=Action.RESOLVE_SUSPECTED_DUPLICATE,
        factory=PaymentReviewScreen,
        icon="payment",
        order=45,
    )
)

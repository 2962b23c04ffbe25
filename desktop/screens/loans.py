"""The loans list: a filter bar over a table that fetches 200 rows at a time as it scrolls.

The table model (`desktop.screens._loans_model`) reads each page off the UI thread, so a cache
of 100,000 loans opens as fast as one of 200.
"""

from __future__ import annotations

from desktop.format import count
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QEvent,
    QHBoxLayout,
    QHeaderView,
    QKeyEvent,
    QLabel,
    QLineEdit,
    QModelIndex,
    QObject,
    QPushButton,
    QStackedWidget,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._export import ExportButton
from desktop.screens._loans_model import (
    DEFAULT_COLUMN,
    LoansTableModel,
    first_order,
)
from desktop.screens._tables import sort_by_header
from desktop.screens.loan_detail import open_loan_detail
from desktop.screens.record_payment import open_record_payment
from desktop.signals import Topic
from desktop.viewmodels.loans import (
    STATUS_CHOICES,
    LoanFilter,
    LoanSort,
    list_scope,
)
from loancore.delinquency import Bucket
from loancore.roles import Action

SEARCH_DEBOUNCE_MS = 250
EMPTY_TEXT = "No loans match the search and filters."
EMPTY_CACHE_TEXT = "No loans on this computer yet: sync to receive your loans."

BUCKET_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("All buckets", ()),
    *((bucket.label, (bucket.value,)) for bucket in Bucket),
    ("Overdue (1+ DPD)", tuple(b.value for b in Bucket if b is not Bucket.CURRENT)),
)


_SHOWN_TOPICS = frozenset({Topic.LOANS, Topic.PAYMENTS, Topic.SYNC})


def scope_filter(context: ScreenContext) -> LoanFilter:
    return list_scope(context.user.id, context.user.role)


class LoansScreen(QWidget):
    """The list. Enter or a double-click opens the loan; `open_loan(loan_id)` says which."""

    open_loan = Signal(str)

    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loansScreen")
        self.context = context
        self._base = scope_filter(context)
        query = context.book.loans({context.user.id: context.user.full_name})
        self.model = LoansTableModel(query, self, where=self._base)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search: name or account number (22 finds …000022)")
        self.search.setToolTip(
            "A borrower's name, a whole account number, or the number at its end: 22 finds …000022"
        )
        self.search.setClearButtonEnabled(True)
        self.bucket = QComboBox(self)
        for label, values in BUCKET_CHOICES:
            self.bucket.addItem(label, values)
        self.status = QComboBox(self)
        self.status.setObjectName("loanStatus")
        self.status.setToolTip("Which loans: active (the day's work), closed or written off")
        for label, values in STATUS_CHOICES:
            self.status.addItem(label, values)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("loansCount")
        self.pay_button = QPushButton("Record payment…", self)
        self.pay_button.setEnabled(False)
        self.pay_button.setVisible(context.can(Action.RECORD_PAYMENT))
        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.bucket, 1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.pay_button)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.export_button = ExportButton(self, self.table, "Loans")
        bar.addWidget(self.export_button)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 180), (2, 60), (3, 80), (4, 150), (5, 110), (6, 190)):
            self.table.setColumnWidth(column, width)
        sort_by_header(self.table, DEFAULT_COLUMN, first_order(LoanSort.DPD))
        self.table.doubleClicked.connect(self._open_index)
        self.table.installEventFilter(self)

        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.stack)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self.apply_filter)
        self.bucket.currentIndexChanged.connect(self.apply_filter)
        self.status.currentIndexChanged.connect(self.apply_filter)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.model.modelReset.connect(self._selection_changed)
        self.model.loaded.connect(self._show_state)
        self.pay_button.clicked.connect(self._record_payment)
        self.open_loan.connect(self._show_loan)
        context.changes.changed.connect(self._data_changed)
        self._show_state()

    def activated(self) -> None:
        self.search.setFocus()

    def apply_filter(self) -> None:
        self._debounce.stop()
        buckets = self.bucket.currentData() or ()
        where = LoanFilter(
            search=self.search.text(),
            buckets=tuple(buckets),
            branch_id=self._base.branch_id,
            collector_id=self._base.collector_id,
            statuses=tuple(self.status.currentData() or ()),
        )
        self.model.set_filter(where)

    def refresh(self) -> None:
        """Reload after new data (a sync, a saved payment), keeping the filter."""
        self.model.reload()

    def selected_loan_id(self) -> str | None:
        """The loan of the selected row; None when no row is selected, even if one has the
        keyboard focus (a cleared selection or a new filter leaves the current index)."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= self.model.rowCount():
            return None
        return self.model.loan_id(rows[0].row())

    def _show_state(self) -> None:
        if not self.model.paging.started:
            self.count_label.setText("Loading…")
            self.stack.setCurrentWidget(self.table)
            return
        total = self.model.total
        self.count_label.setText(count(total, "loan"))
        filtered = self.model.where != self._base
        self.empty.setText(EMPTY_TEXT if filtered else EMPTY_CACHE_TEXT)
        self.stack.setCurrentWidget(self.table if total else self.empty)

    def _data_changed(self, topics: frozenset[Topic]) -> None:
        if topics & _SHOWN_TOPICS:
            self.refresh()

    def _selection_changed(self) -> None:
        self.pay_button.setEnabled(self.selected_loan_id() is not None)

    def _show_loan(self, loan_id: str) -> None:
        open_loan_detail(self.context, loan_id, self)

    def _record_payment(self) -> None:
        loan_id = self.selected_loan_id()
        if loan_id is not None:
            open_record_payment(self.context, loan_id, self)

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_loan.emit(self.model.loan_id(index.row()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 -- Qt's name
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._open_index(self.table.currentIndex())
            return True
        return super().eventFilter(watched, event)


register(
    ScreenSpec(
        key="loans",
        title="Loans",
        action=Action.VIEW_LOANS,
        factory=LoansScreen,
        shortcut="Ctrl+L",
        icon="loans",
        order=20,
    )
)

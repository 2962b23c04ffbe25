"""The loans list: a filter bar over a table that fetches 200 rows at a time as it scrolls.

The table model holds no rules of its own: it asks `LoansQuery` for the next window when the
view wants more (`canFetchMore`/`fetchMore`), so a cache of 100,000 loans opens as fast as one
of 200 and memory grows only with what the user has scrolled past.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop.format import NOTHING, count, day, rupees
from desktop.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QComboBox,
    QEvent,
    QHBoxLayout,
    QHeaderView,
    QKeyEvent,
    QLabel,
    QLineEdit,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
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
from desktop.screens._tables import sort_by_header
from desktop.screens.loan_detail import open_loan_detail
from desktop.screens.record_payment import open_record_payment
from desktop.signals import Topic
from desktop.viewmodels.loans import (
    PAGE_SIZE,
    STATUS_CHOICES,
    LoanFilter,
    LoanRow,
    LoanSort,
    LoansQuery,
    PageKey,
    list_scope,
)
from loancore.delinquency import Bucket
from loancore.roles import Action

SEARCH_DEBOUNCE_MS = 250
EMPTY_TEXT = "No loans match the search and filters."
EMPTY_CACHE_TEXT = "No loans on this computer yet: sync to receive your loans."

AnyIndex = QModelIndex | QPersistentModelIndex


def _outstanding(row: LoanRow) -> str:
    return rupees(row.outstanding_paise, symbol=False)


def _next_due(row: LoanRow) -> str:
    return day(row.next_due) if row.next_due else NOTHING


COLUMNS: tuple[tuple[str, Callable[[LoanRow], str], LoanSort], ...] = (
    ("Account", lambda row: row.account_no, LoanSort.ACCOUNT),
    ("Borrower", lambda row: row.borrower_name, LoanSort.BORROWER),
    ("DPD", lambda row: row.dpd_text, LoanSort.DPD),
    ("Bucket", lambda row: row.bucket_label, LoanSort.DPD),
    ("Outstanding (₹)", _outstanding, LoanSort.OUTSTANDING),
    ("Next due", _next_due, LoanSort.NEXT_DUE),
    ("Collector", lambda row: row.collector_name, LoanSort.COLLECTOR),
)
_RIGHT_ALIGNED = frozenset({2, 4})
FIRST_ORDER = {
    LoanSort.DPD: Qt.SortOrder.DescendingOrder,
    LoanSort.OUTSTANDING: Qt.SortOrder.DescendingOrder,
}
"""Largest first for DPD (and its bucket) and outstanding; every other column A to Z, oldest
date first. This is each sort's own order in `LoansQuery`; the other is `reverse`."""
DEFAULT_COLUMN = 2  # DPD, worst first: the day's work leads


def first_order(sort: LoanSort) -> Qt.SortOrder:
    return FIRST_ORDER.get(sort, Qt.SortOrder.AscendingOrder)


LOAN_ID_ROLE = Qt.ItemDataRole.UserRole


class LoansTableModel(QAbstractTableModel):
    """Rows appear a page at a time; a new filter or sort starts again from the first page."""

    def __init__(
        self,
        query: LoansQuery,
        parent: QObject | None = None,
        *,
        where: LoanFilter | None = None,
    ) -> None:
        """`where` is the first filter: the screen's scope, so the first page read is the
        one shown (every list index starts with the status a scope names)."""
        super().__init__(parent)
        self._query = query
        self._where = where or LoanFilter()
        self._sort = LoanSort.DPD
        self._reverse = False
        self._rows: list[LoanRow] = []
        self._next: PageKey | None = None
        self._total = 0
        self.reload()

    @property
    def total(self) -> int:
        """How many loans match, whether fetched yet or not."""
        return self._total

    @property
    def where(self) -> LoanFilter:
        return self._where

    def set_filter(self, where: LoanFilter) -> None:
        if where != self._where:
            self._where = where
            self.reload()

    def set_sort(self, sort: LoanSort, *, reverse: bool = False) -> None:
        if (sort, reverse) != (self._sort, self._reverse):
            self._sort, self._reverse = sort, reverse
            self.reload()

    @property
    def sorted_by(self) -> tuple[LoanSort, bool]:
        """The sort shown and whether it is read the other way round."""
        return self._sort, self._reverse

    def reload(self) -> None:
        """Start from the first page (after a sync, a filter change or a new sort)."""
        self.beginResetModel()
        page = self._query.page(self._where, self._sort, limit=PAGE_SIZE, reverse=self._reverse)
        self._rows = list(page.rows)
        self._next = page.next_key
        self._total = self._query.count(self._where)
        self.endResetModel()

    def loan_id(self, row: int) -> str:
        return self._rows[row].loan_id

    def row_of(self, row: int) -> LoanRow:
        return self._rows[row]

    # -- QAbstractTableModel -------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex | None = None) -> int:  # noqa: N802 -- Qt's name
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex | None = None) -> int:  # noqa: N802 -- Qt's name
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: AnyIndex) -> bool:  # noqa: N802 -- Qt's name
        return not parent.isValid() and self._next is not None

    def fetchMore(self, parent: AnyIndex) -> None:  # noqa: N802 -- Qt's name
        if parent.isValid() or self._next is None:
            return
        page = self._query.page(
            self._where, self._sort, after=self._next, limit=PAGE_SIZE, reverse=self._reverse
        )
        if page.rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self._rows.extend(page.rows)
            self._next = page.next_key
            self.endInsertRows()
        else:
            self._next = None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[column][1](row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == LOAN_ID_ROLE:
            return row.loan_id
        if role == Qt.ItemDataRole.ToolTipRole and row.dispute_open:
            return "Dispute open: DPD and bucket are frozen"
        return None

    def headerData(  # noqa: N802 -- Qt's name
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.InitialSortOrderRole:
            return first_order(COLUMNS[section][2]).value
        if role == Qt.ItemDataRole.TextAlignmentRole and section in _RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """`order` as the header's arrow shows it: the column's first order (DPD and
        outstanding largest first, names and dates ascending) or its reverse."""
        sort = COLUMNS[column][2]
        self.set_sort(sort, reverse=order != first_order(sort))


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
        query = LoansQuery(context.cache, {context.user.id: context.user.full_name})
        self.model = LoansTableModel(query, self, where=self._base)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText(
            "Search: borrower name, account number, or its number (22 finds …000022)"
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
        self._show_state()

    def refresh(self) -> None:
        """Reload after new data (a sync, a saved payment), keeping the filter."""
        self.model.reload()
        self._show_state()

    def selected_loan_id(self) -> str | None:
        """The loan of the selected row; None when no row is selected, even if one has the
        keyboard focus (a cleared selection or a new filter leaves the current index)."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= self.model.rowCount():
            return None
        return self.model.loan_id(rows[0].row())

    def _show_state(self) -> None:
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

"""The loans list's table model: rows a page at a time, each page read off the UI thread.

The model holds no rules of its own: it asks `LoansQuery` for the next window when the view
wants more (`canFetchMore`/`fetchMore`), so a cache of 100,000 loans opens as fast as one of
200 and memory grows only with what the user has scrolled past. Where the list stands (the
last row's sort key, whether a page is on its way) is `Paging`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from desktop.errors import show_error
from desktop.format import NOTHING, day, rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QWidget,
    Signal,
)
from desktop.viewmodels.loans import (
    PAGE_SIZE,
    LoanFilter,
    LoanRow,
    LoanSort,
    LoansPage,
    LoansQuery,
    PageKey,
)
from desktop.viewmodels.paging import Paging

AnyIndex = QModelIndex | QPersistentModelIndex
T = TypeVar("T")


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
    """Rows appear a page at a time; a new filter or sort starts again from the first page.

    Every page is read off the UI thread (`QueryOp`): a cache of 100,000 loans never makes the
    window wait, on opening, on a keystroke in the search box or after a sync. `loaded` says
    a first page (and its count) has been shown; a page read for a filter or sort since
    replaced is dropped (`Paging`'s generation). `background=False` reads on the calling
    thread; only the benchmark uses it, to time the SQL and the paint without the thread hop.
    """

    loaded = Signal()

    def __init__(
        self,
        query: LoansQuery,
        parent: QObject | None = None,
        *,
        where: LoanFilter | None = None,
        background: bool = True,
    ) -> None:
        """`where` is the first filter: the screen's scope, so the first page read is the
        one shown (every list index starts with the status a scope names)."""
        super().__init__(parent)
        self._query = query
        self._where = where or LoanFilter()
        self._sort = LoanSort.DPD
        self._reverse = False
        self._rows: list[LoanRow] = []
        self.paging = Paging[PageKey](limit=PAGE_SIZE)
        self._total = 0
        self._background = background
        self.reload()

    @property
    def total(self) -> int:
        """How many loans match, whether fetched yet or not."""
        return self._total

    @property
    def loading(self) -> bool:
        """A page is being read (the first of a reload, or the next as the view scrolls)."""
        return self.paging.loading

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
        """Start from the first page (after a sync, a filter change or a new sort); the rows
        shown stay until it comes."""
        self.paging.restart()
        generation = self.paging.begin()
        query, where, sort, reverse = self._query, self._where, self._sort, self._reverse

        def read() -> tuple[LoansPage, int]:
            page = query.page(where, sort, limit=PAGE_SIZE, reverse=reverse)
            return page, query.count(where)

        self._run(generation, read, lambda found: self._first_page(generation, *found))

    def _first_page(self, generation: int, page: LoansPage, total: int) -> None:
        if not self.paging.accept(generation, page.next_key):
            return
        self.beginResetModel()
        self._rows = list(page.rows)
        self._total = total
        self.endResetModel()
        self.loaded.emit()

    def _run(self, generation: int, read: Callable[[], T], show: Callable[[T], None]) -> None:
        if not self._background:
            show(read())
            return
        owner = self.parent()
        QueryOp(
            parent=owner if isinstance(owner, QWidget) else None, op=read, success=show
        ).failure(lambda exc: self._not_read(exc, generation)).run_in_background()

    def _not_read(self, exc: Exception, generation: int) -> None:
        if self.paging.failed(generation):
            show_error(None, exc)

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
        return not parent.isValid() and self.paging.started and self.paging.can_fetch_more

    def fetchMore(self, parent: AnyIndex) -> None:  # noqa: N802 -- Qt's name
        if not self.canFetchMore(parent):
            return
        after = self.paging.cursor
        generation = self.paging.begin()
        query, where, sort, reverse = self._query, self._where, self._sort, self._reverse
        self._run(
            generation,
            lambda: query.page(where, sort, after=after, limit=PAGE_SIZE, reverse=reverse),
            lambda page: self._more(generation, page),
        )

    def _more(self, generation: int, page: LoansPage) -> None:
        if generation != self.paging.generation:
            return
        first = len(self._rows)
        if page.rows:
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self._rows.extend(page.rows)
            self.paging.accept(generation, page.next_key)
            self.endInsertRows()
        else:
            self.paging.accept(generation, None)

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

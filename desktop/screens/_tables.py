"""The tables of the desk: `RowsModel`, the one model of a table filled from a view-model's
rows, and the one header setup for a table people sort: the arrow shows the column and direction,
a click on another column sorts it in the order people want from it first, and a second
click on the same column turns it round.

The model does the sorting (`sort(column, order)`), and names each column's first direction
with `headerData(section, Horizontal, Qt.ItemDataRole.InitialSortOrderRole)`: Qt's header
asks for it when a new column is clicked, so DPD and amounts open largest first and names
and dates A to Z, without each screen wiring its own clicks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from desktop.qt import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTableView,
)


def sort_by_header(table: QTableView, column: int, order: Qt.SortOrder) -> None:
    """Shows the arrow on `column` in `order`, and lets the header sort both ways. The model
    is asked for that order at once (as Qt does when sorting is switched on)."""
    header = table.horizontalHeader()
    header.setSectionsClickable(True)
    header.setSortIndicatorShown(True)
    header.setSortIndicator(column, order)
    table.setSortingEnabled(True)


class RowsModel(QAbstractTableModel):
    """A read-only table of ready-made text rows: the one model of every table a screen fills
    from a view-model's rows (a loan's schedule, the dashboard, the queues). Lists that can
    run to thousands page through `desktop.viewmodels.paging.Paging` instead of loading whole.

    `items`, when given to `set_rows`, are the view-model's objects behind the rows, in the
    same order, so a screen can ask which one is selected (`item(row)`)."""

    def __init__(
        self,
        headers: Sequence[str],
        *,
        right: Iterable[int] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._right = frozenset(right)
        self._rows: list[tuple[str, ...]] = []
        self.items: list[Any] = []

    def set_rows(self, rows: Sequence[tuple[str, ...]], items: Sequence[Any] = ()) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.items = list(items)
        self.endResetModel()

    def item(self, row: int) -> Any:
        return self.items[row]

    def text(self, row: int, column: int) -> str:
        return self._rows[row][column]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self._headers)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self._right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802 -- Qt's name
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

"""A table people pick one row of to act on it: the admin lists (lender settings, kill
switches, users, collection accounts). Each screen shows a tuple of rows fetched from the
server, acts on the row picked, and fetches again after each change; the pick must survive
that reload (by the row's key, since the rows are new objects and may come back in another
order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from desktop.qt import QAbstractItemModel, QAbstractItemView, QHeaderView, QTableView, QWidget

T = TypeVar("T")


def picking_table(
    model: QAbstractItemModel, parent: QWidget, on_pick: Callable[[], object]
) -> QTableView:
    """A read-only table of whole rows, one picked at a time, the second column taking the
    width left; `on_pick` runs whenever the picked row changes."""
    table = QTableView(parent)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    table.selectionModel().currentRowChanged.connect(lambda *_: on_pick())
    return table


class Picked(Generic[T]):
    """The rows `table` shows, in its order, and the one picked (`current`)."""

    def __init__(self, table: QTableView, key: Callable[[T], str]) -> None:
        self.table = table
        self._key = key
        self.rows: tuple[T, ...] = ()

    def current(self) -> T | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        return self.rows[index.row()]

    def select(self, key: str) -> None:
        """Picks the row with this key; a key no longer listed picks nothing new."""
        keys = [self._key(row) for row in self.rows]
        if key in keys:
            self.table.selectRow(keys.index(key))

    def replace(self, rows: Sequence[T], show: Callable[[tuple[T, ...]], object]) -> None:
        """Shows fresh rows (`show` fills the model) and picks again the row picked before."""
        before = self.current()
        self.rows = tuple(rows)
        show(self.rows)
        if before is not None:
            self.select(self._key(before))

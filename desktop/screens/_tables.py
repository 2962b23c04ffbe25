"""The one header setup for a table people sort: the arrow shows the column and direction,
a click on another column sorts it in the order people want from it first, and a second
click on the same column turns it round.

The model does the sorting (`sort(column, order)`), and names each column's first direction
with `headerData(section, Horizontal, Qt.ItemDataRole.InitialSortOrderRole)`: Qt's header
asks for it when a new column is clicked, so DPD and amounts open largest first and names
and dates A to Z, without each screen wiring its own clicks.
"""

from __future__ import annotations

from desktop.qt import Qt, QTableView


def sort_by_header(table: QTableView, column: int, order: Qt.SortOrder) -> None:
    """Shows the arrow on `column` in `order`, and lets the header sort both ways. The model
    is asked for that order at once (as Qt does when sorting is switched on)."""
    header = table.horizontalHeader()
    header.setSectionsClickable(True)
    header.setSortIndicatorShown(True)
    header.setSortIndicator(column, order)
    table.setSortingEnabled(True)

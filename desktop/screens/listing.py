"""A table of rows, or a sentence when there are none: the queues' shape on finance screens."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.format import day, rupees
from desktop.qt import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    Qt,
    QTableView,
    QWidget,
)
from desktop.screens._tables import RowsModel
from desktop.viewmodels.reconciliation import CollectorCash, DepositRow


class Listing(QStackedWidget):
    """A table, or a sentence when it has no rows: an empty queue is good news, said plainly.

    The first column (a name, a slip) takes the room left and elides what does not fit; the
    figures beside it keep their full width, so a long name never pushes the last column
    (the age of cash in hand) behind a scroll bar or squeezes the window's navigation.
    """

    def __init__(
        self, headers: Sequence[str], empty: str, right: set[int], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.model = RowsModel(headers, right=right, parent=self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(48)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setWordWrap(False)
        self.empty = QLabel(empty, self)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.addWidget(self.view)
        self.addWidget(self.empty)

    def show_rows(self, rows: Sequence[tuple[str, ...]]) -> None:
        self.model.set_rows(rows)
        self.setCurrentWidget(self.view if rows else self.empty)


def cash_rows(cash: Sequence[CollectorCash]) -> list[tuple[str, ...]]:
    """Cash in hand by collector, as the Reconciliation and Cash deposits screens show it."""
    return [
        (c.collector, str(c.receipts), rupees(c.amount_paise), day(c.oldest), str(c.age_days))
        for c in cash
    ]


def deposit_rows(deposits: Sequence[DepositRow]) -> list[tuple[str, ...]]:
    """Deposits made, as the Reconciliation and Cash deposits screens show them."""
    return [
        (d.slip_no, d.bank_account, day(d.deposit_date), rupees(d.total_paise), str(d.receipts))
        for d in deposits
    ]

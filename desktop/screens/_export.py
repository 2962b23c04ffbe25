"""The "Export to XLSX" button every list screen carries (Ctrl+E while the screen has focus):
one line in a screen puts it beside the list's other controls.

    bar.addWidget(ExportButton(self, self.table, "Loans"))

The rows are read from the table on the UI thread (they are what it shows); the workbook is
written on the thread pool, whole or not at all (desktop.exports).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from desktop.errors import show_error
from desktop.exports import export_rows, visible_table
from desktop.operations import QueryOp
from desktop.qt import (
    QFileDialog,
    QKeySequence,
    QMessageBox,
    QModelIndex,
    QPushButton,
    QShortcut,
    Qt,
    QTableView,
    QWidget,
    Signal,
)
from desktop.viewmodels.online import grouped
from loancore.dates import IST

AskPath = Callable[[str], Path | None]


class ExportButton(QPushButton):
    exported = Signal(object, int)
    """(path, rows written) once the workbook is on disk."""

    def __init__(self, screen: QWidget, table: QTableView, title: str) -> None:
        super().__init__("Export to XLSX", screen)
        self.setObjectName("exportButton")
        self.setToolTip("Save the rows shown, as shown, to an Excel workbook (Ctrl+E)")
        self.screen_widget = screen
        self.table = table
        self.title = title
        self.ask_path: AskPath = self._ask
        self.clicked.connect(self.export)
        shortcut = QShortcut(QKeySequence("Ctrl+E"), screen, self.export)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _ask(self, suggested: str) -> Path | None:
        chosen, _ = QFileDialog.getSaveFileName(
            self.screen_widget, f"Export {self.title}", suggested, "Excel workbook (*.xlsx)"
        )
        if not chosen:
            return None
        path = Path(chosen)
        return path if path.suffix.lower() == ".xlsx" else path.with_name(path.name + ".xlsx")

    def suggested_name(self) -> str:
        stamp = datetime.now(UTC).astimezone(IST).strftime("%d-%m-%Y %H%M")
        return f"{self.title} {stamp}.xlsx"

    def export(self) -> None:
        if not self.isEnabled():
            return
        headings, rows = visible_table(self.table)
        more = self.table.model().canFetchMore(QModelIndex())
        path = self.ask_path(self.suggested_name())
        if path is None:
            return
        self.setEnabled(False)
        QueryOp(
            parent=self,
            op=lambda: export_rows(path, self.title, headings, rows),
            success=lambda written: self._done(path, written, more=more),
        ).failure(self._failed).with_progress(f"Exporting {self.title}…").run_in_background()

    def _done(self, path: Path, written: int, *, more: bool) -> None:
        self.setEnabled(True)
        self.setToolTip(f"Last exported: {grouped(written)} rows to {path}")
        self.exported.emit(path, written)
        partly = (
            " These are the rows loaded so far: scroll to the end of the list to load the "
            "rest, then export again."
            if more
            else ""
        )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "LoanDesk — exported",
            f"{grouped(written)} rows exported to {path}.{partly}",
            parent=self.screen_widget,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _failed(self, exc: Exception) -> None:
        self.setEnabled(True)
        show_error(self.screen_widget, exc)

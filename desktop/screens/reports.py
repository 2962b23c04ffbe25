"""Reports: the MIS as of a business date, for the whole lender or one branch, made by the
server from the system of record, previewed here page by page, saved as PDF or XLSX, printed.

The report is investor-safe (branch and product level; no borrower's name, phone, address or
account number) and its footer carries the SHA-256 of its figures, shown here too, so two
printed copies can be compared. The screen stays thin: the view-model asks the server and
writes files; the making runs as a `ProgressOp` with the bar in the screen, so the rest of the
window stays usable while the server computes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from desktop.operations import QueryOp
from desktop.operations.progress import ProgressOp
from desktop.qt import (
    QBuffer,
    QByteArray,
    QComboBox,
    QDate,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QIODevice,
    QKeySequence,
    QLabel,
    QPainter,
    QPdfDocument,
    QPdfView,
    QPoint,
    QPrintDialog,
    QPrinter,
    QProgressBar,
    QPushButton,
    QRect,
    QShortcut,
    QSize,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._online import answer_failure, fill_with_online, say
from desktop.viewmodels.reports import NOTHING_YET, MisReport, ReportScope, ReportsViewModel
from loancore.dates import business_date
from loancore.roles import Action

PRINT_DPI = 200
"""Pages are drawn for the printer at this resolution (sharp on paper; a 1,200 dpi printer's
own resolution would make an image of half a gigabyte per A4 page)."""

AskPath = Callable[[str, str], Path | None]
"""(suggested file name, filter) -> the path chosen, or None when the person cancelled."""


def _ask_save_path(parent: QWidget) -> AskPath:
    def ask(suggested: str, wanted: str) -> Path | None:
        chosen, _ = QFileDialog.getSaveFileName(parent, "Save the MIS", suggested, wanted)
        return Path(chosen) if chosen else None

    return ask


class ReportsScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportsScreen")
        self.context = context
        self.vm = ReportsViewModel(context.session.api, context.user)
        self.report: MisReport | None = None
        self.ask_path: AskPath = _ask_save_path(self)
        self.scope_list: tuple[ReportScope, ...] = ()

        body = QWidget(self)
        heading = QLabel("Reports", body)
        heading.setObjectName("heading")
        intro = QLabel("MIS: portfolio, collections, buckets, RBI classes and roll rates", body)
        intro.setObjectName("subheading")
        today = business_date(context.clock())
        latest = self.vm.latest_day(today)
        self.as_of = QDateEdit(QDate(latest.year, latest.month, latest.day), body)
        self.as_of.setDisplayFormat("dd-MM-yyyy")
        self.as_of.setCalendarPopup(True)
        self.as_of.setMaximumDate(QDate(latest.year, latest.month, latest.day))
        self.as_of.setToolTip("The business date whose close the MIS reports")
        self.scope = QComboBox(body)
        self.scope.setMinimumWidth(220)
        self.generate_button = QPushButton("Generate (Ctrl+G)", body)
        self.generate_button.setDefault(True)
        self.generate_button.clicked.connect(self.generate)
        choose = QHBoxLayout()
        choose.addWidget(QLabel("MIS as of", body))
        choose.addWidget(self.as_of)
        choose.addWidget(QLabel("Scope", body))
        choose.addWidget(self.scope)
        choose.addWidget(self.generate_button)
        choose.addStretch(1)

        self.progress = QProgressBar(body)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.hide()
        self.status = QLabel(NOTHING_YET, body)
        self.status.setObjectName("notice")
        self.status.setWordWrap(True)

        self.document = QPdfDocument(self)
        self._buffer: QBuffer | None = None
        self.preview = QPdfView(body)
        self.preview.setDocument(self.document)
        self.preview.setPageMode(QPdfView.PageMode.MultiPage)
        self.preview.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.empty = QLabel("No report yet.", body)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedWidget(body)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.preview)

        self.save_button = QPushButton("Save PDF… (Ctrl+S)", body)
        self.save_button.clicked.connect(self.save_pdf)
        self.xlsx_button = QPushButton("Save XLSX…", body)
        self.xlsx_button.clicked.connect(self.save_xlsx)
        self.print_button = QPushButton("Print… (Ctrl+P)", body)
        self.print_button.clicked.connect(lambda: self.print_report())
        actions = QHBoxLayout()
        actions.addStretch(1)
        for button in (self.save_button, self.xlsx_button, self.print_button):
            actions.addWidget(button)
        for keys, slot in (("Ctrl+G", self.generate), ("Ctrl+S", self.save_pdf)):
            QShortcut(QKeySequence(keys), self, slot)
        QShortcut(QKeySequence("Ctrl+P"), self, lambda: self.print_report())

        layout = QVBoxLayout(body)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addLayout(choose)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.pages, 1)
        layout.addLayout(actions)
        self.panel = fill_with_online(self, body, self.load_scopes, clock=context.clock)
        self._enable()
        self.load_scopes()

    @property
    def previewing(self) -> bool:
        return self.pages.currentWidget() is self.preview and self.document.pageCount() > 0

    def _enable(self, busy: bool = False) -> None:
        self.generate_button.setEnabled(not busy and bool(self.scope_list))
        for button in (self.save_button, self.xlsx_button, self.print_button):
            button.setEnabled(not busy and self.report is not None)

    def load_scopes(self) -> None:
        QueryOp(parent=self, op=self.vm.scopes, success=self._show_scopes).failure(
            lambda exc: answer_failure(self.panel, self.status, exc)
        ).run_in_background()

    def _show_scopes(self, scopes: tuple[ReportScope, ...]) -> None:
        self.scope_list = scopes
        self.scope.clear()
        for scope in scopes:
            self.scope.addItem(scope.label, scope.branch)
        self.panel.show_content()
        self._enable()

    def chosen_day(self) -> date:
        chosen = self.as_of.date()
        return date(chosen.year(), chosen.month(), chosen.day())

    def chosen_scope(self) -> ReportScope:
        return self.scope_list[max(0, self.scope.currentIndex())]

    def generate(self) -> None:
        if not self.generate_button.isEnabled():
            return
        as_of, scope = self.chosen_day(), self.chosen_scope()
        try:
            self.vm.check_date(as_of, business_date(self.context.clock()))
        except ValueError as exc:
            say(self.status, str(exc), error=True)
            return
        self._enable(busy=True)
        self.progress.setRange(0, 0)
        self.progress.show()
        ProgressOp(
            parent=self,
            op=lambda tell: self.vm.generate(as_of, scope, "pdf", tell),
            progress=self._moved,
            success=self._show_report,
        ).failure(self._failed).run_in_background()

    def _moved(self, percent: int | None, words: str) -> None:
        if percent is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(percent)
        say(self.status, words, error=False)

    def _failed(self, exc: Exception) -> None:
        self.progress.hide()
        answer_failure(self.panel, self.status, exc)
        self._enable()

    def _show_report(self, report: MisReport) -> None:
        self.report = report
        self.document.close()
        if self._buffer is not None:
            self._buffer.deleteLater()
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(report.content))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)
        self.pages.setCurrentWidget(self.preview)
        self.preview.pageNavigator().jump(0, self.preview.pageNavigator().currentLocation())
        self.progress.hide()
        say(self.status, self.vm.summary(report), error=False)
        self._enable()

    def save_pdf(self) -> Path | None:
        if self.report is None:
            return None
        path = self.ask_path(self.report.file_name, "PDF (*.pdf)")
        if path is None:
            return None
        try:
            saved = self.vm.save(self.report, path)
        except (OSError, ValueError) as exc:
            say(self.status, f"Not saved: {exc}", error=True)
            return None
        say(self.status, f"Saved to {saved}.", error=False)
        return saved

    def save_xlsx(self) -> None:
        """The same figures as a workbook: asked of the server (its bytes are not in the PDF)."""
        if self.report is None:
            return
        shown = self.report
        path = self.ask_path(shown.file_name.removesuffix(".pdf") + ".xlsx", "Excel (*.xlsx)")
        if path is None:
            return
        scope = next(s for s in self.scope_list if s.branch == shown.branch)
        self._enable(busy=True)
        self.progress.show()
        ProgressOp(
            parent=self,
            op=lambda tell: self.vm.save(self.vm.generate(shown.as_of, scope, "xlsx", tell), path),
            progress=self._moved,
            success=self._xlsx_saved,
        ).failure(self._failed).run_in_background()

    def _xlsx_saved(self, path: Path) -> None:
        self.progress.hide()
        say(self.status, f"Saved to {path}.", error=False)
        self._enable()

    def print_report(self, printer: QPrinter | None = None) -> int:
        """Print every page; without a printer given, the print dialog chooses one. Returns
        the pages sent."""
        if self.report is None or self.document.pageCount() == 0:
            return 0
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            printer.setDocName(self.report.title)
            if QPrintDialog(printer, self).exec() != QPrintDialog.DialogCode.Accepted:
                return 0
        painter = QPainter()
        if not painter.begin(printer):
            say(self.status, "The printer could not be opened; nothing was printed.", error=True)
            return 0
        sent = 0
        try:
            for page in range(self.document.pageCount()):
                if page > 0:
                    printer.newPage()
                points = self.document.pagePointSize(page)
                image = self.document.render(
                    page,
                    QSize(
                        round(points.width() * PRINT_DPI / 72),
                        round(points.height() * PRINT_DPI / 72),
                    ),
                )
                target = image.size()
                target.scale(painter.viewport().size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.drawImage(QRect(QPoint(0, 0), target), image)
                sent += 1
        finally:
            painter.end()
        say(self.status, f"Sent {sent} pages to the printer.", error=False)
        return sent


register(
    ScreenSpec(
        key="reports",
        title="Reports",
        action=Action.VIEW_REPORTS,
        factory=ReportsScreen,
        icon="reports",
        order=70,
    )
)

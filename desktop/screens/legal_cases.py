"""Legal cases: an online screen over the server's cases, a case's detail with its notes, and
(for legal and admins) moving a case forward, fixing court, case number and next hearing,
and adding notes. Hearings gone by on a live case are highlighted: someone must record what
happened at them. Without a connection the screen says so, with Retry, and shows nothing
stale.
"""

from __future__ import annotations

from typing import Any

from desktop.format import NOTHING, count, day, instant
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QColor,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QModelIndex,
    QPersistentModelIndex,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._export import ExportButton
from desktop.screens._online import OnlineOnly
from desktop.screens._tables import RowsModel
from desktop.signals import Topic
from desktop.viewmodels.legal_cases import (
    PAGE_SIZE,
    STATUSES,
    LegalCaseDetail,
    LegalCaseRow,
    LegalCasesViewModel,
    LegalPage,
    next_statuses,
    status_label,
)
from desktop.viewmodels.online import is_offline, message_for
from desktop.viewmodels.paging import Paging
from loancore.dates import format_date
from loancore.roles import Action

OVERDUE_BACKGROUND = QColor("#fdecee")
OVERDUE_TEXT = QColor("#8a0016")
EMPTY_TEXT = "No legal cases match. Cases open themselves when a loan reaches DPD 90."
HEADERS = ("Account", "Borrower", "Status", "Opened on", "DPD at opening", "Next hearing")


class CasesModel(RowsModel):
    """The text rows, with a missed hearing shown in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(HEADERS, right={4}, parent=parent)
        self.overdue: set[int] = set()

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if index.isValid() and index.row() in self.overdue:
            if role == Qt.ItemDataRole.BackgroundRole:
                return OVERDUE_BACKGROUND
            if role == Qt.ItemDataRole.ForegroundRole:
                return OVERDUE_TEXT
        return super().data(index, role)


def _row_text(case: LegalCaseRow, overdue: bool) -> tuple[str, ...]:
    hearing = day(case.next_hearing)
    return (
        case.account_no,
        case.borrower_name,
        case.status_label,
        day(case.opened_on),
        NOTHING if case.dpd_at_open is None else str(case.dpd_at_open),
        f"{hearing} (missed)" if overdue else hearing,
    )


class LegalCasesScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legalCasesScreen")
        self.context = context
        self.vm = LegalCasesViewModel(
            context.session.api, business_date=context.book.business_date(context.clock())
        )
        self.cases: list[LegalCaseRow] = []
        self.paging = Paging[str](limit=PAGE_SIZE)
        self.detail: LegalCaseDetail | None = None
        self.may_manage = context.can(Action.MANAGE_LEGAL)

        self.heading = QLabel("Legal cases", self)
        self.heading.setObjectName("heading")
        self.status_filter = QComboBox(self)
        self.status_filter.addItem("All statuses", None)
        for status in STATUSES:
            self.status_filter.addItem(status_label(status), status)
        self.count_label = QLabel(self)
        self.refresh_button = QPushButton("Refresh (Ctrl+R)", self)
        self.refresh_button.setShortcut("Ctrl+R")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Status", self))
        bar.addWidget(self.status_filter)
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.refresh_button)

        self.rows = CasesModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.rows)
        self.export_button = ExportButton(self, self.table, "Legal cases")
        bar.addWidget(self.export_button)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.more_button = QPushButton("Load more", self)
        self.more_button.hide()
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list_stack = QStackedWidget(self)
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)
        listing = QWidget(self)
        listing_layout = QVBoxLayout(listing)
        listing_layout.setContentsMargins(0, 0, 0, 0)
        listing_layout.addWidget(self.list_stack, 1)
        listing_layout.addWidget(self.more_button)

        splitter = QSplitter(self)
        splitter.addWidget(listing)
        splitter.addWidget(self._build_detail())
        # The list carries six columns and the names are what people scan; the case panel
        # is a short form and a list of notes that wrap, so it reads well narrower and the
        # list takes most of any extra width.
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([740, 340])

        self.panel = OnlineOnly(splitter, self)
        self.panel.retry.connect(self.reload)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(bar)
        layout.addWidget(self.panel, 1)

        self.status_filter.currentIndexChanged.connect(self.reload)
        self.refresh_button.clicked.connect(self.reload)
        self.more_button.clicked.connect(self.load_more)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self._show_detail(None)
        self.reload()

    def _build_detail(self) -> QWidget:
        box = QGroupBox("Case", self)
        self.case_label = QLabel(box)
        self.case_label.setWordWrap(True)
        self.case_label.setTextFormat(Qt.TextFormat.RichText)
        self.message = QLabel(box)
        self.message.setObjectName("warning")
        self.message.setWordWrap(True)
        self.message.hide()
        self.notes = QListWidget(box)
        self.notes.setWordWrap(True)
        self.notes.setSpacing(4)
        self.notes.setAlternatingRowColors(True)
        self.move_to = QComboBox(box)
        self.move_button = QPushButton("Move case", box)
        self.court = QLineEdit(box)
        self.case_number = QLineEdit(box)
        self.hearing = QLineEdit(box)
        self.hearing.setPlaceholderText("DD-MM-YYYY")
        self.save_button = QPushButton("Save details", box)
        self.note_text = QPlainTextEdit(box)
        self.note_text.setPlaceholderText("What happened: notice served, hearing adjourned…")
        self.note_text.setMaximumHeight(70)
        self.note_button = QPushButton("Add note", box)
        layout = QVBoxLayout(box)
        layout.addWidget(self.case_label)
        layout.addWidget(self.message)
        self.manage = QWidget(box)
        form = QFormLayout(self.manage)
        form.setContentsMargins(0, 0, 0, 0)
        move_row = QHBoxLayout()
        move_row.addWidget(self.move_to, 1)
        move_row.addWidget(self.move_button)
        form.addRow("Move to", move_row)
        form.addRow("Court", self.court)
        form.addRow("Case number", self.case_number)
        form.addRow("Next hearing", self.hearing)
        form.addRow("", self.save_button)
        form.addRow("Note", self.note_text)
        form.addRow("", self.note_button)
        self.manage.setVisible(self.may_manage)
        layout.addWidget(self.manage)
        layout.addWidget(QLabel("Notes, newest first", box))
        layout.addWidget(self.notes, 1)
        self.move_button.clicked.connect(self.move_case)
        self.save_button.clicked.connect(self.save_details)
        self.note_button.clicked.connect(self.add_note)
        return box

    # -- the list --------------------------------------------------------------------------

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        status = self.status_filter.currentData()
        self.refresh_button.setEnabled(False)
        self.paging.restart()
        generation = self.paging.begin()
        QueryOp(
            parent=self,
            op=lambda: self.vm.page(status),
            success=lambda page: self._first_page(generation, page),
        ).failure(lambda exc: self._failed(exc, generation)).run_in_background()

    def load_more(self) -> None:
        status, cursor = self.status_filter.currentData(), self.paging.cursor
        if cursor is None or not self.paging.can_fetch_more:
            return
        self.more_button.setEnabled(False)
        generation = self.paging.begin()
        QueryOp(
            parent=self,
            op=lambda: self.vm.page(status, cursor),
            success=lambda page: self._add(generation, page),
        ).failure(lambda exc: self._failed(exc, generation)).run_in_background()

    def _first_page(self, generation: int, page: LegalPage) -> None:
        if generation != self.paging.generation:
            return  # a later reload is on its way
        chosen = self.detail.case.case_id if self.detail else None
        self.cases = []
        self._add(generation, page)
        ids = [case.case_id for case in self.cases]
        if chosen in ids:
            self.table.selectRow(ids.index(chosen))
        else:
            self._show_detail(None)

    def _add(self, generation: int, page: LegalPage) -> None:
        if not self.paging.accept(generation, page.next_cursor):
            return
        self.panel.show_content()
        self.refresh_button.setEnabled(True)
        self.cases.extend(page.rows)
        self._show_rows()
        self.list_stack.setCurrentWidget(self.table if self.cases else self.empty)
        self.more_button.setVisible(page.next_cursor is not None)
        self.more_button.setEnabled(True)

    def _show_rows(self) -> None:
        today = self.vm.business_date
        overdue = {n for n, case in enumerate(self.cases) if case.hearing_overdue(today)}
        self.rows.overdue = overdue
        self.rows.set_rows([_row_text(case, n in overdue) for n, case in enumerate(self.cases)])
        more = " (more to load)" if self.paging.cursor else ""
        missed = f" · {count(len(overdue), 'missed hearing')}" if overdue else ""
        self.count_label.setText(f"{count(len(self.cases), 'case')}{more}{missed}")

    def _failed(self, exc: Exception, generation: int | None = None) -> None:
        if generation is not None and not self.paging.failed(generation):
            return
        self.refresh_button.setEnabled(True)
        self.more_button.setEnabled(True)
        if is_offline(exc):
            self.panel.show_offline()
            return
        self._say(message_for(exc))

    def selected(self) -> LegalCaseRow | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.cases):
            return None
        return self.cases[index.row()]

    def _selection_changed(self) -> None:
        case = self.selected()
        if case is None:
            self._show_detail(None)
            return
        QueryOp(
            parent=self, op=lambda: self.vm.detail(case.case_id), success=self._detail_arrived
        ).failure(self._failed).run_in_background()

    def _detail_arrived(self, detail: LegalCaseDetail) -> None:
        """Answers can cross when the person moves quickly down the list; only the case
        still selected is shown."""
        chosen = self.selected()
        if chosen is not None and chosen.case_id == detail.case.case_id:
            self._show_detail(detail)

    # -- one case --------------------------------------------------------------------------

    def _show_detail(self, detail: LegalCaseDetail | None) -> None:
        self.detail = detail
        self.message.hide()
        for widget in (self.move_button, self.save_button, self.note_button, self.move_to):
            widget.setEnabled(detail is not None)
        self.notes.clear()
        if detail is None:
            self.case_label.setText("<i>Select a case to see its notes.</i>")
            for field in (self.court, self.case_number, self.hearing):
                field.clear()
            self.move_to.clear()
            return
        case = detail.case
        closed = f" · closed {day(case.closed_on)}" if case.closed_on else ""
        self.case_label.setText(
            f"<b>{case.account_no}</b> — {case.borrower_name}<br>"
            f"{case.status_label} · opened {day(case.opened_on)} at DPD "
            f"{case.dpd_at_open if case.dpd_at_open is not None else NOTHING}{closed}<br>"
            f"Court: {case.court or NOTHING} · Case no.: {case.case_number or NOTHING}<br>"
            f"Next hearing: {day(case.next_hearing)}"
            + (" <b>(missed)</b>" if case.hearing_overdue(self.vm.business_date) else "")
        )
        self.move_to.clear()
        for status in next_statuses(case.status):
            self.move_to.addItem(status_label(status), status)
        self.move_button.setEnabled(self.move_to.count() > 0)
        self.move_to.setEnabled(self.move_to.count() > 0)
        self.court.setText(case.court)
        self.case_number.setText(case.case_number)
        self.hearing.setText(format_date(case.next_hearing) if case.next_hearing else "")
        own = self.context.user
        for note in detail.notes:
            who = own.full_name if note.written_by == own.id else "a colleague"
            self.notes.addItem(f"{instant(note.written_at)} — {who}\n{note.note}")
        if not detail.notes:
            self.notes.addItem("No notes yet")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _send(self, work: Any) -> None:
        for widget in (self.move_button, self.save_button, self.note_button):
            widget.setEnabled(False)
        QueryOp(parent=self, op=work, success=self._changed).failure(self._refused).announcing(
            self.context.changes, Topic.LEGAL
        ).run_in_background()

    def _changed(self, detail: LegalCaseDetail) -> None:
        """The list row takes the case as the server now has it; the selection stays."""
        case = detail.case
        for n, shown in enumerate(self.cases):
            if shown.case_id == case.case_id:
                self.cases[n] = case
                self._show_rows()
                self.table.selectionModel().blockSignals(True)
                self.table.selectRow(n)
                self.table.selectionModel().blockSignals(False)
        self._show_detail(detail)
        self.note_text.clear()

    def _refused(self, exc: Exception) -> None:
        """What was typed stays, so the person corrects it rather than types it again."""
        ready = self.detail is not None
        self.save_button.setEnabled(ready)
        self.note_button.setEnabled(ready)
        self.move_button.setEnabled(ready and self.move_to.count() > 0)
        self._say(message_for(exc))

    def move_case(self) -> None:
        if self.detail is None or not self.may_manage or self.move_to.currentData() is None:
            return
        case_id, status = self.detail.case.case_id, str(self.move_to.currentData())
        self._send(lambda: self.vm.move(case_id, status))

    def save_details(self) -> None:
        if self.detail is None or not self.may_manage:
            return
        case = self.detail.case
        court, number, hearing = self.court.text(), self.case_number.text(), self.hearing.text()
        self._send(
            lambda: self.vm.set_details(case, court=court, case_number=number, hearing_text=hearing)
        )

    def add_note(self) -> None:
        if self.detail is None or not self.may_manage:
            return
        case_id, note = self.detail.case.case_id, self.note_text.toPlainText()
        self._send(lambda: self.vm.add_note(case_id, note))


register(
    ScreenSpec(
        key="legal_cases",
        title="Legal cases",
        action=Action.VIEW_LEGAL,
        factory=LegalCasesScreen,
        shortcut="Ctrl+Shift+L",
        icon="legal",
        order=40,
    )
)

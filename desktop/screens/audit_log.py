"""Audit log: who did what, when, to which record, with the record before and after; filtered
by user, entity, action, outcome and date; and the check that the hash chain is unbroken.

The table fetches a page from the server as the auditor scrolls (`canFetchMore`/`fetchMore`),
off the UI thread, so a log of millions of entries opens as fast as one of ten.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QCheckBox,
    QComboBox,
    QDate,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPushButton,
    QSplitter,
    Qt,
    QTableView,
    QTextEdit,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._export import ExportButton
from desktop.screens._online import failure_to, fill_with_online
from desktop.viewmodels.audit_diff import readable_diff
from desktop.viewmodels.audit_log import (
    COLUMNS,
    OUTCOMES,
    AuditEntry,
    AuditFilter,
    AuditLogViewModel,
    AuditPage,
    AuditRows,
    ChainReport,
    entry_heading,
    seen,
)
from desktop.viewmodels.online import is_offline
from loancore.dates import business_date
from loancore.roles import Action

AnyIndex = QModelIndex | QPersistentModelIndex
_DIFF_COLOURS = {"changed": "#0b3d73", "added": "#1d6b2f", "removed": "#8a0016", "same": "#5a6472"}


class AuditTableModel(QAbstractTableModel):
    """Rows over `AuditRows`; asks for the next page through `wants_more` when Qt wants rows."""

    wants_more = Signal()

    def __init__(self, rows: AuditRows, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows = rows

    def restart(self, where: AuditFilter) -> int:
        self.beginResetModel()
        generation = self.rows.restart(where)
        self.endResetModel()
        return generation

    def append(self, generation: int, page: AuditPage) -> None:
        first = len(self.rows.entries)
        if generation != self.rows.generation:
            return
        if not page.entries:
            self.rows.accept(generation, page)
            return
        self.beginInsertRows(QModelIndex(), first, first + len(page.entries) - 1)
        self.rows.accept(generation, page)
        self.endInsertRows()

    def entry(self, row: int) -> AuditEntry:
        return self.rows.entries[row]

    def rowCount(self, parent: AnyIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.rows.entries)

    def columnCount(self, parent: AnyIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.rows.entries[index.row()].row[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def canFetchMore(self, parent: AnyIndex) -> bool:  # noqa: N802
        return not parent.isValid() and self.rows.can_fetch_more

    def fetchMore(self, parent: AnyIndex) -> None:  # noqa: N802
        if self.canFetchMore(parent):
            self.wants_more.emit()


def _choice(parent: QWidget, placeholder: str) -> QComboBox:
    box = QComboBox(parent)
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    box.setMinimumWidth(140)
    edit = box.lineEdit()
    assert edit is not None
    edit.setPlaceholderText(placeholder)
    return box


class DateBound(QWidget):
    """A date that may be left open: a tick box and a DD-MM-YYYY picker."""

    def __init__(self, label: str, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.use = QCheckBox(label, self)
        self.picker = QDateEdit(self)
        self.picker.setDisplayFormat("dd-MM-yyyy")
        self.picker.setCalendarPopup(True)
        self.picker.setDate(QDate(today.year, today.month, today.day))
        self.picker.setEnabled(False)
        self.use.toggled.connect(self.picker.setEnabled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.use)
        layout.addWidget(self.picker)

    def value(self) -> date | None:
        if not self.use.isChecked():
            return None
        chosen = self.picker.date()
        return date(chosen.year(), chosen.month(), chosen.day())

    def set_value(self, value: date | None) -> None:
        self.use.setChecked(value is not None)
        if value is not None:
            self.picker.setDate(QDate(value.year, value.month, value.day))


class AuditLogScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditLogScreen")
        self.context = context
        self.vm = AuditLogViewModel(
            context.session.api, context.book.account_numbers(), clock=context.clock
        )
        today = business_date(context.clock())

        body = QWidget(self)
        heading = QLabel("Audit log", body)
        heading.setObjectName("heading")
        self.user = _choice(body, "any user")
        self.entity = _choice(body, "any entity")
        self.action = _choice(body, "any action")
        self.outcome = QComboBox(body)
        self.outcome.addItem("Any outcome", "")
        for outcome in OUTCOMES:
            self.outcome.addItem(outcome, outcome)
        self.date_from = DateBound("From", today, body)
        self.date_to = DateBound("To", today, body)
        self.apply_button = QPushButton("Apply filters", body)
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply_filters)
        self.clear_button = QPushButton("Clear", body)
        self.clear_button.clicked.connect(self.clear_filters)
        for box in (self.user, self.entity, self.action):
            line = box.lineEdit()
            assert line is not None
            line.returnPressed.connect(self.apply_filters)
        filters = QGridLayout()
        filters.addWidget(QLabel("User", body), 0, 0)
        filters.addWidget(self.user, 0, 1)
        filters.addWidget(QLabel("Entity", body), 0, 2)
        filters.addWidget(self.entity, 0, 3)
        filters.addWidget(QLabel("Action", body), 0, 4)
        filters.addWidget(self.action, 0, 5)
        filters.addWidget(self.outcome, 1, 1)
        filters.addWidget(self.date_from, 1, 3)
        filters.addWidget(self.date_to, 1, 5)
        filters.addWidget(self.apply_button, 0, 6)
        filters.addWidget(self.clear_button, 1, 6)
        filters.setColumnStretch(1, 1)
        filters.setColumnStretch(3, 1)
        filters.setColumnStretch(5, 1)
        self.filter_error = QLabel(body)
        self.filter_error.setObjectName("error")
        self.filter_error.setWordWrap(True)
        self.filter_error.hide()

        self.model = AuditTableModel(AuditRows(), self)
        self.model.wants_more.connect(self.fetch_more)
        self.table = QTableView(body)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setWordWrap(False)
        self.table.selectionModel().currentRowChanged.connect(self._show_entry)
        self.status = QLabel("Loading…", body)

        self.detail_heading = QLabel("Select an entry to see what it changed.", body)
        self.detail_heading.setWordWrap(True)
        self.detail_heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diff = QTextEdit(body)
        self.diff.setReadOnly(True)
        detail = QWidget(body)
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail_heading)
        detail_layout.addWidget(self.diff, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal, body)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([720, 360])  # room for the account column beside the entry's detail

        self.verify_button = QPushButton("Verify chain", body)
        self.verify_button.setVisible(context.can(Action.VERIFY_AUDIT))
        self.verify_button.clicked.connect(self.verify)
        self.chain = QLabel(body)
        self.chain.setObjectName("notice")
        self.chain.setWordWrap(True)
        self.chain.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.verify_button)
        self.export_button = ExportButton(self, self.table, "Audit log")
        bottom.addWidget(self.export_button)

        layout = QVBoxLayout(body)
        layout.addWidget(heading)
        layout.addLayout(filters)
        layout.addWidget(self.filter_error)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.chain)
        layout.addLayout(bottom)

        self.panel = fill_with_online(self, body, self.apply_filters, clock=context.clock)
        self.apply_filters()

    def current_filter(self) -> AuditFilter:
        return AuditFilter(
            actor=self.user.currentText(),
            entity=self.entity.currentText(),
            action=self.action.currentText(),
            outcome=str(self.outcome.currentData() or ""),
            date_from=self.date_from.value(),
            date_to=self.date_to.value(),
        )

    def apply_filters(self) -> None:
        where = self.current_filter()
        problem = where.problem()
        self.filter_error.setText(problem or "")
        self.filter_error.setVisible(problem is not None)
        if problem is not None:
            return
        self.model.restart(where)
        self._show_entry()
        self.status.setText("Loading…")
        self.fetch_more()

    def clear_filters(self) -> None:
        for box in (self.user, self.entity, self.action):
            box.setEditText("")
        self.outcome.setCurrentIndex(0)
        self.date_from.set_value(None)
        self.date_to.set_value(None)
        self.apply_filters()

    def fetch_more(self) -> None:
        rows = self.model.rows
        if not rows.can_fetch_more:
            return
        params = rows.next_params()
        generation = rows.paging.begin()
        QueryOp(
            parent=self,
            op=lambda: self.vm.fetch(params),
            success=lambda page: self._page_arrived(generation, page),
        ).failure(lambda exc: self._not_fetched(exc, generation, params)).run_in_background()

    def _not_fetched(self, exc: Exception, generation: int, params: dict[str, Any]) -> None:
        """Offline, the last answer to this very query is shown with its time; otherwise
        the panel says what went wrong."""
        remembered = self.vm.last_answer(params) if is_offline(exc) else None
        if remembered is None or generation != self.model.rows.generation:
            failure_to(self.panel, lambda: self._page_failed(generation))(exc)
            return
        page, read_at = remembered
        self._show_page(generation, page)
        self.panel.show_stale(read_at)

    def _page_arrived(self, generation: int, page: AuditPage) -> None:
        self.panel.show_content()
        self._show_page(generation, page)

    def _show_page(self, generation: int, page: AuditPage) -> None:
        self.model.append(generation, page)
        self.status.setText(self.model.rows.status)
        self._offer(self.user, seen(self.model.rows.entries, "actor"))
        self._offer(self.entity, seen(self.model.rows.entries, "entity"))
        self._offer(self.action, seen(self.model.rows.entries, "action"))

    def _page_failed(self, generation: int) -> None:
        if self.model.rows.paging.failed(generation):
            self.status.setText("The entries could not be loaded.")

    def _offer(self, box: QComboBox, values: list[str]) -> None:
        known = {box.itemText(i) for i in range(box.count())}
        typed = box.currentText()
        for value in values:
            if value not in known:
                box.addItem(value)
        box.setEditText(typed)

    def _show_entry(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            self.detail_heading.setText("Select an entry to see what it changed.")
            self.diff.clear()
            return
        entry = self.model.entry(index.row())
        self.detail_heading.setText("\n".join(entry_heading(entry)))
        known = {entry.loan_id: entry.account_no} if entry.loan_id and entry.account_no else {}
        lines = readable_diff(entry.before, entry.after, known)
        if not lines:
            self.diff.setHtml("<p><i>This entry records no before or after.</i></p>")
            return
        self.diff.setHtml(
            "".join(
                f'<div style="color:{_DIFF_COLOURS[line.kind]}">'
                f"{'<b>' if line.kind != 'same' else ''}{html.escape(line.text)}"
                f"{'</b>' if line.kind != 'same' else ''}</div>"
                for line in lines
            )
        )

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.chain.setText("Checking every entry's link to the one before it…")
        self.chain.setObjectName("notice")
        self._restyle(self.chain)
        self.chain.show()
        QueryOp(parent=self, op=self.vm.verify, success=self._chain_checked).failure(
            failure_to(self.panel, lambda: self.verify_button.setEnabled(True))
        ).with_progress("Verifying the audit chain…").run_in_background()

    def _chain_checked(self, report: ChainReport) -> None:
        self.verify_button.setEnabled(True)
        self.chain.setText(report.text)
        self.chain.setObjectName("notice" if report.ok else "error")
        self._restyle(self.chain)

    @staticmethod
    def _restyle(label: QLabel) -> None:
        label.style().unpolish(label)
        label.style().polish(label)

    def activated(self) -> None:
        if self.panel.offline or self.panel.stale:
            self.apply_filters()


register(
    ScreenSpec(
        key="audit_log",
        title="Audit log",
        action=Action.VIEW_AUDIT,
        factory=AuditLogScreen,
        icon="audit",
        order=80,
    )
)

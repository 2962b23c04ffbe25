"""Collector scores: the latest scored week, collectors ranked, with the counts behind each factor
(due, collected against it, prepaid beside it, promises kept, roll-forwards, coverage; "n/a"
where a factor had nothing to measure), the score, and a bar per week for the last eight. The
chosen collector's counts are spelled out under the table, with any rescore and the versions
it superseded.

A branch manager sees their branch (the server scopes the answer); roles that see every branch
get a branch filter. Online only: scores live on the server.
"""

from __future__ import annotations

from typing import Any

from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QModelIndex,
    QPersistentModelIndex,
    QPushButton,
    QStackedWidget,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._charts import TREND_ROLE, TrendDelegate
from desktop.screens._export import ExportButton
from desktop.screens._online import failure_to, fill_with_online
from desktop.screens._tables import RowsModel
from desktop.viewmodels.collector_performance import (
    COLUMNS,
    NO_WEEK_SCORED,
    TREND_COLUMN,
    TREND_WEEKS,
    CollectorPerformanceViewModel,
    Performance,
    details_text,
    table_row,
)
from desktop.viewmodels.online import Branch
from loancore.roles import Action, Scope, scope_for

AnyIndex = QModelIndex | QPersistentModelIndex
TREND_WIDTH = 92
"""`TrendDelegate` shares the width among the weeks: eight bars of 10 pixels and margins."""
TITLE = "Collector scores"
"""The navigation and the heading say the same; "Collector performance" is cut off in the
navigation's 200 pixels."""
TWO_LINE_HEADERS = {
    "Due (₹)": "Due\n(₹)",
    "Collected (₹)": "Collected\n(₹)",
    "Prepaid (₹)": "Prepaid\n(₹)",
    "Promises kept": "Promises\nkept",
    "Rolled fwd": "Rolled\nforward",
    f"Last {TREND_WEEKS} weeks": f"Last {TREND_WEEKS}\nweeks",
}
"""Headers wider than any figure under them, broken over two lines: twelve columns beside the
navigation left the collector's name only "Pune…" at the usual window size."""


class ScoresModel(RowsModel):
    """The text rows, plus each row's weekly scores for the trend column's painter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, right={0, 3, 4, 5, 6, 8, 10}, parent=parent)
        self.trends: list[tuple[int | None, ...]] = []

    def headerData(  # noqa: N802 -- Qt's name
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        title = super().headerData(section, orientation, Qt.ItemDataRole.DisplayRole)
        if title is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return TWO_LINE_HEADERS.get(title, title)
        if role == Qt.ItemDataRole.ToolTipRole:
            return title
        return None

    def set_scores(self, rows: list[tuple[str, ...]], trends: list[tuple[int | None, ...]]) -> None:
        self.trends = trends
        self.set_rows(rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == TREND_COLUMN:
            if role == TREND_ROLE:
                return self.trends[index.row()]
            if role == Qt.ItemDataRole.DisplayRole:
                return ""
        return super().data(index, role)


class CollectorPerformanceScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("collectorPerformanceScreen")
        self.context = context
        self.vm = CollectorPerformanceViewModel(context.session.api)
        self.performance: Performance | None = None
        self.all_branches = scope_for(context.role) is Scope.ALL
        self.branch_list: tuple[Branch, ...] | None = None

        body = QWidget(self)
        heading = QLabel(TITLE, body)
        heading.setObjectName("heading")
        self.week = QLabel("Loading…", body)
        self.week.setObjectName("subheading")
        self.week.setWordWrap(True)
        self.branch = QComboBox(body)
        self.branch.addItem("All branches", None)
        self.branch.setVisible(self.all_branches)
        self.branch.setMinimumWidth(200)
        self.branch.currentIndexChanged.connect(lambda _i: self.reload())
        self.refresh_button = QPushButton("Refresh (F5)", body)
        self.refresh_button.clicked.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(self.week, 1)
        if self.all_branches:
            top.addWidget(QLabel("Branch", body))
        top.addWidget(self.branch)
        top.addWidget(self.refresh_button)

        self.model = ScoresModel(self)
        self.table = QTableView(body)
        self.table.setModel(self.model)
        self.export_button = ExportButton(self, self.table, "Collector scores")
        top.addWidget(self.export_button)
        self.table.setItemDelegateForColumn(TREND_COLUMN, TrendDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(TREND_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(TREND_COLUMN, TREND_WIDTH)
        # Twelve columns beside the navigation: half the usual side padding of a header
        # leaves the collector's name room to be read whole.
        header.setStyleSheet("QHeaderView::section { padding: 6px 4px; }")
        self.table.setWordWrap(False)
        self.empty = QLabel(NO_WEEK_SCORED, body)
        self.empty.setObjectName("notice")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.results = QStackedWidget(body)
        self.results.addWidget(self.table)
        holder = QWidget(body)
        holder_layout = QVBoxLayout(holder)
        holder_layout.addWidget(self.empty)
        holder_layout.addStretch(1)
        self.results.addWidget(holder)
        self.details = QLabel("", body)
        self.details.setObjectName("details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.show_details(current.row())
        )
        note = QLabel(
            "Score out of 100 = 50 × collected ÷ due + 20 × promises kept ÷ promises due + "
            "15 × (1 − rolled forward ÷ accounts) + 15 × contacted ÷ accounts. Collected is "
            "money paid against what was due; prepayments, charges and excess are not in it. "
            "A factor with nothing to measure is n/a and the others share its points. "
            "* = rescored by an admin. Hover a trend to read its scores, oldest first.",
            body,
        )
        note.setWordWrap(True)

        layout = QVBoxLayout(body)
        layout.addWidget(heading)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.details)
        layout.addWidget(note)

        self.panel = fill_with_online(
            self, body, self.reload, keep_figures=True, clock=context.clock
        )
        self.reload()

    @property
    def branch_codes(self) -> dict[int, str]:
        if self.branch_list is not None:
            return {branch.id: branch.code for branch in self.branch_list}
        user = self.context.user
        return {user.branch_id: user.branch_code} if user.branch_id and user.branch_code else {}

    @property
    def empty_shown(self) -> bool:
        return self.results.currentIndex() == 1

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.refresh_button.setEnabled(False)
        self.panel.retry_button.setEnabled(False)
        branch_id = self.branch.currentData()
        want_branches = self.all_branches and self.branch_list is None
        vm = self.vm

        def load() -> tuple[tuple[Branch, ...] | None, Performance]:
            branches = vm.branches() if want_branches else None
            return branches, vm.load(branch_id)

        QueryOp(parent=self, op=load, success=self._loaded).failure(
            failure_to(self.panel, self._idle)
        ).run_in_background()

    def _idle(self) -> None:
        self.refresh_button.setEnabled(True)
        self.panel.retry_button.setEnabled(True)

    def _loaded(self, answer: tuple[tuple[Branch, ...] | None, Performance]) -> None:
        branches, performance = answer
        if branches is not None:
            self.branch_list = branches
            self.branch.blockSignals(True)
            for branch in branches:
                self.branch.addItem(branch.label, branch.id)
            self.branch.blockSignals(False)
        self._idle()
        self.show_performance(performance)

    def show_performance(self, performance: Performance) -> None:
        self.performance = performance
        self.panel.show_content()
        self.week.setText(performance.heading)
        latest = performance.latest
        self.model.set_scores(
            [table_row(performance, row, self.branch_codes) for row in latest],
            [performance.trend(row.collector_id) for row in latest],
        )
        self.results.setCurrentIndex(0 if latest else 1)
        self.show_details(0)
        if self.branch.currentData() is not None:
            self.empty.setText(
                f"No collector of {self.branch.currentText()} has been scored in the last "
                f"{len(performance.weeks)} weeks."
            )
        else:
            self.empty.setText(NO_WEEK_SCORED)

    def show_details(self, row: int) -> None:
        """The counts behind the chosen collector's score (the first one until one is chosen)."""
        latest = self.performance.latest if self.performance is not None else ()
        if not 0 <= row < len(latest):
            self.details.setText("")
            return
        assert self.performance is not None
        self.details.setText(details_text(self.performance, latest[row]))


register(
    ScreenSpec(
        key="collector_performance",
        title=TITLE,
        action=Action.VIEW_SCORES,
        factory=CollectorPerformanceScreen,
        icon="scores",
        order=60,
    )
)

"""Dashboard: the portfolio, what is overdue in each bucket, today's collections and the work
waiting, for managers, finance, auditors and administrators.

Online only: the figures are the server's, as of now, for the signed-in user's scope. F5 on
this screen refreshes the figures (the window's F5 would start a sync instead, which changes
nothing shown here); a finished sync round refreshes them too, since it may have posted
payments.
"""

from __future__ import annotations

from desktop.format import role_label
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._charts import Bar, BarChart
from desktop.screens._online import failure_to, fill_with_online
from desktop.screens._tables import RowsModel
from desktop.signals import Topic
from desktop.viewmodels.dashboard import (
    Dashboard,
    DashboardViewModel,
    Tile,
    bar_caption,
    bucket_rows,
    class_rows,
    tiles,
)
from loancore.roles import Action, Scope, scope_for

NO_OVERDUE = "No loan is overdue"
_SERVER_TOPICS = frozenset(
    {Topic.SYNC, Topic.PAYMENTS, Topic.PROMISES, Topic.DISPUTES, Topic.LEGAL}
)


class TileBox(QFrame):
    """A headline figure: its name, the figure in short form, and the exact figure below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(self)
        self.title.setObjectName("caption")
        self.value = QLabel("…", self)
        font = self.value.font()
        font.setPointSize(font.pointSize() + 8)
        font.setBold(True)
        self.value.setFont(font)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        for label in (self.title, self.value, self.note):
            layout.addWidget(label)

    def show_tile(self, tile: Tile) -> None:
        self.title.setText(tile.title)
        self.value.setText(tile.value)
        self.note.setText(tile.note)


def _table(model: RowsModel, parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setModel(model)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


class DashboardScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardScreen")
        self.context = context
        self.vm = DashboardViewModel(context.session.api)
        self.dashboard: Dashboard | None = None

        body = QWidget(self)
        self.heading = QLabel("Dashboard", body)
        self.heading.setObjectName("heading")
        self.as_of = QLabel("Loading…", body)
        self.as_of.setObjectName("subheading")
        self.as_of.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh (F5)", body)
        self.refresh_button.clicked.connect(self.reload)
        top = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.heading)
        titles.addWidget(self.as_of)
        top.addLayout(titles, 1)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)

        self.tiles = [TileBox(body) for _ in range(6)]
        tile_grid = QGridLayout()
        for i, tile in enumerate(self.tiles):
            tile_grid.addWidget(tile, i // 3, i % 3)

        self.chart = BarChart(body)
        self.chart.empty_text = NO_OVERDUE
        self.buckets = RowsModel(
            ("Bucket", "Loans", "Outstanding (₹)", "Share"), right={1, 2, 3}, parent=self
        )
        self.classes = RowsModel(
            ("RBI class", "Loans", "Outstanding (₹)", "Share"), right={1, 2, 3}, parent=self
        )
        overdue_box = QGroupBox("Overdue by bucket (principal outstanding)", body)
        overdue_layout = QVBoxLayout(overdue_box)
        overdue_layout.addWidget(self.chart)
        tables = QHBoxLayout()
        tables.addWidget(_table(self.buckets, overdue_box), 3)
        tables.addWidget(_table(self.classes, overdue_box), 2)
        overdue_layout.addLayout(tables, 1)

        layout = QVBoxLayout(body)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(top)
        layout.addLayout(tile_grid)
        layout.addWidget(overdue_box, 1)

        self.panel = fill_with_online(
            self, body, self.reload, keep_figures=True, clock=context.clock
        )
        context.changes.changed.connect(self._data_changed)
        self.reload()

    def scope_text(self) -> str:
        user = self.context.user
        where = (
            "all branches"
            if scope_for(user.role) is Scope.ALL
            else f"branch {user.branch_code or '(none set)'}"
        )
        return f"{role_label(user.role)} · {where}"

    def activated(self) -> None:
        self.reload()

    def _data_changed(self, topics: frozenset[Topic]) -> None:
        if topics & _SERVER_TOPICS and self.isVisible() and self.refresh_button.isEnabled():
            self.reload()

    def reload(self) -> None:
        self.refresh_button.setEnabled(False)
        self.panel.retry_button.setEnabled(False)
        QueryOp(parent=self, op=self.vm.load, success=self.show_dashboard).failure(
            failure_to(self.panel, self._idle)
        ).run_in_background()

    def _idle(self) -> None:
        self.refresh_button.setEnabled(True)
        self.panel.retry_button.setEnabled(True)

    def show_dashboard(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self._idle()
        self.panel.show_content()
        self.as_of.setText(f"{self.scope_text()} · {dashboard.as_of_text}")
        for box, tile in zip(self.tiles, tiles(dashboard), strict=True):
            box.show_tile(tile)
        self.chart.set_bars(
            [Bar(t.label, t.outstanding_paise, bar_caption(t)) for t in dashboard.overdue]
        )
        self.buckets.set_rows(bucket_rows(dashboard))
        self.classes.set_rows(class_rows(dashboard))


register(
    ScreenSpec(
        key="dashboard",
        title="Dashboard",
        action=Action.VIEW_DASHBOARD,
        factory=DashboardScreen,
        icon="dashboard",
        order=5,
    )
)

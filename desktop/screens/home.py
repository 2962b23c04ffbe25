"""Home: the first thing everyone sees after signing in. It answers "am I signed in as the
right person, is my work reaching the server, and what can I do here", so that a collector
back from the field knows at a glance whether the day's payments have gone."""

from __future__ import annotations

from desktop import format as fmt
from desktop.failures import UNREACHABLE, offline_since
from desktop.operations import QueryOp
from desktop.qt import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, ready_screen_keys, register
from desktop.signals import Topic
from desktop.sync_worker import SyncState
from desktop.viewmodels.home import (
    NO_ALERTS,
    HomeFigures,
    ServerAlert,
    fetch_alerts,
    what_you_can_do,
)
from desktop.viewmodels.loans import list_scope
from desktop.viewmodels.online import message_for
from loancore.roles import Action, Scope, scope_for

_SHOWN_TOPICS = frozenset({Topic.LOANS, Topic.PAYMENTS, Topic.OUTBOX, Topic.SYNC})


def where_text(context: ScreenContext) -> str:
    user = context.user
    scope = scope_for(user.role)
    if scope is Scope.ALL:
        place = "all branches"
    elif scope is Scope.BRANCH:
        place = f"branch {user.branch_code or '(none set)'}"
    else:
        place = f"your assigned loans in branch {user.branch_code or '(none set)'}"
    return f"{fmt.role_label(user.role)} · {place}"


def sign_in_text(context: ScreenContext) -> str:
    session = context.session
    if session.online:
        return f"Signed in online at {fmt.instant(session.signed_in_at)}."
    return (
        f"Signed in offline: you can work without the server until "
        f"{fmt.instant(session.offline_until)}. What you enter is kept on this computer and "
        "sent when the server can be reached."
    )


def pending_text(figures: HomeFigures) -> str:
    if not figures.pending_payments:
        return "No payments waiting to be sent"
    return (
        f"{fmt.count(figures.pending_payments, 'payment')} waiting to be sent, "
        f"{fmt.rupees(figures.pending_paise)} in all"
    )


class HomeScreen(QWidget):
    def __init__(self, context: ScreenContext) -> None:
        super().__init__()
        self.setObjectName("homeScreen")
        self.context = context
        self.figures: HomeFigures | None = None

        self.heading = QLabel(f"Welcome, {context.user.full_name}")
        self.heading.setObjectName("heading")
        self.where = QLabel(where_text(context))
        self.where.setObjectName("subheading")
        self.sign_in = QLabel(sign_in_text(context))
        self.sign_in.setWordWrap(True)
        self.sign_in.setObjectName("notice" if context.session.online else "offlineBanner")

        self.loans = QLabel("…")
        self.pending = QLabel("…")
        self.refused = QLabel("")
        self.refused.setObjectName("warning")
        self.connection = QLabel("…")
        self.last_sync = QLabel("…")
        self.sync_button = QPushButton("Sync now (F5)")
        self.sync_button.clicked.connect(self._sync_now)
        self.sync_button.setEnabled(context.can(Action.SYNC))

        here = QGroupBox("On this computer")
        grid = QGridLayout(here)
        rows = [
            ("Loans", self.loans),
            ("Waiting", self.pending),
            ("Connection", self.connection),
            ("Last sync", self.last_sync),
        ]
        for row, (name, value) in enumerate(rows):
            caption = QLabel(name)
            caption.setObjectName("caption")
            grid.addWidget(caption, row, 0, Qt.AlignmentFlag.AlignTop)
            value.setWordWrap(True)
            grid.addWidget(value, row, 1)
        grid.addWidget(self.refused, len(rows), 0, 1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addStretch(1)
        grid.addLayout(buttons, len(rows) + 1, 0, 1, 2)
        grid.setColumnStretch(1, 1)

        can_do = QGroupBox("What you can do")
        can_do_grid = QGridLayout(can_do)
        self.abilities = [
            QLabel(f"•  {line}")
            for line in what_you_can_do(context.role, ready_screen_keys(context.role))
        ]
        half = max(1, (len(self.abilities) + 1) // 2)
        for n, label in enumerate(self.abilities):
            label.setWordWrap(True)
            can_do_grid.addWidget(label, n % half, n // half, Qt.AlignmentFlag.AlignTop)
        can_do_grid.setColumnStretch(0, 1)
        can_do_grid.setColumnStretch(1, 1)
        can_do_grid.setRowStretch(half, 1)  # spare room below the list, not between its lines
        # An administrator may do some twenty-six things: in a scroll area the list never
        # makes the window taller than the screen.
        can_do_scroll = QScrollArea(self)
        can_do_scroll.setWidget(can_do)
        can_do_scroll.setWidgetResizable(True)
        can_do_scroll.setFrameShape(QFrame.Shape.NoFrame)

        # The people who watch the nightly work (administrators, auditors) see its alerts.
        self.alerts_box = QGroupBox("Alerts from the server")
        self.alerts_box.setObjectName("serverAlerts")
        self.alerts = QLabel("…")
        self.alerts.setWordWrap(True)
        self.alerts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        QVBoxLayout(self.alerts_box).addWidget(self.alerts)
        self.alerts_box.setVisible(self._watches_jobs)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        widgets = (self.heading, self.where, self.sign_in, here, self.alerts_box, can_do_scroll)
        for widget in widgets:
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.setStretchFactor(can_do_scroll, 10)

        context.sync.state_changed.connect(self._show_sync)
        context.changes.changed.connect(self._on_changed)
        self._show_sync(context.sync.state)
        self.reload()
        self.reload_alerts()

    @property
    def _watches_jobs(self) -> bool:
        return self.context.can(Action.VIEW_JOBS)

    def activated(self) -> None:
        self.reload()

    def reload_alerts(self) -> None:
        if not self._watches_jobs:
            return
        api = self.context.session.api
        QueryOp(parent=self, op=lambda: fetch_alerts(api), success=self._show_alerts).failure(
            self._alerts_failed
        ).run_in_background()

    def _show_alerts(self, alerts: list[ServerAlert]) -> None:
        self.alerts.setObjectName("warning" if alerts else "")
        self.alerts.setText("\n".join(a.line for a in alerts) if alerts else NO_ALERTS)
        self.alerts.style().polish(self.alerts)

    def _alerts_failed(self, exc: BaseException) -> None:
        self.alerts.setText(f"The server's alerts could not be read. {message_for(exc)}")

    def reload(self) -> None:
        book, user = self.context.book, self.context.user
        scope = list_scope(user.id, user.role)
        QueryOp(
            parent=self, op=lambda: book.home_figures(scope), success=self._show_figures
        ).run_in_background()

    def _on_changed(self, topics: frozenset[Topic]) -> None:
        if topics & _SHOWN_TOPICS:
            self.reload()
        if Topic.SYNC in topics:
            self.reload_alerts()

    def _show_figures(self, figures: HomeFigures) -> None:
        self.figures = figures
        self.loans.setText(figures.loans_text)
        self.pending.setText(pending_text(figures))
        if figures.refused_payments:
            self.refused.setText(
                f"{fmt.count(figures.refused_payments, 'payment')} refused by the server: "
                "see Sync problems (Ctrl+Shift+Y) to edit and send again."
            )
        else:
            self.refused.setText("")
        self.refused.setVisible(bool(figures.refused_payments))

    def _show_sync(self, state: SyncState) -> None:
        """What the sync says, in sentences: offline names the time of the figures shown;
        any other failure of a round is shown as `desktop.failures` worded it."""
        if state.running:
            self.connection.setText("Syncing…")
        elif state.online is None:
            self.connection.setText("Not tried yet")
        elif state.online:
            self.connection.setText("Online")
        else:
            self.connection.setText(
                f"{offline_since(state.last_sync, self.context.clock())} "
                "Your work is kept and sent later."
            )
        waiting = fmt.count(state.pending, "entry", "entries")
        failure = state.error if state.error and not state.running else None
        if failure and failure.startswith(UNREACHABLE):
            failure = None  # the connection line says it, with the time of the figures
        self.last_sync.setText(
            f"{fmt.instant(state.last_sync) if state.last_sync else 'Never'}"
            f" · {waiting} in the outbox" + (f"\n{failure}" if failure else "")
        )

    def _sync_now(self) -> None:
        self.context.sync.sync_now()


register(
    ScreenSpec(
        key="home",
        title="Home",
        action=Action.VIEW_LOANS,
        factory=HomeScreen,
        icon="home",
        order=0,
        shortcut="Alt+Home",
    )
)

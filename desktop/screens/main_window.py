"""The main window: navigation on the left, the open screen on the right, and a status bar
that always says whether the server is reachable, how much work waits to be sent and when
the last sync was. Which screens appear is decided by the permission table, not by the
screens: see `desktop.screens` for how a screen registers."""

from __future__ import annotations

from collections.abc import Sequence

from desktop import format as fmt
from desktop.qt import (
    QAction,
    QCloseEvent,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSize,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QTimer,
    QWidget,
    Signal,
)
from desktop.resources import icon
from desktop.screens import (
    MAX_NUMBERED_SHORTCUTS,
    SCREENS,
    ScreenContext,
    ScreenSpec,
    load_screens,
    register,
    visible_screens,
)
from desktop.screens._fit import RememberedGeometry
from desktop.sync_worker import SyncState

__all__ = ["SCREENS", "MainWindow", "ScreenSpec", "register"]

LONG_ROUND_MS = 1500
DEFAULT_SIZE = QSize(1100, 700)
"""The first size, before the window has been moved or resized (then that is remembered)."""
NAV_SLACK = 4
"""A few pixels beyond what the style says a row needs, so no label is elided by rounding."""
NAV_ROW_HEIGHT = 38
NOTICE_MS = 60_000
"""How long the notice of a new refusal stays in the status bar (the count stays)."""
PROBLEMS_KEY = "sync_problems"


def refusals_text(refused: int) -> str:
    return f"⚠ Sync problems: {refused}"


def refusal_notice(new: int) -> str:
    what = "1 entry" if new == 1 else f"{new} entries"
    return f"The server refused {what}: open Sync problems to see why and what to do."


def nav_row_width(nav: QListWidget, row: int) -> int:
    """What the style needs to draw a navigation row whole (its text, icon and the stylesheet's
    padding). Asked of the style, not the delegate, because the rows carry a fixed height whose
    width of 0 the delegate would answer instead."""
    option = QStyleOptionViewItem()
    nav.initViewItemOption(option)
    delegate = nav.itemDelegate()
    assert isinstance(delegate, QStyledItemDelegate)
    delegate.initStyleOption(option, nav.model().index(row, 0))
    contents = QStyle.ContentsType.CT_ItemViewItem
    return nav.style().sizeFromContents(contents, option, QSize(), nav).width()


class MainWindow(QMainWindow):
    sign_out_requested = Signal()
    closed = Signal()

    def __init__(self, context: ScreenContext, screens: Sequence[ScreenSpec] | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.context = context
        user = context.user
        self.setWindowTitle(f"LoanDesk — {fmt.person_with_role(user.full_name, user.role)}")
        self.specs = visible_screens(user.role, load_screens() if screens is None else screens)
        self.pages: dict[str, QWidget] = {}

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.stack = QStackedWidget()
        self.stack.setObjectName("screenStack")
        for position, spec in enumerate(self.specs):
            item = QListWidgetItem(spec.title)
            if spec.icon:
                item.setIcon(icon(spec.icon))
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setSizeHint(QSize(0, NAV_ROW_HEIGHT))
            if position < MAX_NUMBERED_SHORTCUTS:
                item.setToolTip(f"{spec.title} (Ctrl+{position + 1})")
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._open_row)
        self.nav.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.nav.setMinimumWidth(self._nav_width())

        splitter = QSplitter()
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 800])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self._build_actions()
        self._build_status_bar()
        context.sync.state_changed.connect(self.show_sync_state)
        context.sync.refusals_arrived.connect(self.show_refusal_notice)
        self.show_sync_state(context.sync.state)
        self.place = RememberedGeometry(context.settings.folder, "main_window")
        self.place.restore(self, DEFAULT_SIZE)
        if self.specs:
            self.nav.setCurrentRow(0)

    # -- navigation ------------------------------------------------------------------------

    def _nav_width(self) -> int:
        """Room for the longest label with its icon, the stylesheet's padding and a scroll bar
        (a short window scrolls the list): a wide screen beside it shrinks (its tables elide)
        rather than the navigation cutting "Collection accounts" to "Collection acco…"."""
        self.nav.ensurePolished()  # the stylesheet's item padding counts only once polished
        widest = max((nav_row_width(self.nav, row) for row in range(self.nav.count())), default=0)
        scroll_bar = self.nav.style().pixelMetric(
            QStyle.PixelMetric.PM_ScrollBarExtent, None, self.nav
        )
        return widest + 2 * self.nav.frameWidth() + scroll_bar + NAV_SLACK

    def nav_keys(self) -> list[str]:
        return [spec.key for spec in self.specs]

    def current_key(self) -> str | None:
        row = self.nav.currentRow()
        return self.specs[row].key if 0 <= row < len(self.specs) else None

    def show_screen(self, key: str) -> QWidget:
        """Opens the screen `key` (building it the first time) and returns its widget."""
        row = self.nav_keys().index(key)
        self.nav.setCurrentRow(row)
        return self.pages[key]

    def _open_row(self, row: int) -> None:
        if not 0 <= row < len(self.specs):
            return
        spec = self.specs[row]
        page = self.pages.get(spec.key)
        if page is None:
            page = spec.factory(self.context)
            self.pages[spec.key] = page
            self.stack.addWidget(page)
        elif hasattr(page, "activated"):
            page.activated()
        self.stack.setCurrentWidget(page)
        if spec.key == PROBLEMS_KEY:
            self.notice.hide()

    # -- keyboard and menus ----------------------------------------------------------------

    def _build_actions(self) -> None:
        """Each action is added to the window too: its shortcut then works whatever has the
        focus, even with the menu bar hidden or native."""
        menu = self.menuBar().addMenu("&LoanDesk")
        self.sync_action = QAction("&Sync now", self)
        self.sync_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.sync_action.triggered.connect(self.context.sync.sync_now)
        self.sign_out_action = QAction("Sign &out", self)
        self.sign_out_action.triggered.connect(self.sign_out_requested.emit)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)
        for action in (self.sync_action, self.sign_out_action, self.quit_action):
            menu.addAction(action)
            self.addAction(action)
        menu.insertSeparator(self.quit_action)

        go = self.menuBar().addMenu("&Go")
        self.screen_actions: list[QAction] = []
        for position, spec in enumerate(self.specs):
            action = QAction(spec.title, self)
            keys = [QKeySequence(f"Ctrl+{position + 1}")] if position < 9 else []
            if spec.shortcut:
                keys.append(QKeySequence(spec.shortcut))
            action.setShortcuts(keys)
            action.triggered.connect(lambda _=False, key=spec.key: self.show_screen(key))
            go.addAction(action)
            self.addAction(action)
            self.screen_actions.append(action)

    # -- status bar ------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.online_label = QLabel()
        self.online_label.setObjectName("connection")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("waitingToSend")
        self.last_sync_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setObjectName("syncProgress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self._long_round = QTimer(self)
        self._long_round.setSingleShot(True)
        self._long_round.setInterval(LONG_ROUND_MS)
        self._long_round.timeout.connect(self._show_progress)
        self.problems_button = QPushButton()
        self.problems_button.setObjectName("syncProblemsCount")
        self.problems_button.setFlat(True)
        self.problems_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.problems_button.setToolTip("Entries the server refused: open Sync problems")
        self.problems_button.clicked.connect(self._open_problems)
        self.problems_button.hide()
        self.notice = QLabel()
        self.notice.setObjectName("refusalNotice")
        self.notice.hide()
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.setInterval(NOTICE_MS)
        self._notice_timer.timeout.connect(self.notice.hide)
        bar.addWidget(self.online_label)
        bar.addWidget(self.pending_label)
        bar.addWidget(self.problems_button)
        bar.addWidget(self.notice)
        self.sign_in_note = QLabel()
        self.sign_in_note.setObjectName("signInNote")
        self.sign_in_note.hide()
        bar.addWidget(self.sign_in_note)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.last_sync_label)

    def show_sign_in_note(self, sentence: str) -> None:
        """A standing line beside the sync state, not a temporary message: Qt draws a
        temporary message over the status bar's own labels, so both became unreadable. The
        line is short; the whole sentence is its tooltip."""
        self.sign_in_note.setText("Sign-in not remembered on this computer")
        self.sign_in_note.setToolTip(sentence)
        self.sign_in_note.show()

    def show_sync_state(self, state: SyncState) -> None:
        if state.online is None:
            text, mode = "Connecting…", "unknown"
        elif state.online:
            text, mode = "● Online", "online"
        else:
            text, mode = "● Offline — your work is kept and sent later", "offline"
        self.online_label.setText(text)
        self.online_label.setProperty("mode", mode)
        self.online_label.style().unpolish(self.online_label)
        self.online_label.style().polish(self.online_label)
        self.online_label.setToolTip(state.error or "")
        self.pending_label.setText(state.waiting_text)
        self.pending_label.setProperty("mode", "paused" if state.paused else "")
        self.pending_label.style().unpolish(self.pending_label)
        self.pending_label.style().polish(self.pending_label)
        self._show_refused(state.refused)
        when = fmt.instant(state.last_sync) if state.last_sync else "never"
        self.last_sync_label.setText(f"Last sync: {when}")
        self._show_round(state)

    def _show_refused(self, refused: int) -> None:
        """The count in the status bar and a badge on Sync problems, while any refusal waits."""
        self.problems_button.setText(refusals_text(refused))
        self.problems_button.setVisible(refused > 0 and PROBLEMS_KEY in self.nav_keys())
        if refused == 0:
            self.notice.hide()
        for row, spec in enumerate(self.specs):
            if spec.key == PROBLEMS_KEY:
                item = self.nav.item(row)
                item.setText(f"{spec.title} ({refused})" if refused else spec.title)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, item.text())

    def show_refusal_notice(self, new: int) -> None:
        """A notice that does not stop the work: it stays a minute, or until Sync problems
        is opened."""
        if PROBLEMS_KEY not in self.nav_keys():
            return
        self.notice.setText(refusal_notice(new))
        self.notice.show()
        self._notice_timer.start()

    def _open_problems(self) -> None:
        self.show_screen(PROBLEMS_KEY)

    def _show_round(self, state: SyncState) -> None:
        if not state.running:
            self._long_round.stop()
            self.progress.hide()
            return
        progress = state.progress
        if progress is not None and progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(min(progress.done, progress.total))
        else:
            self.progress.setRange(0, 0)
        self.progress.setFormat(progress.message if progress is not None else "Syncing…")
        self.progress.setToolTip(progress.message if progress is not None else "Syncing…")
        if state.first_sync:
            self._show_progress()
        elif self.progress.isHidden() and not self._long_round.isActive():
            self._long_round.start()

    def _show_progress(self) -> None:
        if self.context.sync.state.running:
            self.progress.show()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 -- Qt override
        self.place.save(self, maximized=self.isMaximized())
        self.closed.emit()
        super().closeEvent(event)

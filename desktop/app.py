"""Starting the desktop client: the application object, its look, sign-in, the main window
and the sync worker, and putting them away again on sign-out or quit.

`run()` is what `python main.py desktop [--server URL]` calls. Everything between sign-in and
sign-out is owned by one `Shell`, so signing out and in as someone else on a shared branch PC
starts from a clean slate: their own cache file, their own sync worker, their own screens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from desktop.auth import SessionManager, UserSession
from desktop.cache.store import Cache
from desktop.collector import collect_on_ui_thread
from desktop.errors import show_error
from desktop.operations import QueryOp
from desktop.qt import QApplication, QGuiApplication, QIcon, QMessageBox, QObject, Qt
from desktop.resources import apply_look, resource_path
from desktop.screens import ScreenContext
from desktop.screens.login import LoginDialog
from desktop.screens.main_window import MainWindow
from desktop.settings import ClientSettings, SettingsError
from desktop.signals import DataChanged
from desktop.sync.engine import SyncEngine
from desktop.sync_worker import SyncWorker
from desktop.viewmodels.desk import DeskBook

log = logging.getLogger("loandesk.desktop")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Shell(QObject):
    """The signed-in life of the client: login dialog -> main window -> (sign out) -> login."""

    def __init__(
        self,
        settings: ClientSettings,
        sessions: SessionManager,
        *,
        server_url: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.sessions = sessions
        self.server_url = server_url
        self.clock = clock
        self.changes = DataChanged(self)
        self.login: LoginDialog | None = None
        self.window: MainWindow | None = None
        self.worker: SyncWorker | None = None
        self.cache: Cache | None = None

    def start(self) -> LoginDialog:
        dialog = LoginDialog(
            self.sessions, self.settings, server_url=self.server_url, open_records=self.open_cache
        )
        dialog.signed_in.connect(self.enter)
        dialog.rejected.connect(self._login_cancelled)
        self.login = dialog
        dialog.open()
        return dialog

    def open_cache(self, session: UserSession) -> Cache:
        """The user's cache file, upgraded to this version's schema: disk work, so the login
        dialog runs it in the background after sign-in (never on the UI thread).

        The client's device id is offered, not written: the cache keeps it the first time
        its id is asked for (the first push, on the sync worker's thread)."""
        return Cache(self.settings.cache_path(session.user.id), device_id=self.settings.device_id)

    def enter(self, session: UserSession, cache: Cache) -> MainWindow:
        """The main window over `cache`, as `open_cache` opened it for `session`."""
        worker = SyncWorker(
            SyncEngine(session.api, cache),
            cache,
            self.changes,
            reachable=lambda: self.sessions.reachable,
            interval_minutes=self.settings.sync_minutes,
            clock=self.clock,
        )
        book = DeskBook(cache)
        context = ScreenContext(
            session=session,
            book=book,
            changes=self.changes,
            sync=worker,
            settings=self.settings,
            clock=self.clock,
        )
        window = MainWindow(context)
        window.sign_out_requested.connect(self.sign_out)
        self.cache, self.worker, self.window = cache, worker, window
        self._learn_from_cache(book, window)
        worker.finished.connect(lambda _report: self._learn_from_cache(book, window))
        if self.sessions.keyring_note:
            window.show_sign_in_note(self.sessions.keyring_note)
        window.show()
        worker.start()
        return window

    @staticmethod
    def _learn_from_cache(book: DeskBook, window: MainWindow) -> None:
        """The server's date and settings off the UI thread: once as the session starts,
        again after each sync round (a pull may have moved either), so no screen reads the
        cache to date or check its work."""
        QueryOp(parent=window, op=book.learn_from_cache, success=lambda _: None).failure(
            lambda exc: log.warning("could not read the business date and settings", exc_info=exc)
        ).run_in_background()

    def sign_out(self) -> None:
        """Shows the sign-in dialog first, so the app never has zero windows and quits."""
        self.start()
        window = self.window
        self._close_session()
        if window is not None:
            window.deleteLater()
            window.close()
        sessions = self.sessions
        QueryOp(parent=None, op=sessions.logout, success=lambda _: None).run_in_background()

    def _close_session(self) -> None:
        if self.worker is not None:
            if not self.worker.stop():
                log.warning("a sync round was still running at sign-out")
            self.worker.deleteLater()
        if self.cache is not None:
            self.cache.close()
        self.worker, self.cache, self.window = None, None, None

    def _login_cancelled(self) -> None:
        if self.window is None:
            QApplication.quit()

    def shutdown(self) -> None:
        self._close_session()


def run(argv: list[str], server_url: str | None = None) -> int:
    """The desktop client's main loop; returns the process exit code."""
    existing = QApplication.instance()
    if existing is None:
        # Fractional scaling (125 %, 150 % on office laptops) as the screen asks, not rounded.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
    app = existing if isinstance(existing, QApplication) else QApplication(argv)
    app.setApplicationName("LoanDesk")
    app.setOrganizationName("LoanDesk")
    apply_look(app)
    collect_on_ui_thread(app)
    app.setWindowIcon(QIcon(str(resource_path("icons", "loandesk.png"))))
    try:
        settings = ClientSettings.load()
    except SettingsError as exc:
        box = show_error(None, exc)
        box.setIcon(QMessageBox.Icon.Critical)
        box.finished.connect(app.quit)
        app.exec()
        return 2
    shell = Shell(settings, SessionManager(settings), server_url=server_url)
    shell.start()
    try:
        return int(app.exec())
    finally:
        shell.shutdown()

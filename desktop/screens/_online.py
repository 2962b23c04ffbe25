"""The frame every online-only screen sits in: its content while the server answers, and a
plain "needs a connection" page with a Retry button while it does not.

A screen that reads the server must never freeze or show a traceback when the branch's line
drops; it says what happened, that nothing was changed, and offers the one useful action.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from desktop.errors import show_error
from desktop.failures import UNREACHABLE, at
from desktop.qt import (
    QEvent,
    QHBoxLayout,
    QKeyEvent,
    QLabel,
    QPushButton,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.viewmodels.online import (
    NEEDS_CONNECTION,
    ApiError,
    UnexpectedAnswer,
    is_offline,
    message_for,
)


class OnlineOnly(QStackedWidget):
    """Page 0 is the screen's content, page 1 the offline notice. `retry` fires on the button
    and on F5 pressed anywhere inside: on a screen of server figures, F5 means "ask the server
    again", so it is claimed here before the window's F5 (sync now) would take it.

    With `keep_figures`, a screen that has shown the server's figures once keeps them when the
    server goes away, under a line saying when they were read: the last known portfolio is
    worth more to a manager than a blank page. A work queue (held payments, users) does not
    keep them: acting on a stale queue would only be refused."""

    retry = Signal()

    def __init__(
        self,
        content: QWidget,
        parent: QWidget | None = None,
        *,
        keep_figures: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(parent)
        self.content = content
        self.keep_figures = keep_figures
        self.clock = clock
        self.figures_at: datetime | None = None
        """When the content last showed the server's answer."""
        self.front = QWidget(self)
        self.stale_banner = QLabel(self.front)
        self.stale_banner.setObjectName("offlineBanner")
        self.stale_banner.setWordWrap(True)
        self.stale_banner.hide()
        front = QVBoxLayout(self.front)
        front.setContentsMargins(0, 0, 0, 0)
        front.setSpacing(0)
        front.addWidget(self.stale_banner)
        front.addWidget(content, 1)
        self.offline_page = QWidget(self)
        self.offline_page.setObjectName("offlinePage")
        self.offline_text = QLabel(NEEDS_CONNECTION, self.offline_page)
        self.offline_text.setObjectName("offlineBanner")
        self.offline_text.setWordWrap(True)
        self.offline_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.offline_text.setMinimumWidth(420)
        self.offline_text.setMaximumWidth(560)
        self.retry_button = QPushButton("Retry", self.offline_page)
        self.retry_button.setDefault(True)
        self.retry_button.clicked.connect(self.retry.emit)
        layout = QVBoxLayout(self.offline_page)
        layout.addStretch(1)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(self.offline_text, 2)
        centred.addStretch(1)
        layout.addLayout(centred)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.addWidget(self.front)
        self.addWidget(self.offline_page)

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_F5
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 -- Qt's name
        if event.key() == Qt.Key.Key_F5:
            event.accept()
            self.retry.emit()
            return
        super().keyPressEvent(event)

    @property
    def offline(self) -> bool:
        return self.currentWidget() is self.offline_page

    @property
    def stale(self) -> bool:
        """Showing the last figures while the server cannot be reached."""
        return self.currentWidget() is self.front and not self.stale_banner.isHidden()

    def show_content(self) -> None:
        """The content now shows a fresh answer from the server."""
        self.figures_at = self.clock()
        self.stale_banner.hide()
        self.setCurrentWidget(self.front)

    def show_stale(self, read_at: datetime) -> None:
        """The content as it is (figures read at `read_at`), under a line saying so."""
        self.figures_at = read_at
        self.stale_banner.setText(
            f"{UNREACHABLE} Showing the figures as read at "
            f"{at(read_at, self.clock())}; press F5 to try again."
        )
        self.stale_banner.show()
        self.setCurrentWidget(self.front)
        self.retry_button.setEnabled(True)

    def show_offline(self, text: str = NEEDS_CONNECTION) -> None:
        if self.keep_figures and self.figures_at is not None:
            self.show_stale(self.figures_at)
            return
        self.offline_text.setText(text)
        self.setCurrentWidget(self.offline_page)
        self.retry_button.setEnabled(True)
        self.retry_button.setFocus()

    def failed(self, exc: Exception) -> None:
        """Offline goes to the notice page (or keeps the last figures); anything else (a
        refusal, a server fault, a bug) to the one error box, in `desktop.failures`' words."""
        if is_offline(exc):
            self.show_offline(message_for(exc))
        else:
            show_error(self, exc)


def say(label: QLabel, text: str, *, error: bool) -> None:
    """A screen's one-line answer: red for a refusal, plain for a done thing (the stylesheet
    keys on the object name, so the label is re-polished to pick it up)."""
    label.setText(text)
    label.setObjectName("error" if error else "notice")
    label.style().unpolish(label)
    label.style().polish(label)
    label.show()


def answer_failure(panel: OnlineOnly, message: QLabel, exc: Exception) -> None:
    """For a screen that changes things on the server: offline goes to the notice page, the
    server's refusal (or an answer the desk cannot read) to the screen's message line as the
    server said it, anything else to the one error box. Retry is offered again either way."""
    panel.retry_button.setEnabled(True)
    if is_offline(exc):
        panel.show_offline(message_for(exc))
    elif isinstance(exc, ApiError | UnexpectedAnswer):
        say(message, message_for(exc), error=True)
    else:
        show_error(panel, exc)


def failure_to(
    panel: OnlineOnly, then: Callable[[], None] | None = None
) -> Callable[[Exception], None]:
    """A QueryOp failure callback: route the error, then let the screen re-enable itself."""

    def handle(exc: Exception) -> None:
        panel.failed(exc)
        if then is not None:
            then()

    return handle


def fill_with_online(
    screen: QWidget,
    content: QWidget,
    retry: Callable[[], None],
    *,
    keep_figures: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> OnlineOnly:
    """Make `content` the whole of `screen`, behind the offline notice whose Retry (and F5)
    calls `retry`: the frame every screen of server figures shares. `clock` is the desk's
    (the screen context's), for the time the figures were read."""
    panel = OnlineOnly(content, screen, keep_figures=keep_figures)
    if clock is not None:
        panel.clock = clock
    panel.retry.connect(retry)
    outer = QVBoxLayout(screen)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(panel)
    return panel

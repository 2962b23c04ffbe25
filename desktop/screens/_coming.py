"""The page a screen shows until the release that fills it arrives: its title, one paragraph
on what it will do, and a plain notice that it is not here yet. No button that does nothing."""

from __future__ import annotations

from desktop.qt import QLabel, Qt, QVBoxLayout, QWidget
from desktop.screens import ScreenContext


class ComingScreen(QWidget):
    def __init__(
        self,
        context: ScreenContext,
        *,
        title: str,
        purpose: str,
        not_yet: str,
        object_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.context = context
        self.heading = QLabel(title, self)
        self.heading.setObjectName("heading")
        self.purpose = QLabel(purpose, self)
        self.purpose.setWordWrap(True)
        self.empty = QLabel(not_yet, self)
        self.empty.setObjectName("notice")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(self.heading)
        layout.addWidget(self.purpose)
        layout.addStretch(1)
        layout.addWidget(self.empty)
        layout.addStretch(2)

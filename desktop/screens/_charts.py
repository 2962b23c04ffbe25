"""Two small charts drawn with QPainter (pyside6-essentials has no QtCharts): horizontal bars
for the dashboard's buckets, and a row of tiny bars for a collector's weekly trend.

Bars are proportional to exact integers (paise, basis points); the labels beside them are
the figures people read, formatted by the view-models, so the picture never rounds a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop.qt import (
    QColor,
    QFontMetrics,
    QModelIndex,
    QPainter,
    QPaintEvent,
    QPersistentModelIndex,
    QSize,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QWidget,
)

BAR_COLOURS = ("#e0a526", "#d9822b", "#c8553d", "#8a0016")
"""Amber to deep red, worse buckets darker; the text beside each bar carries the meaning, so
the colours are a help, not the only signal."""
TEXT_COLOUR = "#1b2430"
TRACK_COLOUR = "#eef1f5"
TREND_COLOUR = "#0b5cad"
TREND_EMPTY = "#c9d0d9"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    caption: str


class BarChart(QWidget):
    """Label | bar | caption per row; the longest bar is the largest value."""

    ROW_HEIGHT = 30

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("barChart")
        self.bars: tuple[Bar, ...] = ()
        self.empty_text = "Nothing to chart"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_bars(self, bars: Sequence[Bar]) -> None:
        self.bars = tuple(bars)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 -- Qt's name
        return QSize(420, max(1, len(self.bars)) * self.ROW_HEIGHT + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 -- Qt's name
        return self.sizeHint()

    def bar_width(self, value: int, room: int) -> int:
        """Integer proportion of `room`; a non-zero value always shows at least a sliver."""
        top = max((bar.value for bar in self.bars), default=0)
        if top <= 0 or value <= 0:
            return 0
        return max(2, room * value // top)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 -- Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        painter.setPen(QColor(TEXT_COLOUR))
        if not any(bar.value for bar in self.bars):
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        label_w = max(metrics.horizontalAdvance(bar.label) for bar in self.bars) + 12
        caption_w = max(metrics.horizontalAdvance(bar.caption) for bar in self.bars) + 12
        room = max(40, self.width() - label_w - caption_w - 8)
        for row, bar in enumerate(self.bars):
            y = 4 + row * self.ROW_HEIGHT
            height = self.ROW_HEIGHT - 10
            middle = Qt.AlignmentFlag.AlignVCenter
            painter.drawText(
                0, y, label_w - 8, height, middle | Qt.AlignmentFlag.AlignRight, bar.label
            )
            painter.fillRect(label_w, y, room, height, QColor(TRACK_COLOUR))
            width = self.bar_width(bar.value, room)
            painter.fillRect(label_w, y, width, height, QColor(BAR_COLOURS[row % len(BAR_COLOURS)]))
            painter.drawText(label_w + room + 8, y, caption_w, height, middle, bar.caption)
        painter.end()


TREND_ROLE = Qt.ItemDataRole.UserRole + 1
"""A table cell's trend: a tuple of scores in basis points (None for a week not scored)."""


class TrendDelegate(QStyledItemDelegate):
    """Draws a cell's TREND_ROLE as one bar per week, oldest left, height = score out of 100.
    On a selected row the bars take the selection's text colour: in the selection's blue they
    would vanish into it."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        weeks = index.data(TREND_ROLE)
        if not weeks:
            return
        rect = option.rect
        slot = max(3, (rect.width() - 8) // len(weeks))
        full = rect.height() - 8
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        on_selection = option.palette.highlightedText().color()
        bar = on_selection if selected else QColor(TREND_COLOUR)
        gap = on_selection if selected else QColor(TREND_EMPTY)
        painter.save()
        for i, score in enumerate(weeks):
            x = rect.x() + 4 + i * slot
            if score is None:
                painter.fillRect(x, rect.bottom() - 5, slot - 2, 1, gap)
                continue
            height = max(1, full * max(0, min(score, 10_000)) // 10_000)
            painter.fillRect(x, rect.bottom() - 4 - height, slot - 2, height, bar)
        painter.restore()

    def sizeHint(  # noqa: N802 -- Qt's name
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(8 * 9 + 8, 26)

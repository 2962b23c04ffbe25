"""The roll matrix as a chart: for each bucket at the previous month's end, one bar as wide as
those loans (100 %), cut by where they stand now and coloured by that bucket, so a reader sees
at a glance how much of each bucket was cured, stayed, rolled forward or left the book; the
counts are written in the bars and under them in Indian grouping.

Drawn from `MisFigures` alone (counts by bucket, no loan), with reportlab graphics. Each row is
a group named `row0`..`row4` (BUCKETS' order) whose segments are named `to0`..`to5` (BUCKETS,
then LEFT_BOOK), so the drawn widths can be read back and checked against the counts.
"""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.colors import Color
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Spacer

from sync_server.reports.figures import BUCKETS, LEFT_BOOK, MisFigures, Ratio, RollRow
from sync_server.reports.fonts import FONT, FONT_BOLD
from sync_server.reports.wording import count, day, percent

WIDTH = 174 * mm
"""The page's frame width (A4 less the report's margins)."""
BAR_X = 30 * mm
BAR_WIDTH = WIDTH - BAR_X - 2 * mm
"""A bar's full width: every row's segments add up to it, whatever its number of loans."""
BAR_HEIGHT = 9 * mm
ROW_HEIGHT = 20 * mm
TOP = 8 * mm
LEGEND = 14 * mm
HEIGHT = TOP + ROW_HEIGHT * len(BUCKETS) + LEGEND
EMPTY_HEIGHT = 28 * mm

DESTINATIONS = (*BUCKETS, LEFT_BOOK)
COLOURS: dict[str, Color] = {
    "current": colors.HexColor("#2e7d32"),
    "1-30": colors.HexColor("#f2c14e"),
    "31-60": colors.HexColor("#ef8a17"),
    "61-90": colors.HexColor("#d1495b"),
    "90+": colors.HexColor("#7b1e3a"),
    LEFT_BOOK: colors.HexColor("#9aa5b1"),
}
"""By destination bucket, from green (current) through amber to dark red (90+); grey for
loans no longer in the book."""
_DARK_TEXT = {"1-30", "31-60", LEFT_BOOK}
"""Segments light enough that their count is written in black rather than white."""
INK = colors.HexColor("#1f2933")


def _moves(row: RollRow, index: int) -> list[tuple[str, int]]:
    """The row's loans as cured (to a better bucket), same, rolled forward (to a worse one)
    and left the book; a move the bucket cannot make (cured from current) is left out."""
    in_book = row.counts[: len(BUCKETS)]
    moves = []
    if index > 0:
        moves.append(("cured", sum(in_book[:index])))
    moves.append(("stayed current" if index == 0 else "same", in_book[index]))
    if index < len(BUCKETS) - 1:
        moves.append(("rolled forward", sum(in_book[index + 1 :])))
    moves.append((LEFT_BOOK, row.counts[-1]))
    return moves


def _row(row: RollRow, index: int, top: float) -> Group:
    group = Group()
    total = sum(row.counts)
    bar_y = top - BAR_HEIGHT
    group.add(String(0, top - 4 * mm, row.from_bucket, fontName=FONT_BOLD, fontSize=10))
    loans = "loan" if total == 1 else "loans"
    group.add(
        String(0, top - 8 * mm, f"{count(total)} {loans}", fontName=FONT, fontSize=8, fillColor=INK)
    )
    if total == 0:
        group.add(
            Rect(
                BAR_X,
                bar_y,
                BAR_WIDTH,
                BAR_HEIGHT,
                fillColor=colors.HexColor("#f5f7f9"),
                strokeColor=colors.HexColor("#b0b8c0"),
                strokeWidth=0.5,
            )
        )
        group.add(
            String(
                BAR_X + BAR_WIDTH / 2,
                bar_y + 3 * mm,
                f"no loans were {row.from_bucket}",
                fontName=FONT,
                fontSize=8,
                fillColor=colors.grey,
                textAnchor="middle",
            )
        )
        return group
    x = BAR_X
    for to, (name, loans_to) in enumerate(zip(DESTINATIONS, row.counts, strict=True)):
        width = BAR_WIDTH * loans_to / total
        group.add(
            Rect(
                x,
                bar_y,
                width,
                BAR_HEIGHT,
                fillColor=COLOURS[name],
                # White between neighbours; none round an empty segment, which would
                # otherwise leave a white hairline on its neighbour's edge.
                strokeColor=colors.white if loans_to else None,
                strokeWidth=0.6,
            ),
            name=f"to{to}",
        )
        label = count(loans_to)
        if loans_to and stringWidth(label, FONT, 8) + 2 * mm <= width:
            ink = INK if name in _DARK_TEXT else colors.white
            group.add(
                String(
                    x + width / 2,
                    bar_y + 3.2 * mm,
                    label,
                    fontName=FONT,
                    fontSize=8,
                    fillColor=ink,
                    textAnchor="middle",
                )
            )
        x += width
    moves = " · ".join(
        f"{what} {count(n)} ({percent(Ratio(n, total))})" for what, n in _moves(row, index)
    )
    group.add(String(BAR_X, bar_y - 4 * mm, moves, fontName=FONT, fontSize=7.5, fillColor=INK))
    return group


def _scale(drawing: Drawing) -> None:
    """0 %, 25 %, 50 %, 75 % and 100 % of a bar, marked above the rows (not ruled through
    them: a rule would cross the lines of counts under the bars)."""
    for quarter in range(5):
        x = BAR_X + BAR_WIDTH * quarter / 4
        drawing.add(
            Line(
                x,
                HEIGHT - TOP - 1 * mm,
                x,
                HEIGHT - TOP + 1 * mm,
                strokeColor=colors.grey,
                strokeWidth=0.5,
            )
        )
        drawing.add(
            String(
                x,
                HEIGHT - TOP + 2 * mm,
                f"{25 * quarter}%",
                fontName=FONT,
                fontSize=7,
                fillColor=colors.grey,
                textAnchor="middle",
            )
        )


def _legend(drawing: Drawing) -> None:
    x = BAR_X
    drawing.add(String(0, 4 * mm, "Now:", fontName=FONT_BOLD, fontSize=8, fillColor=INK))
    for name in DESTINATIONS:
        drawing.add(
            Rect(x, 3.4 * mm, 3.5 * mm, 3.5 * mm, fillColor=COLOURS[name], strokeColor=None)
        )
        drawing.add(String(x + 5 * mm, 4 * mm, name, fontName=FONT, fontSize=8, fillColor=INK))
        x += 5 * mm + stringWidth(name, FONT, 8) + 7 * mm


def _nothing_to_roll(f: MisFigures) -> Drawing:
    """The chart's place when the previous month's end had no book (the book's first month)."""
    drawing = Drawing(WIDTH, EMPTY_HEIGHT)
    drawing.add(
        Rect(
            0,
            0,
            WIDTH,
            EMPTY_HEIGHT,
            fillColor=colors.HexColor("#f5f7f9"),
            strokeColor=colors.HexColor("#b0b8c0"),
            strokeWidth=0.5,
        )
    )
    for y, text, font, size in (
        (
            EMPTY_HEIGHT / 2 + 2 * mm,
            f"No loan was in the book at {day(f.roll_from)}, the previous month's end:",
            FONT_BOLD,
            10,
        ),
        (
            EMPTY_HEIGHT / 2 - 4 * mm,
            "there is nothing to roll yet. The chart begins with the book's second month.",
            FONT,
            9,
        ),
    ):
        drawing.add(
            String(
                WIDTH / 2, y, text, fontName=font, fontSize=size, fillColor=INK, textAnchor="middle"
            )
        )
    return drawing


def _empty(f: MisFigures) -> bool:
    return not any(sum(row.counts) for row in f.roll)


def roll_chart(f: MisFigures) -> Drawing:
    """One 100 % bar a bucket at `f.roll_from`, cut by where its loans stand at `f.as_of`;
    with no loan in the book at that month's end, a drawing that says so instead."""
    if _empty(f):
        return _nothing_to_roll(f)
    drawing = Drawing(WIDTH, HEIGHT)
    _scale(drawing)
    for index, row in enumerate(f.roll):
        drawing.add(
            _row(row, index, HEIGHT - TOP - 2 * mm - ROW_HEIGHT * index), name=f"row{index}"
        )
    _legend(drawing)
    return drawing


def roll_page(
    f: MisFigures, heading: ParagraphStyle, note: ParagraphStyle, table: Flowable
) -> list[Flowable]:
    """The roll matrix's page: its heading, the matrix as a table (`table`, drawn as the
    report's other tables are), how to read the chart, and the chart; the caller breaks the
    page before it."""
    reading = Paragraph(
        "Each row, and each bar, is the loans of one bucket at the previous month's end "
        "(100% of the bar), cut by their bucket now: cured to a better bucket, the same, rolled "
        "forward to a worse one, or left the book (closed or written off). Buckets by actual "
        "days past due.",
        note,
    )
    return [
        Paragraph(
            f"Roll matrix from {day(f.roll_from)} to {day(f.as_of)}",
            heading,
        ),
        Spacer(1, 2 * mm),
        table,
        Spacer(1, 6 * mm),
        *([] if _empty(f) else [reading, Spacer(1, 4 * mm)]),
        roll_chart(f),
    ]

"""The MIS as a PDF: a cover, a one-page summary, the tables and three charts, each page
footed with its number and the SHA-256 of the canonical figures so two copies can be compared.

Nothing here reads the database: the PDF is drawn from `MisFigures` alone, which holds no
borrower's name, phone, address or account number, so the PDF cannot either.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from sync_server.reports.figures import BUCKETS, LEFT_BOOK, MisFigures, QueueLine, Ratio
from sync_server.reports.fonts import FONT, FONT_BOLD, register_fonts
from sync_server.reports.query import IST
from sync_server.reports.roll_chart import roll_page
from sync_server.reports.wording import count, day, percent, rupees

TITLE = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=22, leading=28, spaceAfter=12)
HEADING = ParagraphStyle("heading", fontName=FONT_BOLD, fontSize=13, leading=17, spaceBefore=8)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14)
NOTE = ParagraphStyle("note", fontName=FONT, fontSize=8, leading=11, textColor=colors.grey)
NAVY = colors.HexColor("#1f3a5f")


def _table(rows: list[list[str]], widths: list[float] | None = None, labels: int = 1) -> Table:
    """A table whose first row is its heading, whose first `labels` columns are words and
    whose figures align right."""
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9),
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe6ee")),
                ("ALIGN", (labels, 0), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c0")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7f9")]),
            ]
        )
    )
    return table


def _scope(figures: MisFigures) -> str:
    return f"Branch {figures.branch}" if figures.branch else "All branches"


def _summary(f: MisFigures) -> list[list[str]]:
    par = {p.days: p for p in f.par}
    npa = f.classes[-1]
    return [
        ["Figure", "Value"],
        ["Loans in the book", count(f.loans)],
        ["Principal outstanding", rupees(f.outstanding)],
        [f"Disbursed this month ({count(f.disbursed_loans)} loans)", rupees(f.disbursed)],
        ["Demand this month", rupees(f.month.demand)],
        ["Demand month to date", rupees(f.month_to_date.demand)],
        ["Collected against demand (month to date)", rupees(f.month_to_date.collected)],
        ["Collection efficiency (month to date)", percent(f.month_to_date.efficiency)],
        [
            "CE including prepayments (month to date)",
            percent(f.month_to_date.efficiency_with_prepayments),
        ],
        ["Collection efficiency (month)", percent(f.month.efficiency)],
        ["PAR 30", percent(par[30].ratio)],
        ["PAR 60", percent(par[60].ratio)],
        ["PAR 90", percent(par[90].ratio)],
        ["NPA (gross, principal outstanding)", f"{rupees(npa.outstanding)} ({percent(npa.share)})"],
        [
            "Loans under an open dispute",
            f"{count(f.disputed_loans)} · {rupees(f.disputed_outstanding)}",
        ],
        [
            "Promises kept (month to date)",
            f"{count(f.promises_kept)} of {count(f.promises_decided)} · {percent(f.promise_rate)}",
        ],
        [
            "Legal cases opened / moved / closed",
            f"{f.legal.opened} / {f.legal.moved} / {f.legal.closed}",
        ],
    ]


def _collections_rows(f: MisFigures) -> list[list[str]]:
    mtd, month = f.month_to_date, f.month
    return [
        ["", "Month to date", f"Month ({f.month_start.strftime('%m-%Y')})"],
        ["Demand", rupees(mtd.demand), rupees(month.demand)],
        ["Collected against demand", rupees(mtd.collected), rupees(month.collected)],
        ["Collection efficiency", percent(mtd.efficiency), percent(month.efficiency)],
        ["Prepayments (not in CE)", rupees(mtd.prepaid), rupees(month.prepaid)],
        [
            "CE including prepayments",
            percent(mtd.efficiency_with_prepayments),
            percent(month.efficiency_with_prepayments),
        ],
    ]


def _queues(f: MisFigures) -> Table:
    """What the book holds and the bank has not shown, or the branch has not deposited, past
    the lender's windows at the date's close."""

    def line(name: str, q: QueueLine) -> list[str]:
        oldest = "none" if q.oldest_age_days is None else f"{count(q.oldest_age_days)} days"
        days = "working day" if q.window == 1 else "working days"
        return [f"{name} (over {q.window} {days})", count(q.entries), rupees(q.amount), oldest]

    return _table(
        [
            ["Late at the day's close", "Entries", "Amount", "Oldest"],
            line("Missing in bank", f.missing_in_bank),
            line("Cash in hand", f.cash_in_hand),
        ],
        [85 * mm, 20 * mm, 40 * mm, 25 * mm],
    )


_QUEUES_NOTE = (
    "Missing in bank: digital receipts and cash deposits in the book that no bank line matched "
    "by the close. Cash in hand: cash receipts in no deposit by the close. Windows are the "
    "lender's settings on the date, in bank working days."
)


def _reconciliation(f: MisFigures) -> list[Any]:
    """The bank side (credit lines and how many the book has matched; a branch's MIS says why
    it has none), then the book side: missing in bank and cash in hand."""
    heading = Paragraph("Reconciliation with the bank statements", HEADING)
    r = f.reconciliation
    if r is None:
        return [
            heading,
            Paragraph(
                "Bank accounts are the lender's, not a branch's: see the MIS of all branches "
                "for the bank's credit lines.",
                BODY,
            ),
            _queues(f),
            Paragraph(_QUEUES_NOTE, NOTE),
        ]
    oldest = day(r.oldest_unmatched) if r.oldest_unmatched else "none"
    return [
        heading,
        _table(
            [
                ["Bank credit lines to the day's close", "Lines", "Amount"],
                ["Booked in the bank", count(r.credit_lines), rupees(r.credit_amount)],
                [
                    "Matched to a receipt or deposit",
                    count(r.matched_lines),
                    rupees(r.matched_amount),
                ],
                [
                    "Not matched (unidentified so far)",
                    count(r.unmatched_lines),
                    rupees(r.unmatched_amount),
                ],
                ["Matched share (by amount)", "", percent(r.matched_share)],
                ["Oldest unmatched credit booked on", "", oldest],
            ],
            [85 * mm, 30 * mm, 50 * mm],
        ),
        Spacer(1, 3 * mm),
        _queues(f),
        Paragraph(_QUEUES_NOTE, NOTE),
    ]


def _bucket_chart(f: MisFigures) -> Drawing:
    """Principal outstanding by bucket, as a share of the book (percent)."""
    drawing = Drawing(170 * mm, 62 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 10 * mm, 150 * mm, 46 * mm
    chart.data = [[(b.share.bp or 0) / 100 for b in f.buckets]]
    chart.categoryAxis.categoryNames = [b.name for b in f.buckets]
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.bars[0].fillColor = NAVY
    drawing.add(chart)
    return drawing


def _plotted(ratio: Ratio) -> float | None:
    """A percentage for the chart (display only); a month with nothing to measure (before the
    book's history began) is a gap in the line, not a misleading zero."""
    return None if ratio.bp is None else ratio.bp / 100


RED = colors.HexColor("#c0392b")
NOTHING_TO_MEASURE = (
    "Nothing to measure in these six months: no dues fell due and no loan was on the book "
    "at any of their month-ends."
)


def _trend_chart(f: MisFigures) -> Drawing | Paragraph:
    """Six months of collection efficiency and PAR 30, in percent. A series with no month to
    measure is left out (reportlab cannot draw a line of no points: an MIS for a branch with
    no loans yet was a 500), and with neither there is a sentence instead of an empty chart."""
    series = [
        (name, colour, values)
        for name, colour, values in (
            ("Collection efficiency", NAVY, [_plotted(p.efficiency) for p in f.trend]),
            ("PAR 30", RED, [_plotted(p.par30) for p in f.trend]),
        )
        if any(value is not None for value in values)
    ]
    if not series:
        return Paragraph(NOTHING_TO_MEASURE, NOTE)
    drawing = Drawing(170 * mm, 70 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 16 * mm, 150 * mm, 48 * mm
    chart.data = [values for _, _, values in series]
    chart.categoryAxis.categoryNames = [p.day.strftime("%m-%Y") for p in f.trend]
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = "%d%%"
    for index, (_, colour, _) in enumerate(series):
        chart.lines[index].strokeColor = colour
        chart.lines[index].strokeWidth = 2
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 20 * mm, 6 * mm
    legend.fontName = FONT
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [(colour, name) for name, colour, _ in series]
    drawing.add(legend)
    return drawing


def _story(f: MisFigures, generated_at: datetime) -> list[Any]:
    story: list[Any] = [
        Spacer(1, 50 * mm),
        Paragraph("MIS report", TITLE),
        Paragraph(f"As of the day-end of {day(f.as_of)}", HEADING),
        Paragraph(_scope(f), BODY),
        Spacer(1, 8 * mm),
        Paragraph(f"Generated {generated_at.astimezone(IST).strftime('%d-%m-%Y %H:%M')} IST", BODY),
        Spacer(1, 4 * mm),
        Paragraph(
            "Branch and product level only: this report holds no borrower's name, phone, address "
            "or account number. Amounts are principal outstanding unless said otherwise; buckets, "
            "PAR and RBI classes use actual days past due (disputed loans are shown beside them).",
            NOTE,
        ),
        PageBreak(),
        Paragraph(f"Summary as of {day(f.as_of)}", HEADING),
        Spacer(1, 3 * mm),
        _table(_summary(f), [105 * mm, 65 * mm]),
        PageBreak(),
        Paragraph("Portfolio by branch and product", HEADING),
        _table(
            [["Branch", "Product", "Loans", "Principal outstanding"]]
            + [[p.branch, p.product, count(p.loans), rupees(p.outstanding)] for p in f.portfolio]
            + [["Total", "", count(f.loans), rupees(f.outstanding)]],
            [35 * mm, 35 * mm, 30 * mm, 60 * mm],
            labels=2,
        ),
        Paragraph("Demand and collections", HEADING),
        _table(
            _collections_rows(f),
            [70 * mm, 45 * mm, 45 * mm],
        ),
        Paragraph("Buckets (actual DPD)", HEADING),
        _table(
            [["Bucket", "Loans", "Principal outstanding", "Share"]]
            + [
                [b.name, count(b.loans), rupees(b.outstanding), percent(b.share)] for b in f.buckets
            ],
            [35 * mm, 30 * mm, 60 * mm, 35 * mm],
        ),
        _bucket_chart(f),
        PageBreak(),
        Paragraph("RBI classification and portfolio at risk", HEADING),
        _table(
            [["Class", "Loans", "Principal outstanding", "Share"]]
            + [[c.name, count(c.loans), rupees(c.outstanding), percent(c.share)] for c in f.classes]
            + [
                [f"PAR {p.days}", count(p.loans), rupees(p.outstanding), percent(p.ratio)]
                for p in f.par
            ]
            + [["Under open dispute", count(f.disputed_loans), rupees(f.disputed_outstanding), ""]],
            [45 * mm, 30 * mm, 55 * mm, 30 * mm],
        ),
        Paragraph("Collection efficiency and PAR 30, six months", HEADING),
        _trend_chart(f),
        PageBreak(),
        *roll_page(
            f,
            HEADING,
            NOTE,
            _table(
                [["From \\ to", *BUCKETS, LEFT_BOOK, "Total"]]
                + [
                    [r.from_bucket, *(count(n) for n in r.counts), count(sum(r.counts))]
                    for r in f.roll
                ]
            ),
        ),
        PageBreak(),
        Paragraph("Legal cases and promises this month", HEADING),
        _table(
            [
                ["Legal cases opened", "moved", "closed", "Promises decided", "kept", "Kept rate"],
                [
                    count(f.legal.opened),
                    count(f.legal.moved),
                    count(f.legal.closed),
                    count(f.promises_decided),
                    count(f.promises_kept),
                    percent(f.promise_rate),
                ],
            ],
            labels=0,
        ),
        Paragraph(
            "Collector scores"
            + (
                f", week from {day(f.collector_week)}"
                if f.collector_week
                else ": no week scored yet"
            ),
            HEADING,
        ),
        _table(
            [["Collector id", "Accounts", "Due", "Collected", "Promises kept", "Score"]]
            + [
                [
                    c.collector_id[:12],
                    count(c.accounts),
                    rupees(c.due),
                    rupees(c.collected),
                    f"{c.promises_kept} of {c.promises_due}",
                    "n/a" if c.score_bp is None else f"{c.score_bp // 100}.{c.score_bp % 100:02d}",
                ]
                for c in f.collectors
            ]
        ),
        *_reconciliation(f),
    ]
    return story


def render_pdf(figures: MisFigures, generated_at: datetime) -> bytes:
    """The report's bytes; `generated_at` is an aware instant (shown in IST on the cover)."""
    register_fonts()
    digest = figures.digest()
    out = io.BytesIO()

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(doc.leftMargin, 10 * mm, f"Figures SHA-256: {digest}")
        canvas.drawRightString(A4[0] - doc.rightMargin, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"MIS as of {day(figures.as_of)}",
        author="LoanDesk",
    )
    doc.build(_story(figures, generated_at), onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()

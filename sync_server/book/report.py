"""The validation report: one line per problem (sheet, row, column, value, problem), as XLSX."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from sync_server.book.reader import Problem

HEADING = ("Sheet", "Row", "Column", "Value", "Problem")


def write_report(path: Path, problems: list[Problem], existing: dict[str, list[str]]) -> Path:
    """Problems first; then, on their own sheet, the loans already on the book that were left
    as they are, with what the file says differently of each."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("problems")
    for letter, width in zip("ABCDE", (12, 8, 26, 28, 90), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    heading = []
    for h in HEADING:
        cell = WriteOnlyCell(sheet, value=h)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    for p in sorted(problems, key=lambda p: (p.sheet, p.row, p.column)):
        sheet.append([p.sheet, p.row, p.column, p.value, p.problem])
    if not problems:
        sheet.append(["", "", "", "", "No problems: every row can be imported."])
    kept = book.create_sheet("already on the book")
    kept.column_dimensions["A"].width = 20
    kept.column_dimensions["B"].width = 100
    kept.append(["Account number", "What the file says differently (nothing was changed)"])
    for account, differences in sorted(existing.items()):
        kept.append([account, "; ".join(differences) or "the same"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path

"""`main.py report mis`: the MIS for a business date written to a PDF (and an XLSX if asked).
Returns a process exit code; a refusal prints its reason and writes no file."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.errors import LoanDeskError
from sync_server.flags.service import is_enabled
from sync_server.reports.generate import (
    KILL_SWITCH,
    before_the_book,
    first_disbursement,
    last_day_end,
)
from sync_server.reports.pdf import render_pdf
from sync_server.reports.service import mis_figures
from sync_server.reports.wording import day
from sync_server.reports.xlsx import render_xlsx


def _refuse(out: TextIO, reason: str) -> int:
    print(f"refused: {reason}", file=out)
    return 2


def mis_command(
    db: Database,
    as_of_text: str,
    pdf_path: Path,
    xlsx_path: Path | None = None,
    branch: str | None = None,
    clock: Clock | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """A date whose day-end has not run is refused: its figures would be a guess at a book
    that is still moving, and an investor copy must not change after it is printed."""
    clock = clock or Clock()
    try:
        as_of = date.fromisoformat(as_of_text)
    except ValueError:
        return _refuse(out, f"'{as_of_text}' is not a date in YYYY-MM-DD form")
    with db.read_only() as session:
        last = last_day_end(session)
        first = first_disbursement(session)
        enabled = is_enabled(session, KILL_SWITCH)
    if not enabled:
        return _refuse(out, f"MIS reports are switched off by an administrator ({KILL_SWITCH})")
    if last is None or as_of > last:
        done = f"the last finished is {day(last)}" if last else "none has finished yet"
        return _refuse(out, f"the day-end of {day(as_of)} has not run ({done})")
    if first is None or as_of < first:
        return _refuse(out, before_the_book(as_of, first))
    for path in (pdf_path, xlsx_path):
        if path is not None and not path.parent.is_dir():
            return _refuse(out, f"the folder {path.parent} does not exist")
    try:
        with db.read_only() as session:
            figures = mis_figures(session, as_of, branch)
    except LoanDeskError as exc:
        return _refuse(out, exc.message)
    now = clock.now()
    pdf_path.write_bytes(render_pdf(figures, now))
    if xlsx_path is not None:
        xlsx_path.write_bytes(render_xlsx(figures, now))
    print(f"MIS as of {day(as_of)} written to {pdf_path}", file=out)
    if xlsx_path is not None:
        print(f"and to {xlsx_path}", file=out)
    print(f"figures SHA-256 {figures.digest()}", file=out)
    return 0

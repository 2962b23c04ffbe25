"""`python main.py import loans FILE.xlsx [--dry-run] [--new-only] [--report FILE.xlsx]`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from loancore.roles import Role
from sync_server.book.reader import Unreadable
from sync_server.book.report import write_report
from sync_server.book.service import import_book
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.models import User
from sync_server.errors import LoanDeskError, ValidationFailed
from sync_server.principal import Principal


def importing_user(db: Database, username: str | None) -> Principal:
    """Who the import is recorded as (payments' recorded_by, the audit entry): the user named,
    or, when none is named, the one active admin of a fresh install."""
    with db.read_only() as session:
        query = select(User).where(User.active.is_(True))
        if username:
            users = list(session.execute(query.where(User.username == username)).scalars())
        else:
            users = list(session.execute(query.where(User.role == Role.ADMIN.value)).scalars())
        if len(users) != 1:
            raise ValidationFailed(
                f"There is no active user '{username}'"
                if username
                else "Name the importing user with --as USERNAME (an admin or finance user)"
            )
        user = users[0]
        return Principal(user.id, user.username, Role(user.role), user.branch_id)


def import_loans_command(
    db: Database,
    file: str,
    *,
    dry_run: bool,
    new_only: bool,
    report: str | None,
    username: str | None = None,
    out: TextIO | None = None,
) -> int:
    """0 when imported (or, dry run, importable); 1 when refused; 2 when the file is unusable.
    Progress goes to stderr so the summary on stdout stays readable."""
    out = out or sys.stdout
    path = Path(file)
    if not path.is_file():
        print(f"refused: {file} does not exist", file=out)
        return 2

    shown: dict[str, int] = {}

    def progress(phase: str, done: int, total: int) -> None:
        """A line per phase at its start, then at every tenth of it, then at its end."""
        tenth = 10 * done // total if total else 10
        if shown.get(phase, -1) >= tenth:
            return
        shown[phase] = tenth
        unit = {"reading": " rows", "checking": " rows", "settling": ""}.get(phase, " loans")
        share = f" ({100 * done // total}%)" if total else ""
        print(f"  {phase}: {done:,} of {total:,}{unit}{share}", file=sys.stderr, flush=True)

    try:
        outcome = import_book(
            db,
            path,
            actor=importing_user(db, username),
            clock=Clock(),
            dry_run=dry_run,
            new_only=new_only,
            progress=progress,
        )
    except Unreadable as exc:
        print(f"refused: {exc}", file=out)
        return 2
    except LoanDeskError as exc:
        print(f"refused: {exc.message}", file=out)
        return 1
    print(outcome.summary(), file=out)
    if report or outcome.problems:
        target = Path(report) if report else path.with_name(path.stem + "-report.xlsx")
        write_report(target, outcome.problems, outcome.existing)
        print(f"validation report: {target}", file=out)
    return 1 if outcome.problems else 0


def convergence_command(
    db: Database,
    sheet: str,
    as_of_text: str,
    pdf: str | None,
    xlsx: str | None,
    out: TextIO | None = None,
) -> int:
    """0 when every loan agrees, 1 when some differ (listed in the files), 2 when refused."""
    from datetime import date

    from sync_server.book.convergence import compare
    from sync_server.book.convergence_out import render_pdf, write_xlsx
    from sync_server.reports.query import IST

    out = out or sys.stdout
    try:
        as_of = date.fromisoformat(as_of_text)
    except ValueError:
        print(f"refused: '{as_of_text}' is not a date in YYYY-MM-DD form", file=out)
        return 2
    path = Path(sheet)
    if not path.is_file():
        print(f"refused: {sheet} does not exist", file=out)
        return 2
    try:
        with db.read_only() as session:
            result = compare(session, path, as_of)
    except Unreadable as exc:
        print(f"refused: {exc}", file=out)
        return 2
    print(result.summary(), file=out)
    if pdf:
        from datetime import datetime

        Path(pdf).write_bytes(render_pdf(result, datetime.now(IST)))
        print(f"PDF: {pdf}", file=out)
    if xlsx:
        write_xlsx(result, Path(xlsx))
        print(f"XLSX: {xlsx}", file=out)
    return 0 if not result.mismatches and not result.problems else 1

"""The Reports screen's state: which MIS can be asked for (date and scope), asking the server
for it, and keeping it (saved to a file the person chose, never half-written).

The MIS is computed by the server from the system of record, so this screen needs the
connection; a branch manager's scope is their own branch (the server enforces it again), the
roles that see every branch may choose the whole lender or one branch. A date is offered up to
yesterday: the server reports a date once its day-end has run, and says why it refuses any
other.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from desktop.auth import SignedInUser
from desktop.format import day
from desktop.sync.api import Download, Received
from desktop.viewmodels.online import BRANCHES_PATH, Branch, UnexpectedAnswer, parse_branches
from loancore.roles import Scope, scope_for

MIS_PATH = "/reports/mis"
DIGEST_HEADER = "X-Figures-SHA256"
PDF_MEDIA = "application/pdf"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOTHING_YET = (
    "Choose the business date and the scope, then press Generate. The MIS is made by the "
    "server from the book as it stood at that day's close, with no borrower's personal data."
)

Progress = Callable[[int | None, str], None]
"""Told (percent, or None while the server is computing and nothing can be measured; what is
happening) as the report is made."""


class ReportsApi(Protocol):
    def request(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def download(
        self, path: str, *, params: dict[str, str], received: Received | None = None
    ) -> Download: ...


@dataclass(frozen=True)
class ReportScope:
    """One entry of the scope list: a branch code, or None for the whole lender."""

    branch: str | None
    label: str


@dataclass(frozen=True)
class MisReport:
    as_of: date
    branch: str | None
    kind: str
    content: bytes
    digest: str

    @property
    def file_name(self) -> str:
        suffix = f"-{self.branch}" if self.branch else ""
        return f"MIS {self.as_of:%d-%m-%Y}{suffix}.{self.kind}"

    @property
    def title(self) -> str:
        scope = f"branch {self.branch}" if self.branch else "all branches"
        return f"MIS as of {day(self.as_of)}, {scope}"


class ReportsViewModel:
    def __init__(self, api: ReportsApi, user: SignedInUser) -> None:
        self._api = api
        self.user = user

    @property
    def whole_book(self) -> bool:
        """Roles that see every branch choose a scope; a branch manager has their own."""
        return scope_for(self.user.role) is Scope.ALL

    def scopes(self) -> tuple[ReportScope, ...]:
        if not self.whole_book:
            code = self.user.branch_code
            return (ReportScope(code, f"Branch {code}" if code else "Own branch"),)
        branches: tuple[Branch, ...] = parse_branches(self._api.request("GET", BRANCHES_PATH))
        return (
            ReportScope(None, "All branches"),
            *(ReportScope(b.code, b.label) for b in branches),
        )

    @staticmethod
    def latest_day(today: date) -> date:
        """The latest date that can have closed: yesterday."""
        return today - timedelta(days=1)

    def check_date(self, as_of: date, today: date) -> None:
        """The desk's own first check; the server checks again (first disbursement, day-end)."""
        if as_of >= today:
            raise ValueError(
                f"The MIS is made from a day's close: choose {day(self.latest_day(today))} "
                f"or earlier (today is {day(today)})."
            )

    def generate(
        self, as_of: date, scope: ReportScope, kind: str = "pdf", progress: Progress | None = None
    ) -> MisReport:
        tell = progress or (lambda _p, _s: None)
        tell(None, f"The server is computing the MIS as of {day(as_of)}…")

        def received(got: int, total: int | None) -> None:
            if total:
                tell(min(99, 10 + 89 * got // total), "Receiving the report…")

        params = {"as_of": as_of.isoformat(), "format": kind}
        if scope.branch is not None and self.whole_book:
            params["branch"] = scope.branch
        answer = self._api.download(MIS_PATH, params=params, received=received)
        expected = PDF_MEDIA if kind == "pdf" else XLSX_MEDIA
        if answer.media_type != expected:
            raise UnexpectedAnswer(f"the report came as {answer.media_type!r}, not {expected}")
        if kind == "pdf" and not answer.content.startswith(b"%PDF-"):
            raise UnexpectedAnswer("the report is not a PDF")
        digest = {k.lower(): v for k, v in answer.headers.items()}.get(DIGEST_HEADER.lower(), "")
        tell(100, "Report received.")
        return MisReport(as_of, scope.branch, kind, answer.content, digest)

    @staticmethod
    def save(report: MisReport, path: Path) -> Path:
        """Write the report whole or not at all: a temporary file beside it, then renamed."""
        if not path.parent.is_dir():
            raise ValueError(f"The folder {path.parent} does not exist.")
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".mis-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(report.content)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    @staticmethod
    def summary(report: MisReport) -> str:
        return f"{report.title} · figures SHA-256 {report.digest[:16]}…"

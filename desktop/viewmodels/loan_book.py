"""The loan-book wizard and the parallel-run view, without Qt: what the screen shows and what
it may offer next. The server does the work (upload, check, import, compare); this reads its
answers and keeps the wizard's one rule: the Import button is offered only after a clean
check of the very file chosen (a changed or another file must be checked again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from desktop.format import day, rupees
from desktop.viewmodels.online import (
    Api,
    UnexpectedAnswer,
    grouped,
    items,
    mapping,
    text,
    whole,
)

PROBLEM_COLUMNS = ("Sheet", "Row", "Column", "Value", "Problem")
MISMATCH_COLUMNS = (
    "Account",
    "Sheet outstanding",
    "LoanDesk outstanding",
    "Sheet DPD",
    "LoanDesk DPD",
    "Likely reason",
)


class Step(Enum):
    CHOOSE = "choose"
    CHECK = "check"
    FIX = "fix"
    IMPORT = "import"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class ImportAnswer:
    dry_run: bool
    written: bool
    loans: int
    schedule_rows: int
    payments: int
    problem_count: int
    problems: tuple[tuple[str, ...], ...]
    as_of: str

    @property
    def summary(self) -> str:
        counts = (
            f"{grouped(self.loans)} loans, {grouped(self.schedule_rows)} "
            f"schedule rows, {grouped(self.payments)} payments"
        )
        if self.problem_count:
            return (
                f"Refused: {grouped(self.problem_count)} problems; nothing was "
                "written. Fix them in the file and check again."
            )
        if self.dry_run:
            return f"Checked: {counts} can be imported. Nothing has been written yet."
        return f"Imported {counts}; delinquency settled as of the day-end of {self.as_of}."


def parse_import(data: Any) -> ImportAnswer:
    row = mapping(data, "the import's answer")
    problems = tuple(
        (
            text(p, "sheet"),
            str(whole(p, "row")),
            text(p, "column", optional=True),
            text(p, "value", optional=True),
            text(p, "problem"),
        )
        for p in (mapping(x, "a problem") for x in items(row.get("problems", []), "problems"))
    )
    as_of = row.get("as_of")
    return ImportAnswer(
        dry_run=bool(row.get("dry_run")),
        written=bool(row.get("written")),
        loans=whole(row, "loans"),
        schedule_rows=whole(row, "schedule_rows"),
        payments=whole(row, "payments"),
        problem_count=whole(row, "problem_count"),
        problems=problems,
        as_of=day(as_of) if isinstance(as_of, str) else "—",
    )


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """A check or import running on the server, as last polled: the share done (never going
    back; 100 only once finished), the step in words, and, once it has ended, how."""

    job_id: str
    state: str
    percent: int
    words: str
    cancel_asked: bool
    cancel_too_late: bool
    error: str
    answer: ImportAnswer | None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def ending(self) -> str:
        """What the screen says once the job has ended (its answer's summary aside)."""
        if self.state == "cancelled":
            return "Cancelled: nothing was written."
        if self.state == "failed":
            return f"Stopped, nothing was written: {self.error}"
        if self.cancel_too_late and self.answer is not None:
            return (
                "The import had already gone in when the cancel reached the server. "
                + self.answer.summary
            )
        return self.answer.summary if self.answer is not None else ""


def parse_progress(data: Any) -> ImportProgress:
    row = mapping(data, "the import's progress")
    state = text(row, "state")
    if state not in ("running", "finished", "cancelled", "failed"):
        raise UnexpectedAnswer(f"the import's state '{state}' is not one the desk knows")
    result = row.get("result")
    return ImportProgress(
        job_id=text(row, "id"),
        state=state,
        percent=max(0, min(100, whole(row, "percent"))),
        words=text(row, "words"),
        cancel_asked=bool(row.get("cancel_asked")),
        cancel_too_late=bool(row.get("cancel_too_late")),
        error=text(row, "error", optional=True),
        answer=parse_import(result) if result is not None else None,
    )


@dataclass(frozen=True, slots=True)
class ConvergenceAnswer:
    compared: int
    converged: int
    converged_bp: int
    mismatches: tuple[tuple[str, ...], ...]

    @property
    def summary(self) -> str:
        whole_part, part = divmod(self.converged_bp, 100)
        return (
            f"{grouped(self.converged)} of {grouped(self.compared)} loans agree: "
            f"{whole_part}.{part:02d}% converged"
        )


def _money(value: object) -> str:
    return rupees(value) if isinstance(value, int) else "—"


def parse_convergence(data: Any) -> ConvergenceAnswer:
    row = mapping(data, "the comparison")
    rows = tuple(
        (
            text(m, "account_no"),
            _money(m.get("sheet_outstanding_paise")),
            _money(m.get("loandesk_outstanding_paise")),
            str(m.get("sheet_dpd") or "—"),
            str(m.get("loandesk_dpd") or "—"),
            text(m, "reason"),
        )
        for m in (mapping(x, "a mismatch") for x in items(row.get("mismatches", []), "mismatches"))
    )
    return ConvergenceAnswer(
        whole(row, "compared"), whole(row, "converged"), whole(row, "converged_bp"), rows
    )


@dataclass(frozen=True, slots=True)
class Chosen:
    path: Path
    size: int
    modified: float

    @classmethod
    def of(cls, path: Path) -> Chosen:
        stat = path.stat()
        return cls(path, stat.st_size, stat.st_mtime)

    def unchanged(self) -> bool:
        return self.path.is_file() and Chosen.of(self.path) == self


class LoanBookViewModel:
    def __init__(self, api: Api) -> None:
        self._api = api
        self.chosen: Chosen | None = None
        self.checked: Chosen | None = None
        self.answer: ImportAnswer | None = None

    @property
    def step(self) -> Step:
        if self.chosen is None:
            return Step.CHOOSE
        if self.answer is not None and self.answer.written:
            return Step.DONE
        if self.answer is not None and self.answer.problem_count:
            return Step.FIX
        if self.checked == self.chosen:
            return Step.IMPORT
        return Step.CHECK

    def choose(self, path: Path) -> None:
        self.chosen, self.checked, self.answer = Chosen.of(path), None, None

    def can_import(self) -> bool:
        return self.step is Step.IMPORT and self.chosen is not None and self.chosen.unchanged()

    def start(self, *, dry_run: bool) -> ImportProgress:
        """Send the chosen file to be checked or imported in the background; the answer is the
        job to poll. Blocks on the upload: run from a background op."""
        assert self.chosen is not None
        if not dry_run and not self.can_import():
            raise ValueError("Check the file again: it changed since it was checked")
        flag = "true" if dry_run else "false"
        answer = self._api.request(
            "POST",
            "/book/imports",
            params={"dry_run": flag, "background": "true", "name": self.chosen.path.name},
            data=self.chosen.path.read_bytes(),
        )
        return parse_progress(answer)

    def poll(self, job_id: str) -> ImportProgress:
        return parse_progress(self._api.request("GET", f"/book/imports/{job_id}"))

    def cancel(self, job_id: str) -> ImportProgress:
        """Ask the server to stop: it rolls back at its next step. Keep polling to learn
        whether it stopped (nothing written) or had already committed."""
        return parse_progress(self._api.request("POST", f"/book/imports/{job_id}/cancel"))

    def took(self, answer: ImportAnswer, checked: Chosen | None) -> None:
        """The answer of a check or import of `checked` (None once the user cancelled)."""
        if checked is None or checked != self.chosen:
            return
        self.answer = answer
        self.checked = checked if answer.dry_run and not answer.problem_count else None

    def compare(self, sheet: Path, as_of: date) -> ConvergenceAnswer:
        answer = self._api.request(
            "POST", f"/book/convergence?as_of={as_of.isoformat()}", data=sheet.read_bytes()
        )
        return parse_convergence(answer)

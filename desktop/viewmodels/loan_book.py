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
from desktop.viewmodels.online import Api, grouped, items, mapping, text, whole

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

    def _send(self, dry_run: bool) -> ImportAnswer:
        assert self.chosen is not None
        flag = "true" if dry_run else "false"
        answer = self._api.request(
            "POST",
            f"/book/imports?dry_run={flag}&name={self.chosen.path.name}",
            data=self.chosen.path.read_bytes(),
        )
        return parse_import(answer)

    def check(self) -> ImportAnswer:
        """Blocks on the network: run from a background op."""
        return self._send(dry_run=True)

    def run_import(self) -> ImportAnswer:
        if not self.can_import():
            raise ValueError("Check the file again: it changed since it was checked")
        return self._send(dry_run=False)

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

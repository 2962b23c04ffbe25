"""Getting the loan book in (admin and finance): choose the workbook, check it (a dry run on
the server), read the problems, then import it; and the parallel run's comparison.

The server does all the work; this screen binds buttons to `LoanBookViewModel`. A check or
an import runs on the server as a job: the screen uploads the file (a background op), then
polls the job every POLL_MS, one poll at a time, and shows its share done on a determinate
bar with the step in words (rows read, rows checked, loans written). Cancel asks the server
to stop; the import is one transaction there, so it rolls back whole, and the screen keeps
polling until the server says how it ended: cancelled with nothing written, or, when the
cancel came after the commit, imported.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from desktop.operations import QueryOp
from desktop.qt import (
    QDate,
    QDateEdit,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._online import say
from desktop.screens._tables import RowsModel
from desktop.viewmodels.loan_book import (
    MISMATCH_COLUMNS,
    PROBLEM_COLUMNS,
    Chosen,
    ConvergenceAnswer,
    ImportProgress,
    LoanBookViewModel,
    Step,
)
from desktop.viewmodels.online import message_for
from loancore.roles import Action

HINTS = {
    Step.CHOOSE: "1. Choose the workbook (the template is resources/loan_book_template.xlsx).",
    Step.CHECK: "2. Check it: the server reads every row and writes nothing.",
    Step.FIX: "Fix the problems listed below in the file, then check it again.",
    Step.IMPORT: "3. Import: all of it goes in, or none of it.",
    Step.DONE: "Done: the loans are on the book.",
}
POLL_MS = 400
LOST_TOUCH = 30
"""Polls in a row that may fail (the network, a restarting server) before the screen stops
waiting and says what to check."""


def _table(model: RowsModel, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setVisible(False)
    return view


class LoanBookScreen(QWidget):
    def __init__(self, context: ScreenContext) -> None:
        super().__init__()
        self.vm = LoanBookViewModel(context.session.api)
        self._waiting: Chosen | None = None
        self.hint = QLabel(self)
        self.file_label = QLabel("No file chosen", self)
        self.choose_button = QPushButton("Choose workbook…", self)
        self.check_button = QPushButton("Check (dry run)", self)
        self.import_button = QPushButton("Import", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 100)
        self.busy.setTextVisible(True)
        self.busy.setAccessibleName("Import progress")
        self._job: str | None = None
        self._cancel_wanted = False
        self._lost = 0
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.problems = RowsModel(PROBLEM_COLUMNS, right=(1,), parent=self)
        self.problems_view = _table(self.problems, self)
        self.choose_button.clicked.connect(self._pick)
        self.check_button.clicked.connect(lambda: self._send(dry_run=True))
        self.import_button.clicked.connect(lambda: self._send(dry_run=False))
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        parts: list[QWidget] = [self.choose_button, self.file_label]
        for part in parts:
            row.addWidget(part)
        row.addStretch(1)
        buttons: list[QWidget] = [self.check_button, self.import_button, self.cancel_button]
        for part in buttons:
            row.addWidget(part)
        wizard = QGroupBox("Import the loan book", self)
        inner = QVBoxLayout(wizard)
        inner.addWidget(self.hint)
        inner.addLayout(row)
        below: list[QWidget] = [self.busy, self.message, self.problems_view]
        for part in below:
            inner.addWidget(part)
        self.as_of = QDateEdit(self)
        self.as_of.setDisplayFormat("dd-MM-yyyy")
        self.as_of.setCalendarPopup(True)
        self.as_of.setDate(QDate.currentDate().addDays(-1))
        self.compare_button = QPushButton("Compare a sheet…", self)
        self.compare_button.clicked.connect(self._pick_sheet)
        self.convergence = QLabel(
            "Parallel run: compare the lender's positions sheet with LoanDesk at a day-end.", self
        )
        self.mismatches = RowsModel(MISMATCH_COLUMNS, right=(1, 2, 3, 4), parent=self)
        parallel = QGroupBox("Parallel run", self)
        lower = QVBoxLayout(parallel)
        top = QHBoxLayout()
        top.addWidget(QLabel("As of", self))
        top.addWidget(self.as_of)
        top.addWidget(self.compare_button)
        top.addStretch(1)
        lower.addLayout(top)
        lower.addWidget(self.convergence)
        lower.addWidget(_table(self.mismatches, self))
        layout = QVBoxLayout(self)
        layout.addWidget(wizard, 3)
        layout.addWidget(parallel, 2)
        self._show()

    # -- the wizard ------------------------------------------------------------------------------

    def _pick(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Loan book", "", "Excel workbook (*.xlsx)")
        if name:
            self.choose(Path(name))

    def choose(self, path: Path) -> None:
        self.vm.choose(path)
        self.busy.setValue(0)
        self.file_label.setText(path.name)
        self.problems.set_rows([])
        say(self.message, "", error=False)
        self._show()

    def _send(self, *, dry_run: bool) -> None:
        self._waiting = self.vm.chosen
        self._job, self._cancel_wanted, self._lost = None, False, 0
        self._bar(0, "Sending the workbook to the server…")
        say(self.message, "", error=False)
        self._show()
        QueryOp(
            parent=self, op=lambda: self.vm.start(dry_run=dry_run), success=self._started
        ).failure(self._failed).run_in_background()

    def _bar(self, percent: int, words: str) -> None:
        self.busy.setValue(percent)
        self.busy.setFormat(f"{words} — %p%")

    def cancel(self) -> None:
        """Ask the server to stop; it writes nothing unless it had already committed, and the
        next polls say which."""
        if self._waiting is None:
            return
        self._cancel_wanted = True
        self.cancel_button.setEnabled(False)
        say(
            self.message,
            "Cancelling: the server stops at its next step and writes nothing…",
            error=False,
        )
        if self._job is not None:
            self._ask_cancel(self._job)

    def _ask_cancel(self, job: str) -> None:
        QueryOp(parent=self, op=lambda: self.vm.cancel(job), success=self._cancel_sent).failure(
            self._cancel_failed
        ).run_in_background()

    def _cancel_sent(self, progress: ImportProgress) -> None:
        """The polls already under way carry on to the end; this only shows the answer, or
        ends the wait when the job was already over."""
        if progress.running:
            if progress.job_id == self._job:
                self._bar(progress.percent, progress.words)
            return
        self._progressed(progress)

    def _cancel_failed(self, exc: Exception) -> None:
        self._cancel_wanted = False
        say(
            self.message,
            f"The cancel did not reach the server ({message_for(exc)}); the import goes on. "
            "Press Cancel again.",
            error=True,
        )
        self._show()

    def _started(self, progress: ImportProgress) -> None:
        self._job = progress.job_id
        self._progressed(progress)
        if self._cancel_wanted and progress.running:
            self._ask_cancel(progress.job_id)

    def _poll(self) -> None:
        job = self._job
        if job is None:
            return
        QueryOp(parent=self, op=lambda: self.vm.poll(job), success=self._progressed).failure(
            self._poll_failed
        ).run_in_background()

    def _progressed(self, progress: ImportProgress) -> None:
        if progress.job_id != self._job:
            return  # an answer about a job this screen has stopped waiting for
        self._lost = 0
        self._bar(progress.percent, progress.words)
        if progress.running:
            QTimer.singleShot(POLL_MS, self, self._poll)
            return
        waited, self._waiting, self._job = self._waiting, None, None
        if progress.answer is not None:
            self.vm.took(progress.answer, waited)
            self.problems.set_rows(list(progress.answer.problems))
        failed = progress.state == "failed" or bool(
            progress.answer and progress.answer.problem_count
        )
        say(self.message, progress.ending, error=failed)
        self._show()

    def _poll_failed(self, exc: Exception) -> None:
        self._lost += 1
        if self._lost < LOST_TOUCH and self._job is not None:
            say(self.message, f"{message_for(exc)} Still trying…", error=True)
            QTimer.singleShot(POLL_MS * 5, self, self._poll)
            return
        self._waiting = self._job = None
        say(
            self.message,
            "Lost touch with the server while it was working. The import either went in "
            "whole or not at all: check the loan list before sending it again.",
            error=True,
        )
        self._show()

    def _failed(self, exc: Exception) -> None:
        self._waiting = None
        say(self.message, message_for(exc), error=True)
        self._show()

    def _show(self) -> None:
        waiting = self._waiting is not None
        step = self.vm.step
        self.hint.setText(HINTS[step])
        self.busy.setVisible(waiting or self.busy.value() == 100)
        self.cancel_button.setEnabled(waiting and not self._cancel_wanted)
        self.choose_button.setEnabled(not waiting)
        self.check_button.setEnabled(not waiting and step in (Step.CHECK, Step.FIX, Step.IMPORT))
        self.import_button.setEnabled(not waiting and self.vm.can_import())

    # -- the parallel run ------------------------------------------------------------------------

    def _pick_sheet(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Positions sheet", "", "Excel (*.xlsx)")
        if name:
            self.compare(Path(name))

    def compare(self, sheet: Path) -> None:
        as_of: date = self.as_of.date().toPython()  # type: ignore[assignment]
        self.compare_button.setEnabled(False)
        QueryOp(
            parent=self, op=lambda: self.vm.compare(sheet, as_of), success=self._compared
        ).failure(self._compare_failed).run_in_background()

    def _compared(self, answer: ConvergenceAnswer) -> None:
        self.compare_button.setEnabled(True)
        self.convergence.setText(answer.summary)
        self.mismatches.set_rows(list(answer.mismatches))

    def _compare_failed(self, exc: Exception) -> None:
        self.compare_button.setEnabled(True)
        say(self.convergence, message_for(exc), error=True)


register(
    ScreenSpec(
        key="loan_book",
        title="Loan book",
        action=Action.IMPORT_LOANS,
        factory=LoanBookScreen,
        icon="import",
        order=95,
    )
)

"""Reconciliation, for finance: import a bank statement, work the queues, decide a bank line
beside its candidates, look at deposits and each collector's cash in hand, lock a period.

Thin: every figure and decision comes from `ReconciliationViewModel`, every call runs as an op
object (the import with a progress dialog), and the server's refusals are shown as it words
them. Online-only: without a connection the screen says so and offers Retry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop.format import day, rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._export import ExportButton
from desktop.screens._online import OnlineOnly
from desktop.screens.cash_deposit_form import CashDepositForm
from desktop.screens.listing import Listing, cash_rows, deposit_rows
from desktop.viewmodels.cash_deposits import CashDepositViewModel
from desktop.viewmodels.online import is_offline, message_for
from desktop.viewmodels.reconciliation import (
    CollectorCash,
    DepositRow,
    ImportSummary,
    LineView,
    Queues,
    ReconciliationViewModel,
)
from loancore.dates import business_date
from loancore.roles import Action


class ReconciliationScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reconciliationScreen")
        self.context = context
        self.vm = ReconciliationViewModel(context.session.api)
        self.may_reconcile = context.can(Action.RECONCILE)
        self.may_import = context.can(Action.IMPORT_BANK_STATEMENT)
        self.may_lock = context.can(Action.LOCK_PERIOD)
        self.queues: Queues | None = None
        self.line: LineView | None = None
        self.cash: tuple[CollectorCash, ...] = ()
        self.deposits: tuple[DepositRow, ...] = ()
        self.last_import: ImportSummary | None = None

        heading = QLabel("Reconciliation", self)
        heading.setObjectName("heading")
        self.lock_label = QLabel(self)
        self.message = QLabel(self)
        self.message.setObjectName("warning")
        self.message.setWordWrap(True)
        self.message.hide()
        self.refresh_button = QPushButton("Refresh (Ctrl+R)", self)
        self.refresh_button.setShortcut("Ctrl+R")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addWidget(self.lock_label, 1)
        top.addWidget(self.refresh_button)

        self.tabs = QTabWidget(self)
        self.unidentified = Listing(
            ("Line", "Account", "Value date", "Amount", "Narration"),
            "No unidentified receipts: every bank credit is matched.",
            {3},
            self,
        )
        self.missing = Listing(
            ("Kind", "Date", "Amount", "Mode", "Reference", "Loan / account"),
            "Nothing missing in the bank: every payment and deposit older than three working "
            "days is matched.",
            {2},
            self,
        )
        self.held = Listing(
            ("Collector", "Received on", "Amount", "Receipt", "Loan"),
            "No cash held past a working day: every receipt is in a deposit.",
            {2},
            self,
        )
        self.reversed = Listing(
            ("Line", "Payment", "Amount", "Reversal", "Why"),
            "No matched payment has been reversed.",
            {2},
            self,
        )
        self.collectors = Listing(
            ("Collector", "Receipts", "Cash in hand", "Oldest", "Age (days)"),
            "No collector holds cash: everything received is deposited.",
            {1, 2, 4},
            self,
        )
        self.deposit_list = Listing(
            ("Slip", "Bank account", "Date", "Total", "Receipts"),
            "No cash deposits yet. Branch managers make them from the day's cash receipts.",
            {3, 4},
            self,
        )
        self.foreign = Listing(
            ("Line", "Account", "Value date", "Amount", "Narration"),
            "No credit in another currency. Such lines are shown here and never matched.",
            {3},
            self,
        )
        self.deposit_form = CashDepositForm(
            CashDepositViewModel(context.session.api),
            business_date(context.clock()),
            context.can(Action.MAKE_CASH_DEPOSIT),
            self,
        )
        self.deposit_form.made.connect(lambda _deposit: self.reload())
        work = QSplitter(self)
        work.addWidget(self.unidentified)
        work.addWidget(self._build_line_panel())
        work.setStretchFactor(0, 3)
        work.setStretchFactor(1, 2)
        self.tabs.addTab(work, "Unidentified receipts")
        self.tabs.addTab(self.missing, "Missing in bank")
        self.tabs.addTab(self.held, "Cash in hand")
        self.tabs.addTab(self.reversed, "Reversed after match")
        self.tabs.addTab(self.collectors, "Cash by collector")
        self.tabs.addTab(self.deposit_list, "Deposits")
        self.tabs.addTab(self.foreign, "Other currency (never matched)")
        self.tabs.addTab(self.deposit_form, "Make a deposit")
        # Export (Ctrl+E) takes the queue on show, as shown; the deposit form has no rows.
        self.queue_tables = {
            0: (self.unidentified, "Unidentified receipts"),
            1: (self.missing, "Missing in bank"),
            2: (self.held, "Cash in hand"),
            3: (self.reversed, "Reversed after match"),
            4: (self.collectors, "Cash by collector"),
            5: (self.deposit_list, "Deposits"),
            6: (self.foreign, "Other currency"),
        }
        self.export_button = ExportButton(self, self.unidentified.view, "Unidentified receipts")
        top.insertWidget(top.count() - 1, self.export_button)
        self.tabs.currentChanged.connect(self._export_follows_tab)

        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self._build_import_bar())
        body_layout.addWidget(self.tabs, 1)
        body_layout.addWidget(self._build_lock_bar())
        self.panel = OnlineOnly(body, self)
        self.panel.retry.connect(self.reload)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.panel, 1)

        self.refresh_button.clicked.connect(self.reload)
        self.unidentified.view.selectionModel().currentRowChanged.connect(self._line_chosen)
        self.reversed.view.selectionModel().currentRowChanged.connect(self._reversed_chosen)
        self._show_line(None)
        self.reload()

    # -- building --------------------------------------------------------------------------

    def _build_import_bar(self) -> QWidget:
        box = QGroupBox("Import a bank statement (MT940, camt.053, CSV or XLSX)", self)
        self.account = QLineEdit(box)
        self.account.setPlaceholderText("bank account code, if the file does not name one")
        self.column_mapping = QLineEdit(box)
        self.column_mapping.setPlaceholderText("saved column mapping (CSV/XLSX), optional")
        self.import_button = QPushButton("Import statement… (Ctrl+I)", box)
        self.import_button.setShortcut("Ctrl+I")
        self.import_button.setEnabled(self.may_import)
        row = QHBoxLayout(box)
        row.addWidget(self.account, 1)
        row.addWidget(self.column_mapping, 1)
        row.addWidget(self.import_button)
        self.import_button.clicked.connect(self._choose_file)
        return box

    def _build_line_panel(self) -> QWidget:
        box = QGroupBox("Bank line and its candidates", self)
        self.line_label = QLabel(box)
        self.line_label.setWordWrap(True)
        self.candidates = Listing(
            ("Kind", "Step", "Days apart", "Name score", "Why it ranks here"),
            "Choose a bank line to see the payments and deposits that could be it.",
            {2, 3},
            box,
        )
        self.reason = QLineEdit(box)
        self.reason.setPlaceholderText("Why: the reason is kept with the decision")
        self.match_button = QPushButton("Match to chosen candidate", box)
        self.unmatch_button = QPushButton("Unmatch", box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.match_button)
        buttons.addWidget(self.unmatch_button)
        layout = QVBoxLayout(box)
        layout.addWidget(self.line_label)
        layout.addWidget(self.candidates, 1)
        layout.addWidget(self.reason)
        layout.addLayout(buttons)
        self.match_button.clicked.connect(self.match_chosen)
        self.unmatch_button.clicked.connect(self.unmatch_line)
        return box

    def _build_lock_bar(self) -> QWidget:
        box = QGroupBox("Lock a reconciled period", self)
        self.lock_through = QLineEdit(box)
        self.lock_through.setPlaceholderText("DD-MM-YYYY")
        self.lock_note = QLineEdit(box)
        self.lock_note.setPlaceholderText("note, e.g. November weeks 1-4")
        self.lock_button = QPushButton("Lock", box)
        self.unlock_reason = QLineEdit(box)
        self.unlock_reason.setPlaceholderText("why the latest lock must be lifted")
        self.unlock_button = QPushButton("Unlock", box)
        form = QFormLayout(box)
        locking = QHBoxLayout()
        locking.addWidget(self.lock_through)
        locking.addWidget(self.lock_note, 1)
        locking.addWidget(self.lock_button)
        unlocking = QHBoxLayout()
        unlocking.addWidget(self.unlock_reason, 1)
        unlocking.addWidget(self.unlock_button)
        form.addRow("Lock through", locking)
        form.addRow("Unlock", unlocking)
        box.setEnabled(self.may_lock)
        self.lock_button.clicked.connect(self.lock_period)
        self.unlock_button.clicked.connect(self.unlock_period)
        return box

    # -- loading ---------------------------------------------------------------------------

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.refresh_button.setEnabled(False)
        vm = self.vm

        def everything() -> tuple[Queues, tuple[CollectorCash, ...], tuple[DepositRow, ...]]:
            return vm.queues(), vm.cash_in_hand(), vm.deposits()

        self._run(everything, self._loaded)

    def _loaded(
        self, found: tuple[Queues, tuple[CollectorCash, ...], tuple[DepositRow, ...]]
    ) -> None:
        self.queues, self.cash, self.deposits = found
        queues = self.queues
        self.panel.show_content()
        self.refresh_button.setEnabled(True)
        self.lock_label.setText(queues.lock_text)
        self.unidentified.show_rows(
            [
                (str(q.line_id), q.account, day(q.value_date), rupees(q.amount_paise), q.narration)
                for q in queues.unidentified
            ]
        )
        self.missing.show_rows(
            [
                (m.kind, day(m.on), rupees(m.amount_paise), m.mode, m.reference, m.where)
                for m in queues.missing_in_bank
            ]
        )
        self.held.show_rows(
            [
                (h.collector, day(h.on), rupees(h.amount_paise), h.reference, h.account_no)
                for h in queues.cash_in_hand
            ]
        )
        self.reversed.show_rows(
            [
                (str(r.line_id), r.payment_id[:8], rupees(r.amount_paise), r.status, r.reason)
                for r in queues.reversed_after_match
            ]
        )
        self.collectors.show_rows(cash_rows(self.cash))
        self.deposit_list.show_rows(deposit_rows(self.deposits))
        self.foreign.show_rows(
            [
                (str(f.line_id), f.account, day(f.value_date), f.amount_text, f.narration)
                for f in queues.other_currency
            ]
        )
        self.deposit_form.load()
        for index, (label, n) in enumerate(
            (
                ("Unidentified receipts", len(queues.unidentified)),
                ("Missing in bank", len(queues.missing_in_bank)),
                ("Cash in hand", len(queues.cash_in_hand)),
                ("Reversed after match", len(queues.reversed_after_match)),
                ("Cash by collector", len(self.cash)),
                ("Deposits", len(self.deposits)),
                ("Other currency (never matched)", len(queues.other_currency)),
            )
        ):
            self.tabs.setTabText(index, f"{label} ({n})")
        if self.line is not None:
            self.open_line(self.line.line_id)

    def _export_follows_tab(self, index: int) -> None:
        shown = self.queue_tables.get(index)
        self.export_button.setEnabled(shown is not None)
        if shown is not None:
            self.export_button.table, self.export_button.title = shown[0].view, shown[1]

    # -- a bank line -----------------------------------------------------------------------

    def _line_chosen(self) -> None:
        row = self.unidentified.view.currentIndex().row()
        if self.queues is not None and 0 <= row < len(self.queues.unidentified):
            self.open_line(self.queues.unidentified[row].line_id)

    def _reversed_chosen(self) -> None:
        row = self.reversed.view.currentIndex().row()
        if self.queues is not None and 0 <= row < len(self.queues.reversed_after_match):
            self.tabs.setCurrentIndex(0)
            self.open_line(self.queues.reversed_after_match[row].line_id)

    def open_line(self, line_id: int) -> None:
        self._run(lambda: self.vm.line(line_id), self._show_line)

    def _show_line(self, line: LineView | None) -> None:
        self.line = line
        if line is None:
            self.line_label.setText("Choose a bank line on the left.")
            self.candidates.show_rows([])
        else:
            state = (
                f"Matched to {line.matched_to} ({line.match_reason})"
                if line.matched_to
                else line.why_not_automatic or ""
            )
            self.line_label.setText(
                f"Line {line.line_id}, {day(line.value_date)}, {rupees(line.amount_paise)} "
                f"{line.currency}\n{line.narration}\n{state}"
            )
            self.candidates.show_rows(
                [
                    (c.kind, c.step_text, str(c.days_apart), str(c.name_score), c.reason)
                    for c in line.candidates
                ]
            )
        matched = line is not None and line.matched_to is not None
        self.match_button.setEnabled(self.may_reconcile and line is not None and not matched)
        self.unmatch_button.setEnabled(self.may_reconcile and matched)

    def match_chosen(self) -> None:
        line = self.line
        row = self.candidates.view.currentIndex().row()
        if line is None or not 0 <= row < len(line.candidates):
            self._say("Choose the candidate this line is, then press Match.")
            return
        candidate, reason = line.candidates[row], self.reason.text()
        self._write(lambda: self.vm.match(line.line_id, candidate, reason), self._decided)

    def unmatch_line(self) -> None:
        line = self.line
        if line is None:
            return
        reason = self.reason.text()
        self._write(lambda: self.vm.unmatch(line.line_id, reason), self._decided)

    def _decided(self, line: LineView) -> None:
        self.reason.clear()
        self._say("")
        self._show_line(line)
        self.reload()

    # -- import and locks ------------------------------------------------------------------

    def _choose_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Bank statement", "", "Statements (*.sta *.mt940 *.txt *.xml *.csv *.xlsx)"
        )
        if chosen:
            self.import_file(Path(chosen))

    def import_file(self, path: Path) -> None:
        account, chosen_mapping = self.account.text(), self.column_mapping.text()
        self.import_button.setEnabled(False)
        QueryOp(
            parent=self,
            op=lambda: self.vm.import_statement(path, account, chosen_mapping),
            success=self._imported,
        ).failure(self._failed).with_progress(f"Importing {path.name}…").run_in_background()

    def _imported(self, summary: ImportSummary) -> None:
        self.last_import = summary
        self.import_button.setEnabled(self.may_import)
        self._say(summary.sentence, warning=False)
        self.reload()

    def lock_period(self) -> None:
        through, note = self.lock_through.text(), self.lock_note.text()
        self._write(lambda: self.vm.lock(through, note), self._locked)

    def unlock_period(self) -> None:
        reason = self.unlock_reason.text()
        self._write(lambda: self.vm.unlock_latest(reason), self._locked)

    def _locked(self, _through: object) -> None:
        self.lock_through.clear()
        self.lock_note.clear()
        self.unlock_reason.clear()
        self._say("")
        self.reload()

    # -- plumbing --------------------------------------------------------------------------

    def _run(self, op: Callable[[], object], success: Callable[..., object]) -> None:
        QueryOp(parent=self, op=op, success=success).failure(self._failed).run_in_background()

    def _write(self, op: Callable[[], object], success: Callable[..., object]) -> None:
        QueryOp(parent=self, op=op, success=success).failure(self._failed).with_progress(
            "Sending…"
        ).run_in_background()

    def _say(self, words: str, *, warning: bool = True) -> None:
        self.message.setObjectName("warning" if warning else "notice")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(words)
        self.message.setVisible(bool(words))

    def _failed(self, exc: Exception) -> None:
        self.refresh_button.setEnabled(True)
        self.import_button.setEnabled(self.may_import)
        if is_offline(exc) and self.queues is None:
            self.panel.show_offline()
            return
        self._say(message_for(exc))


register(
    ScreenSpec(
        key="reconciliation",
        title="Reconciliation",
        action=Action.VIEW_RECONCILIATION,
        factory=ReconciliationScreen,
        icon="reconcile",
        order=65,
    )
)

"""One loan in full, as a window over the loans list: header, schedule, payments (pending ones
marked), promises, disputes, legal case and, when connected, the audit trail.

It is a window of its own rather than a registered screen because it is always about one
loan, opened from a list; several can be open side by side, as desks compare accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from desktop.format import asset_class_label, day, instant, rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QAbstractItemView,
    QDesktopServices,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    Qt,
    QTableView,
    QTabWidget,
    QUrl,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext
from desktop.screens._tables import RowsModel
from desktop.screens.record_payment import open_record_payment, receipts_folder
from desktop.signals import Topic
from desktop.viewmodels.foreclosure import write_foreclosure_statement
from desktop.viewmodels.loan_detail import (
    OFFLINE_AUDIT_NOTE,
    AuditLine,
    LoanDetail,
    NoteLine,
    fetch_audit,
)
from desktop.viewmodels.loan_history import OFFLINE_HISTORY_NOTE, HistoryLine, fetch_history
from loancore.acceptance import PaymentMode
from loancore.roles import Action

_SHOWN_TOPICS = frozenset(
    {Topic.LOANS, Topic.PAYMENTS, Topic.PROMISES, Topic.DISPUTES, Topic.LEGAL, Topic.SYNC}
)


def _mode_label(value: str) -> str:
    try:
        label = PaymentMode(value).label
    except ValueError:
        return value
    return label[0].upper() + label[1:]


def _table(parent: QWidget, model: RowsModel, stretch: int) -> QTableView:
    table = QTableView(parent)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def _notes(lines: Sequence[NoteLine]) -> list[tuple[str, ...]]:
    return [(day(line.when), line.title, line.detail) for line in lines]


class LoanDetailDialog(QDialog):
    def __init__(self, context: ScreenContext, loan_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loanDetail")
        self.context = context
        self.loan_id = loan_id
        self.vm = context.book.loan_detail(
            loan_id, business_date=context.book.business_date(context.clock())
        )
        self.resize(980, 640)
        self.title = QLabel(self)
        self.title.setObjectName("heading")
        self.standing = QLabel(self)
        self.standing.setObjectName("subheading")
        self.facts = QLabel(self)
        self.facts.setWordWrap(True)
        self.pay_button = QPushButton("Record payment…", self)
        self.pay_button.setAutoDefault(False)
        self.pay_button.setVisible(context.can(Action.RECORD_PAYMENT))
        self.pay_button.clicked.connect(self._record_payment)
        self.statement_button = QPushButton("Foreclosure statement", self)
        self.statement_button.setAutoDefault(False)
        self.statement_button.clicked.connect(self.write_statement)
        self.statement_path: Path | None = None
        heading = QVBoxLayout()
        heading.addWidget(self.title)
        heading.addWidget(self.standing)
        top = QHBoxLayout()
        top.addLayout(heading, 1)
        top.addWidget(self.statement_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.pay_button, 0, Qt.AlignmentFlag.AlignTop)

        self.schedule = RowsModel(
            ("#", "Due date", "Principal", "Interest", "Paid", "State"), right={2, 3, 4}
        )
        self.payments = RowsModel(
            ("Date", "Amount", "Mode", "Reference", "State", "Split"), right={1}
        )
        self.promises = RowsModel(("Promised for", "Promise", "Note"))
        self.disputes = RowsModel(("Opened", "Dispute", "Detail"))
        self.legal = RowsModel(("Opened", "Case", "Detail"))
        self.audit = RowsModel(("When", "Who", "Action", "Outcome", "Detail"))
        self.history = RowsModel(
            ("Day-end", "DPD", "Collections DPD", "Bucket", "Class", "Arrears"), right={1, 2, 5}
        )
        self.history_note = QLabel(self)
        self.history_note.setWordWrap(True)
        self.audit_note = QLabel(self)
        self.audit_note.setWordWrap(True)
        self.audit_note.setObjectName("auditNote")

        self.tabs = QTabWidget(self)
        self.tabs.addTab(_table(self, self.schedule, 5), "Schedule")
        self.payment_table = _table(self, self.payments, 5)
        self.payment_table.setWordWrap(True)
        self.payment_table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.tabs.addTab(self.payment_table, "Payments")
        self.tabs.addTab(_table(self, self.promises, 2), "Promises")
        self.tabs.addTab(_table(self, self.disputes, 2), "Disputes")
        self.tabs.addTab(_table(self, self.legal, 2), "Legal")
        audit_page = QWidget(self)
        audit_layout = QVBoxLayout(audit_page)
        audit_layout.addWidget(self.audit_note)
        audit_layout.addWidget(_table(audit_page, self.audit, 4))
        self.tabs.addTab(audit_page, "Audit trail")
        history_page = QWidget(self)
        history_layout = QVBoxLayout(history_page)
        history_layout.addWidget(self.history_note)
        history_layout.addWidget(_table(history_page, self.history, 0))
        self.tabs.addTab(history_page, "History")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.facts)
        layout.addWidget(self.tabs, 1)
        context.changes.changed.connect(self._data_changed)
        self.pay_button.setEnabled(False)  # until the loan is read: a closed one takes none
        self.statement_button.setEnabled(False)
        self.reload()
        self.load_audit()
        self.load_history()

    def reload(self) -> None:
        """Reads the loan off the UI thread; what is shown stays until it comes."""
        QueryOp(parent=self, op=self.vm.load, success=self.show_detail).run_in_background()

    def show_detail(self, detail: LoanDetail) -> None:
        head = detail.header
        self.setWindowTitle(f"Loan {head.account_no} — {head.borrower_name}")
        dispute = " · dispute open (DPD frozen)" if head.dispute_open else ""
        self.title.setText(f"{head.account_no} — {head.borrower_name}")
        self.standing.setText(
            f"{head.status.replace('_', ' ').capitalize()} · DPD {head.dpd} · "
            f"{head.bucket_label} · {asset_class_label(head.asset_class or None)}{dispute}"
        )
        self.facts.setText(
            f"Outstanding principal {rupees(head.outstanding_paise)} · "
            f"charges {rupees(head.charges_paise)} · EMI {rupees(head.emi_paise)} · "
            f"next due {day(head.next_due)} · disbursed {day(head.disbursement_date)}\n"
            f"Phone {head.phone or '—'} · {head.address or 'no address on file'}"
            + (
                f"\nNeeded to close today ({day(detail.closing.on)}): "
                f"{rupees(detail.closing.total)}"
                if detail.closing is not None
                else ""
            )
        )
        self.pay_button.setEnabled(head.status == "active")
        self.statement_button.setEnabled(detail.closing is not None)
        self.schedule.set_rows(
            [
                (
                    str(line.seq),
                    day(line.due_date),
                    rupees(line.principal_due, symbol=False),
                    rupees(line.interest_due, symbol=False),
                    rupees(line.paid_paise, symbol=False),
                    line.state,
                )
                for line in detail.schedule
            ]
        )
        self.payments.set_rows(
            [
                (
                    day(line.payment_date),
                    rupees(line.amount_paise),
                    _mode_label(line.mode),
                    line.reference,
                    line.state,
                    line.split.replace("; ", "\n"),
                )
                for line in detail.payments
            ]
        )
        self.promises.set_rows(_notes(detail.promises))
        self.disputes.set_rows(_notes(detail.disputes))
        self.legal.set_rows(_notes(detail.legal_cases))
        self.tabs.setTabText(1, f"Payments ({len(detail.payments)})")
        self.tabs.setTabText(4, f"Legal ({len(detail.legal_cases)})")

    def load_audit(self) -> None:
        self.audit_note.setText("Fetching the audit trail from the server…")
        api = self.context.session.api
        QueryOp(
            parent=self, op=lambda: fetch_audit(api, self.loan_id), success=self._show_audit
        ).failure(self._audit_unavailable).run_in_background()

    def load_history(self) -> None:
        self.history_note.setText("Fetching the loan's history from the server…")
        api = self.context.session.api
        QueryOp(
            parent=self, op=lambda: fetch_history(api, self.loan_id), success=self._show_history
        ).failure(self._history_unavailable).run_in_background()

    def _show_history(self, lines: list[HistoryLine]) -> None:
        self.history_note.setText(
            f"DPD, bucket, class and arrears at each of the last {len(lines)} day-ends, "
            "newest first, from the server."
        )
        self.history.set_rows([line.cells() for line in lines])

    def _history_unavailable(self, exc: Exception) -> None:
        self.history_note.setText(OFFLINE_HISTORY_NOTE)
        self.history.set_rows([])

    def _show_audit(self, lines: list[AuditLine]) -> None:
        self.audit_note.setText(f"{len(lines)} entries, newest first, from the server.")
        self.audit.set_rows(
            [(instant(a.at), a.actor, a.action, a.outcome, a.detail) for a in lines]
        )

    def _audit_unavailable(self, exc: Exception) -> None:
        self.audit_note.setText(OFFLINE_AUDIT_NOTE)
        self.audit.set_rows([])

    def write_statement(self) -> None:
        """The borrower's foreclosure statement for today, written in the background next to
        the receipts and handed to the PC's PDF viewer."""
        statement = self.vm.foreclosure_statement()
        target = receipts_folder(self.context) / (
            f"foreclosure-{statement.account_no}-{day(statement.quote.on)}.pdf"
        )
        QueryOp(
            parent=self,
            op=lambda: write_foreclosure_statement(statement, target),
            success=self._statement_written,
        ).run_in_background()

    def _statement_written(self, path: Path) -> None:
        self.statement_path = path
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.audit_note.setText(f"Foreclosure statement saved as {path}")

    def _record_payment(self) -> None:
        open_record_payment(self.context, self.loan_id, self)

    def _data_changed(self, topics: frozenset[Topic]) -> None:
        if topics & _SHOWN_TOPICS:
            self.reload()


def open_loan_detail(
    context: ScreenContext, loan_id: str, parent: QWidget | None = None
) -> LoanDetailDialog:
    """Opens the loan's window (not modal: the list stays usable) and returns it."""
    dialog = LoanDetailDialog(context, loan_id, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog

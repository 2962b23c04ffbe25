"""Cash deposits, for the branch: each collector's cash in hand and how old it is, and the form
that gathers the day's cash receipts into one bank deposit (slip or pickup number, account,
date).

Finance reaches deposits inside Reconciliation; a branch manager, who makes them, cannot open
that screen, so this one carries just the branch's part. The server lists only the manager's
own branch and refuses another branch's receipts. Thin: the figures come from the
reconciliation and deposit view-models, every call runs as an op object, and a deposit made
reloads the cash in hand. Online-only: without a connection it says so and offers Retry.
"""

from __future__ import annotations

from desktop.format import rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._online import OnlineOnly
from desktop.screens.cash_deposit_form import CashDepositForm
from desktop.screens.listing import Listing, cash_rows, deposit_rows
from desktop.viewmodels.cash_deposits import CashDepositViewModel
from desktop.viewmodels.online import is_offline, message_for
from desktop.viewmodels.reconciliation import CollectorCash, DepositRow, ReconciliationViewModel
from loancore.dates import business_date
from loancore.roles import Action

NO_CASH = "No cash waiting to be deposited: every cash receipt is in a deposit."
NO_DEPOSITS = "No deposits yet: tick the day's cash receipts on the right and make one."
SEND_KEYS = "Ctrl+Return"
"""Not the form's usual Ctrl+D: the window gives Ctrl+D to My day, which branch managers have."""


def cash_sentence(cash: tuple[CollectorCash, ...]) -> str:
    """E.g. "₹12,500.00 in 3 receipts with 2 collectors; the oldest is 4 days old"."""
    if not cash:
        return ""
    total = sum(c.amount_paise for c in cash)
    receipts = sum(c.receipts for c in cash)
    oldest = max(c.age_days for c in cash)
    people = "1 collector" if len(cash) == 1 else f"{len(cash)} collectors"
    counted = "1 receipt" if receipts == 1 else f"{receipts} receipts"
    age = "received today" if oldest == 0 else f"the oldest is {oldest} day{'s' * (oldest > 1)} old"
    return f"{rupees(total)} in {counted} with {people}; {age}"


class CashDepositsScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cashDepositsScreen")
        self.context = context
        self.vm = ReconciliationViewModel(context.session.api)
        self.cash: tuple[CollectorCash, ...] | None = None
        self.deposits: tuple[DepositRow, ...] = ()

        heading = QLabel("Cash deposits", self)
        heading.setObjectName("heading")
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)  # a long sentence wraps rather than widening the screen
        self.refresh_button = QPushButton("Refresh (Ctrl+R)", self)
        self.refresh_button.setShortcut("Ctrl+R")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button)
        self.message = QLabel(self)
        self.message.setObjectName("warning")
        self.message.setWordWrap(True)
        self.message.hide()

        held = QGroupBox("Cash in hand by collector (received, not yet deposited)", self)
        self.collectors = Listing(
            ("Collector", "Receipts", "Cash in hand", "Oldest", "Age (days)"),
            NO_CASH,
            {1, 2, 4},
            held,
        )
        QVBoxLayout(held).addWidget(self.collectors)
        made = QGroupBox("Deposits made", self)
        self.deposit_list = Listing(
            ("Slip", "Bank account", "Date", "Total", "Receipts"), NO_DEPOSITS, {3, 4}, made
        )
        QVBoxLayout(made).addWidget(self.deposit_list)
        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(held)
        left.addWidget(made)

        form_box = QGroupBox("Make a deposit", self)
        self.deposit_form = CashDepositForm(
            CashDepositViewModel(context.session.api),
            business_date(context.clock()),
            context.can(Action.MAKE_CASH_DEPOSIT),
            form_box,
            send_keys=SEND_KEYS,
        )
        QVBoxLayout(form_box).addWidget(self.deposit_form)
        self.deposit_form.made.connect(lambda _deposit: self.reload(with_form=False))

        body = QSplitter(self)
        body.addWidget(left)
        body.addWidget(form_box)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        # Three parts to the figures, two to the form, from the first show (stretch factors
        # share only what is left over): split evenly, the cash table's Age column scrolled out
        # of view in a first-run (1,100-pixel) window.
        body.setSizes([600, 400])
        self.panel = OnlineOnly(body, self)
        self.panel.retry.connect(self.reload)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.panel, 1)
        self.refresh_button.clicked.connect(self.reload)
        self.reload()

    def activated(self) -> None:
        self.reload()

    def reload(self, *, with_form: bool = True) -> None:
        """Cash in hand and the deposits; the form reloads its receipts itself after a deposit."""
        self.refresh_button.setEnabled(False)
        vm = self.vm

        def both() -> tuple[tuple[CollectorCash, ...], tuple[DepositRow, ...]]:
            return vm.cash_in_hand(), vm.deposits()

        QueryOp(parent=self, op=both, success=self._loaded).failure(
            self._failed
        ).run_in_background()
        if with_form:
            self.deposit_form.load()

    def _loaded(self, found: tuple[tuple[CollectorCash, ...], tuple[DepositRow, ...]]) -> None:
        self.cash, self.deposits = found
        self.panel.show_content()
        self.refresh_button.setEnabled(True)
        self.message.hide()
        self.summary.setText(cash_sentence(self.cash))
        self.collectors.show_rows(cash_rows(self.cash))
        self.deposit_list.show_rows(deposit_rows(self.deposits))

    def _failed(self, exc: Exception) -> None:
        self.refresh_button.setEnabled(True)
        if is_offline(exc) and self.cash is None:
            self.panel.show_offline()
            return
        self.message.setText(message_for(exc))
        self.message.show()


register(
    ScreenSpec(
        key="cash_deposits",
        title="Cash deposits",
        action=Action.MAKE_CASH_DEPOSIT,
        factory=CashDepositsScreen,
        icon="rupee",
        order=50,
    )
)

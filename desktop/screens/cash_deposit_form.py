"""The form where branch staff make a cash deposit: tick the cash receipts the slip carries,
give the slip or pickup number, choose the bank account (the open collection accounts of the
branch, from a list an admin keeps under Collection accounts) and the date, and send.

Thin: the receipts and the decision come from `CashDepositViewModel`; each call runs as an op
object; a refusal (a receipt already in a deposit, a slip used twice) is shown in the server's
words beside the form, and nothing is kept. Keyboard: Tab through the fields, Space ticks a
receipt, Ctrl+A ticks all, Ctrl+D sends (or the keys the hosting screen gives, where the
window already uses Ctrl+D).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from desktop.format import day, rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QShortcut,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.viewmodels.bank_accounts import WHO_SETS_UP, BankAccount
from desktop.viewmodels.cash_deposits import CashDepositViewModel, CashReceipt
from desktop.viewmodels.online import message_for
from desktop.viewmodels.reconciliation import DepositRow

NO_RECEIPTS = "No cash receipt waits for a deposit: everything received is deposited."


class CashDepositForm(QWidget):
    """Emits `made` with the deposit the server kept."""

    made = Signal(object)

    def __init__(
        self,
        vm: CashDepositViewModel,
        today: date,
        allowed: bool,
        parent: QWidget | None = None,
        *,
        send_keys: str = "Ctrl+D",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("cashDepositForm")
        self.vm = vm
        self.allowed = allowed
        self.receipts: tuple[CashReceipt, ...] = ()
        self.receipt_list = QListWidget(self)
        self.receipt_list.setObjectName("depositReceipts")
        self.receipt_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.receipt_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.empty = QLabel(NO_RECEIPTS, self)
        self.empty.setObjectName("emptyState")
        self.empty.hide()
        self.total = QLabel(self)
        self.total.setWordWrap(True)  # beside the button it may take two lines, not the width
        self.slip = QLineEdit(self)
        self.slip.setPlaceholderText("slip or pickup number, as on the counterfoil")
        self.slip.setMaxLength(32)
        self.accounts: tuple[BankAccount, ...] = ()
        self.account = QComboBox(self)
        self.account.setObjectName("depositAccount")
        self.account.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.account.setMinimumContentsLength(16)
        self.no_account = QLabel(WHO_SETS_UP, self)
        self.no_account.setObjectName("warning")
        self.no_account.setWordWrap(True)
        self.no_account.hide()
        self.on = QLineEdit(day(today), self)
        self.on.setPlaceholderText("DD-MM-YYYY")
        self.send = QPushButton(f"Make deposit ({send_keys})", self)
        self.send.setShortcut(send_keys)
        self.message = QLabel(self)
        self.message.setObjectName("warning")
        self.message.setWordWrap(True)
        self.message.hide()
        fields = QFormLayout()
        fields.addRow("Slip / pickup no.", self.slip)
        fields.addRow("Bank account", self.account)
        fields.addRow("Deposit date", self.on)
        bottom = QHBoxLayout()
        bottom.addWidget(self.total, 1)
        bottom.addWidget(self.send)
        layout = QVBoxLayout(self)
        intro = QLabel("Cash receipts in no deposit yet (Space ticks, Ctrl+A all):", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.receipt_list, 1)
        layout.addWidget(self.empty)
        layout.addLayout(fields)
        layout.addWidget(self.no_account)
        layout.addLayout(bottom)
        layout.addWidget(self.message)
        QShortcut(
            QKeySequence("Ctrl+A"),
            self.receipt_list,
            self.tick_all,
            Qt.ShortcutContext.WidgetShortcut,
        )
        self.receipt_list.itemChanged.connect(self._choice_changed)
        self.send.clicked.connect(self.submit)
        self.setEnabled(allowed)
        self._show_total()

    def load(self) -> None:
        if self.allowed:
            self._run(self.vm.load, self._loaded, progress=None)

    def _loaded(self, found: tuple[tuple[CashReceipt, ...], tuple[BankAccount, ...]]) -> None:
        receipts, accounts = found
        self.show_accounts(accounts)
        self.show_receipts(receipts)

    def show_accounts(self, accounts: tuple[BankAccount, ...]) -> None:
        """The open accounts as a choice list, the one chosen before kept; none: who sets
        them up, and nothing can be sent."""
        kept = self.account.currentData()
        self.accounts = accounts
        self.account.clear()
        for account in accounts:
            self.account.addItem(account.choice, account.code)
            self.account.setItemData(
                self.account.count() - 1,
                f"{account.choice} · {account.branch or 'any branch'}",
                Qt.ItemDataRole.ToolTipRole,
            )
        if kept is not None and self.account.findData(kept) >= 0:
            self.account.setCurrentIndex(self.account.findData(kept))
        self.account.setEnabled(bool(accounts))
        self.no_account.setVisible(not accounts)
        self.send.setEnabled(bool(accounts))

    def show_receipts(self, receipts: tuple[CashReceipt, ...]) -> None:
        # A refresh landing while the manager ticks (each deposit reloads the list, and the
        # screen may reload it too) keeps the ticks and the row of the receipts still listed.
        # The rebuild is not the manager changing the choice: its ticks do not clear a refusal
        # (a reload landing after the server's answer wiped it); only a choice that changed does.
        ticked = {r.payment_id for r in self.chosen()}
        current = self.receipt_list.currentRow()
        was_on = self.receipts[current].payment_id if 0 <= current < len(self.receipts) else None
        self.receipts = receipts
        self.receipt_list.blockSignals(True)
        self.receipt_list.clear()
        for receipt in receipts:
            # The amount first: it is what the slip adds up; a narrow form elides the tail.
            item = QListWidgetItem(
                f"{rupees(receipt.amount_paise)}  ·  {day(receipt.on)}  ·  {receipt.collector}"
                f"  ·  {receipt.reference}",
                self.receipt_list,
            )
            item.setToolTip(item.text())
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            ticks = receipt.payment_id in ticked
            item.setCheckState(Qt.CheckState.Checked if ticks else Qt.CheckState.Unchecked)
        self.receipt_list.blockSignals(False)
        self.receipt_list.setVisible(bool(receipts))
        self.empty.setVisible(not receipts)
        if receipts:
            rows = [r.payment_id for r in receipts]
            self.receipt_list.setCurrentRow(rows.index(was_on) if was_on in rows else 0)
        if {r.payment_id for r in self.chosen()} != ticked:
            self._choice_changed()
        else:
            self._show_total()

    def chosen(self) -> list[CashReceipt]:
        return [
            receipt
            for row, receipt in enumerate(self.receipts)
            if (item := self.receipt_list.item(row)) is not None
            and item.checkState() == Qt.CheckState.Checked
        ]

    def tick_all(self) -> None:
        for row in range(self.receipt_list.count()):
            item = self.receipt_list.item(row)
            if item is not None:
                item.setCheckState(Qt.CheckState.Checked)

    def _show_total(self) -> None:
        chosen = self.chosen()
        counted = "1 receipt" if len(chosen) == 1 else f"{len(chosen)} receipts"
        self.total.setText(f"{counted} chosen, total {rupees(CashDepositViewModel.total(chosen))}")

    def _choice_changed(self) -> None:
        self._show_total()
        offer = CashDepositViewModel.account_for(
            self.chosen(), self.accounts, self.account.currentData()
        )
        if offer is not None and offer != self.account.currentData():
            self.account.setCurrentIndex(self.account.findData(offer))
        if self.message.objectName() == "warning":
            self.say("")  # a refusal about an earlier choice no longer applies

    def submit(self) -> None:
        chosen, slip = self.chosen(), self.slip.text()
        account, on = self.account.currentData() or "", self.on.text()
        self.send.setEnabled(False)
        self._run(lambda: self.vm.make(chosen, slip, account, on), self._made, progress="Sending…")

    def _made(self, deposit: DepositRow) -> None:
        self.send.setEnabled(bool(self.accounts))
        self.slip.clear()
        counted = "1 receipt" if deposit.receipts == 1 else f"{deposit.receipts} receipts"
        self.say(
            f"Deposit {deposit.slip_no} into {deposit.bank_account} made: {counted}, "
            f"{rupees(deposit.total_paise)}",
            warning=False,
        )
        self.made.emit(deposit)
        self.load()

    def say(self, words: str, *, warning: bool = True) -> None:
        self.message.setObjectName("warning" if warning else "notice")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(words)
        self.message.setVisible(bool(words))

    def _failed(self, exc: Exception) -> None:
        self.send.setEnabled(bool(self.accounts))
        self.say(message_for(exc))

    def _run(
        self, op: Callable[[], object], success: Callable[..., object], progress: str | None
    ) -> None:
        query = QueryOp(parent=self, op=op, success=success).failure(self._failed)
        if progress:
            query = query.with_progress(progress)
        query.run_in_background()

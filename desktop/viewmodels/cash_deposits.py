"""Making a cash deposit at the desk: the day's cash receipts gathered under one slip.

Cash reaches the bank as one credit per slip (or pickup), so branch staff choose the cash
receipts not yet in any deposit (the server lists them), and name the slip or pickup number,
the bank account and the date. The server decides (a receipt already in a deposit, another
branch's receipt, a slip used twice on one account) and its refusal comes back in its words.
The desk checks only what it can know for sure: something chosen, a slip number, an account,
a readable date. No Qt here, so the form stays thin and this is tested without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from desktop.viewmodels.bank_accounts import BankAccount, BankAccountsViewModel
from desktop.viewmodels.online import Api, iso_day, items, mapping, text, whole
from desktop.viewmodels.reconciliation import BASE, DepositRow
from loancore.dates import InvalidDate, parse_date

SLIP_LIMIT = 32


class DepositRefused(ValueError):
    """A check the desk makes before asking the server, worded for the person."""


@dataclass(frozen=True, slots=True)
class CashReceipt:
    """A cash receipt in no deposit yet: what a deposit can gather."""

    payment_id: str
    collector: str
    on: date
    amount_paise: int
    reference: str
    branch_id: int


class CashDepositViewModel:
    def __init__(self, api: Api) -> None:
        self.api = api

    def receipts(self) -> tuple[CashReceipt, ...]:
        rows = items(self.api.request("GET", f"{BASE}/cash-receipts"), "the cash receipts")
        return tuple(
            CashReceipt(
                text(row, "payment_id"),
                text(row, "collector"),
                iso_day(row, "on"),
                whole(row, "amount_paise"),
                text(row, "reference"),
                whole(row, "branch_id"),
            )
            for row in (mapping(i, "a cash receipt") for i in rows)
        )

    def accounts(self) -> tuple[BankAccount, ...]:
        """The open collection accounts this person may deposit into (a branch manager: their
        branch's and the lender-wide ones; the server decides which)."""
        return BankAccountsViewModel(self.api).accounts(active_only=True)

    def load(self) -> tuple[tuple[CashReceipt, ...], tuple[BankAccount, ...]]:
        return self.receipts(), self.accounts()

    @staticmethod
    def total(chosen: Sequence[CashReceipt]) -> int:
        return sum(receipt.amount_paise for receipt in chosen)

    @staticmethod
    def account_for(
        chosen: Sequence[CashReceipt], accounts: Sequence[BankAccount], current: str | None
    ) -> str | None:
        """The account to offer for the ticked receipts: finance sees every branch's cash and
        every branch's account, and a deposit into another branch's account is refused, so
        ticking one branch's receipts moves the choice to that branch's first account. The
        current choice stays when it already takes that branch's cash (or any branch's), and
        when the receipts are of several branches (the send explains that)."""
        branches = {receipt.branch_id for receipt in chosen}
        if len(branches) != 1:
            return current
        branch = next(iter(branches))
        fits = [a.code for a in accounts if a.branch_id in (branch, None)]
        if current in fits or not fits:
            return current
        own = [a.code for a in accounts if a.branch_id == branch]
        return (own or fits)[0]

    def make(
        self, chosen: Sequence[CashReceipt], slip_no: str, bank_account: str, on: str
    ) -> DepositRow:
        """Send the deposit; the server keeps it with its receipts whole, or refuses it all."""
        if not chosen:
            raise DepositRefused("Choose the cash receipts this slip carries")
        branches = {receipt.branch_id for receipt in chosen}
        if len(branches) > 1:
            raise DepositRefused("A deposit carries the cash of one branch: choose one branch's")
        slip = slip_no.strip()
        if not slip:
            raise DepositRefused("Give the slip or pickup number printed on the counterfoil")
        if len(slip) > SLIP_LIMIT:
            raise DepositRefused(f"A slip or pickup number is at most {SLIP_LIMIT} characters")
        account = bank_account.strip().upper()
        if not account:
            raise DepositRefused("Choose the bank account the cash was paid into")
        try:
            day = parse_date(on)
        except InvalidDate as error:
            raise DepositRefused(error.message) from None
        body: dict[str, object] = {
            "branch_id": branches.pop(),
            "bank_account": account,
            "slip_no": slip,
            "deposit_date": day.isoformat(),
            "receipt_ids": sorted({receipt.payment_id for receipt in chosen}),
        }
        made = mapping(self.api.request("POST", f"{BASE}/deposits", json=body), "the deposit")
        return DepositRow(
            text(made, "id"),
            text(made, "slip_no"),
            text(made, "bank_account"),
            iso_day(made, "deposit_date"),
            whole(made, "total_paise"),
            whole(made, "receipts"),
        )

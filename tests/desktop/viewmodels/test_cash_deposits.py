"""The desk's own checks before a deposit is sent: each refusal asks nothing of the server."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from desktop.viewmodels.bank_accounts import BankAccount
from desktop.viewmodels.cash_deposits import CashDepositViewModel, CashReceipt, DepositRefused


class NoServer:
    """Records calls; a refused deposit must not make one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append((method, path))
        raise AssertionError("the desk asked the server about a deposit it should refuse")


PUNE = CashReceipt("p1", "col.pnc1", date(2026, 11, 20), 150000, "RB-1", 1)
NASHIK = CashReceipt("p2", "col.nsk1", date(2026, 11, 20), 50000, "RB-2", 2)


@pytest.mark.parametrize(
    ("chosen", "slip", "account", "on", "said"),
    [
        ([], "00123", "HDFC01", "20-11-2026", "Choose the cash receipts this slip carries"),
        ([PUNE, NASHIK], "00123", "HDFC01", "20-11-2026", "A deposit carries the cash of one"),
        ([PUNE], "  ", "HDFC01", "20-11-2026", "Give the slip or pickup number"),
        ([PUNE], "0" * 33, "HDFC01", "20-11-2026", "at most 32 characters"),
        ([PUNE], "00123", " ", "20-11-2026", "Choose the bank account"),
        ([PUNE], "00123", "HDFC01", "31-02-2026", "February 2026 has 28 days"),
    ],
)
def test_a_deposit_the_desk_can_refuse_is_refused_without_a_call(
    chosen: list[CashReceipt], slip: str, account: str, on: str, said: str
) -> None:
    server = NoServer()
    with pytest.raises(DepositRefused, match=said):
        CashDepositViewModel(server).make(chosen, slip, account, on)
    assert server.calls == []
    assert CashDepositViewModel.total([PUNE, NASHIK]) == 200000


def _account(code: str, branch_id: int | None) -> BankAccount:
    return BankAccount(code, "HDFC Bank", "XXXX1234", None, branch_id, None, "INR", True)


ACCOUNTS = (_account("HDFC-KOP", 3), _account("HDFC-NSK", 2), _account("HDFC-PNC", 1))


@pytest.mark.parametrize(
    ("chosen", "accounts", "current", "offered"),
    [
        ([NASHIK], ACCOUNTS, "HDFC-KOP", "HDFC-NSK"),  # the branch's own account
        ([NASHIK, NASHIK], ACCOUNTS, "HDFC-NSK", "HDFC-NSK"),  # already right: kept
        ([PUNE, NASHIK], ACCOUNTS, "HDFC-KOP", "HDFC-KOP"),  # two branches: the send explains
        ([], ACCOUNTS, "HDFC-KOP", "HDFC-KOP"),
        ([PUNE], (*ACCOUNTS, _account("ANY01", None)), "ANY01", "ANY01"),  # takes any branch's
        ([PUNE], (_account("HDFC-KOP", 3),), "HDFC-KOP", "HDFC-KOP"),  # none fits: no guess
        ([PUNE], (), None, None),
    ],
)
def test_ticking_one_branchs_receipts_offers_that_branchs_account(
    chosen: list[CashReceipt],
    accounts: tuple[BankAccount, ...],
    current: str | None,
    offered: str | None,
) -> None:
    assert CashDepositViewModel.account_for(chosen, accounts, current) == offered

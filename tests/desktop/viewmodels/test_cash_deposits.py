"""The desk's own checks before a deposit is sent: each refusal asks nothing of the server."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

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

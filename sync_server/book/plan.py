"""What a checked workbook becomes: the loans to add with their schedules and payments."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from loancore.acceptance import PaymentMode
from loancore.allocation import Strategy
from loancore.schedule import Installment
from sync_server.book.reader import Row


@dataclass(frozen=True, slots=True)
class PaymentLine:
    row: int
    payment_date: date
    amount: int
    mode: PaymentMode
    reference: str
    foreclosure: bool


@dataclass(slots=True)
class PlannedLoan:
    row: Row
    schedule: tuple[Installment, ...] | None
    payments: list[PaymentLine] = field(default_factory=list)

    @property
    def account_no(self) -> str:
        return str(self.row["account_no"])


@dataclass
class BookPlan:
    branches_new: list[tuple[str, str]] = field(default_factory=list)
    products_new: list[tuple[str, str, str]] = field(default_factory=list)
    branch_ids: dict[str, int] = field(default_factory=dict)
    strategies: dict[str, Strategy] = field(default_factory=dict)
    collector_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    loans: list[PlannedLoan] = field(default_factory=list)
    existing: dict[str, list[str]] = field(default_factory=dict)
    """Account numbers already on the book (new-only mode) -> what the sheet says differently."""

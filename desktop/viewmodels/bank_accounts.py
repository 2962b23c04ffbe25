"""The lender's collection accounts at the desk: the admin's list and form, and the choice of
account in the Cash deposits form.

The server decides (a bad IFSC or number, a code or number already set up) and its refusal
comes back in its words; the desk checks only what it can know for sure: the fields filled in.
Lists carry the number masked to its last four digits; the admin's form reads it whole. No Qt
here, so the screens stay thin and this is tested without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from desktop.viewmodels.online import (
    BRANCHES_PATH,
    Api,
    Branch,
    UnexpectedAnswer,
    items,
    mapping,
    parse_branches,
    text,
)

BASE = "/bank-accounts"
COLUMNS = ("Code", "Bank", "Account no.", "IFSC", "Branch", "Status")
LENDER_WIDE = "Any branch"
WHO_SETS_UP = (
    "No collection account is open to this branch's deposits yet. An admin sets the "
    "lender's collection accounts up under Collection accounts; ask yours to add this "
    "branch's account."
)


class AccountRefused(ValueError):
    """A check the desk makes before asking the server, worded for the admin."""


@dataclass(frozen=True, slots=True)
class BankAccount:
    code: str
    bank_name: str | None
    account_no: str
    ifsc: str | None
    branch_id: int | None
    branch: str | None
    currency: str
    active: bool

    @property
    def row(self) -> tuple[str, ...]:
        return (
            self.code,
            self.bank_name or "not set up (from a statement)",
            self.account_no,
            self.ifsc or "",
            self.branch or LENDER_WIDE,
            "open" if self.active else "closed to deposits",
        )

    @property
    def choice(self) -> str:
        """How the Cash deposits form offers it: "HDFC-PNC · HDFC Bank XXXX0011"."""
        return f"{self.code} · {self.bank_name or 'bank not named'} {self.account_no}"


def _flag(row: Any, key: str) -> bool:
    value = row.get(key)
    if not isinstance(value, bool):
        raise UnexpectedAnswer(f"'{key}' is not true or false (got {value!r})")
    return value


def _branch_id(row: Any) -> int | None:
    value = row.get("branch_id")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise UnexpectedAnswer(f"'branch_id' is not a branch (got {value!r})")
    return value


def parse_account(data: Any) -> BankAccount:
    row = mapping(data, "a bank account")
    return BankAccount(
        code=text(row, "code"),
        bank_name=text(row, "bank_name", optional=True) or None,
        account_no=text(row, "account_no", optional=True),
        ifsc=text(row, "ifsc", optional=True) or None,
        branch_id=_branch_id(row),
        branch=text(row, "branch", optional=True) or None,
        currency=text(row, "currency"),
        active=_flag(row, "active"),
    )


@dataclass(frozen=True, slots=True)
class AccountDraft:
    """What the admin typed; `code` is only sent for a new account (a code never changes)."""

    code: str
    bank_name: str
    account_no: str
    ifsc: str
    branch_id: int | None

    def problem(self) -> str | None:
        for value, words in (
            (self.code, "Give the account a short code, e.g. HDFC-PNC"),
            (self.bank_name, "Give the bank's name"),
            (self.account_no, "Give the account number"),
            (self.ifsc, "Give the IFSC of the account's bank branch"),
        ):
            if not value.strip():
                return words
        return None


class BankAccountsViewModel:
    def __init__(self, api: Api) -> None:
        self.api = api

    def accounts(self, *, active_only: bool = False) -> tuple[BankAccount, ...]:
        params = {"active": "true"} if active_only else None
        rows = items(self.api.request("GET", BASE, params=params), "the bank accounts")
        return tuple(parse_account(row) for row in rows)

    def load(self) -> tuple[tuple[BankAccount, ...], tuple[Branch, ...]]:
        """The admin's screen: every account, and the branches an account may take cash of."""
        return self.accounts(), parse_branches(self.api.request("GET", BRANCHES_PATH))

    def account(self, code: str) -> BankAccount:
        """One account as its page shows it: whole number for an admin."""
        return parse_account(self.api.request("GET", f"{BASE}/{quote(code, safe='')}"))

    def create(self, draft: AccountDraft) -> BankAccount:
        problem = draft.problem()
        if problem:
            raise AccountRefused(problem)
        body = {
            "code": draft.code.strip(),
            "bank_name": draft.bank_name.strip(),
            "account_no": draft.account_no.strip(),
            "ifsc": draft.ifsc.strip(),
            "branch_id": draft.branch_id,
        }
        return parse_account(self.api.request("POST", BASE, json=body))

    def change(self, was: BankAccount, draft: AccountDraft) -> BankAccount:
        """Send only what differs from the account as it was read."""
        problem = draft.problem()
        if problem:
            raise AccountRefused(problem)
        body: dict[str, object] = {}
        if draft.bank_name.strip() != (was.bank_name or ""):
            body["bank_name"] = draft.bank_name.strip()
        if draft.account_no.strip() != was.account_no:
            body["account_no"] = draft.account_no.strip()
        if draft.ifsc.strip().upper() != (was.ifsc or ""):
            body["ifsc"] = draft.ifsc.strip()
        if draft.branch_id != was.branch_id:
            body["branch_id"] = draft.branch_id
        if not body:
            raise AccountRefused("Nothing changed")
        return self._patch(was.code, body)

    def set_active(self, code: str, active: bool) -> BankAccount:
        return self._patch(code, {"active": active})

    def _patch(self, code: str, body: dict[str, object]) -> BankAccount:
        path = f"{BASE}/{quote(code, safe='')}"
        return parse_account(self.api.request("PATCH", path, json=body))

"""An audit entry's before and after as a person reads them: nested records flattened to
dotted keys, paise as rupees, dates DD-MM-YYYY, instants in IST, and what changed first.

Apart from the audit log's paging (`desktop.viewmodels.audit_log`): this is pure formatting,
tested on its own with the server's own entries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from desktop.format import NOTHING, day, instant, rupees

MONEY_FIELDS = frozenset(
    {
        "principal_outstanding",
        "charges_outstanding",
        "interest_paid_total",
        "installments_paid_total",
    }
)
"""Loan-position fields the server records in paise without saying so in their names."""


DiffKind = Literal["changed", "added", "removed", "same"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: DiffKind
    key: str
    before: str
    after: str

    @property
    def text(self) -> str:
        if self.kind == "changed":
            return f"{self.key}: {self.before} → {self.after}"
        if self.kind == "added":
            return f"{self.key}: {self.after} (new)"
        if self.kind == "removed":
            return f"{self.key}: {self.before} (removed)"
        return f"{self.key}: {self.after}"


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys ("payment.amount_paise"), so a change deep inside
    an entry reads as one line; lists stay whole values."""
    if not isinstance(value, Mapping):
        return {prefix or "value": value} if value is not None else {}
    flat: dict[str, Any] = {}
    for key, inner in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(inner, Mapping) and inner:
            flat.update(flatten(inner, name))
        else:
            flat[name] = inner
    return flat


def _is_money(key: str) -> bool:
    name = key.rsplit(".", 1)[-1]
    return name.endswith("_paise") or name in MONEY_FIELDS


def shown_value(key: str, value: Any) -> str:
    """Paise as rupees, ISO dates as DD-MM-YYYY, instants in IST; the rest as stored."""
    if value is None:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and _is_money(key):
        return rupees(value)
    if isinstance(value, str):
        if len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
            try:
                return day(value)
            except ValueError:
                return value
        if len(value) > 19 and value[10:11] == "T":
            try:
                return instant(value)
            except ValueError:
                return value
        return value
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def readable_diff(
    before: Any, after: Any, accounts: Mapping[str, str] | None = None
) -> list[DiffLine]:
    """Changed, new and removed fields first (what the entry is about), then the unchanged.
    A loan id this desk knows is shown as its account number, the id beside it."""
    named = {loan: f"{account} ({loan})" for loan, account in (accounts or {}).items()}
    old = {k: named.get(v, v) if isinstance(v, str) else v for k, v in flatten(before).items()}
    new = {k: named.get(v, v) if isinstance(v, str) else v for k, v in flatten(after).items()}
    moved: list[DiffLine] = []
    same: list[DiffLine] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            moved.append(DiffLine("removed", key, shown_value(key, old[key]), ""))
        elif key not in old:
            moved.append(DiffLine("added", key, "", shown_value(key, new[key])))
        elif old[key] != new[key]:
            moved.append(
                DiffLine("changed", key, shown_value(key, old[key]), shown_value(key, new[key]))
            )
        else:
            shown = shown_value(key, new[key])
            same.append(DiffLine("same", key, shown, shown))
    return moved + same

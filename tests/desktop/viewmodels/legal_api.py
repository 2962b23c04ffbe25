"""An in-memory legal-cases API with the contract's shapes and refusals (forward-only moves
answered 409, a past hearing 422), for the view-model and screen tests that run without a
server. The live screen test runs the same steps against the real one."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from desktop.sync.api import ApiError, TransportError

ORDER = ("open", "notice_sent", "filed", "hearing", "settled", "closed")


def legal_case(n: int, status: str = "open", **fields: Any) -> dict[str, Any]:
    return {
        "id": f"0190b000-0000-7000-8000-{n:012d}",
        "loan_id": f"0190a000-0000-7000-8000-{n:012d}",
        "account_no": f"LDPNCPL{n:06d}",
        "borrower_name": f"Borrower {n}",
        "branch_id": 1,
        "status": status,
        "opened_on": "2026-01-02",
        "dpd_at_open": 90,
        "court": None,
        "case_number": None,
        "next_hearing": None,
        "closed_on": None,
    } | fields


class LegalApi:
    def __init__(self, cases: list[dict[str, Any]], today: date) -> None:
        self.cases = {case["id"]: copy.deepcopy(case) | {"notes": []} for case in cases}
        self.today = today
        self.offline = False
        self.calls: list[tuple[str, str, Any]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append((method, path, kwargs.get("json") or kwargs.get("params")))
        if self.offline:
            raise TransportError("ConnectionError: refused")
        parts = path.strip("/").split("/")
        if method == "GET" and parts == ["legal-cases"]:
            params = kwargs.get("params") or {}
            status = params.get("status")
            rows = [
                {k: v for k, v in case.items() if k != "notes"}
                for case in self.cases.values()
                if status in (None, case["status"])
            ]
            start = int(params.get("cursor") or 0)
            end = start + int(params.get("limit") or 50)
            return {"items": rows[start:end], "next_cursor": str(end) if end < len(rows) else None}
        case = self.cases.get(parts[1])
        if case is None:
            raise ApiError(404, "not_found", "There is no such legal case")
        if method == "GET":
            return copy.deepcopy(case)
        if method == "PATCH":
            changes = kwargs["json"]
            if "status" in changes and ORDER.index(changes["status"]) <= ORDER.index(
                case["status"]
            ):
                raise ApiError(
                    409,
                    "bad_move",
                    f"A case that is {case['status']} cannot move to {changes['status']}",
                )
            hearing = changes.get("next_hearing")
            if hearing and date.fromisoformat(hearing) < self.today:
                raise ApiError(422, "validation_failed", "The next hearing cannot be in the past")
            case.update(changes)
            return {k: v for k, v in case.items() if k != "notes"}
        note = {
            "id": f"n{len(case['notes']) + 1}",
            "note": kwargs["json"]["note"],
            "written_by": "Vikram Desai (Legal)",
            "written_at": f"2026-03-10T0{len(case['notes']) + 5}:00:00+00:00",
        }
        case["notes"].insert(0, note)
        return note

"""Legal cases, read and run against the server (GET/PATCH /legal-cases, POST .../notes).

Legal works from head office with a connection, across branches, on cases whose state moves
with court dates: a cached copy from yesterday could offer a move the case has already made.
So this screen reads the server each time and sends each change at once; the server's answer
(a wrong move, a past hearing date) is shown in its own words. The desk checks only what it
can know for sure (a readable date, not before today), so the form never waits on a refusal
it could have given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from desktop.viewmodels.online import Api, UnexpectedAnswer, items, mapping, text
from loancore.dates import InvalidDate, format_date, parse_date

STATUSES = ("open", "notice_sent", "filed", "hearing", "settled", "closed")
"""The order a case moves in; the server allows forward moves only."""
STATUS_LABELS = {
    "open": "Open",
    "notice_sent": "Notice sent",
    "filed": "Filed",
    "hearing": "Hearing",
    "settled": "Settled",
    "closed": "Closed",
}
FINISHED = frozenset({"settled", "closed"})
PAGE_SIZE = 100
NOTE_LIMIT = 2000


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def next_statuses(status: str) -> tuple[str, ...]:
    """Every later status: a case may skip steps (a borrower who pays after the notice is
    settled without a filing), never go back."""
    if status not in STATUSES:
        return ()
    return STATUSES[STATUSES.index(status) + 1 :]


def _day(data: Mapping[str, Any], key: str) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise UnexpectedAnswer(f"'{key}' is not a date (got {value!r})") from None


@dataclass(frozen=True, slots=True)
class LegalCaseRow:
    case_id: str
    loan_id: str
    account_no: str
    borrower_name: str
    branch_id: int | None
    status: str
    opened_on: date | None
    dpd_at_open: int | None
    court: str
    case_number: str
    next_hearing: date | None
    closed_on: date | None

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    def hearing_overdue(self, today: date) -> bool:
        """A hearing date gone by on a live case: someone must record what happened."""
        return (
            self.next_hearing is not None
            and self.next_hearing < today
            and self.status not in FINISHED
        )


def case_of(data: Any) -> LegalCaseRow:
    body = mapping(data, "a legal case")
    dpd = body.get("dpd_at_open")
    branch = body.get("branch_id")
    return LegalCaseRow(
        case_id=text(body, "id"),
        loan_id=str(body.get("loan_id") or ""),
        account_no=text(body, "account_no", optional=True),
        borrower_name=text(body, "borrower_name", optional=True),
        branch_id=branch if isinstance(branch, int) else None,
        status=text(body, "status"),
        opened_on=_day(body, "opened_on"),
        dpd_at_open=dpd if isinstance(dpd, int) else None,
        court=text(body, "court", optional=True),
        case_number=text(body, "case_number", optional=True),
        next_hearing=_day(body, "next_hearing"),
        closed_on=_day(body, "closed_on"),
    )


@dataclass(frozen=True, slots=True)
class LegalNoteRow:
    note_id: str
    note: str
    written_by: str
    written_at: datetime | None


@dataclass(frozen=True, slots=True)
class LegalCaseDetail:
    case: LegalCaseRow
    notes: tuple[LegalNoteRow, ...]
    """Newest first, as the server sends them."""


@dataclass(frozen=True, slots=True)
class LegalPage:
    rows: tuple[LegalCaseRow, ...]
    next_cursor: str | None


def _note(data: Any) -> LegalNoteRow:
    body = mapping(data, "a legal note")
    written = body.get("written_at")
    at = None
    if written:
        try:
            at = datetime.fromisoformat(str(written))
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            raise UnexpectedAnswer(f"'written_at' is not an instant with its zone ({written!r})")
    return LegalNoteRow(
        note_id=str(body.get("id") or ""),
        note=text(body, "note"),
        written_by=str(body.get("written_by_name") or body.get("written_by") or ""),
        written_at=at,
    )


class LegalCasesViewModel:
    def __init__(self, api: Api, *, business_date: date) -> None:
        self._api = api
        self.business_date = business_date

    def page(self, status: str | None = None, cursor: str | None = None) -> LegalPage:
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if status:
            params["status"] = status
        if cursor:
            params["cursor"] = cursor
        answer = mapping(self._api.request("GET", "/legal-cases", params=params), "the case list")
        rows = tuple(case_of(item) for item in items(answer.get("items"), "items"))
        following = answer.get("next_cursor")
        return LegalPage(rows, str(following) if following else None)

    def detail(self, case_id: str) -> LegalCaseDetail:
        answer = mapping(self._api.request("GET", f"/legal-cases/{case_id}"), "the case")
        notes = tuple(_note(item) for item in items(answer.get("notes") or [], "notes"))
        return LegalCaseDetail(case_of(answer), notes)

    def move(self, case_id: str, status: str) -> LegalCaseDetail:
        self._api.request("PATCH", f"/legal-cases/{case_id}", json={"status": status})
        return self.detail(case_id)

    def check_hearing(self, hearing_text: str) -> tuple[date | None, str]:
        """(the date, "") or (None, why not); an empty field means "no hearing set"."""
        if not hearing_text.strip(" -"):
            return None, ""
        try:
            hearing = parse_date(hearing_text)
        except InvalidDate as exc:
            return None, exc.message
        if hearing < self.business_date:
            return None, (
                f"The next hearing ({format_date(hearing)}) cannot be before today's business "
                f"date ({format_date(self.business_date)})"
            )
        return hearing, ""

    def set_details(
        self, case: LegalCaseRow, *, court: str, case_number: str, hearing_text: str
    ) -> LegalCaseDetail:
        """Sends only what changed, so a refusal is about what the person just typed; a
        field emptied is sent as null, which the server reads as "clear it"."""
        hearing, problem = self.check_hearing(hearing_text)
        if problem:
            raise ValueError(problem)
        changes: dict[str, Any] = {}
        if court.strip() != case.court:
            changes["court"] = court.strip() or None
        if case_number.strip() != case.case_number:
            changes["case_number"] = case_number.strip() or None
        if hearing != case.next_hearing:
            changes["next_hearing"] = hearing.isoformat() if hearing else None
        if not changes:
            raise ValueError("Nothing to save: the court, case number and hearing are as shown")
        self._api.request("PATCH", f"/legal-cases/{case.case_id}", json=changes)
        return self.detail(case.case_id)

    def add_note(self, case_id: str, note: str) -> LegalCaseDetail:
        written = note.strip()
        if not written:
            raise ValueError("Write the note first")
        if len(written) > NOTE_LIMIT:
            raise ValueError(f"Keep a note within {NOTE_LIMIT} characters")
        self._api.request("POST", f"/legal-cases/{case_id}/notes", json={"note": written})
        return self.detail(case_id)

"""The audit log as an auditor reads it: filters turned into the API's query, pages fetched
newest first through the server's keyset cursor, each entry's before and after laid side by
side as a readable diff, and the chain check.

Pages are cut by the server's cursor (`before_id`), never by offset: entries keep arriving
while an auditor reads, and an offset would then skip or repeat them. A filter change starts a
new generation, so a page that was in flight for the old filter is dropped, not appended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from desktop.cache.store import Cache
from desktop.format import NOTHING, day, instant
from desktop.viewmodels.audit_diff import flatten
from desktop.viewmodels.audit_words import OUTCOME_WORDS, action_words, entity_words
from desktop.viewmodels.local_entries import loans_by_id
from desktop.viewmodels.online import Api, UnexpectedAnswer, grouped, items, mapping, text, whole
from desktop.viewmodels.paging import Paging

PATH = "/audit"
VERIFY_PATH = "/audit/verify"
PAGE_SIZE = 100
OUTCOMES = ("ok", "denied", "refused")
_LIMITS = {"actor": 64, "entity": 32, "action": 64}


def loan_id_of(entity: str, entity_id: str, before: Any, after: Any) -> str | None:
    """The loan an entry is about: the entity itself, or the loan its before/after names."""
    if entity == "loan" and entity_id:
        return entity_id
    for side in (after, before):
        flat = flatten(side)
        for key in ("loan_id", "payment.loan_id"):
            if isinstance(flat.get(key), str):
                return str(flat[key])
    return None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str = ""
    entity: str = ""
    action: str = ""
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def problem(self) -> str | None:
        """Why the server would refuse this filter, in the auditor's words; None when fine."""
        if self.date_from and self.date_to and self.date_from > self.date_to:
            return (
                f"The 'from' date {day(self.date_from)} is after the 'to' date {day(self.date_to)}"
            )
        for name, limit in _LIMITS.items():
            if len(getattr(self, name).strip()) > limit:
                return f"The {name} filter is longer than {limit} characters"
        if self.outcome and self.outcome not in OUTCOMES:
            return f"The outcome is one of {', '.join(OUTCOMES)}"
        return None

    def params(self, *, before_id: int | None = None, limit: int = PAGE_SIZE) -> dict[str, Any]:
        """The query string for GET /audit; empty filters are left out (they mean "any")."""
        problem = self.problem()
        if problem is not None:
            raise ValueError(problem)
        query: dict[str, Any] = {"limit": limit}
        if self.actor.strip():
            query["actor"] = self.actor.strip().lower()
        if self.entity.strip():
            query["entity"] = self.entity.strip()
        if self.action.strip():
            query["action"] = self.action.strip()
        if self.outcome:
            query["outcome"] = self.outcome
        if self.date_from is not None:
            query["date_from"] = self.date_from.isoformat()
        if self.date_to is not None:
            query["date_to"] = self.date_to.isoformat()
        if before_id is not None:
            query["before_id"] = before_id
        return query


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    outcome: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    detail: str
    address: str
    account_no: str = ""
    """The account number of the loan the entry is about, when this desk knows it."""

    @property
    def loan_id(self) -> str | None:
        return loan_id_of(self.entity, self.entity_id, self.before, self.after)

    @property
    def about(self) -> str:
        """What a person looks for: an account number, a username, a switch's key; an id
        (shortened) only when nothing better is known."""
        if self.account_no:
            return self.account_no
        for side in (self.after, self.before):
            if isinstance(side, Mapping) and isinstance(side.get("username"), str):
                return str(side["username"])
        if self.entity == "flag" and self.entity_id:
            return self.entity_id
        return _short(self.entity_id) if self.entity_id else NOTHING

    @property
    def row(self) -> tuple[str, ...]:
        return (
            str(self.id),
            instant(self.at).removesuffix(" IST"),  # the column's heading says IST
            self.actor,
            action_words(self.action),
            OUTCOME_WORDS.get(self.outcome, self.outcome.capitalize()),
            entity_words(self.entity),
            self.about,
        )


COLUMNS = ("#", "When (IST)", "User", "What happened", "Outcome", "Record", "Account / about")


def _short(identifier: str) -> str:
    """A UUID's first block is enough to tell entries apart by eye."""
    return identifier[:8] + "…" if len(identifier) > 12 else identifier


def parse_entry(data: Any) -> AuditEntry:
    row = mapping(data, "an audit entry")
    try:
        at = datetime.fromisoformat(text(row, "at"))
    except ValueError:
        raise UnexpectedAnswer(f"'at' is not an instant (got {row.get('at')!r})") from None
    if at.tzinfo is None:
        raise UnexpectedAnswer("'at' has no time zone")
    return AuditEntry(
        id=whole(row, "id"),
        at=at,
        actor=text(row, "actor_username"),
        actor_role=text(row, "actor_role", optional=True),
        action=text(row, "action"),
        outcome=text(row, "outcome"),
        entity=text(row, "entity"),
        entity_id=text(row, "entity_id", optional=True),
        before=row.get("before"),
        after=row.get("after"),
        detail=text(row, "detail", optional=True),
        address=text(row, "address", optional=True),
    )


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    next_cursor: int | None


def parse_page(data: Any) -> AuditPage:
    body = mapping(data, "the audit page")
    cursor = body.get("next_cursor")
    if cursor is not None and (isinstance(cursor, bool) or not isinstance(cursor, int)):
        raise UnexpectedAnswer(f"'next_cursor' is not an entry id (got {cursor!r})")
    return AuditPage(
        entries=tuple(parse_entry(e) for e in items(body.get("entries"), "the entries")),
        next_cursor=cursor,
    )


def entry_heading(entry: AuditEntry) -> list[str]:
    lines = [
        f"Entry #{entry.id} · {instant(entry.at)}",
        f"{entry.actor}"
        + (f" ({entry.actor_role})" if entry.actor_role else "")
        + (f" from {entry.address}" if entry.address else ""),
        f"{action_words(entry.action)} ({entry.action}) · "
        f"{OUTCOME_WORDS.get(entry.outcome, entry.outcome)} · {entity_words(entry.entity)}"
        + (f" {entry.account_no}" if entry.account_no else "")
        + (f" · id {entry.entity_id}" if entry.entity_id else ""),
    ]
    if entry.detail:
        lines.append(entry.detail)
    return lines


# -- the chain --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None
    problem: str

    @property
    def text(self) -> str:
        if self.ok:
            return f"The chain is unbroken, {grouped(self.checked)} entries checked."
        where = (
            f"at entry #{self.first_broken_id}"
            if self.first_broken_id is not None
            else f"after entry {grouped(self.checked)}"
        )
        return (
            f"The chain is BROKEN {where}: {self.problem or 'no reason given'} "
            f"({grouped(self.checked)} entries before it are sound)."
        )


def parse_chain(data: Any) -> ChainReport:
    body = mapping(data, "the chain report")
    ok = body.get("ok")
    if not isinstance(ok, bool):
        raise UnexpectedAnswer("'ok' is not yes or no")
    broken = body.get("first_broken_id")
    return ChainReport(
        ok=ok,
        checked=whole(body, "checked"),
        first_broken_id=None if broken is None else whole(body, "first_broken_id"),
        problem=text(body, "problem", optional=True),
    )


# -- the pages held on screen -----------------------------------------------------------------


@dataclass
class AuditRows:
    """What the table shows: the entries fetched so far for one filter, and where to go on
    (`paging`: the server's `before_id` cursor)."""

    where: AuditFilter = field(default_factory=AuditFilter)
    entries: list[AuditEntry] = field(default_factory=list)
    paging: Paging[int] = field(default_factory=lambda: Paging[int](limit=PAGE_SIZE))

    def restart(self, where: AuditFilter) -> int:
        self.where = where
        self.entries = []
        return self.paging.restart()

    @property
    def next_cursor(self) -> int | None:
        return self.paging.cursor

    @property
    def started(self) -> bool:
        return self.paging.started

    @property
    def loading(self) -> bool:
        return self.paging.loading

    @loading.setter
    def loading(self, value: bool) -> None:
        self.paging.loading = value

    @property
    def generation(self) -> int:
        return self.paging.generation

    @property
    def can_fetch_more(self) -> bool:
        return self.paging.can_fetch_more

    def next_params(self) -> dict[str, Any]:
        return self.where.params(before_id=self.paging.cursor, limit=self.paging.limit)

    def accept(self, generation: int, page: AuditPage) -> tuple[AuditEntry, ...]:
        """Appends the page if it belongs to the current filter; returns what was added."""
        if not self.paging.accept(generation, page.next_cursor):
            return ()
        self.entries.extend(page.entries)
        return page.entries

    @property
    def status(self) -> str:
        shown = len(self.entries)
        if not self.started:
            return "Loading…"
        if not shown:
            return "No entries match these filters."
        if self.next_cursor is not None:
            return f"{grouped(shown)} newest matching entries shown; scroll down for older ones."
        return f"All {grouped(shown)} matching entries shown."


def seen(entries: Iterable[AuditEntry], attribute: str) -> list[str]:
    """Values met so far (users, entities, actions), offered in the filters' drop-downs."""
    return sorted({str(getattr(e, attribute)) for e in entries if getattr(e, attribute)})


def _query_key(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key, str(value)) for key, value in params.items()))


AccountNumbers = Callable[[Iterable[str]], Mapping[str, str]]
"""Loan ids to account numbers, for the loans this desk has (its cache)."""


def accounts_in(cache: Cache) -> AccountNumbers:
    """Account numbers from the desk's cache (an auditor's holds every loan)."""

    def look_up(loan_ids: Iterable[str]) -> Mapping[str, str]:
        return {loan_id: pick.account_no for loan_id, pick in loans_by_id(cache, loan_ids).items()}

    return look_up


def with_accounts(page: AuditPage, accounts: AccountNumbers) -> AuditPage:
    """The page with each entry's account number filled in from the desk's loans."""
    wanted = {loan for entry in page.entries if (loan := entry.loan_id)}
    if not wanted:
        return page
    found = accounts(wanted)
    return AuditPage(
        tuple(
            replace(entry, account_no=found.get(entry.loan_id or "", "")) for entry in page.entries
        ),
        page.next_cursor,
    )


class AuditLogViewModel:
    """Remembers the last answer to each query, with when it came, so that offline the
    screen can show what was last read (and say when) instead of going blank."""

    def __init__(
        self,
        api: Api,
        accounts: AccountNumbers | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._api = api
        self._accounts = accounts
        self._clock = clock
        self._answers: dict[tuple[tuple[str, str], ...], tuple[AuditPage, datetime]] = {}

    def fetch(self, params: dict[str, Any]) -> AuditPage:
        page = parse_page(self._api.request("GET", PATH, params=params))
        page = page if self._accounts is None else with_accounts(page, self._accounts)
        self._answers[_query_key(params)] = (page, self._clock())
        return page

    def last_answer(self, params: dict[str, Any]) -> tuple[AuditPage, datetime] | None:
        return self._answers.get(_query_key(params))

    def verify(self) -> ChainReport:
        return parse_chain(self._api.request("GET", VERIFY_PATH))

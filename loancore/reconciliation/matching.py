"""Three-step matching of bank credits to the payments and deposits the book expects.

DOMAIN.md's rules, applied to a whole statement at once so that the outcome does not depend on
the order of the lines or of the book:

1. Exact: a reference of the line (its own, or the one read from its narration) equals the
   entry's reference, and the amounts are equal.
2. Strong: equal amount, dates within `strong_days`, and the loan's account number (or the
   deposit's slip number) stands as a word in the narration.
3. Suggested: equal amount, dates within `suggested_days`, and the borrower's name similar to
   the narration (rapidfuzz partial ratio at least `name_score`). Never automatic.

Conservative, because a wrong match is worse than no match: a line is matched automatically
only when exactly one entry answers it at its best step and that entry answers no other line
at the same step or a better one. "Equally good" is read wide: two candidates at the same step
tie whatever their day distance, and a strong match is held back when another entry with the
same account (or slip) number lies within the suggested window, since value dates drift by a
few days and two equal EMIs on one loan a week apart are otherwise told apart by chance.
Everything else becomes a suggestion listing every candidate and why each ranks where it does.
Lines in another currency are never matched, and a line never answers an entry expected in
another of the lender's bank accounts (a deposit is made into one account; a payment may name
the account it is expected in, or none, when any collection account may show it).

References are compared after `normalise_reference` on both sides (letters and digits only, a
number without leading zeros), coarser than the form payments store theirs in, so that a
reference typed at the desk and the one the bank prints compare equal.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum, StrEnum

from rapidfuzz import fuzz, process, utils

from loancore.reconciliation.narration import (
    narration_words,
    normalise_reference,
    read_reference,
)

BOOK_CURRENCY = "INR"
STRONG_DAYS = 3
SUGGESTED_DAYS = 5
NAME_SCORE = 85


class Step(IntEnum):
    """The rule that put a candidate beside a line; lower is stronger."""

    EXACT = 1
    STRONG = 2
    SUGGESTED = 3


AUTOMATIC_STEPS = frozenset({Step.EXACT, Step.STRONG})
NEEDS_A_PERSON = "no exact or strong candidate: a person must confirm"


class EntryKind(StrEnum):
    PAYMENT = "payment"
    DEPOSIT = "deposit"


@dataclass(frozen=True)
class BankCredit:
    """A credit line of a statement, as the matcher needs it. Amount in paise."""

    line_id: str
    amount: int
    value_date: date
    narration: str
    reference: str | None = None
    currency: str = BOOK_CURRENCY
    account: str | None = None


@dataclass(frozen=True)
class BookEntry:
    """A payment (digital, one by one) or a cash deposit the bank should show as one credit.

    `mark` is what the narration may carry to name it: the loan's account number for a
    payment, the slip or pickup number for a deposit. `name` is the borrower's (payments only).
    `account` is the bank account the entry is expected in (a deposit's own; None for a payment
    any collection account may show).
    """

    entry_id: str
    kind: EntryKind
    amount: int
    on: date
    reference: str | None
    mark: str | None
    name: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class Candidate:
    """An entry beside a line: the step it reached, its distance in days, its name score."""

    entry_id: str
    step: Step
    days_apart: int
    name_score: int
    reason: str
    mark_in_narration: bool = False

    def rank_key(self) -> tuple[int, int, int, str]:
        return (self.step, self.days_apart, -self.name_score, self.entry_id)


@dataclass(frozen=True)
class Match:
    line_id: str
    entry_id: str
    step: Step
    reason: str


@dataclass(frozen=True)
class Suggestion:
    """A line a person must decide: its candidates best first, and why it was not automatic."""

    line_id: str
    candidates: tuple[Candidate, ...]
    why_not_automatic: str


@dataclass(frozen=True)
class Thresholds:
    strong_days: int = STRONG_DAYS
    suggested_days: int = SUGGESTED_DAYS
    name_score: int = NAME_SCORE


@dataclass(frozen=True)
class Outcome:
    """Every line lands in exactly one of: matched, suggested, unmatched, other currency."""

    matched: tuple[Match, ...]
    suggested: tuple[Suggestion, ...]
    unmatched: tuple[str, ...]
    other_currency: tuple[str, ...]


def line_references(line: BankCredit) -> frozenset[str]:
    """The line's own reference and the one its narration carries, normalised."""
    found: set[str] = set()
    if line.reference and line.reference.strip():
        found.add(normalise_reference(line.reference))
    parsed = read_reference(line.narration)
    if parsed is not None and parsed.reference is not None:
        found.add(normalise_reference(parsed.reference))
    return frozenset(found)


def same_account(line: BankCredit, entry: BookEntry) -> bool:
    """Whether the entry may appear on the line's account: equal accounts, or one not known."""
    return line.account is None or entry.account is None or line.account == entry.account


def name_similarity(name: str, narration: str) -> int:
    """How well the borrower's name appears in the narration, 0-100 (rapidfuzz partial ratio)."""
    return round(fuzz.partial_ratio(name, narration, processor=utils.default_process))


@dataclass(frozen=True)
class _LineFacts:
    """What the narration says, read once per line rather than once per candidate."""

    line: BankCredit
    references: frozenset[str]
    words: frozenset[str]


def _facts(line: BankCredit) -> _LineFacts:
    words = frozenset(normalise_reference(word) for word in narration_words(line.narration))
    return _LineFacts(line, line_references(line), words)


def candidate_for(
    line: BankCredit, entry: BookEntry, thresholds: Thresholds = Thresholds()
) -> Candidate | None:
    """The best step at which `entry` answers `line`, with the reason in words, or None."""
    return _candidate(_facts(line), entry, thresholds)


def _candidate(facts: _LineFacts, entry: BookEntry, thresholds: Thresholds) -> Candidate | None:
    line = facts.line
    if line.amount != entry.amount or not same_account(line, entry):
        return None
    days = abs((line.value_date - entry.on).days)
    reference = normalise_reference(entry.reference) if entry.reference else None
    if reference and reference in facts.references:
        return Candidate(entry.entry_id, Step.EXACT, days, 0, f"reference {reference} and amount")
    if days > thresholds.suggested_days:
        return None
    marked = bool(entry.mark) and normalise_reference(entry.mark or "") in facts.words
    what = "account number" if entry.kind is EntryKind.PAYMENT else "slip number"
    if marked and days <= thresholds.strong_days:
        return Candidate(
            entry.entry_id,
            Step.STRONG,
            days,
            0,
            f"{what} {entry.mark} in narration, {days} d",
            True,
        )
    score = name_similarity(entry.name, line.narration) if entry.name else 0
    alike = score >= thresholds.name_score
    if not (alike or marked):
        return None
    said = [f"name {score}% alike"] if alike else []
    said += [f"{what} {entry.mark} in narration"] if marked else []
    reason = f"{', '.join(said)}, {days} d"
    return Candidate(entry.entry_id, Step.SUGGESTED, days, score, reason, marked)


class _Book:
    """The entries indexed the ways the steps look them up.

    Steps 1 and 2 go straight to their entries: by (amount, reference) and by (amount, account
    or slip number) for each word of the narration. Only a line left without an automatic
    match looks for names alike (rapidfuzz in C) among the entries of its amount and date
    window. Equal EMIs are common and that window can hold thousands of entries carrying far
    fewer distinct names, so each distinct name of the amount is scored once and its entries
    in the window found by date; when the window is the smaller list it is scored directly.
    Both ways score the same pairs the same way, so they find the same candidates.
    """

    def __init__(self, entries: Iterable[BookEntry]) -> None:
        self.by_reference: dict[tuple[int, str], list[BookEntry]] = defaultdict(list)
        self.by_mark: dict[tuple[int, str], list[BookEntry]] = defaultdict(list)
        self.by_amount: dict[int, list[BookEntry]] = defaultdict(list)
        for entry in entries:
            if entry.reference:
                key = (entry.amount, normalise_reference(entry.reference))
                self.by_reference[key].append(entry)
            if entry.mark:
                self.by_mark[(entry.amount, normalise_reference(entry.mark))].append(entry)
            self.by_amount[entry.amount].append(entry)
        for same_amount in self.by_amount.values():
            same_amount.sort(key=lambda entry: (entry.on, entry.entry_id))
        self.dates = {
            amount: [entry.on for entry in same] for amount, same in self.by_amount.items()
        }
        self.names = {
            amount: [utils.default_process(entry.name) if entry.name else "" for entry in same]
            for amount, same in self.by_amount.items()
        }
        # For each amount: each distinct (processed) name and where its entries stand in the
        # amount's date order, ascending, so a date window is two bisections away.
        self.by_name: dict[int, dict[str, list[int]]] = {}
        for amount, names in self.names.items():
            places: dict[str, list[int]] = defaultdict(list)
            for index, name in enumerate(names):
                if name:
                    places[name].append(index)
            self.by_name[amount] = dict(places)
        self.distinct_names = {amount: list(names) for amount, names in self.by_name.items()}

    def firm(self, facts: _LineFacts) -> list[BookEntry]:
        """Entries sharing the amount and a reference, or an account/slip number, with the line."""
        amount = facts.line.amount
        found: dict[str, BookEntry] = {}
        for reference in facts.references:
            for entry in self.by_reference.get((amount, reference), ()):
                found[entry.entry_id] = entry
        for word in facts.words:
            for entry in self.by_mark.get((amount, word), ()):
                found[entry.entry_id] = entry
        return list(found.values())

    @staticmethod
    def _alike(
        narration: str, names: list[str], thresholds: Thresholds
    ) -> list[tuple[str, float, int]]:
        return process.extract(
            narration,
            names,
            scorer=fuzz.partial_ratio,
            processor=None,
            score_cutoff=thresholds.name_score - 0.5,
            limit=None,
        )

    def name_alike(
        self,
        facts: _LineFacts,
        thresholds: Thresholds,
        known: set[str],
        by_distinct_name: bool | None = None,
    ) -> list[Candidate]:
        """Step 3's candidates of a line, by whichever list is shorter unless told which."""
        line = facts.line
        dates = self.dates.get(line.amount, [])
        days = timedelta(days=thresholds.suggested_days)
        low = bisect_left(dates, line.value_date - days)
        high = bisect_right(dates, line.value_date + days)
        window = self.by_amount.get(line.amount, [])
        narration = utils.default_process(line.narration)
        distinct = self.by_name.get(line.amount, {})
        if by_distinct_name is None:
            by_distinct_name = len(distinct) < high - low
        scored: list[tuple[float, int]]
        if by_distinct_name:
            scored = [
                (score, index)
                for name, score, _ in self._alike(
                    narration, self.distinct_names.get(line.amount, []), thresholds
                )
                for index in _within(distinct[name], low, high)
            ]
        else:
            names = self.names.get(line.amount, [])[low:high]
            scored = [
                (score, low + at) for _, score, at in self._alike(narration, names, thresholds)
            ]
        found = []
        for score, index in scored:
            entry = window[index]
            rounded = round(score)
            if entry.entry_id in known or not entry.name or rounded < thresholds.name_score:
                continue
            if not same_account(line, entry):
                continue
            apart = abs((line.value_date - entry.on).days)
            reason = f"name {rounded}% alike, {apart} d"
            found.append(Candidate(entry.entry_id, Step.SUGGESTED, apart, rounded, reason))
        return found


def _within(places: list[int], low: int, high: int) -> list[int]:
    """The places (ascending) that fall in [low, high)."""
    return places[bisect_left(places, low) : bisect_left(places, high)]


def reconcile(
    lines: Iterable[BankCredit],
    entries: Iterable[BookEntry],
    thresholds: Thresholds = Thresholds(),
) -> Outcome:
    """Match a statement's credits to the book; see the module's rules."""
    book = _Book(entries)
    facts: dict[str, _LineFacts] = {}
    firm: dict[str, tuple[Candidate, ...]] = {}
    other_currency: list[str] = []
    for line in lines:
        if line.currency.upper() != BOOK_CURRENCY:
            other_currency.append(line.line_id)
            continue
        facts[line.line_id] = read = _facts(line)
        answers = (_candidate(read, entry, thresholds) for entry in book.firm(read))
        firm[line.line_id] = tuple(
            sorted((c for c in answers if c is not None), key=Candidate.rank_key)
        )
    claims: dict[str, list[tuple[Step, str]]] = defaultdict(list)
    for line_id, found in firm.items():
        for candidate in found:
            claims[candidate.entry_id].append((candidate.step, line_id))
    matched: list[Match] = []
    suggested: list[Suggestion] = []
    unmatched: list[str] = []
    for line_id in sorted(firm):
        found = firm[line_id]
        why = _why_not_automatic(line_id, found, claims) if found else NEEDS_A_PERSON
        if why is None:
            best = found[0]
            matched.append(Match(line_id, best.entry_id, best.step, best.reason))
            continue
        known = {candidate.entry_id for candidate in found}
        every = tuple(
            sorted(
                (*found, *book.name_alike(facts[line_id], thresholds, known)),
                key=Candidate.rank_key,
            )
        )
        if not every:
            unmatched.append(line_id)
            continue
        suggested.append(Suggestion(line_id, every, why))
    return Outcome(
        tuple(matched), tuple(suggested), tuple(unmatched), tuple(sorted(other_currency))
    )


def _why_not_automatic(
    line_id: str,
    found: Sequence[Candidate],
    claims: dict[str, list[tuple[Step, str]]],
) -> str | None:
    best = found[0]
    if best.step not in AUTOMATIC_STEPS:
        return NEEDS_A_PERSON
    equally_good = [c for c in found if c.step == best.step]
    if len(equally_good) > 1:
        return f"{len(equally_good)} candidates equally good at step {int(best.step)}"
    same_mark = [c.entry_id for c in found[1:] if c.mark_in_narration]
    if best.step is Step.STRONG and same_mark:
        return f"{', '.join(same_mark)} on the same account only days apart"
    rivals = sorted(
        other for step, other in claims[best.entry_id] if other != line_id and step <= best.step
    )
    if rivals:
        return f"{best.entry_id} also answers line {', '.join(rivals)} as well or better"
    return None

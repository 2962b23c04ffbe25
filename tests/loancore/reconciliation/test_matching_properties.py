"""Invariants of the matcher over small books built to collide (few amounts, dates, marks)."""

import random
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loancore.reconciliation.matching import (
    AUTOMATIC_STEPS,
    BankCredit,
    BookEntry,
    EntryKind,
    Step,
    candidate_for,
    reconcile,
)
from loancore.reconciliation.narration import narration_words, normalise_reference

DAY = date(2026, 11, 20)
AMOUNTS = st.sampled_from([100_000, 250_000])
MARKS = ["LDPNC000001", "LDPNC000002", "00123"]
REFS = ["301234567890", "301234567891", "HDFCN52022112012345678"]
NAMES = ["Ramesh Kumar", "Ramesh Kumr", "Sunita Rao"]


@st.composite
def entries(draw: st.DrawFn) -> list[BookEntry]:
    count = draw(st.integers(0, 6))
    return [
        BookEntry(
            f"E{index}",
            draw(st.sampled_from(list(EntryKind))),
            draw(AMOUNTS),
            DAY + timedelta(days=draw(st.integers(-4, 4))),
            draw(st.none() | st.sampled_from(REFS)),
            draw(st.none() | st.sampled_from(MARKS)),
            draw(st.none() | st.sampled_from(NAMES)),
        )
        for index in range(count)
    ]


@st.composite
def lines(draw: st.DrawFn) -> list[BankCredit]:
    count = draw(st.integers(0, 6))
    made = []
    for index in range(count):
        words = draw(st.lists(st.sampled_from([*MARKS, *REFS, *NAMES, "NEFT", "UPI"]), max_size=4))
        made.append(
            BankCredit(
                f"L{index}",
                draw(AMOUNTS),
                DAY + timedelta(days=draw(st.integers(-4, 4))),
                "/".join(words),
                draw(st.none() | st.sampled_from(REFS)),
                draw(st.sampled_from(["INR", "INR", "EUR"])),
            )
        )
    return made


def satisfies_its_step(line: BankCredit, entry: BookEntry, step: Step) -> bool:
    """The rule of DOMAIN.md, checked afresh from the raw fields."""
    if line.amount != entry.amount:
        return False
    days = abs((line.value_date - entry.on).days)
    if step is Step.EXACT:
        own = {normalise_reference(w) for w in narration_words(line.narration)}
        own |= {normalise_reference(line.reference)} if line.reference else set()
        return entry.reference is not None and normalise_reference(entry.reference) in own
    words = {normalise_reference(w) for w in narration_words(line.narration)}
    return days <= 3 and entry.mark is not None and normalise_reference(entry.mark) in words


@settings(max_examples=300)
@given(lines(), entries())
def test_every_line_lands_once_and_matching_is_one_to_one(
    bank: list[BankCredit], book: list[BookEntry]
) -> None:
    outcome = reconcile(bank, book)
    placed = [m.line_id for m in outcome.matched] + [s.line_id for s in outcome.suggested]
    placed += [*outcome.unmatched, *outcome.other_currency]
    assert sorted(placed) == sorted(line.line_id for line in bank)
    matched_entries = [m.entry_id for m in outcome.matched]
    assert len(set(matched_entries)) == len(matched_entries)


@settings(max_examples=200)
@given(lines(), entries(), st.randoms(use_true_random=False))
def test_the_outcome_does_not_depend_on_input_order(
    bank: list[BankCredit], book: list[BookEntry], rnd: random.Random
) -> None:
    shuffled_bank, shuffled_book = list(bank), list(book)
    rnd.shuffle(shuffled_bank)
    rnd.shuffle(shuffled_book)
    assert reconcile(shuffled_bank, shuffled_book) == reconcile(bank, book)


@settings(max_examples=300)
@given(lines(), entries())
def test_no_automatic_match_has_a_rival_as_good(
    bank: list[BankCredit], book: list[BookEntry]
) -> None:
    outcome = reconcile(bank, book)
    by_line = {line.line_id: line for line in bank}
    for match in outcome.matched:
        line = by_line[match.line_id]
        as_good = [
            e.entry_id
            for e in book
            if (c := candidate_for(line, e)) is not None and c.step <= match.step
        ]
        assert as_good == [match.entry_id]
        rivals = [
            other.line_id
            for other in bank
            if other.line_id != line.line_id and other.currency == "INR"
            for e in book
            if e.entry_id == match.entry_id
            and (c := candidate_for(other, e)) is not None
            and c.step <= match.step
        ]
        assert rivals == []


@settings(max_examples=300)
@given(lines(), entries())
def test_every_automatic_match_satisfies_the_rule_of_its_step(
    bank: list[BankCredit], book: list[BookEntry]
) -> None:
    outcome = reconcile(bank, book)
    by_line = {line.line_id: line for line in bank}
    by_entry = {entry.entry_id: entry for entry in book}
    for match in outcome.matched:
        assert match.step in AUTOMATIC_STEPS
        line = by_line[match.line_id]
        assert line.currency == "INR"
        assert satisfies_its_step(line, by_entry[match.entry_id], match.step)


ACCOUNTS = st.none() | st.sampled_from(["HDFC01", "SBI01"])


@settings(max_examples=300)
@given(lines(), entries(), st.data())
def test_a_line_never_answers_an_entry_of_another_account(
    bank: list[BankCredit], book: list[BookEntry], data: st.DataObject
) -> None:
    bank = [replace(line, account=data.draw(ACCOUNTS)) for line in bank]
    book = [replace(entry, account=data.draw(ACCOUNTS)) for entry in book]
    outcome = reconcile(bank, book)
    lines_by_id = {line.line_id: line for line in bank}
    entries_by_id = {entry.entry_id: entry for entry in book}

    def allowed(line_id: str, entry_id: str) -> bool:
        there, expected = lines_by_id[line_id].account, entries_by_id[entry_id].account
        return there is None or expected is None or there == expected

    assert all(allowed(m.line_id, m.entry_id) for m in outcome.matched)
    for suggestion in outcome.suggested:
        assert all(allowed(suggestion.line_id, c.entry_id) for c in suggestion.candidates)
    for line in bank:
        for entry in book:
            if not allowed(line.line_id, entry.entry_id):
                assert candidate_for(line, entry) is None


def test_an_exact_reference_in_another_account_is_no_candidate() -> None:
    line = BankCredit("L1", 250_000, DAY, "BY CASH DEP SLIP 00123", None, "INR", "HDFC01")
    elsewhere = BookEntry("D1", EntryKind.DEPOSIT, 250_000, DAY, "00123", "00123", None, "SBI01")
    here = replace(elsewhere, entry_id="D2", account="HDFC01")
    assert reconcile([line], [elsewhere]).unmatched == ("L1",)
    outcome = reconcile([line], [elsewhere, here])
    assert [(m.entry_id, m.step) for m in outcome.matched] == [("D2", Step.EXACT)]


def test_a_name_alike_payment_in_another_account_is_not_suggested() -> None:
    line = BankCredit("L1", 250_000, DAY - timedelta(4), "NEFT RAMESH KUMAR", None, "INR", "HDFC01")
    elsewhere = BookEntry(
        "P1", EntryKind.PAYMENT, 250_000, DAY, None, None, "Ramesh Kumar", "SBI01"
    )
    assert reconcile([line], [elsewhere]).unmatched == ("L1",)
    here = replace(elsewhere, entry_id="P2", account="HDFC01")
    (suggestion,) = reconcile([line], [elsewhere, here]).suggested
    assert [c.entry_id for c in suggestion.candidates] == ["P2"]

"""A labelled book: payments and deposits, and the bank lines that truly answer them, with noise.

The noise is what finance meets: names mistyped by the remitter's bank, value dates a few days
off, references missing on either side, lookalike amounts (a paisa or a rupee away, or the same
EMI on many loans), credits nobody in the book expects, and payments the bank never shows.
Every line carries the entry it truly answers (or None), so a test can score the matcher.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from loancore.reconciliation.matching import BankCredit, BookEntry, EntryKind

START = date(2026, 10, 1)
FIRST = ["Ramesh", "Sunita", "Anil", "Priya", "Mohammed", "Lakshmi", "Vijay", "Kavita", "Arjun"]
LAST = ["Kumar", "Rao", "Patil", "Sharma", "Iyer", "Khan", "Reddy", "Nair", "Gupta", "Das"]
EMIS = [250_000, 312_500, 500_000, 125_000, 187_550]


@dataclass(frozen=True)
class LabelledBook:
    entries: list[BookEntry]
    lines: list[BankCredit]
    truth: dict[str, str | None]


def _typo(rnd: random.Random, name: str) -> str:
    at = rnd.randrange(1, len(name) - 1)
    return name[:at] + name[at + 1 :] if rnd.random() < 0.5 else name[:at] + "X" + name[at:]


def _reference(rnd: random.Random, channel: str) -> str:
    if channel in ("UPI", "IMPS"):
        return f"3{rnd.randrange(10**11):011d}"
    bank = rnd.choice(["HDFC", "SBIN", "ICIC", "UTIB"])
    return f"{bank}{'R' if channel == 'RTGS' else 'N'}5{rnd.randrange(10**16):016d}"


def _narration(channel: str, ref: str | None, name: str, account: str | None) -> str:
    tail = f"-{account}" if account else ""
    shown = ref or "NOREF"
    return {
        "NEFT": f"NEFT-{shown}-{name.upper()}{tail}",
        "RTGS": f"RTGS CR-HDFC0000001-{shown}-{name.upper()}{tail}",
        "UPI": f"UPI/{shown}/{name.split()[0].lower()}@okaxis/{name.upper()}{tail}",
        "IMPS": f"IMPS/P2A/{shown}/{name.upper()}{tail}",
        "CHQ": f"BY CLG CHQ NO {shown} {name.upper()}{tail}",
    }[channel]


def build(seed: int, entries: int = 5_000, lines: int = 5_000) -> LabelledBook:
    rnd = random.Random(seed)
    book: list[BookEntry] = []
    bank: list[BankCredit] = []
    truth: dict[str, str | None] = {}
    unexpected = lines // 20
    answered = lines - unexpected
    for index in range(entries):
        on = START + timedelta(days=rnd.randrange(60))
        if rnd.random() < 0.15:
            slip = f"{rnd.randrange(1, 10**5):05d}"
            amount = rnd.randrange(10, 500) * 10_000 + rnd.choice([0, 5_000])
            book.append(BookEntry(f"D{index}", EntryKind.DEPOSIT, amount, on, slip, slip))
            if index < answered:
                line_id = f"B{index}"
                shown = slip if rnd.random() < 0.8 else ""
                narration = f"BY CASH DEP SLIP {shown} BRANCH".replace("  ", " ")
                value = on + timedelta(days=rnd.choice([0, 0, 1, 2, 4]))
                bank.append(BankCredit(line_id, amount, value, narration))
                truth[line_id] = f"D{index}"
            continue
        loan = rnd.randrange(entries // 3)
        account = f"LDPNC{loan:06d}"
        name = f"{FIRST[loan % len(FIRST)]} {LAST[(loan // 7) % len(LAST)]}"
        channel = rnd.choice(["NEFT", "RTGS", "UPI", "UPI", "IMPS", "CHQ"])
        ref = f"{rnd.randrange(1, 10**6):06d}" if channel == "CHQ" else _reference(rnd, channel)
        amount = rnd.choice(EMIS) if rnd.random() < 0.7 else rnd.randrange(1_000, 90_000) * 100
        booked_ref = ref if rnd.random() < 0.85 else None
        book.append(
            BookEntry(f"P{index}", EntryKind.PAYMENT, amount, on, booked_ref, account, name)
        )
        if index >= answered:
            continue
        line_id = f"B{index}"
        shown_ref = ref if rnd.random() < 0.85 else None
        shown_name = _typo(rnd, name) if rnd.random() < 0.3 else name
        shown_account = account if rnd.random() < 0.5 else None
        value = on + timedelta(days=rnd.choice([0, 0, 0, 1, 1, 2, 3, 4, 5, -1]))
        bank.append(
            BankCredit(
                line_id, amount, value, _narration(channel, shown_ref, shown_name, shown_account)
            )
        )
        truth[line_id] = f"P{index}"
    for index in range(unexpected):
        line_id = f"U{index}"
        loan = rnd.randrange(entries // 3)
        name = f"{FIRST[loan % len(FIRST)]} {LAST[(loan // 7) % len(LAST)]}"
        lookalike = rnd.choice(EMIS) + rnd.choice([1, -1, 100, -100])
        value = START + timedelta(days=rnd.randrange(60))
        narration = _narration("NEFT", _reference(rnd, "NEFT"), name, f"LDPNC{loan:06d}")
        bank.append(BankCredit(line_id, lookalike, value, narration))
        truth[line_id] = None
    rnd.shuffle(bank)
    return LabelledBook(book, bank, truth)

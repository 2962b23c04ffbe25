"""The reference a bank puts in a narration: UTR, RRN, cheque or deposit slip number.

Indian banks write the reference of a credit inside free text, each in its own shape
("NEFT-HDFCN52022120512345678-RAMESH", "UPI/301234567890/name@okaxis", "BY CASH DEP SLIP 00123").
One parser reads them all so that the matcher compares like with like, and one normaliser
(`normalise_reference`) is applied to both sides of every comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Channel(StrEnum):
    """How the money reached the bank, as the narration tells it."""

    NEFT = "neft"
    RTGS = "rtgs"
    IMPS = "imps"
    UPI = "upi"
    NACH = "nach"
    CHEQUE = "cheque"
    CASH_DEPOSIT = "cash_deposit"


@dataclass(frozen=True)
class NarrationReference:
    """What a narration says: the channel and, when the bank wrote one, its reference."""

    channel: Channel
    reference: str | None


_SEPARATORS = re.compile(r"[^A-Z0-9@.]+")
_NON_ALNUM = re.compile(r"[^A-Z0-9]")
_IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
_RRN = re.compile(r"^\d{12}$")
_UTR = re.compile(r"^(?=.*\d)[A-Z0-9]{12,22}$")
_BANK_UTR = re.compile(r"^[A-Z]{4}[NR]\d{10,17}$")
_INSTRUMENT_NO = re.compile(r"^\d{3,10}$")

_CHANNEL_WORDS: tuple[tuple[Channel, tuple[str, ...]], ...] = (
    (Channel.UPI, ("UPI",)),
    (Channel.IMPS, ("IMPS", "MMT")),
    (Channel.RTGS, ("RTGS",)),
    (Channel.NEFT, ("NEFT",)),
    (Channel.NACH, ("NACH", "ACH", "ECS")),
)
_CASH_WORDS = ("CASH", "CSH")
_SLIP_WORDS = ("SLIP", "PICKUP", "PICK")
_CHEQUE_WORDS = ("CHQ", "CHEQUE", "CLG", "CLEARING", "INWARD")


@lru_cache(maxsize=1 << 16)
def normalise_reference(reference: str) -> str:
    """Upper case, letters and digits only; a number loses its leading zeros.

    A cheque "000123" on the statement and "123" typed at the desk are the same cheque.
    Remembered: every word of every narration passes here, and most words recur.
    """
    text = _NON_ALNUM.sub("", reference.upper())
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def narration_words(narration: str) -> tuple[str, ...]:
    """The narration cut at its separators, upper case (UPI handles keep their @ and dots)."""
    return tuple(word for word in _SEPARATORS.split(narration.upper()) if word)


def read_reference(narration: str) -> NarrationReference | None:
    """The channel and reference of a credit, or None when the narration names no channel."""
    words = narration_words(narration)
    if not words:
        return None
    split_words = {part for word in words for part in word.split(".") if part}
    if split_words & set(_CASH_WORDS):
        return NarrationReference(Channel.CASH_DEPOSIT, _number_after(words, _SLIP_WORDS))
    for channel, names in _CHANNEL_WORDS:
        if split_words & set(names):
            return NarrationReference(channel, _transfer_reference(channel, words))
    if split_words & set(_CHEQUE_WORDS):
        return NarrationReference(Channel.CHEQUE, _first_instrument_number(words))
    return None


def _number_after(words: tuple[str, ...], markers: tuple[str, ...]) -> str | None:
    """The first number after one of the marker words ("SLIP NO 00123" -> "00123")."""
    for index, word in enumerate(words):
        if word in markers:
            return _first_instrument_number(words[index + 1 :])
    return None


def _first_instrument_number(words: tuple[str, ...]) -> str | None:
    for word in words:
        if _INSTRUMENT_NO.match(word):
            return word
    return None


def _transfer_reference(channel: Channel, words: tuple[str, ...]) -> str | None:
    """A UPI/IMPS RRN is 12 digits; a NEFT/RTGS/NACH UTR is 12-22 letters and digits.

    A word in the banks' own UTR shape (bank code, N or R, digits) wins over any other long
    word, such as a loan account number standing earlier in the narration. An IFSC (four letters, a zero, six more) is a branch code, never the reference.
    """
    if channel in (Channel.UPI, Channel.IMPS):
        for word in words:
            if _RRN.match(word):
                return word
        return None
    for word in words:
        if _BANK_UTR.match(word):
            return word
    for word in words:
        if _UTR.match(word) and not _IFSC.match(word):
            return word
    return None

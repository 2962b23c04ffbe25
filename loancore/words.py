"""An amount in words, the way Indian receipts and cheques write it: "Rupees Twelve Lakh
Thirty-Four Thousand Five Hundred Sixty-Seven and Eighty-Nine Paise Only".

The counting words (lakh, crore, the tens and ones) come from num2words' `en_IN`. Its own
sentence is British ("twelve lakh, thirty-four thousand, five hundred and sixty-seven"); a
receipt carries the cheque wording instead: no commas, title case, and no "and" inside the
rupees, because on a receipt "and" is what joins the rupees to the paise. An "and" inside the
number ("Five Hundred and Sixty-Seven and Eighty-Nine Paise") would make that join ambiguous,
and it is also how the desk has always printed receipts, so a reprint matches the original.
"""

from __future__ import annotations

from num2words import num2words

from loancore.money import PAISE_PER_RUPEE, Paise

_CRORE = 10**7


def _counting_words(number: int) -> str:
    """0 <= number < 1 crore in num2words' words, rewritten in the receipt's style."""
    british = str(num2words(number, lang="en_IN"))
    plain = british.replace(",", "").replace(" and ", " ")
    return " ".join(word.title() for word in plain.split())


def number_in_words(number: int) -> str:
    """A whole number in the Indian system: crore, lakh, thousand, hundred. Beyond 99 crore the
    crores are counted in the same words ("One Thousand Two Hundred Crore"), as cheques do;
    splitting off the crores here also keeps every call within num2words' range."""
    if number < 0:
        raise ValueError("only amounts of zero or more are written in words")
    crores, rest = divmod(number, _CRORE)
    if not crores:
        return _counting_words(rest)
    in_crores = f"{number_in_words(crores)} Crore"
    return f"{in_crores} {_counting_words(rest)}" if rest else in_crores


def amount_in_words(paise: Paise) -> str:
    """E.g. 12,34,567.89 -> "Rupees Twelve Lakh Thirty-Four Thousand Five Hundred Sixty-Seven
    and Eighty-Nine Paise Only"; fifty paise alone is "Fifty Paise Only"."""
    if isinstance(paise, bool) or not isinstance(paise, int) or paise < 0:
        raise ValueError(f"an amount in words needs paise as a whole number, not {paise!r}")
    rupees, cents = divmod(paise, PAISE_PER_RUPEE)
    if rupees and cents:
        return f"Rupees {number_in_words(rupees)} and {_counting_words(cents)} Paise Only"
    if cents:
        return f"{_counting_words(cents)} Paise Only"
    return f"Rupees {number_in_words(rupees)} Only"

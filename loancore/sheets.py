"""How LoanDesk writes figures into spreadsheets, on the server (the MIS workbook) and on the
desk (every list's export): Indian digit grouping as number formats, so a cell holds a number
finance can add up while it reads 12,34,567.89; dates as dates shown DD-MM-YYYY; and the rule
that text which a spreadsheet would run as a formula is stored as plain text."""

from __future__ import annotations

RUPEES_FORMAT = '[>=10000000]"₹"##\\,##\\,##\\,##0.00;[>=100000]"₹"##\\,##\\,##0.00;"₹"##,##0.00'
"""₹ with lakh and crore grouping (positive amounts; a negative shows as -₹1,234.00)."""
AMOUNT_FORMAT = "[>=10000000]##\\,##\\,##\\,##0.00;[>=100000]##\\,##\\,##0.00;##,##0.00"
"""The same grouping without ₹, for a column whose heading says (₹)."""
COUNT_FORMAT = "[>=10000000]##\\,##\\,##\\,##0;[>=100000]##\\,##\\,##0;##,##0"
PERCENT_FORMAT = "0.00%"
DATE_FORMAT = "dd-mm-yyyy"
DATETIME_FORMAT = "dd-mm-yyyy hh:mm"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell whose text begins with one of these is run as a formula (or as DDE) by some
spreadsheet; such text is stored with the string type, never as a formula."""


def formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)

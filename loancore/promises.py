"""What makes a promise to pay acceptable, in one place for the server and the desk.

A promise is something a collector follows up: one dated in the past is not a promise, and one
further out than the horizon cannot be followed up in a collections cycle. The desk checks a
promise before queueing it with the same words the server answers, so a collector offline
sees the refusal at once instead of days later.
"""

from __future__ import annotations

from datetime import date, timedelta

from loancore.acceptance import Refusal

PROMISE_HORIZON_DAYS = 60
PROMISE_HORIZON = timedelta(days=PROMISE_HORIZON_DAYS)


PROMISE_IN_PAST = Refusal("promise_in_past", "A promise cannot be dated before today")
PROMISE_TOO_FAR = Refusal(
    "promise_too_far",
    f"A promise more than {PROMISE_HORIZON_DAYS} days ahead cannot be followed up",
)


def latest_promise_date(business_date: date) -> date:
    return business_date + PROMISE_HORIZON


def check_promise_loan(account_no: str, status: str) -> Refusal | None:
    if status == "active":
        return None
    return Refusal("loan_not_active", f"Loan {account_no} is {status}; it takes no promises")


def check_promise_date(promised: date, business_date: date) -> Refusal | None:
    if promised < business_date:
        return PROMISE_IN_PAST
    if promised > latest_promise_date(business_date):
        return PROMISE_TOO_FAR
    return None

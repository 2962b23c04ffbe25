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


PROMISE_IN_PAST = Refusal("promise_in_past", "A promise cannot be dated before today")
PROMISE_TOO_FAR = Refusal(
    "promise_too_far",
    f"A promise more than {PROMISE_HORIZON_DAYS} days ahead cannot be followed up",
)


def promise_too_far(horizon_days: int) -> Refusal:
    """The refusal under the lender's horizon setting (`PROMISE_TOO_FAR` is the default's)."""
    return Refusal(
        "promise_too_far",
        f"A promise more than {horizon_days} days ahead cannot be followed up",
    )


def latest_promise_date(business_date: date, horizon_days: int = PROMISE_HORIZON_DAYS) -> date:
    return business_date + timedelta(days=horizon_days)


def check_promise_loan(account_no: str, status: str) -> Refusal | None:
    if status == "active":
        return None
    return Refusal("loan_not_active", f"Loan {account_no} is {status}; it takes no promises")


def check_promise_date(
    promised: date, business_date: date, horizon_days: int = PROMISE_HORIZON_DAYS
) -> Refusal | None:
    """`horizon_days` is the lender's setting (`LenderSettings.promise_horizon_days`)."""
    if promised < business_date:
        return PROMISE_IN_PAST
    if promised > latest_promise_date(business_date, horizon_days):
        return promise_too_far(horizon_days)
    return None

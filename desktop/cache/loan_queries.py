"""The named reads view-models make of one loan and of loans by id: a loan and its payments,
its promises, disputes and legal cases, a loan by its typed account number, and Home's counts.

Like `desktop.cache.queries` (the loans list), this keeps the desk's SQL out of the
view-models, which shape what these return for a screen. Each read is one short session, so
it may run on any thread between syncs (the view-models' callers run it in a QueryOp).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from desktop.cache.models import (
    CachedDispute,
    CachedLegalCase,
    CachedLegalNote,
    CachedLoan,
    CachedPayment,
    CachedPromise,
    OutboxRow,
)
from desktop.cache.store import Cache, dpd_as_of_in, paused_by_office

_CHUNK = 500
"""Loan ids asked for in one statement: well under SQLite's bound on host parameters."""


def loan_row(cache: Cache, loan_id: str) -> CachedLoan | None:
    with cache.transaction() as session:
        return session.get(CachedLoan, loan_id)


def loan_by_account(cache: Cache, account_no: str) -> tuple[CachedLoan | None, date | None]:
    """The loan with this exact account number (an indexed lookup: the dialogs ask on every
    keystroke over a branch's 50,000 loans) and the day-end its DPD is read at, read back to
    back."""
    with cache.transaction() as session:
        loan = session.execute(
            select(CachedLoan).where(CachedLoan.account_no == account_no).limit(1)
        ).scalar_one_or_none()
        return loan, dpd_as_of_in(session)


def loans_with_ids(cache: Cache, ids: Iterable[str]) -> tuple[list[CachedLoan], date | None]:
    """The cached loans among `ids` (a few hundred ids a statement) and the day-end their DPD
    is read at."""
    wanted = sorted(set(ids))
    if not wanted:
        return [], None
    with cache.transaction() as session:
        dpd_as_of = dpd_as_of_in(session)
        found: list[CachedLoan] = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found.extend(
                session.execute(select(CachedLoan).where(CachedLoan.id.in_(chunk))).scalars()
            )
        return found, dpd_as_of


def payments_in_states(cache: Cache, loan_id: str, states: Collection[str]) -> list[CachedPayment]:
    """The loan's cached payments in these sync states, in entry order (UUIDv7 ids sort by
    the moment they were minted)."""
    with cache.transaction() as session:
        stmt = (
            select(CachedPayment)
            .where(CachedPayment.loan_id == loan_id)
            .where(CachedPayment.sync_state.in_(states))
            .order_by(CachedPayment.id)
        )
        return list(session.execute(stmt).scalars())


def loan_payments(cache: Cache, loan_id: str) -> tuple[list[CachedPayment], set[str]]:
    """Every cached payment of the loan, newest first, and the ids of those the office has
    paused (queued, answered `deferred` by a kill switch), read in one session."""
    with cache.transaction() as session:
        stmt = (
            select(CachedPayment)
            .where(CachedPayment.loan_id == loan_id)
            .order_by(CachedPayment.payment_date.desc(), CachedPayment.id.desc())
        )
        payments = list(session.execute(stmt).scalars())
        paused = set(
            session.execute(
                select(OutboxRow.command_id).where(OutboxRow.type == "payment", paused_by_office())
            ).scalars()
        )
    return payments, paused


def promises_and_disputes_of(
    cache: Cache, loan_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The loan's cached promises and disputes, as the server sent them, read in one
    session."""
    with cache.transaction() as session:
        promises = session.execute(select(CachedPromise).where(CachedPromise.loan_id == loan_id))
        promised = [row.data for row in promises.scalars()]
        disputes = session.execute(select(CachedDispute).where(CachedDispute.loan_id == loan_id))
        return promised, [row.data for row in disputes.scalars()]


def legal_cases_of(
    cache: Cache, loan_id: str
) -> tuple[list[CachedLegalCase], list[dict[str, Any]]]:
    """The loan's legal cases and every note on them, read in one session."""
    with cache.transaction() as session:
        cases = list(
            session.execute(
                select(CachedLegalCase).where(CachedLegalCase.loan_id == loan_id)
            ).scalars()
        )
        notes = [
            row.data
            for row in session.execute(
                select(CachedLegalNote).where(CachedLegalNote.loan_id == loan_id)
            ).scalars()
        ]
    return cases, notes


@dataclass(frozen=True, slots=True)
class DeskCounts:
    """Home's figures as counted in the cache."""

    loans_by_status: dict[str, int]
    pending_payments: int
    pending_paise: int
    refused_payments: int


def desk_counts(
    cache: Cache,
    *,
    collector_id: str | None,
    branch_id: int | None,
    refused_states: Collection[str],
) -> DeskCounts:
    """The loans by status (within one collector's or one branch's, when given), the payments
    waiting to be sent and their sum, and the payments the server refused: one read."""
    with cache.transaction() as session:
        stmt = select(CachedLoan.status, func.count()).group_by(CachedLoan.status)
        if collector_id is not None:
            stmt = stmt.where(CachedLoan.collector_id == collector_id)
        if branch_id is not None:
            stmt = stmt.where(CachedLoan.branch_id == branch_id)
        by_status = {str(status): int(n) for status, n in session.execute(stmt).all()}
        pending_count, pending_paise = session.execute(
            select(func.count(), func.coalesce(func.sum(CachedPayment.amount_paise), 0)).where(
                CachedPayment.sync_state == "pending"
            )
        ).one()
        refused = (
            session.scalar(
                select(func.count())
                .select_from(CachedPayment)
                .where(CachedPayment.sync_state.in_(refused_states))
            )
            or 0
        )
    return DeskCounts(by_status, int(pending_count), int(pending_paise), int(refused))

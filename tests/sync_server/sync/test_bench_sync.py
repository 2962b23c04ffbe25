"""The sync benchmark's whole path at a tiny size, so a change that breaks it (the bulk-SQL
book, the push through the real engine, the pulls and their baselines) fails in CI rather than
on the night of a full run. Its figures are checked for sense, never for speed."""

from __future__ import annotations

import math
import uuid

from sqlalchemy import func, select

from bench import bench_sync, sync_limit
from bench.sync_limit import LimitPayment
from sync_server.db.engine import Database
from sync_server.db.models import AllocationLine, SyncCommandRecord


def test_the_sync_benchmark_runs_end_to_end_and_its_figures_add_up(
    database_url: str, db_kind: str
) -> None:
    figures = bench_sync.run(
        db_kind,
        database_url,
        payments=12,
        collector_loans=4,
        branch_loans=10,
        devices=2,
        one_by_one=True,
    )
    push = figures.push
    assert (push.payments, push.devices, push.applied) == (12, 2, 12)
    assert push.per_second > 0
    assert push.resend_seconds > 0
    assert push.limit_seconds > 0
    asha, meera = figures.pulls
    # asha is the first of two devices' collectors: every other of the four loans is hers.
    assert (asha.who, asha.loans, meera.who, meera.loans) == ("asha", 2, "meera", 10)
    # Each of asha's six payments reaches her as the payment and its loan's new position; the
    # branch also sees the other device's six and the twelve the limit posted by SQL.
    assert asha.changes >= 2 + 6
    assert meera.changes >= 10 + 12 + 12
    for pull in figures.pulls:
        assert pull.pages >= 1
        assert pull.server_seconds > 0
        assert 0 < pull.apply_seconds < pull.seconds
        assert pull.empty_round_trip > 0
    lines = bench_sync.report(figures)
    # The baseline: twelve other payments pushed to a server applying each on its own.
    assert figures.one_by_one is not None
    assert (figures.one_by_one.payments, figures.one_by_one.applied) == (12, 12)
    assert len(lines) == 5 + 3 * len(figures.pulls)
    assert all(line.startswith(f"[{db_kind}]") for line in lines)
    assert not any("nan" in line or "inf" in line for line in lines)
    assert math.isfinite(figures.build_seconds)


def test_the_limit_posts_each_payment_once_and_allocates_all_of_it(
    database_url: str, db_kind: str
) -> None:
    """The limit's SQL does the posting's work: sent twice, a batch is posted once, and each
    payment's lines add up to its amount, oldest installment first."""
    db = Database(database_url)
    try:
        users, loans, _ = bench_sync.build_book(db, db_kind, 4, 2)
        batch = [
            LimitPayment(uuid.uuid4(), loans[n % 2], amount, f"LM{n}")
            for n, amount in enumerate([500_00, 900_000_00 // 100, 1_234_00])
        ]
        for _ in range(2):
            assert sync_limit.post_set_based(db, db_kind, users["ravi"].id, batch, 2) > 0
        with db.read_only() as session:
            paid = dict(
                session.execute(
                    select(
                        AllocationLine.payment_id, func.sum(AllocationLine.amount_paise)
                    ).group_by(AllocationLine.payment_id)
                ).all()
            )
            first_seq = session.execute(
                select(func.min(AllocationLine.installment_seq))
            ).scalar_one()
            records = session.execute(select(func.count()).select_from(SyncCommandRecord))
            assert records.scalar_one() == 3
    finally:
        db.dispose()
    assert {payment.id: payment.amount_paise for payment in batch} == {
        key: int(value) for key, value in paid.items()
    }
    assert first_seq == 1

"""The batch push answers and writes exactly what the one-by-one push did.

Seeded random batches (payments on a few loans, several on one loan, a loan closed in the
batch and paid again, repeats within a batch and of earlier pushes, the same id with other
content, a loan already closed, another collector's loan, a loan that does not exist, amounts
over what closes the loan or over the cash limit, a reference used twice, a suspected
duplicate, promises and contact logs between the payments, the payments kill switch off; cash
from one borrower over two loans and several payment dates, so section 269ST refuses by the
day it was received as well as by its payment date, also from a push that arrives after the
business day's midnight; another collector replaying the ids; a payment id already taken over
REST) are pushed through `service.push_one_by_one` on one database and `batch.push` on a copy of it; the
answers, in order, and the resulting rows must be the same, but for what legitimately differs
(row ids, timestamps taken at write time, the ids of foreclosure charges, minted per run).
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from uuid6 import uuid7

from loancore.contract import PaymentPayload, SyncCommand
from loancore.roles import Role
from sync_server.auth.service import create_user
from sync_server.db.engine import Database
from sync_server.db.models import Branch, Loan
from sync_server.flags.service import set_flag
from sync_server.loans.position import closing_quote, read_dues
from sync_server.payments.service import record_payment
from sync_server.principal import Principal
from sync_server.sync import batch, service
from tests import dbs
from tests.sync_server.sync.conftest import book

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SEEDS = (11, 23, 47)
PUSHES = 5


class Book:
    """Who pushes and on what: asha's four loans (one already closed), ravi's, and none."""

    def __init__(self, db: Database) -> None:
        with db.unit_of_work() as session:
            branch = Branch(code="BR01", name="Pune Camp")
            session.add(branch)
            session.flush()
            users = {
                name: create_user(
                    session,
                    actor=None,
                    username=name,
                    full_name=name.title(),
                    role=role,
                    branch_id=branch.id,
                    password="correct horse battery staple",
                )
                for name, role in (
                    ("asha", Role.COLLECTOR),
                    ("ravi", Role.COLLECTOR),
                    ("admin", Role.ADMIN),
                )
            }
            self.branch = branch.id
        self.asha = Principal(users["asha"].id, "asha", Role.COLLECTOR, self.branch)
        self.admin = Principal(users["admin"].id, "admin", Role.ADMIN, None)
        self.loans = [book(db, self.branch, f"LN{n:04d}", self.asha.user_id) for n in range(4)]
        self.closed = self.loans.pop()
        self.ravis = book(db, self.branch, "LN0100", users["ravi"].id)
        # Two loans of one borrower: section 269ST sums their cash.
        self.siblings = [
            book(db, self.branch, f"LN020{n}", self.asha.user_id, customer_no="C-SIBLINGS")
            for n in range(2)
        ]
        # And two of another, paid only after midnight, while the business day is not over.
        self.late = [
            book(db, self.branch, f"LN030{n}", self.asha.user_id, customer_no="C-LATE")
            for n in range(2)
        ]
        self.ravi = Principal(users["ravi"].id, "ravi", Role.COLLECTOR, self.branch)
        with db.unit_of_work() as session:
            session.execute(
                update(Loan)
                .where(Loan.id == self.closed)
                .values(status="closed", closed_on=TODAY - timedelta(days=3))
            )
            # The product's foreclosure charge, so a closing payment levies one.
            session.execute(text("UPDATE products SET foreclosure_charge_paise = 150000"))


def _copy(url: str, tmp_path: Path) -> str:
    """A second database holding what `url` holds (nothing may be connected to it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = tmp_path / "copy.db"
        shutil.copyfile(str(parsed.database), target)
        return f"sqlite:///{target}"
    return str(parsed.set(database=dbs._copy_of(str(parsed.database))).render_as_string(False))


@pytest.fixture
def two(database_url: str, tmp_path: Path) -> Iterator[tuple[Database, Database, Book]]:
    seed = Database(database_url)
    world = Book(seed)
    seed.dispose()
    copy_url = _copy(database_url, tmp_path)
    one_by_one, batched = Database(database_url), Database(copy_url)
    yield one_by_one, batched, world
    one_by_one.dispose()
    batched.dispose()
    dbs.drop_database(copy_url)


class Batches:
    """Random batches of a seeded generator, with the history they may repeat."""

    def __init__(self, rng: random.Random, world: Book) -> None:
        self.rng, self.world = rng, world
        self.history: list[dict[str, Any]] = []
        self.serial = 0

    def _reference(self, mode: str) -> str:
        self.serial += 1
        if mode == "upi":
            return f"{self.rng.randrange(10**11, 10**12)}"
        if mode == "neft":
            return f"SBIN{self.serial:012d}"
        return f"R{self.serial:05d}"

    def payment(self, loan: uuid.UUID, amount: int, **extra: Any) -> dict[str, Any]:
        mode = extra.pop("mode", None) or self.rng.choice(["cash", "cash", "upi", "neft"])
        payload = {
            "loan_id": str(loan),
            "amount_paise": amount,
            "mode": mode,
            "reference": extra.pop("reference", None) or self._reference(mode),
            "payment_date": extra.pop("payment_date", None)
            or str(self.rng.choice([TODAY, TODAY, TODAY - timedelta(days=2)])),
            **extra,
        }
        return _command("payment", payload)

    def split_cash(
        self, days_back: int, amount: int, loan: int, *, late: bool = False
    ) -> dict[str, Any]:
        """Cash from the siblings' borrower (or the late pair's), dated `days_back` before
        today."""
        extra = {"backdate_reason": "entered late"} if days_back else {}
        return self.payment(
            (self.world.late if late else self.world.siblings)[loan],
            amount,
            mode="cash",
            payment_date=str(TODAY - timedelta(days=days_back)),
            **extra,
        )

    def make(self, push_no: int, closing: dict[uuid.UUID, int]) -> list[dict[str, Any]]:
        rng, world = self.rng, self.world
        made: list[dict[str, Any]] = []
        if push_no == 0:
            # Under the limit by payment date (yesterday's, today's) but not by the day it was
            # handed over: the second is refused.
            made += [self.split_cash(1, 1_10_000_00, 0), self.split_cash(0, 95_000_00, 1)]
            # A payment, the same again under a new receipt (held as a suspected duplicate)
            # and under its receipt (refused: the reference is on record).
            first = self.payment(world.loans[0], 3_000_00, mode="cash")
            suspect = {**first["payload"], "reference": self._reference("cash")}
            made += [first, _command("payment", suspect), _command("payment", first["payload"])]
        if push_no == PUSHES - 1:
            # Received after midnight: not the business day's cash, so the second is taken.
            made += [
                self.split_cash(1, 1_10_000_00, 0, late=True),
                self.split_cash(0, 95_000_00, 1, late=True),
            ]
        if push_no == 1:
            closer = rng.choice(world.loans)
            made.append(self.payment(closer, closing[closer], mode="neft", foreclosure=True))
        for _ in range(rng.randint(8, 16)):
            pick = rng.random()
            earlier = made + self.history
            if pick < 0.12:
                made.append(
                    self.split_cash(
                        rng.choice([0, 0, 1, 2]),
                        rng.choice([40_000_00, 60_000_00, 95_000_00, 1_10_000_00]),
                        rng.randrange(2),
                    )
                )
            elif pick < 0.45 or not earlier:
                loan = rng.choice(
                    [*world.loans, *world.loans, world.closed, world.ravis, uuid.uuid4()]
                )
                if rng.random() < 0.2:
                    loan = rng.choice(world.siblings)
                amount = rng.choice([500_00, 2_000_00, 10_662_00, 25_000_00, 190_000_00])
                made.append(self.payment(loan, amount))
            elif pick < 0.55:
                made.append(json.loads(json.dumps(rng.choice(earlier))))  # the same again
            elif pick < 0.62:
                other = json.loads(json.dumps(rng.choice(earlier)))
                if other["type"] == "payment":
                    other["payload"]["amount_paise"] += 100
                else:
                    other["payload"]["note"] = "changed"
                made.append(other)  # same id, other content
            elif pick < 0.72:
                paid = [c for c in earlier if c["type"] == "payment"]
                if paid:
                    again = dict(rng.choice(paid)["payload"])
                    if rng.random() < 0.5:  # a suspected duplicate: a new receipt number
                        again["reference"] = self._reference(again["mode"])
                    made.append(_command("payment", again))  # or a reference used twice
            elif pick < 0.86:
                made.append(
                    _command(
                        "promise",
                        {
                            "loan_id": str(rng.choice(world.loans)),
                            "amount_paise": 5_000_00,
                            "promised_date": str(TODAY + timedelta(days=3)),
                            "note": "will pay",
                        },
                    )
                )
            else:
                made.append(
                    _command(
                        "contact_log",
                        {
                            "loan_id": str(rng.choice([*world.loans, world.ravis])),
                            "kind": "visit",
                            "contacted_at": (NOW - timedelta(hours=rng.choice([1, 8]))).isoformat(),
                            "outcome": "met borrower",
                        },
                    )
                )
        self.history += made
        return made


def _command(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid7()),
        "type": kind,
        "device_id": "dev-differential",
        "device_time": NOW.isoformat(),
        "payload": payload,
    }


def _quotes(db: Database, loans: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What closes each open loan today, as the server quotes it."""
    quotes = {}
    with db.read_only() as session:
        for loan_id in loans:
            loan = session.get(Loan, loan_id)
            assert loan is not None
            if loan.status == "active":
                dues = read_dues(session, loan)
                quotes[loan_id] = closing_quote(session, loan, dues, TODAY).total
    return quotes


_TABLES = {
    "payments": ("SELECT * FROM payments ORDER BY id", ()),
    "allocations": ("SELECT * FROM allocations ORDER BY id", ("id", "created_at")),
    "charges": ("SELECT * FROM charges ORDER BY source_key", ("created_at",)),
    "installment_state": ("SELECT * FROM installment_state ORDER BY loan_id, seq", ()),
    "loan_state": ("SELECT * FROM loan_state ORDER BY loan_id", ("updated_at",)),
    "loans": ("SELECT id, status, closed_on FROM loans ORDER BY id", ()),
    "sync_commands": ("SELECT * FROM sync_commands ORDER BY id", ("received_at",)),
    "change_log": ("SELECT * FROM change_log ORDER BY seq", ("seq", "at")),
    "audit_log": (
        "SELECT action, outcome, entity, entity_id, before, after, detail, actor_username "
        "FROM audit_log ORDER BY id",
        (),
    ),
    "promises": ("SELECT * FROM promises ORDER BY loan_id, amount_paise", ("id", "created_at")),
}


def _state(db: Database) -> dict[str, list[str]]:
    """Every row the push writes, as JSON, with the foreclosure charges' ids (minted per run)
    replaced by their source keys and what is stamped at write time left out."""
    found: dict[str, list[dict[str, Any]]] = {}
    with db.read_only() as session:
        charges = dict(session.execute(text("SELECT id, source_key FROM charges")).all())
        for table, (query, skip) in _TABLES.items():
            rows = session.execute(text(query)).mappings().all()
            found[table] = [
                {key: value for key, value in row.items() if key not in skip} for row in rows
            ]
    return {
        table: [
            _without_charge_ids(json.dumps(row, default=str, sort_keys=True), charges)
            for row in rows
        ]
        for table, rows in found.items()
    }


def _without_charge_ids(dumped: str, charges: dict[Any, str]) -> str:
    for charge_id, source_key in charges.items():
        as_uuid = uuid.UUID(str(charge_id))
        for form in (str(as_uuid), as_uuid.hex, str(charge_id)):
            dumped = dumped.replace(form, f"<{source_key}>")
    return dumped


def _charge_keys(db: Database) -> dict[Any, str]:
    with db.read_only() as session:
        return dict(session.execute(text("SELECT id, source_key FROM charges")).all())


def _late(push_no: int) -> datetime:
    """When push `push_no` arrives: minutes apart, the last after midnight IST while the
    business date is still today (day-end not yet run): its cash is not today's receipt."""
    if push_no == PUSHES - 1:
        return datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    return NOW + timedelta(minutes=push_no)


def _taken_over_rest(
    dbs_: tuple[Database, ...], batches: Batches, raw: list[dict[str, Any]]
) -> None:
    """A payment pushed under an id another payment took over REST first (the REST one for
    another amount): it goes in the middle of the push."""
    world = batches.world
    pushed = batches.payment(world.loans[1], 1_500_00, mode="upi")
    other = PaymentPayload.model_validate({**pushed["payload"], "amount_paise": 1_000_00})
    for db in dbs_:
        with db.unit_of_work() as session:
            record_payment(
                session,
                db,
                world.asha,
                payment_id=uuid.UUID(pushed["id"]),
                payload=other,
                business_date=TODAY,
                now=NOW,
                content_hash="over-rest",
            )
    raw.insert(len(raw) // 2, pushed)


def _replayed(rng: random.Random, history: list[dict[str, Any]], world: Book) -> list[SyncCommand]:
    """Another collector's push: some of asha's ids again (as sent, or changed), and payments
    of their own."""
    picked = [json.loads(json.dumps(c)) for c in rng.sample(history, min(6, len(history)))]
    for command in picked[::3]:
        if command["type"] == "payment":
            command["payload"]["amount_paise"] += 100
        else:
            command["payload"]["note"] = "changed"
    own = [
        _command(
            "payment",
            {
                "loan_id": str(world.ravis),
                "amount_paise": 2_000_00,
                "mode": "upi",
                "reference": f"{rng.randrange(10**11, 10**12)}",
                "payment_date": str(TODAY),
            },
        )
        for _ in range(2)
    ]
    return [SyncCommand.model_validate(c) for c in [own[0], *picked, own[1]]]


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_push_answers_and_writes_as_the_one_by_one_push_did(
    two: tuple[Database, Database, Book], seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loandesk.sync")
    one_by_one, batched, world = two
    rng = random.Random(seed)
    batches = Batches(rng, world)
    kinds: set[str] = set()

    def compare(actor: Principal, commands: list[SyncCommand], at: datetime, label: str) -> None:
        expected = service.push_one_by_one(one_by_one, actor, commands, business_date=TODAY, now=at)
        got = batch.push(batched, actor, commands, business_date=TODAY, now=at)

        def dumped(answers: list[Any], db: Database) -> list[str]:
            return [_without_charge_ids(a.model_dump_json(), _charge_keys(db)) for a in answers]

        assert dumped(got, batched) == dumped(expected, one_by_one), label
        # The batch path itself gave them: a run that failed and fell back to the one-by-one
        # path would compare that path with itself.
        fell_back = [r.getMessage() for r in caplog.records if "one by one" in r.getMessage()]
        assert fell_back == [], label
        state, reference = _state(batched), _state(one_by_one)
        for table, rows in reference.items():
            assert state[table] == rows, f"{label}: {table}"
        kinds.update(f"{a.status}:{a.code}" for a in expected)

    for push_no in range(PUSHES):
        raw = batches.make(push_no, _quotes(one_by_one, world.loans))
        if push_no == 1:
            _taken_over_rest((one_by_one, batched), batches, raw)
        commands = [SyncCommand.model_validate(c) for c in raw]
        intake_off = push_no == 2
        if intake_off:
            for db in (one_by_one, batched):
                with db.unit_of_work() as session:
                    set_flag(session, world.admin, "payments_intake", False)
        compare(world.asha, commands, _late(push_no), f"push {push_no}")
        if intake_off:
            for db in (one_by_one, batched):
                with db.unit_of_work() as session:
                    set_flag(session, world.admin, "payments_intake", True)
    compare(world.ravi, _replayed(rng, batches.history, world), NOW, "replay")
    # The batches did reach the cases they are meant to compare.
    with batched.read_only() as session:
        seen = session.execute(
            text(
                "SELECT (SELECT count(*) FROM payments WHERE status = 'pending_review'),"
                " (SELECT count(*) FROM charges WHERE reason = 'foreclosure'),"
                " (SELECT count(*) FROM loans WHERE status = 'closed'),"
                " (SELECT count(*) FROM audit_log WHERE action = 'sync.replay')"
            )
        ).one()
    statuses = {kind.split(":")[0] for kind in kinds}
    assert statuses == {"applied", "duplicate", "conflict", "rejected", "deferred"}
    assert {
        "rejected:duplicate_reference",
        "rejected:forbidden",
        "rejected:cash_limit_269st",
        "conflict:payment_id_conflict",
        "conflict:command_id_conflict",
    } <= kinds
    held, levied, closed, replayed = seen
    assert (held >= 1, levied >= 1, closed >= 2, replayed >= 1) == (True, True, True, True)

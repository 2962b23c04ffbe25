"""The answer to a command id already received, shared by the one-by-one and the batch push
(sync_server/sync/resend.py): which answer, and which refused attempt the caller audits. The
paths' own tests (test_push, test_batch_differential, hardening/test_same_id) check that each
writes that entry where it keeps its audit."""

from __future__ import annotations

import uuid

from loancore.contract import CommandStatus, CommandType, content_hash
from loancore.roles import Role
from sync_server.principal import Principal
from sync_server.sync.resend import Stored, answer_again
from tests.loancore.test_contract import command

ME = Principal(uuid.UUID(int=1), "collector", Role.COLLECTOR, 1)
OTHER = Principal(uuid.UUID(int=2), "another", Role.COLLECTOR, 1)
RESULT = {"payment_id": "p-1", "receipt_no": "RCPT-1"}


def _earlier(by: Principal, kind: str, fingerprint: str) -> Stored:
    return Stored(by.user_id, "desk-pune-07", kind, fingerprint, None, None, RESULT)


def test_the_same_users_same_command_is_a_duplicate_carrying_the_first_answer() -> None:
    sent = command()
    again = answer_again(ME, _earlier(ME, "payment", content_hash(sent)), sent, content_hash(sent))
    assert again.refusal is None
    assert (again.answer.id, again.answer.status, again.answer.result) == (
        sent.id,
        CommandStatus.DUPLICATE,
        RESULT,
    )


def test_another_users_id_is_answered_received_and_nothing_more_and_audited() -> None:
    sent = command()
    again = answer_again(
        ME, _earlier(OTHER, "payment", content_hash(sent)), sent, content_hash(sent)
    )
    assert (again.answer.status, again.answer.code, again.answer.result) == (
        CommandStatus.DUPLICATE,
        None,
        None,
    )
    assert again.refusal is not None
    assert (again.refusal.action, again.refusal.entity, again.refusal.outcome) == (
        "sync.replay",
        "sync_command",
        "refused",
    )


def test_other_content_or_type_under_the_id_is_a_conflict_before_whose_id_it_is() -> None:
    sent = command()
    for earlier in (
        _earlier(OTHER, "payment", "another hash"),
        _earlier(ME, str(CommandType.PROMISE), content_hash(sent)),
    ):
        again = answer_again(ME, earlier, sent, content_hash(sent))
        assert (again.answer.status, again.answer.code) == (
            CommandStatus.CONFLICT,
            "command_id_conflict",
        )
        assert again.refusal is not None
        assert again.refusal.action == "sync.conflict"
        assert again.refusal.detail == (
            "same id, different content (first pushed by device desk-pune-07)"
        )

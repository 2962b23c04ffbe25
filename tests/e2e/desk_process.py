"""The desk's sync side as a process of its own, for tests that kill it (SIGKILL) at chosen
points: the desk's real cache (desktop/cache) in a data directory, payments saved through the
desk's own path (`desktop.sync.outbox.record_payment`, what the Record payment screen calls),
and the desk's own sync engine over HTTP.

    python -m tests.e2e.desk_process record --data-dir D --server URL --loans A,B --count N
        --first-amount P --reference R --date YYYY-MM-DD
    python -m tests.e2e.desk_process resume --data-dir D --server URL

The access token comes in the environment (LOANDESK_DESK_TOKEN), not on the command line.

`record` prints `saved <id>` after each payment is durably in the cache (the local commit has
returned, synchronous=FULL), then `pushing`, then `pushed <n>` once the server's answers are
settled, or `push failed <kind>` (exit 3) when the round failed with the queue intact, as a
desk's round does when the answer is lost. `resume` opens the same cache, runs one sync round
(push what is left, then pull), prints `answers <status>=<n> ...` and `outbox <count>` (exit
3 if the round failed). Every line is flushed at once, so the parent can kill the process
right after any of them.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from tenacity import wait_fixed

from desktop.cache.store import Cache
from desktop.sync.api import ApiClient, ServerBusyError, TransportError
from desktop.sync.engine import SyncEngine
from desktop.sync.outbox import record_payment
from loancore.contract import PaymentPayload

TOKEN_ENV = "LOANDESK_DESK_TOKEN"
CACHE_FILE = "cache.db"
FAILED = 3
ATTEMPTS = 2
"""Tries per request inside a round: a lost answer is retried once at once (the server answers
the repeat `duplicate`), as the desk's engine does, before the round gives up."""
WAIT_S = 0.05


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _engine(cache: Cache, server: str) -> tuple[SyncEngine, ApiClient]:
    api = ApiClient(server, token=os.environ[TOKEN_ENV], timeout=(5.0, 30.0))
    engine = SyncEngine(api, cache, batch_size=50, attempts=ATTEMPTS, wait=wait_fixed(WAIT_S))
    return engine, api


def record(args: argparse.Namespace) -> int:
    cache = Cache(Path(args.data_dir) / CACHE_FILE)
    loans = [uuid.UUID(text) for text in args.loans.split(",")]
    for n in range(args.count):
        payment_id = record_payment(
            cache,
            PaymentPayload(
                loan_id=loans[n % len(loans)],
                amount_paise=args.first_amount + n,
                mode="cash",
                reference=f"{args.reference}{n:02d}",
                payment_date=date.fromisoformat(args.date),
            ),
        )
        say(f"saved {payment_id}")
    engine, api = _engine(cache, args.server)
    say("pushing")
    try:
        report = engine.push()
    except TransportError as exc:
        say(f"push failed {exc.kind}")
        return FAILED
    except ServerBusyError:
        say("push failed busy")
        return FAILED
    finally:
        api.close()
    say(f"pushed {report.sent}")
    cache.close()
    return 0


def resume(args: argparse.Namespace) -> int:
    cache = Cache(Path(args.data_dir) / CACHE_FILE)
    say(f"resuming {cache.outbox_size()}")
    engine, api = _engine(cache, args.server)
    try:
        report = engine.sync()
    finally:
        api.close()
    answers = " ".join(f"{status}={n}" for status, n in sorted(report.answers.items()))
    say(f"answers {answers}".rstrip())
    say(f"outbox {cache.outbox_size()}")
    cache.close()
    if not report.ok:
        say(f"sync failed {report.error}")
        return FAILED
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="desk_process")
    parser.add_argument("mode", choices=("record", "resume"))
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--loans", default="")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--first-amount", type=int, default=100_00)
    parser.add_argument("--reference", default="RB")
    parser.add_argument("--date", default="")
    args = parser.parse_args(argv)
    return record(args) if args.mode == "record" else resume(args)


if __name__ == "__main__":
    sys.exit(main())

"""LoanDesk's one entry point: `python main.py <command>`.

Each command imports only what it needs, so `desktop` never loads the server and the server
never loads Qt.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sync_server.config import Capacity
    from sync_server.db.engine import Database

DEFAULT_PORT = 8765


def _env(name: str, default: str) -> str:
    """A server option's default from the environment (docs/operations.md lists them), so a
    service definition can hold every setting as an environment variable."""
    return os.environ.get(name) or default


def _db_url(args: argparse.Namespace) -> str:
    from sync_server.config import default_database_url

    return str(args.db or default_database_url())


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $LOANDESK_DATABASE_URL or a SQLite file in the user data dir)",
    )


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sync_server.db.engine import Database
    from sync_server.db.migrate import upgrade

    db = Database(_db_url(args))
    upgrade(db.engine)
    db.dispose()
    print(f"database is at the latest schema: {db.engine.url.render_as_string(hide_password=True)}")
    return 0


def server_capacity(args: argparse.Namespace, url: str) -> Capacity:
    """What one server process takes on at once: as told, else the reads sized for the
    database (`config.reads_at_once`)."""
    from sync_server.config import Capacity, reads_at_once

    active_requests = args.active_requests or reads_at_once(url)
    return Capacity(
        active_requests=active_requests,
        queued_requests=args.queued_requests,
        queue_wait_seconds=args.queue_wait,
        worker_threads=max(Capacity().worker_threads, active_requests + args.active_writes + 8),
        active_writes=args.active_writes,
    )


def cmd_server(args: argparse.Namespace) -> int:
    import uvicorn

    from sync_server.db.engine import Database
    from sync_server.db.migrate import upgrade
    from sync_server.ops.alerts import AlertChannels, AlertSettingsError
    from sync_server.workers import (
        SERVER_OPTIONS,
        ServerOptions,
        WorkersRefused,
        build_app,
        check_workers,
        connection_budget,
    )

    try:
        AlertChannels.from_env()  # a mistyped alert setting is said now, not on the night
    except AlertSettingsError as exc:
        print(f"server not started: {exc}", file=sys.stderr)
        return 2
    url = _db_url(args)
    try:
        check_workers(url, args.workers)
    except WorkersRefused as exc:
        print(f"server not started: {exc}", file=sys.stderr)
        return 2
    capacity = server_capacity(args, url)
    db = Database(url, capacity=capacity)
    upgrade(db.engine)  # once, before any worker starts
    db.dispose()
    options = ServerOptions(
        database_url=url,
        run_scheduler=not args.no_scheduler,
        capacity=capacity,
        requests_per_minute=args.requests_per_minute,
        log_level=args.log_level,
        fixed_clock=os.environ.get("LOANDESK_FIXED_CLOCK") or None,
    )
    if options.fixed_clock:
        print(f"warning: the business clock stands at {options.fixed_clock}", file=sys.stderr)
    from sync_server.ops.logs import configure_logging

    warning = connection_budget(url, args.workers, capacity)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    processes = f", {args.workers} processes" if args.workers > 1 else ""
    print(
        f"LoanDesk server on http://{args.host}:{args.port}/api/v1 (OpenAPI: /openapi.json)"
        f"{processes}"
    )
    configure_logging(args.log_level)  # JSON lines; the request lines replace uvicorn's access log
    # The caller's address behind a proxy is read by the server itself, from the proxies named
    # in LOANDESK_TRUSTED_PROXIES only (sync_server/ratelimit.py); uvicorn's own reading would
    # believe any X-Forwarded-For sent from 127.0.0.1.
    served: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        # A desk asked to come back (503, Retry-After up to a few seconds) comes back on the
        # same connection: uvicorn's 5 s default closed some of them as they were reused at
        # 200 clients (the desk saw a dropped connection instead of its answer).
        "timeout_keep_alive": 30,
    }
    if args.workers == 1:
        uvicorn.run(build_app(options), **served)  # type: ignore[arg-type]
        return 0
    # Each worker is a fresh interpreter that builds its own app from these options.
    os.environ[SERVER_OPTIONS] = options.to_environment()
    uvicorn.run(
        "sync_server.workers:app_from_environment",
        factory=True,
        workers=args.workers,
        # The supervisor kills a worker that does not answer its ping within this time (the
        # answer needs the worker's GIL). Uvicorn's 5 s killed busy workers, and every request
        # they held, when 4 processes shared 2 cores under 100 users (bench_users lost 18 to 28
        # answers a run); a worker that is really hung is still replaced, a minute later.
        timeout_worker_healthcheck=args.worker_timeout,
        **served,  # type: ignore[arg-type]
    )
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise SystemExit("The two passwords differ; nothing was created.")
    return first


def cmd_create_user(args: argparse.Namespace) -> int:
    from sync_server.auth.cli import create_user_cli
    from sync_server.db.engine import Database
    from sync_server.db.migrate import upgrade

    url = _db_url(args)
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    password = _read_password(args)
    from sync_server.errors import LoanDeskError

    try:
        print(create_user_cli(url, args.username, args.full_name, args.role, args.branch, password))
    except LoanDeskError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 2
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from sync_server.audit.sealer import seal
    from sync_server.audit.service import verify_chain
    from sync_server.db.engine import Database

    db = Database(_db_url(args))
    try:
        sealed_now = seal(db)
        with db.read_only() as session:
            report = verify_chain(session)
    finally:
        db.dispose()
    waiting = (
        f"; {report.unsealed} waiting to be sealed (oldest {report.oldest_unsealed_seconds:.0f} s)"
        if report.unsealed and report.oldest_unsealed_seconds is not None
        else ""
    )
    skipped = (
        f"; {report.skipped_ids} ids skipped by rolled-back work" if report.skipped_ids else ""
    )
    if report.ok:
        print(
            f"audit chain intact: {report.checked} entries verified "
            f"({report.sealed} sealed, {sealed_now} of them just now{waiting}{skipped})"
        )
        return 0
    where = f"entry {report.first_broken_id}" if report.first_broken_id else "the chain's end"
    print(
        f"audit chain BROKEN at {where}: {report.problem} ({report.checked} entries verified before it)"
    )
    return 1


@contextmanager
def _server_database(args: argparse.Namespace, *, migrate: bool = True) -> Iterator[Database]:
    """The server's database for one command: migrated when behind (one cheap revision read
    when it is not) unless the command only reads, disposed however the command ends."""
    from sync_server.db.engine import Database
    from sync_server.db.migrate import upgrade_if_behind

    db = Database(_db_url(args))
    try:
        if migrate:
            upgrade_if_behind(db.engine)
        yield db
    finally:
        db.dispose()


def cmd_audit_ledger(args: argparse.Namespace) -> int:
    from sync_server.jobs.ledger_check import ledger_check_command

    with _server_database(args, migrate=False) as db:
        return ledger_check_command(db, args.as_of)


def cmd_jobs(args: argparse.Namespace) -> int:
    from sync_server.jobs import cli

    with _server_database(args) as db:
        if args.jobs_command == "status":
            return cli.status_command(db)
        if args.job == "day-end":
            return cli.run_day_end_command(db, args.date)
        if not args.week:
            print("jobs run weekly needs --week, e.g. --week 2026-W48", file=sys.stderr)
            return 2
        return cli.run_weekly_command(db, args.week, rescore=args.rescore, reason=args.reason)


def cmd_import_statement(args: argparse.Namespace) -> int:
    from sync_server.reconciliation.cli import import_statement_command

    with _server_database(args) as db:
        return import_statement_command(db, args.file, args.account)


def cmd_import_loans(args: argparse.Namespace) -> int:
    from sync_server.book.cli import import_loans_command

    with _server_database(args) as db:
        return import_loans_command(
            db,
            args.file,
            dry_run=args.dry_run,
            new_only=args.new_only,
            report=args.report,
            username=args.as_user,
        )


def cmd_report_convergence(args: argparse.Namespace) -> int:
    from sync_server.book.cli import convergence_command

    with _server_database(args) as db:
        return convergence_command(db, args.sheet, args.as_of, args.out, args.xlsx)


def cmd_report_mis(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sync_server.reports.cli import mis_command

    with _server_database(args) as db:
        xlsx = Path(args.xlsx) if args.xlsx else None
        return mis_command(db, args.as_of, Path(args.out), xlsx, args.branch)


def cmd_desktop(args: argparse.Namespace) -> int:
    if args.smoke:
        from desktop.smoke import run_smoke

        return run_smoke(args.server, args.user, args.password)
    from desktop.app import run

    return run(sys.argv[:1], server_url=args.server)


def cmd_demo(args: argparse.Namespace) -> int:
    """Builds the demo book (once; on the embedded SQLite file for these --loans and --seed,
    or on --db URL, PostgreSQL included), then serves it and opens the desktop client against
    it. The server is stopped on every way out (see `sync_server.demo.serve`)."""
    from sync_server.clock import Clock
    from sync_server.config import data_dir
    from sync_server.demo import DEMO_PASSWORD
    from sync_server.demo.serve import DemoError, build_demo, serving

    if args.db:
        url = args.db
    else:
        path = data_dir() / f"demo-{args.loans}-{args.seed}.db"
        url = f"sqlite:///{path}"
        if args.fresh:
            path.unlink(missing_ok=True)
    try:
        build_demo(
            url,
            loans=args.loans,
            seed=args.seed,
            today=Clock().business_date(),
            fresh=bool(args.fresh and args.db),
        )
        print(
            f"Demo users: admin, bm.pnc, col.pnc1, finance, legal, auditor; password {DEMO_PASSWORD}"
        )
        if args.build_only:
            return 0
        server_url = f"http://127.0.0.1:{args.port}"
        command = [sys.executable, __file__, "server", "--db", url, "--port", str(args.port)]
        with serving([*command, "--log-level", "warning"], args.port) as server:
            print(f"Demo server on {server_url}")
            if args.server_only:
                return server.wait()
            return _desktop_until_closed(server_url)
    except DemoError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Demo stopped.", file=sys.stderr)
        return 130


def _desktop_until_closed(server_url: str) -> int:
    """The desktop client, quitting cleanly on Ctrl+C, SIGTERM or SIGHUP: Qt's loop never
    hands Python a signal by itself, so a timer gives it the chance, and the handler asks the
    loop to end (the demo then stops its server)."""
    import signal

    from desktop.app import run
    from desktop.qt import QApplication, QGuiApplication, Qt, QTimer

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication(sys.argv[:1])
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
        signal.signal(sig, lambda *_: app.quit())
    awake = QTimer()
    awake.start(250)
    awake.timeout.connect(lambda: None)
    return run(sys.argv[:1], server_url=server_url)


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sync_server.backup.archive import BackupRefused, load_key
    from sync_server.backup.service import make_backup

    try:
        header = make_backup(_db_url(args), Path(args.out), key=load_key())
    except BackupRefused as exc:
        print(f"backup refused: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"backup failed: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 1
    print(
        f"backup written to {args.out}: {header.database_kind}, schema {header.schema_revision}, "
        f"{header.plaintext_bytes} bytes before encryption, sha256 {header.plaintext_sha256}"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from sync_server.backup.archive import BackupRefused, load_key
    from sync_server.backup.service import restore_backup

    url = _db_url(args)
    if not args.yes:
        where = make_url(url).render_as_string(hide_password=True)
        print(
            f"restore replaces the whole database at {where}; stop the servers, "
            "then run again with --yes",
            file=sys.stderr,
        )
        return 2
    try:
        done = restore_backup(url, Path(args.file), key=load_key(), say=print)
    except BackupRefused as exc:
        print(f"restore refused: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"restore failed: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 1
    print(
        f"restored the backup of {done.header.created_at}: audit chain intact "
        f"({done.audit_entries} entries verified)"
    )
    if done.upgraded_to:
        print(
            f"the book was migrated from schema {done.header.schema_revision} to {done.upgraded_to}"
        )
    if done.previous_database:
        print(
            f"the replaced database is kept as '{done.previous_database}'; drop it when satisfied"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="LoanDesk loan collections")
    sub = parser.add_subparsers(dest="command", metavar="<command>")

    p = sub.add_parser("server", help="run the sync server (upgrades the database first)")
    p.add_argument("--host", default=_env("LOANDESK_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(_env("LOANDESK_PORT", str(DEFAULT_PORT))))
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        default=_env("LOANDESK_RUN_SCHEDULER", "1").lower() in ("0", "false", "no"),
        help="do not run the nightly jobs ($LOANDESK_RUN_SCHEDULER=0)",
    )
    p.add_argument("--log-level", default=_env("LOANDESK_LOG_LEVEL", "info"))
    p.add_argument(
        "--workers",
        type=int,
        default=int(_env("LOANDESK_WORKERS", "1")),
        metavar="N",
        help="server processes sharing the port (PostgreSQL only; default 1)",
    )
    p.add_argument(
        "--worker-timeout",
        type=int,
        default=int(_env("LOANDESK_WORKER_TIMEOUT", "60")),
        metavar="SECONDS",
        help="with several processes, a worker that does not answer the supervisor's ping "
        "for this long is killed and replaced (default 60)",
    )
    p.add_argument(
        "--active-requests",
        type=int,
        default=int(os.environ["LOANDESK_ACTIVE_REQUESTS"])
        if os.environ.get("LOANDESK_ACTIVE_REQUESTS")
        else None,
        help="reads served at once; the database pools are sized from it (default 2 on "
        "SQLite, 4 on PostgreSQL)",
    )
    p.add_argument(
        "--active-writes",
        type=int,
        default=int(_env("LOANDESK_ACTIVE_WRITES", "2")),
        help="writes (pushes, payments, sign-ins) served at once, beside the reads (default 2)",
    )
    p.add_argument(
        "--queued-requests",
        type=int,
        default=int(_env("LOANDESK_QUEUED_REQUESTS", "100")),
        help="requests that may wait their turn; beyond, 503 with Retry-After (default 100)",
    )
    p.add_argument(
        "--queue-wait",
        type=float,
        default=float(_env("LOANDESK_QUEUE_WAIT", "1.0")),
        metavar="SECONDS",
        help="longest a request waits for its turn before 503 with Retry-After (default 1)",
    )
    p.add_argument(
        "--requests-per-minute",
        type=int,
        default=int(os.environ["LOANDESK_REQUESTS_PER_MINUTE"])
        if os.environ.get("LOANDESK_REQUESTS_PER_MINUTE")
        else None,
        metavar="N",
        help="rate limit per user and per address (default 600 and 1200); raised for load tests",
    )
    _add_db(p)
    p.set_defaults(func=cmd_server)

    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", metavar="<action>", required=True)
    up = dbsub.add_parser("upgrade", help="migrate the database to the latest schema")
    _add_db(up)
    up.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("admin", help="administration")
    adsub = p.add_subparsers(dest="admin_command", metavar="<action>", required=True)
    cu = adsub.add_parser("create-user", help="create a user (password from a prompt or stdin)")
    cu.add_argument("username")
    cu.add_argument("--full-name", required=True)
    cu.add_argument(
        "--role",
        required=True,
        choices=[
            "admin",
            "branch_manager",
            "collector",
            "finance",
            "legal",
            "auditor",
            "integration",
        ],
    )
    cu.add_argument("--branch", metavar="CODE", help="branch code (collectors and managers)")
    cu.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _add_db(cu)
    cu.set_defaults(func=cmd_create_user)

    p = sub.add_parser("audit", help="the audit log")
    ausub = p.add_subparsers(dest="audit_command", metavar="<action>", required=True)
    av = ausub.add_parser("verify", help="check the hash chain; report the first broken link")
    _add_db(av)
    av.set_defaults(func=cmd_audit_verify)
    al = ausub.add_parser(
        "ledger",
        help="recompute every loan's outstanding, arrears, DPD and class from the ledger and "
        "list the loans whose stored figures differ (exit 1 when any do)",
    )
    al.add_argument("--as-of", help="a day-end date YYYY-MM-DD (default: the last day-end)")
    _add_db(al)
    al.set_defaults(func=cmd_audit_ledger)

    p = sub.add_parser("desktop", help="the desktop client (the default command)")
    p.add_argument("--server", metavar="URL")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="check this install offscreen: sign in to --server, list loans, exit 0 (or 1 with why)",
    )
    p.add_argument("--user", metavar="NAME", help="--smoke: who signs in")
    p.add_argument("--password", help="--smoke: their password (or $LOANDESK_SMOKE_PASSWORD)")
    p.set_defaults(func=cmd_desktop)

    p = sub.add_parser(
        "demo",
        help="build the demo book (embedded SQLite, or --db URL), serve it and open the desktop",
    )
    p.add_argument("--loans", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument(
        "--db",
        metavar="URL",
        help="build and serve the demo on this database (PostgreSQL too); default: a SQLite "
        "file per --loans/--seed in the user data directory",
    )
    p.add_argument("--fresh", action="store_true", help="empty the database and rebuild the demo")
    p.add_argument("--build-only", action="store_true", help="build the demo book and stop")
    p.add_argument("--server-only", action="store_true", help="run only the demo server")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("jobs", help="run or inspect the day-end and weekly jobs")
    jsub = p.add_subparsers(dest="jobs_command", metavar="<action>", required=True)
    jr = jsub.add_parser("run", help="run a job (idempotent: a finished date changes nothing)")
    jr.add_argument("job", choices=["day-end", "weekly"])
    jr.add_argument("--date", help="business date YYYY-MM-DD (default: catch up to yesterday)")
    jr.add_argument("--week", help="ISO week, e.g. 2026-W48")
    jr.add_argument(
        "--rescore",
        action="store_true",
        help="weekly: rescore a closed week as a new version (the old one stays, audited)",
    )
    jr.add_argument("--reason", help="weekly --rescore: why the week is rescored (required)")
    _add_db(jr)
    jr.set_defaults(func=cmd_jobs)
    js = jsub.add_parser("status", help="the job ledger")
    _add_db(js)
    js.set_defaults(func=cmd_jobs)

    p = sub.add_parser("import", help="import bank statements (or the Excel loan book)")
    isub = p.add_subparsers(dest="import_what", metavar="<what>", required=True)
    st = isub.add_parser(
        "statement", help="a bank statement (MT940, camt.053, CSV or XLSX), all or nothing"
    )
    st.add_argument("file", metavar="FILE")
    st.add_argument("--account", metavar="ACC", help="bank account code (CSV/XLSX need one)")
    _add_db(st)
    st.set_defaults(func=cmd_import_statement)
    il = isub.add_parser(
        "loans", aliases=["book"], help="the Excel loan book (template: resources/), all or nothing"
    )
    il.add_argument("file", metavar="FILE.xlsx")
    il.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    il.add_argument(
        "--new-only", action="store_true", help="add loans not yet on the book; leave the rest"
    )
    il.add_argument("--report", metavar="FILE.xlsx", help="where to write the validation report")
    il.add_argument(
        "--as", dest="as_user", metavar="USERNAME", help="the importing user (default: the admin)"
    )
    _add_db(il)
    il.set_defaults(func=cmd_import_loans)

    p = sub.add_parser("report", help="MIS reports as PDF and XLSX")
    rsub = p.add_subparsers(dest="report_command", metavar="<report>", required=True)
    rm = rsub.add_parser("mis", help="the investor-safe MIS as of a business date")
    rm.add_argument("--as-of", required=True, metavar="DATE", help="business date YYYY-MM-DD")
    rm.add_argument("--out", required=True, metavar="FILE.pdf", help="where to write the PDF")
    rm.add_argument("--xlsx", metavar="FILE", help="also write the figures as an XLSX workbook")
    rm.add_argument("--branch", metavar="CODE", help="one branch only (default: all branches)")
    _add_db(rm)
    rm.set_defaults(func=cmd_report_mis)
    rc = rsub.add_parser(
        "convergence", help="parallel run: the lender's sheet against LoanDesk, loan by loan"
    )
    rc.add_argument(
        "--sheet", required=True, metavar="FILE", help="workbook with a positions sheet"
    )
    rc.add_argument("--as-of", required=True, metavar="DATE", help="day-end date YYYY-MM-DD")
    rc.add_argument("--out", metavar="FILE.pdf", help="write the report as PDF")
    rc.add_argument("--xlsx", metavar="FILE", help="write the mismatches as XLSX")
    _add_db(rc)
    rc.set_defaults(func=cmd_report_convergence)

    p = sub.add_parser(
        "backup", help="write an encrypted backup (key: $LOANDESK_BACKUP_KEY or the keyring)"
    )
    p.add_argument("--out", required=True, metavar="FILE")
    _add_db(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore", help="check a backup (key, checksum, schema, audit chain), then restore it"
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--yes", action="store_true", help="replace the database without asking")
    _add_db(p)
    p.set_defaults(func=cmd_restore)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["desktop", *argv]  # the installed LoanDesk.exe is the desktop: `--smoke ...`
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args(["desktop", *(argv or [])])
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    sys.exit(main())

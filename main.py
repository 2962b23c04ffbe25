"""LoanDesk's one entry point: `python main.py <command>`.

Each command imports only what it needs, so `desktop` never loads the server and the server
never loads Qt.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence

DEFAULT_PORT = 8765


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


def cmd_server(args: argparse.Namespace) -> int:
    import uvicorn

    from sync_server.app import create_app
    from sync_server.config import Settings
    from sync_server.db.engine import Database
    from sync_server.db.migrate import upgrade

    url = _db_url(args)
    db = Database(url)
    upgrade(db.engine)
    settings = Settings(database_url=url, run_scheduler=not args.no_scheduler)
    app = create_app(settings=settings, db=db)
    print(f"LoanDesk server on http://{args.host}:{args.port}/api/v1 (OpenAPI: /openapi.json)")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
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
    from sync_server.audit.service import verify_chain
    from sync_server.db.engine import Database

    db = Database(_db_url(args))
    with db.read_only() as session:
        report = verify_chain(session)
    db.dispose()
    if report.ok:
        print(f"audit chain intact: {report.checked} entries verified")
        return 0
    where = f"entry {report.first_broken_id}" if report.first_broken_id else "the chain's end"
    print(
        f"audit chain BROKEN at {where}: {report.problem} ({report.checked} entries verified before it)"
    )
    return 1


def cmd_jobs(args: argparse.Namespace) -> int:
    from sync_server.db.engine import Database
    from sync_server.db.migrate import upgrade
    from sync_server.jobs import cli

    db = Database(_db_url(args))
    upgrade(db.engine)
    try:
        if args.jobs_command == "status":
            return cli.status_command(db)
        if args.job == "day-end":
            return cli.run_day_end_command(db, args.date)
        if not args.week:
            print("jobs run weekly needs --week, e.g. --week 2026-W48", file=sys.stderr)
            return 2
        return cli.run_weekly_command(db, args.week)
    finally:
        db.dispose()


def cmd_import_statement(args: argparse.Namespace) -> int:
    from sync_server.db.engine import Database
    from sync_server.db.migrate import upgrade
    from sync_server.reconciliation.cli import import_statement_command

    db = Database(_db_url(args))
    upgrade(db.engine)
    try:
        return import_statement_command(db, args.file, args.account)
    finally:
        db.dispose()


def cmd_desktop(args: argparse.Namespace) -> int:
    from desktop.app import run

    return run(sys.argv[:1], server_url=args.server)


def cmd_demo(args: argparse.Namespace) -> int:
    """Server on an embedded SQLite database filled with demo data, and the desktop client
    against it. The database is made once per (loans, seed) and reused on later runs."""
    import subprocess
    import time

    import requests

    from sync_server.clock import Clock
    from sync_server.config import data_dir
    from sync_server.db.engine import Database
    from sync_server.db.migrate import upgrade
    from sync_server.demo import DEMO_PASSWORD, describe, seed_demo

    path = data_dir() / f"demo-{args.loans}-{args.seed}.db"
    url = f"sqlite:///{path}"
    if not path.exists() or args.fresh:
        path.unlink(missing_ok=True)
        print(
            f"Building demo data ({args.loans} loans, seed {args.seed}): day by day through five scored weeks..."
        )
        db = Database(url)
        upgrade(db.engine)
        summary = seed_demo(db, loans=args.loans, seed=args.seed, today=Clock().business_date())
        db.dispose()
        print(describe(summary))
    else:
        print(f"Using the demo database at {path} (--fresh rebuilds it).")
        print(
            f"Demo users: admin, bm.pnc, col.pnc1, finance, legal, auditor; password {DEMO_PASSWORD}"
        )
    server_url = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and entry point)
        [
            sys.executable,
            __file__,
            "server",
            "--db",
            url,
            "--port",
            str(args.port),
            "--log-level",
            "warning",
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{server_url}/api/v1/health", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            print("The demo server did not start; see its messages above.", file=sys.stderr)
            return 1
        print(f"Demo server on {server_url}")
        if args.server_only:
            return server.wait()
        from desktop.app import run

        return run(sys.argv[:1], server_url=server_url)
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=15)


def cmd_not_yet(what: str) -> Callable[[argparse.Namespace], int]:
    def run(_: argparse.Namespace) -> int:
        print(f"{what} is not built yet in this version of LoanDesk.", file=sys.stderr)
        return 2

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="LoanDesk loan collections")
    sub = parser.add_subparsers(dest="command", metavar="<command>")

    p = sub.add_parser("server", help="run the sync server (upgrades the database first)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--no-scheduler", action="store_true", help="do not run the nightly jobs")
    p.add_argument("--log-level", default="info")
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
        choices=["admin", "branch_manager", "collector", "finance", "legal", "auditor"],
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

    p = sub.add_parser("desktop", help="the desktop client (the default command)")
    p.add_argument("--server", metavar="URL")
    p.set_defaults(func=cmd_desktop)

    p = sub.add_parser(
        "demo", help="server with demo data on an embedded SQLite database, and the desktop client"
    )
    p.add_argument("--loans", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--fresh", action="store_true", help="rebuild the demo database")
    p.add_argument("--server-only", action="store_true", help="run only the demo server")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("jobs", help="run or inspect the day-end and weekly jobs")
    jsub = p.add_subparsers(dest="jobs_command", metavar="<action>", required=True)
    jr = jsub.add_parser("run", help="run a job (idempotent: a finished date changes nothing)")
    jr.add_argument("job", choices=["day-end", "weekly"])
    jr.add_argument("--date", help="business date YYYY-MM-DD (default: catch up to yesterday)")
    jr.add_argument("--week", help="ISO week, e.g. 2026-W48")
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
    isub.add_parser("book", help="the Excel loan book").set_defaults(
        func=cmd_not_yet("'import book'")
    )

    for name, help_text in (
        ("report", "MIS reports as PDF"),
        ("backup", "back up and restore the server database"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=cmd_not_yet(f"'{name}'"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args(["desktop", *(argv or [])])
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    sys.exit(main())

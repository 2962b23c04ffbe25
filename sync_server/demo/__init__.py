"""A realistic, reproducible book for demos, screenshots and load tests.

`plan_demo` decides the whole book from a seed (`plan`); `seed_demo` writes it through the
real paths (`seed`, `history`, `casework`), then lives its last closed weeks day by day
(`timeline`: each day's payments through `record_payment`, its day-end, each week's scores).
"""

from sync_server.demo.plan import DEMO_PASSWORD, DemoUser, PlannedLoan, demo_users, plan_demo
from sync_server.demo.seed import DemoSummary, describe, seed_demo, write_book

__all__ = [
    "DEMO_PASSWORD",
    "DemoSummary",
    "DemoUser",
    "PlannedLoan",
    "demo_users",
    "describe",
    "plan_demo",
    "seed_demo",
    "write_book",
]

"""Reports: where finance and managers will produce the MIS report as of a date.

The report is computed by the server from the system of record and must be investor-safe
(branch and product level, no borrower names, phones, addresses or account numbers). It
arrives with the reports release; until then this screen says so and offers nothing that
would pretend otherwise.
"""

from __future__ import annotations

from desktop.qt import QWidget
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._coming import ComingScreen
from loancore.roles import Action

PURPOSE = (
    "The MIS report shows the portfolio as of a chosen date, by branch and product: "
    "outstanding, collections against dues, DPD buckets and the RBI classification "
    "(SMA-0, SMA-1, SMA-2, NPA), disputed loans, and figures that reconcile (the buckets "
    "sum to the portfolio). It is investor-safe, with no borrower names, phones, addresses "
    "or account numbers, and is saved as a PDF to preview and print."
)
NOT_YET = (
    "The MIS report arrives with the reports release. Until then no report can be produced "
    "here; the dashboard shows today's collections figures."
)


class ReportsScreen(ComingScreen):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Reports",
            purpose=PURPOSE,
            not_yet=NOT_YET,
            object_name="reportsScreen",
            parent=parent,
        )


register(
    ScreenSpec(
        key="reports",
        title="Reports",
        action=Action.VIEW_REPORTS,
        factory=ReportsScreen,
        icon="reports",
        order=70,
        ready=False,
    )
)

"""Reconciliation: where finance will match the bank statement to the payments recorded.

The matching rules are already written down (DOMAIN.md, "Bank reconciliation"), but the
import, the matching and the period lock arrive with the reconciliation release. Until then
this screen says plainly what it will do and offers no button that does nothing.
"""

from __future__ import annotations

from desktop.qt import QWidget
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._coming import ComingScreen
from loancore.roles import Action

PURPOSE = (
    "Reconciliation matches each credit in the bank statement to a payment recorded in "
    "LoanDesk, one to one: first on the reference (UTR, RRN, cheque number) with an equal "
    "amount; then on an equal amount within three days with the account number in the "
    "narration; then suggestions on the borrower's name, for a person to confirm. Credits "
    "nobody can place go to an unidentified-receipts queue, payments the bank never shows "
    "within three working days to “missing in bank”, and a reconciled period is "
    "locked so that nothing in it changes afterwards."
)
NOT_YET = (
    "Bank statement import arrives with the reconciliation release. Until then there is "
    "nothing to reconcile here; payments keep being recorded and synced as usual."
)


class ReconciliationScreen(ComingScreen):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Reconciliation",
            purpose=PURPOSE,
            not_yet=NOT_YET,
            object_name="reconciliationScreen",
            parent=parent,
        )


register(
    ScreenSpec(
        key="reconciliation",
        title="Reconciliation",
        action=Action.VIEW_RECONCILIATION,
        factory=ReconciliationScreen,
        icon="reconcile",
        order=65,
        ready=False,
    )
)

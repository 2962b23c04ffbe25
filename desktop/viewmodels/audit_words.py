"""The audit log's codes in an auditor's words: "payment.post" is "Payment posted". The codes
stay the server's (filters send them, the detail pane shows them beside the words)."""

from __future__ import annotations

ACTION_WORDS = {
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "auth.refresh": "Sign-in renewed",
    "auth.refresh_reuse": "Old sign-in token reused",
    "bank_account.change": "Collection account changed",
    "bank_account.create": "Collection account set up",
    "branch.create": "Branch added",
    "contact.log": "Call or visit logged",
    "demo.seed": "Demo book built",
    "dispute.close": "Dispute closed",
    "dispute.open": "Dispute opened",
    "flag.set": "Kill switch changed",
    "legal.note": "Legal case note added",
    "legal.update": "Legal case updated",
    "loan.access": "Loan opened",
    "loan.create": "Loan added",
    "loan.create_bulk": "Loans added in bulk",
    "loan.reassign": "Loan reassigned",
    "loan.update": "Loan changed",
    "loan.write_off": "Loan written off",
    "payment.hold": "Payment held as a suspected duplicate",
    "payment.post": "Payment posted",
    "payment.record": "Payment recorded",
    "payment.review": "Held payment reviewed",
    "payment.review.confirm": "Held payment confirmed",
    "payment.review.reject": "Held payment rejected",
    "promise.create": "Promise to pay logged",
    "settings.change": "Lender settings changed",
    "reversal.approve": "Reversal approved",
    "reversal.decide": "Reversal decided",
    "reversal.request": "Reversal asked for",
    "sync.conflict": "Sync conflict",
    "user.assign_branch": "User moved to a branch",
    "user.change_password": "Password changed",
    "user.create": "User added",
    "user.set_active": "User access changed",
    "user.set_role": "User role changed",
}
"""What each audit code means, in the words an auditor uses; a code not here is still shown
readably ("job.day_end" as "Job: day end")."""
OUTCOME_WORDS = {"ok": "Done", "denied": "Denied", "refused": "Refused"}
ENTITY_WORDS = {
    "legal_case": "Legal case",
    "flag": "Kill switch",
    "bank_account": "Collection account",
}


def action_words(code: str) -> str:
    if code in ACTION_WORDS:
        return ACTION_WORDS[code]
    head, _, rest = code.partition(".")
    words = head.replace("_", " ").capitalize()
    return f"{words}: {rest.replace('.', ' ').replace('_', ' ')}" if rest else words


def entity_words(entity: str) -> str:
    return ENTITY_WORDS.get(entity, entity.replace("_", " ").capitalize())

"""The server's nightly and weekly jobs: day-end (delinquency, charges, escalation, promises,
loan history) and collector scoring, with their ledger, locks, scheduler and command line."""

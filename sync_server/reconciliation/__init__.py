"""Bank reconciliation: statements read and stored, matched to payments and cash deposits."""

"""The lender's collection accounts: set up by an admin, read by finance and the branches."""

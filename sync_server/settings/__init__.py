"""The lender's settings (loancore.settings): admins' overrides, effective-dated and audited."""

"""The lender's rules as pure functions: money, dates, schedules, allocation, delinquency,
payment acceptance, roles and the wire contract. No I/O, no framework: both the desktop and
the server call these so that a rule is stated once."""

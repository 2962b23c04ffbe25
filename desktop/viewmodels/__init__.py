"""What each screen shows and does, as plain classes over the cache and loancore.

No Qt here: a view-model is tested without a window, and a screen only binds widgets to it.
The date the desk works to and the day-end it reads DPD at come from `desk.DeskBook`.
"""

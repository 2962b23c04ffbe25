"""Talking to the office server: the HTTP client (`api`), the outbox of commands written on
this desk (`outbox`) and the sync engine that pushes it and pulls changes (`engine`).

No Qt here (an import-linter contract says so): the engine runs on a worker thread, and
`desktop.sync_worker` is what brings its rounds to the UI thread.
"""

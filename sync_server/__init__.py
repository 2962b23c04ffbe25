"""The central sync server: the system of record, its API and its day-end jobs."""

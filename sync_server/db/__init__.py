"""Engine, session, models and migrations of the system of record."""

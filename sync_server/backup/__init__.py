"""Encrypted backups of the server database and their verified restore."""

"""Backups: one encrypted archive of the database and the evidence store, and its restore."""

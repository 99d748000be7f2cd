"""Persistence: the Store contract and its SQLite and PostgreSQL implementations."""

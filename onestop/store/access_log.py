"""The personal-data access log (``personal_access``): who was shown full ID and phone numbers,
when, by which command."""

from __future__ import annotations


def record_access(db, at: str, officer: str, command: str, detail: str = "") -> None:
    """Append one ``--show-personal`` use (the caller holds the transaction)."""
    db.execute("INSERT INTO personal_access (at, officer, command, detail) VALUES (?, ?, ?, ?)",
               [at, officer, command, detail])


def accesses(db) -> list[dict]:
    """Every recorded use, oldest first: ``at, officer, command, detail``."""
    return list(db.query("SELECT at, officer, command, detail FROM personal_access ORDER BY id"))

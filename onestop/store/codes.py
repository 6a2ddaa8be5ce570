"""Where a dossier code is allocated: the per-agency, per-day code sequence and the yearly book number.

Call these inside the write transaction that inserts the dossier (``onestop.db.transaction``): the
counter row and the dossier commit together, so a failure leaves no gap and two counters never
share a number. No database SEQUENCE (sequences leave gaps). ``floor`` is the high-water mark kept
outside the database (onestop/home.py): the number returned is always above it.
"""

from __future__ import annotations


def allocate_code_number(db, agency: str, day: str, floor: int = 0) -> int:
    """The next code sequence number of ``agency`` on ``day`` (YYMMDD), above ``floor``."""
    return _next(db, "code_sequences", "day", agency, day, floor)


def allocate_book_number(db, agency: str, year: int, floor: int = 0) -> int:
    """The next tracking-book number (Số thứ tự) of ``agency`` in ``year``, above ``floor``."""
    return _next(db, "book_sequences", "year", agency, year, floor)


def _next(db, table: str, period: str, agency: str, value, floor: int) -> int:
    # ``table`` and ``period`` are the two literals above, never input: the counter row of
    # (agency, period) is raised by one, then lifted above ``floor`` when a restored database lags.
    n = db.execute(
        f"INSERT INTO {table} (agency, {period}, last) VALUES (?, ?, 1) "
        f"ON CONFLICT (agency, {period}) DO UPDATE SET last = {table}.last + 1 RETURNING last",
        [agency, value]).fetchone()[0]
    if n <= floor:
        n = floor + 1
        db.execute(f"UPDATE {table} SET last = ? WHERE agency = ? AND {period} = ?", [n, agency, value])
    return n

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


def allocate_numbers(db, agency: str, day: str, year: int, floors: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    """The next code sequence number of ``agency`` on ``day`` and its next book number in ``year``
    (above ``floors``), as ``allocate_code_number`` and ``allocate_book_number`` give them.

    On PostgreSQL both counter rows are raised in one statement: every other desk of the office
    waits on these rows from here to COMMIT, and each round trip less inside that span is time
    the other desks do not wait (P11). SQLite has no data-modifying WITH; there it is two
    statements in the same transaction (no round trips to save in a local file).
    """
    if getattr(db, "backend", "sqlite") != "postgresql":
        return (allocate_code_number(db, agency, day, floors[0]), allocate_book_number(db, agency, year, floors[1]))
    seq, book = db.execute(
        "WITH c AS (INSERT INTO code_sequences (agency, day, last) VALUES (?, ?, 1) ON CONFLICT (agency, day) "
        "DO UPDATE SET last = code_sequences.last + 1 RETURNING last), "
        "b AS (INSERT INTO book_sequences (agency, year, last) VALUES (?, ?, 1) ON CONFLICT (agency, year) "
        "DO UPDATE SET last = book_sequences.last + 1 RETURNING last) "
        "SELECT c.last, b.last FROM c, b", [agency, day, agency, year]).fetchone()
    return (_lift(db, "code_sequences", "day", agency, day, seq, floors[0]),
            _lift(db, "book_sequences", "year", agency, year, book, floors[1]))


def _next(db, table: str, period: str, agency: str, value, floor: int) -> int:
    # ``table`` and ``period`` are the two literals above, never input: the counter row of
    # (agency, period) is raised by one, then lifted above ``floor`` when a restored database lags.
    n = db.execute(
        f"INSERT INTO {table} (agency, {period}, last) VALUES (?, ?, 1) "
        f"ON CONFLICT (agency, {period}) DO UPDATE SET last = {table}.last + 1 RETURNING last",
        [agency, value]).fetchone()[0]
    return _lift(db, table, period, agency, value, n, floor)


def _lift(db, table: str, period: str, agency: str, value, n: int, floor: int) -> int:
    if n <= floor:
        n = floor + 1
        db.execute(f"UPDATE {table} SET last = ? WHERE agency = ? AND {period} = ?", [n, agency, value])
    return n

"""Where a dossier code is allocated: the per-agency, per-day code sequence and the yearly book number.

Call these inside the write transaction that inserts the dossier (``onestop.store.sqlite.transaction``): the
counter row and the dossier commit together, so a failure leaves no gap and two counters never
share a number. No database SEQUENCE (sequences leave gaps). ``floor`` is the high-water mark kept
outside the database (onestop/store/home.py): the number returned is always above it.
"""

from __future__ import annotations


def allocate_code_number(db, agency: str, day: str, floor: int = 0) -> int:
    """The next code sequence number of ``agency`` on ``day`` (YYMMDD), above ``floor``."""
    return _next(db, "code_sequences", "day", agency, day, floor)


def allocate_book_number(db, agency: str, year: int, floor: int = 0) -> int:
    """The next tracking-book number (Số thứ tự) of ``agency`` in ``year``, above ``floor``."""
    return _next(db, "book_sequences", "year", agency, year, floor)


def provisional_numbers(db) -> tuple[str, int]:
    """A code and book number a dossier row carries until ``number_dossier`` numbers it, in the same
    transaction (never committed). Unique among the transactions in flight: the server session's id."""
    pid = db.conn.info.backend_pid
    return f"~{pid}", -pid


def number_dossier(db, dossier_id: int, agency: str, day: str, year: int, prefix: str,
                   floors: tuple[int, int] = (0, 0)) -> tuple[int, int, str]:
    """PostgreSQL: allocate the next code sequence number of ``agency`` on ``day`` and the next book
    number of ``year`` (above ``floors``, as ``allocate_code_number``/``allocate_book_number``) and
    write them into the dossier row inserted with ``provisional_numbers``, in one statement; the
    code is ``prefix`` + the number zero-padded to 4 (onestop/domain/codes.py). Returns (seq, book, code).

    Why last and in one statement: from here to COMMIT every other desk of the office waits on the
    day's counter row, so a receive inserts its dossier, components, event and outbox rows first
    and then holds that row for one statement and the COMMIT (P11).
    """
    seq, book, code = db.execute(
        "WITH c AS (INSERT INTO code_sequences (agency, day, last) VALUES (?, ?, greatest(1, ? + 1)) "
        "ON CONFLICT (agency, day) DO UPDATE SET last = greatest(code_sequences.last + 1, ? + 1) RETURNING last), "
        "b AS (INSERT INTO book_sequences (agency, year, last) VALUES (?, ?, greatest(1, ? + 1)) "
        "ON CONFLICT (agency, year) DO UPDATE SET last = greatest(book_sequences.last + 1, ? + 1) RETURNING last) "
        "UPDATE dossiers SET code = ? || lpad(c.last::text, greatest(4, length(c.last::text)), '0'), "
        "book_no = b.last FROM c, b WHERE dossiers.id = ? RETURNING c.last, b.last, dossiers.code",
        [agency, day, floors[0], floors[0], agency, year, floors[1], floors[1], prefix, dossier_id]).fetchone()
    return seq, book, code


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

"""Where a dossier code is allocated: the per-agency, per-day code sequence and the yearly book number.

Call these inside the write transaction that inserts the dossier (``onestop.db.transaction``): the
counter row and the dossier commit together, so a failure leaves no gap and two counters never
share a number. No database SEQUENCE (sequences leave gaps). ``floor`` is the high-water mark kept
outside the database (onestop/home.py): the number returned is always above it.
"""

from __future__ import annotations


def allocate_code_number(db, agency: str, day: str, floor: int = 0) -> int:
    """The next code sequence number of ``agency`` on ``day`` (YYMMDD), above ``floor``."""
    seq = db.execute(
        "INSERT INTO code_sequences (agency, day, last) VALUES (?, ?, 1) "
        "ON CONFLICT (agency, day) DO UPDATE SET last = code_sequences.last + 1 RETURNING last",
        [agency, day]).fetchone()[0]
    if seq <= floor:
        seq = floor + 1
        db.execute("UPDATE code_sequences SET last = ? WHERE agency = ? AND day = ?", [seq, agency, day])
    return seq


def allocate_book_number(db, agency: str, year: int, floor: int = 0) -> int:
    """The next tracking-book number (Số thứ tự) of ``agency`` in ``year``, above ``floor``."""
    book_no = db.execute(
        "INSERT INTO book_sequences (agency, year, last) VALUES (?, ?, 1) "
        "ON CONFLICT (agency, year) DO UPDATE SET last = book_sequences.last + 1 RETURNING last",
        [agency, year]).fetchone()[0]
    if book_no <= floor:
        book_no = floor + 1
        db.execute("UPDATE book_sequences SET last = ? WHERE agency = ? AND year = ?", [book_no, agency, year])
    return book_no

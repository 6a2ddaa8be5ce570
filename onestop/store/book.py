"""The tracking book's rows (Sổ theo dõi hồ sơ, Mẫu 06): dossiers in book order, with the moments
they were handed over and had a result."""

from __future__ import annotations


def book_entries(db, *, year: int | None = None, received_from: str | None = None,
                 received_before: str | None = None) -> list[dict]:
    """Dossiers of a book year and/or received in ``[received_from, received_before)``, in book order.

    Each row: the dossier's book columns plus ``handed_over_at`` (first move to 4) and ``result_at``
    (first move to 9), from the event log.
    """
    where, params = [], []
    if year:
        where.append("book_year = ?")
        params.append(year)
    if received_from:
        where.append("received_at >= ?")
        params.append(received_from)
    if received_before:
        where.append("received_at < ?")
        params.append(received_before)
    return list(db.query(
        "SELECT d.book_no, d.code, d.procedure_name, d.sets, d.applicant_name, d.address, d.phone, d.received_at, "
        "d.due_at, d.original_due_at, d.status, d.papers_requests, d.rescheduled, d.finished_at, d.returned_at, "
        "(SELECT min(at) FROM events e WHERE e.dossier_id = d.id AND e.status_to = '4') AS handed_over_at, "
        "(SELECT min(at) FROM events e WHERE e.dossier_id = d.id AND e.status_to = '9') AS result_at "
        "FROM dossiers d" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY book_year, book_no, id",
        params))

"""Digitization quality and document metadata: page rescans (0009), document numbers (0010) and
the officer's corrections of them (0012)."""

from __future__ import annotations


def set_page_quality(db, file_id: int, n: int, *, words: int, dictionary: float | None, quality: str,
                     needs_rescan: bool) -> None:
    """Record one stored page's recognition quality."""
    db.execute("UPDATE archive_pages SET words = ?, dictionary = ?, quality = ?, needs_rescan = ? "
               "WHERE file_id = ? AND n = ?", [words, dictionary, quality, int(needs_rescan), file_id, n])


def set_component_document(db, dossier_id: int, n: int, *, number: str | None, key: str | None,
                           day: str | None, issuer: str | None, check: str) -> None:
    """Store (or clear) a component's document number, date, issuer and what the officer should verify."""
    # A number the officer set or confirmed stands when a rescan reads the same number or none (a
    # blurred heading); a rescan that reads another number is another paper: its reading replaces the
    # officer's, whose confirmation no longer applies (and the new reading's own check stands).
    db.execute("UPDATE dossier_components SET document_number = ?, document_key = ?, document_date = ?, issuer = ?, "
               "document_check = ?, document_confirmed_by = NULL, document_confirmed_at = NULL "
               "WHERE dossier_id = ? AND n = ? AND (document_confirmed_by IS NULL "
               "OR (CAST(? AS TEXT) IS NOT NULL AND document_key <> ?))",
               [number, key, day, issuer, check, dossier_id, n, key, key])


def component_document(db, dossier_id: int, n: int) -> dict | None:
    """One component's stored document metadata (None: no such component)."""
    rows = list(db.query("SELECT n, name, document_number, document_key, document_date, issuer, document_check, "
                         "document_confirmed_by, document_confirmed_at FROM dossier_components "
                         "WHERE dossier_id = ? AND n = ?", [dossier_id, n]))
    return rows[0] if rows else None


def confirm_component_document(db, dossier_id: int, n: int, *, number: str, key: str, day: str | None,
                               issuer: str | None, officer: str, at: str) -> None:
    """Store the document number the officer set or confirmed; nothing is left to verify."""
    db.execute("UPDATE dossier_components SET document_number = ?, document_key = ?, document_date = ?, issuer = ?, "
               "document_check = '', document_confirmed_by = ?, document_confirmed_at = ? "
               "WHERE dossier_id = ? AND n = ?", [number, key, day, issuer, officer, at, dossier_id, n])


def component_documents(db, dossier_id: int) -> list[dict]:
    """Document metadata of a dossier's components, and their current pages needing a rescan."""
    rows = list(db.query("SELECT n, document_number, document_date, issuer, document_check, document_confirmed_by, "
                         "document_confirmed_at FROM dossier_components "
                         "WHERE dossier_id = ? ORDER BY n", [dossier_id]))
    pages = list(db.query("SELECT f.component_n, f.part, p.n FROM archive_pages p JOIN archive_files f ON f.id = p.file_id "
                          "WHERE f.dossier_id = ? AND f.state = 'current' AND p.needs_rescan = 1 "
                          "ORDER BY f.component_n, f.part, p.n", [dossier_id]))
    for r in rows:
        r["rescan_pages"] = [p["n"] for p in pages if p["component_n"] == r["n"]]
    return rows


def pages_to_rescan(db, *, statuses: tuple[str, ...] | None = None, received_before: str | None = None) -> list[dict]:
    """Current archive pages recorded as needing a rescan, with their dossier; optionally only
    dossiers in ``statuses`` received before ``received_before``."""
    where, params = ["p.needs_rescan = 1", "f.state = 'current'"], []
    if statuses:
        where.append(f"d.status IN ({', '.join('?' * len(statuses))})")
        params += list(statuses)
    if received_before:
        where.append("d.received_at < ?")
        params.append(received_before)
    return list(db.query(
        "SELECT d.code, d.status, d.procedure_code, d.field_code, d.officer, f.component_n AS component, f.part, "
        "f.id AS file_id, f.path, p.n AS page, p.confidence, p.dictionary, p.words, p.quality "
        "FROM archive_pages p JOIN archive_files f ON f.id = p.file_id JOIN dossiers d ON d.id = f.dossier_id "
        f"WHERE {' AND '.join(where)} ORDER BY d.received_at, d.id, f.component_n, f.part, p.n", params))


def documents_to_check(db) -> list[dict]:
    """Components whose document number was read ambiguously and waits for the officer."""
    return list(db.query(
        "SELECT d.code, d.status, c.n AS component, c.document_number, c.document_check "
        "FROM dossier_components c JOIN dossiers d ON d.id = c.dossier_id "
        "WHERE c.document_check != '' ORDER BY d.id, c.n"))


def components_by_document_key(db, key: str, limit: int) -> list[dict]:
    """Components whose stored document number has this search key (exact), newest dossier first."""
    return list(db.query(
        "SELECT d.code, d.applicant_name, c.n AS component, c.document_number, c.document_date, c.issuer, "
        "(SELECT f.path FROM archive_files f WHERE f.dossier_id = c.dossier_id AND f.component_n = c.n "
        " AND f.state = 'current' ORDER BY f.part LIMIT 1) AS pdf "
        "FROM dossier_components c JOIN dossiers d ON d.id = c.dossier_id WHERE c.document_key = ? "
        "ORDER BY d.received_at DESC, d.id DESC, c.n LIMIT ?", [key, limit]))

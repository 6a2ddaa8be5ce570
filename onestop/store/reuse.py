"""Rows of reuse (issue 21): an applicant's digitized papers and results in this office, the
components of a new dossier that point to them (``reused_papers``), what the sync sends for them and
what the report counts. The choice of what is offered is in onestop/intake/reuse.py.
"""

from __future__ import annotations


def _ph(values) -> str:
    return ",".join("?" * len(values))


def papers_of(db, id_number: str) -> list[dict]:
    """The current archive files of every dossier of exactly this ID number, newest first: file id,
    dossier (id, code, received_at, procedure_code, status), component_n (negative for result n), part,
    pages, created_at, valid_until, result_code/name, and the component's code, name and document
    number, key and date when it is a component."""
    return [dict(r) for r in db.query(
        "SELECT f.id AS file_id, f.dossier_id, d.code, d.received_at, d.procedure_code, d.status, "
        "f.component_n, f.part, f.pages, f.created_at, f.valid_until, f.result_code, f.result_name, "
        "c.code AS component_code, c.name AS component_name, c.document_number, c.document_key, "
        "c.document_date FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id "
        "LEFT JOIN dossier_components c ON c.dossier_id = f.dossier_id AND c.n = f.component_n "
        "WHERE d.id_number = ? AND f.state = 'current' ORDER BY f.created_at DESC, f.id DESC", [id_number])]


def page_texts(db, file_ids: list[int], pages: int = 2) -> dict[int, str]:
    """The text of the first ``pages`` pages of each file (where an expiry date is printed)."""
    if not file_ids:
        return {}
    out: dict[int, list[str]] = {}
    for r in db.query(f"SELECT file_id, text FROM archive_pages WHERE file_id IN ({_ph(file_ids)}) AND n <= ? "
                      "ORDER BY file_id, n", [*file_ids, pages]):
        out.setdefault(r["file_id"], []).append(r["text"] or "")
    return {k: "\n".join(v) for k, v in out.items()}


def set_valid_until(db, file_ids: list[int], day: str | None) -> None:
    """A paper's expiry date (YYYY-MM-DD, None to clear), on each of its files."""
    db.execute(f"UPDATE archive_files SET valid_until = ? WHERE id IN ({_ph(file_ids)})", [day, *file_ids])


def record_reuse(db, dossier_id: int, n: int, rows: list[dict], digitized: int, pages: int) -> None:
    """Component ``n`` of a new dossier is a paper already digitized: one ``reused_papers`` row per
    file (keys file_id, source_dossier_id, source_n, kind, result_code, at, officer); the component is
    marked ``digitized`` (2 reused, 3 reused from a result) with the source's page count."""
    db.execute(
        "INSERT INTO reused_papers (dossier_id, n, file_id, source_dossier_id, source_n, kind, result_code, at, "
        "officer) VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
        [v for r in rows for v in (dossier_id, n, r["file_id"], r["source_dossier_id"], r["source_n"], r["kind"],
                                   r["result_code"], r["at"], r["officer"])])
    db.execute("UPDATE dossier_components SET digitized = ?, pages = ?, received = 1 WHERE dossier_id = ? AND n = ?",
               [digitized, pages, dossier_id, n])


def reused_of(db, dossier_id: int) -> list[dict]:
    """What a dossier's components reuse (n, file_id, source code and n, kind, result_code, path), in order."""
    return [dict(r) for r in db.query(
        "SELECT r.n, r.file_id, d.code AS source_code, r.source_n, r.kind, r.result_code, f.path "
        "FROM reused_papers r JOIN dossiers d ON d.id = r.source_dossier_id JOIN archive_files f ON f.id = r.file_id "
        "WHERE r.dossier_id = ? ORDER BY r.n, r.file_id", [dossier_id])]


def reused_uploads(db, dossier_ids: list[int]) -> list[dict]:
    """The reused files of these dossiers the ministry's server holds (dossier_id, n, kind, result_code,
    remote_id, url): their ``TaiLieuNop`` items point there (the upload of the earlier dossier)."""
    if not dossier_ids:
        return []
    return [dict(r) for r in db.query(
        "SELECT r.dossier_id, r.n, r.kind, r.result_code, sf.remote_id, sf.url FROM reused_papers r "
        f"JOIN sync_files sf ON sf.file_id = r.file_id WHERE r.dossier_id IN ({_ph(dossier_ids)}) "
        "ORDER BY r.dossier_id, r.n, r.file_id", list(dossier_ids))]


def reuse_count(db, lo: str, hi: str) -> int:
    """Dossiers received in ``[lo, hi)`` with at least one component reused (digitized 2 or 3)."""
    return db.execute(
        "SELECT count(*) FROM dossiers d WHERE d.received_at >= ? AND d.received_at < ? AND EXISTS "
        "(SELECT 1 FROM dossier_components c WHERE c.dossier_id = d.id AND c.digitized IN (2, 3))",
        [lo, hi]).fetchone()[0]

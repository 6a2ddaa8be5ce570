"""Named SQL operations of issue 11: OCR copies of signed PDFs, dossier results (store refactor, issue 9)."""

from __future__ import annotations


def ocr_copies(db) -> list[dict]:
    """Every recorded OCR copy of a signed PDF, with its dossier code and component."""
    return [dict(r) for r in db.query(
        "SELECT f.id, f.ocr_copy AS path, f.ocr_copy_sha256 AS sha256, f.component_n, f.state, d.code "
        "FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id WHERE f.ocr_copy IS NOT NULL ORDER BY f.id")]


def ocr_copy_used(db, path: str) -> bool:
    """Whether a committed row names ``path`` as an OCR copy."""
    return bool(list(db.query("SELECT 1 FROM archive_files WHERE ocr_copy = ?", [path])))


def uploaded_results(db, dossier_ids: list[int]) -> list[dict]:
    """The current result files of these dossiers that the ministry's server holds (uploaded)."""
    if not dossier_ids:
        return []
    ph = ",".join("?" * len(dossier_ids))
    return [dict(r) for r in db.query(
        "SELECT f.id, f.dossier_id, -f.component_n AS n, f.part, f.result_code, f.result_name, f.sha256, "
        "sf.remote_id, sf.url FROM archive_files f JOIN sync_files sf ON sf.file_id = f.id "
        f"WHERE f.dossier_id IN ({ph}) AND f.component_n < 0 AND f.state = 'current' "
        "ORDER BY f.dossier_id, f.component_n DESC, f.part", list(dossier_ids))]


def resolved_without_result(db, lo: str, hi: str) -> list[dict]:
    """Per procedure, dossiers resolved (9, 10) in [lo, hi) with a digitized component but no
    current result file: not digitized where the procedure requires an electronic result."""
    return [dict(r) for r in db.query(
        "SELECT d.procedure_code, count(*) AS n FROM dossiers d "
        "WHERE d.finished_at >= ? AND d.finished_at < ? AND d.status IN ('9', '10') "
        "AND EXISTS (SELECT 1 FROM dossier_components c WHERE c.dossier_id = d.id AND c.digitized > 0) "
        "AND NOT EXISTS (SELECT 1 FROM archive_files f WHERE f.dossier_id = d.id AND f.component_n < 0 "
        "AND f.state = 'current') GROUP BY d.procedure_code", [lo, hi])]


def results_of(db, dossier_id: int) -> list[dict]:
    """The result files of one dossier (``show``)."""
    return [dict(r) for r in db.query(
        "SELECT -component_n AS n, part, result_code, result_name, path, sha256, pages, state, created_at "
        "FROM archive_files WHERE dossier_id = ? AND component_n < 0 ORDER BY component_n DESC, part, id",
        [dossier_id])]

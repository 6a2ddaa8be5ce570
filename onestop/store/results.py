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

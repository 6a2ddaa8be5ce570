"""The digital signatures of archive files (issue 22): ``file_signatures``, one row per signature
(the agency's own, ``kind = 'agency'``; a citizen's electronic PDF's, ``kind = 'citizen'``)."""

from __future__ import annotations

COLUMNS = ("kind", "field", "signer", "cert_serial", "signed_at", "timestamp", "status", "source", "desk")


def record(db, file_id: int, sigs: list[dict]) -> None:
    """Store the signatures ``sigs`` of archive file ``file_id`` (inside the caller's transaction)."""
    for s in sigs:
        db.execute(f"INSERT INTO file_signatures (file_id, {', '.join(COLUMNS)}) "
                   f"VALUES (?, {', '.join('?' * len(COLUMNS))})", [file_id] + [s.get(c) for c in COLUMNS])


def of_files(db, file_ids: list[int]) -> dict[int, list[dict]]:
    """file id -> its signatures, oldest first."""
    if not file_ids:
        return {}
    out: dict[int, list[dict]] = {i: [] for i in file_ids}
    for r in db.query(f"SELECT file_id, {', '.join(COLUMNS)} FROM file_signatures "
                      f"WHERE file_id IN ({', '.join('?' * len(file_ids))}) ORDER BY id", list(file_ids)):
        r = dict(r)
        out[r.pop("file_id")].append(r)
    return out


def files_of_dossier(db, dossier_id: int) -> list[dict]:
    """A dossier's archive files (id, component_n, part, path, state, created_at), component order."""
    return [dict(r) for r in db.query(
        "SELECT id, component_n, part, path, state, created_at FROM archive_files WHERE dossier_id = ? "
        "ORDER BY component_n < 0, abs(component_n), part, id", [dossier_id])]


def unsigned_current(db, dossier_id: int | None = None) -> list[dict]:
    """Current archive files without a signature of any kind (every dossier's, or one's): the rows
    `onestop sign` signs (all columns of archive_files, with the dossier's code)."""
    where = "" if dossier_id is None else " AND f.dossier_id = ?"
    return [dict(r) for r in db.query(
        "SELECT f.*, d.code FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id WHERE f.state = 'current' "
        "AND NOT EXISTS (SELECT 1 FROM file_signatures s WHERE s.file_id = f.id)" + where + " ORDER BY f.id",
        [] if dossier_id is None else [dossier_id])]


def result_signed(db, dossier_id: int) -> bool:
    """Whether the dossier has a current result file with the agency's valid signature."""
    return db.execute(
        "SELECT 1 FROM archive_files f JOIN file_signatures s ON s.file_id = f.id WHERE f.dossier_id = ? "
        "AND f.component_n < 0 AND f.state = 'current' AND s.kind = 'agency' AND s.status = 'valid'",
        [dossier_id]).fetchone() is not None


def move_pages(db, old_id: int, new_id: int) -> None:
    """A file signed again as a new version (`onestop sign`): its pages (text, quality, search index
    rows point to the page ids) now belong to the new version."""
    db.execute("UPDATE archive_pages SET file_id = ? WHERE file_id = ?", [new_id, old_id])


def public(sigs: list[dict]) -> dict:
    """A file's signature state as `show --json` and `scan --json` give it: ``signed`` and each
    signature's kind, signer, cert_serial, signed_at, timestamp (0/1) and status."""
    keep = ("kind", "signer", "cert_serial", "signed_at", "timestamp", "status")
    return {"signed": bool(sigs), "signatures": [{k: s.get(k) for k in keep} for s in sigs]}


def states_of_dossier(db, dossier_id: int) -> list[dict]:
    """Each archive file of the dossier (component_n, part, path, state) with its ``signature`` (public)."""
    files = files_of_dossier(db, dossier_id)
    sigs = of_files(db, [f["id"] for f in files])
    return [dict(f, signature=public(sigs.get(f["id"]) or [])) for f in files]

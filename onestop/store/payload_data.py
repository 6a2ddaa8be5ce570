"""What the sync's payloads are built from: dossiers, their components, uploaded scans and events.

Read in bulk (one query per table per batch of ids) so a large backlog costs little per dossier;
onestop/sync/payloads.py turns the rows into the ministry's records.
"""

from __future__ import annotations

_DOSSIER_COLS = ("id, code, procedure_code, procedure_name, field_code, field_name, channel, applicant_type, "
                 "applicant_name, id_type, id_number, phone, email, summary, status, received_at, due_at, "
                 "delivery, fees, book_no, unit, finished_at, returned_at")


def _ph(values) -> str:
    return ",".join("?" * len(values))


def files_table(db) -> str | None:
    """The archive's table of stored PDFs ("archive_files"; "files" in early drafts), if any."""
    if db.dialect == "postgresql":
        return "archive_files"  # pg_schema has it from its first version (no early drafts there)
    names = {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('archive_files', 'files')").fetchall()}
    return "archive_files" if "archive_files" in names else "files" if "files" in names else None


def has_state_column(db, table: str) -> bool:
    """Whether the archive's table has ``state`` (one current file per component; early drafts had none)."""
    if db.dialect == "postgresql":
        return True  # archive_files.state is in pg_schema's first version
    return any(r[1] == "state" for r in db.execute(f"PRAGMA table_info({table})").fetchall())


def dossier_codes(db, dossier_ids: list[int]) -> dict[int, str]:
    """Dossier codes keyed by id."""
    if not dossier_ids:
        return {}
    return dict(db.execute(f"SELECT id, code FROM dossiers WHERE id IN ({_ph(dossier_ids)})",
                           list(dossier_ids)).fetchall())


def dossier_rows(db, dossier_ids: list[int]) -> list[dict]:
    """The dossiers' fields a ``DongBoHoSoMC`` record carries."""
    return list(db.query(f"SELECT {_DOSSIER_COLS} FROM dossiers WHERE id IN ({_ph(dossier_ids)})", dossier_ids))


def component_rows(db, dossier_ids: list[int]) -> list[dict]:
    """Components of the dossiers (dossier_id, n, code, name, received, digitized), in order."""
    return list(db.query(
        f"SELECT dossier_id, n, code, name, received, digitized FROM dossier_components "
        f"WHERE dossier_id IN ({_ph(dossier_ids)}) ORDER BY dossier_id, n", dossier_ids))


def uploaded_files(db, table: str, dossier_ids: list[int], *, current_only: bool) -> list[dict]:
    """Scans of the dossiers that the server holds (dossier_id, component_n, path, remote_id, url), in order."""
    current = " AND f.state = 'current'" if current_only else ""
    return list(db.query(
        f"SELECT f.dossier_id, f.component_n, f.path, sf.remote_id, sf.url FROM {table} f "
        f"JOIN sync_files sf ON sf.file_id = f.id WHERE f.dossier_id IN ({_ph(dossier_ids)}){current} "
        f"ORDER BY f.id", dossier_ids))


def supplement_events(db, dossier_ids: list[int]) -> list[dict]:
    """Events into or out of status 5 (requests for more papers), per dossier in order."""
    return list(db.query(
        f"SELECT dossier_id, id, at, officer, note, status_from, status_to, data FROM events "
        f"WHERE dossier_id IN ({_ph(dossier_ids)}) AND (status_to = '5' OR status_from = '5') "
        f"ORDER BY dossier_id, id", dossier_ids))


def step_rows(db, event_ids: list[int]) -> list[dict]:
    """Events with their dossier's code and due date (a ``CapNhatTienDoHoSoMC`` line each)."""
    return list(db.query(
        f"SELECT e.id, d.code, e.at, e.officer, e.unit, e.note, e.status_to, e.data, d.due_at "
        f"FROM events e JOIN dossiers d ON d.id = e.dossier_id WHERE e.id IN ({_ph(event_ids)})", event_ids))

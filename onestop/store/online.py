"""Rows of the online dossiers pulled from the portal (channel 2): ``online_dossiers`` (one per
portal id ``MaHoSoDVC``, its state and its acknowledgement to the portal) and ``online_files`` (the
files the citizen attached, downloaded into the data home until the dossier is taken or refused).

States: ``waiting`` (in the queue), ``blocked`` (kept out of the queue: ``reason`` says why),
``taken`` (a dossier of the office, ``dossier_id``), ``refused``. ``ack`` is the portal's outbox:
'' nothing to tell, ``pending`` (written in the take's or the refusal's own transaction; a take is
sent only once ``files_done``), ``done`` (the portal answered).
"""

from __future__ import annotations

COLUMNS = ("id", "dvc", "procedure_code", "procedure_name", "applicant_name", "id_number", "submitted_at",
           "record", "paid_online", "fees", "state", "reason", "pulled_at", "dossier_id", "taken_by", "taken_at",
           "files_done", "form_path", "ack", "ack_attempts", "ack_error", "acked_at")
_SELECT = "SELECT " + ", ".join(f"o.{c}" for c in COLUMNS) + ", d.code AS code FROM online_dossiers o " \
          "LEFT JOIN dossiers d ON d.id = o.dossier_id"


def known_states(db, dvcs: list[str]) -> dict[str, str]:
    """The state of each of ``dvcs`` already stored (absent: never pulled)."""
    out: dict[str, str] = {}
    for i in range(0, len(dvcs), 500):
        part = dvcs[i:i + 500]
        out.update(dict(db.execute(f"SELECT dvc, state FROM online_dossiers WHERE dvc IN ({','.join('?' * len(part))})",
                                   part).fetchall()))
    return out


def store_pulled(db, row: dict, files: list[dict]) -> bool:
    """Store a pulled dossier (state waiting or blocked) with its files, unless its portal id is
    already stored as waiting/taken/refused (a blocked one is replaced: it was pulled again).
    Returns whether it was stored. Runs inside the caller's transaction."""
    prev = db.execute("SELECT id, state FROM online_dossiers WHERE dvc = ?", [row["dvc"]]).fetchone()
    if prev is not None:
        if prev[1] != "blocked":
            return False
        db.execute("DELETE FROM online_files WHERE online_id = ?", [prev[0]])
        db.execute("DELETE FROM online_dossiers WHERE id = ?", [prev[0]])
    cur = db.execute(f"INSERT INTO online_dossiers ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
                     "ON CONFLICT (dvc) DO NOTHING RETURNING id", list(row.values()))
    got = cur.fetchone()
    if got is None:
        return False
    for f in files:
        f = dict(f, online_id=got[0])
        db.execute(f"INSERT INTO online_files ({', '.join(f)}) VALUES ({', '.join('?' * len(f))})", list(f.values()))
    return True


def get(db, dvc: str) -> dict | None:
    """One online dossier (with ``code`` of its dossier once taken), or None."""
    rows = list(db.query(_SELECT + " WHERE o.dvc = ?", [dvc]))
    return rows[0] if rows else None


def get_locked(db, dvc: str) -> dict | None:
    """The row re-read inside a transaction, locked against another desk's take or refusal."""
    lock = " FOR UPDATE OF o" if getattr(db, "backend", "sqlite") == "postgresql" else ""
    rows = list(db.query(_SELECT + " WHERE o.dvc = ?" + lock, [dvc]))
    return rows[0] if rows else None


def files(db, online_id: int) -> list[dict]:
    """The files of an online dossier, in the portal's order."""
    return list(db.query("SELECT id, n, remote_id, name, component_code, url, sha256, size, path, file_id "
                         "FROM online_files WHERE online_id = ? ORDER BY n", [online_id]))


def listing(db, states: tuple[str, ...] = ("waiting", "blocked")) -> list[dict]:
    """Online dossiers in ``states``, oldest submission first."""
    rows = list(db.query(_SELECT + f" WHERE o.state IN ({','.join('?' * len(states))}) "
                         "ORDER BY o.submitted_at, o.id", list(states)))
    for r in rows:
        r["files"] = files(db, r["id"])
    return rows


def counts(db) -> dict[str, int]:
    """Online dossiers per state, and the acknowledgements still to send."""
    out = dict(db.execute("SELECT state, count(*) FROM online_dossiers GROUP BY state").fetchall())
    out["ack_pending"] = db.execute("SELECT count(*) FROM online_dossiers WHERE ack = 'pending'").fetchone()[0]
    return out


def take(db, dvc: str, dossier_id: int, officer: str, at: str) -> int:
    """Mark a waiting online dossier taken by ``dossier_id`` (in the dossier's insert transaction);
    the number of rows changed (0: another desk took or refused it first)."""
    return db.execute("UPDATE online_dossiers SET state = 'taken', dossier_id = ?, taken_by = ?, taken_at = ?, "
                      "ack = 'pending', reason = '' WHERE dvc = ? AND state = 'waiting'",
                      [dossier_id, officer, at, dvc]).rowcount


def refuse(db, dvc: str, reason: str, officer: str, at: str) -> int:
    """Mark a waiting (or blocked) online dossier refused, its acknowledgement pending; rows changed."""
    return db.execute("UPDATE online_dossiers SET state = 'refused', reason = ?, taken_by = ?, taken_at = ?, "
                      "ack = 'pending' WHERE dvc = ? AND state IN ('waiting', 'blocked')",
                      [reason, officer, at, dvc]).rowcount


def set_form(db, online_id: int, path: str) -> None:
    db.execute("UPDATE online_dossiers SET form_path = ? WHERE id = ?", [path, online_id])


def set_file_archived(db, file_row_id: int, file_id: int) -> None:
    db.execute("UPDATE online_files SET file_id = ? WHERE id = ?", [file_id, file_row_id])


def set_files_done(db, online_id: int) -> None:
    db.execute("UPDATE online_dossiers SET files_done = 1 WHERE id = ?", [online_id])


def archived_by_source(db, dossier_id: int, source_name: str) -> int | None:
    """The current archive file of the dossier made from the input file ``source_name``, or None
    (a crash between the archive's commit and ours: the file is stored, only our mark is missing)."""
    row = db.execute("SELECT id FROM archive_files WHERE dossier_id = ? AND state = 'current' AND sources LIKE ?",
                     [dossier_id, f'%"{source_name}"%']).fetchone()
    return row[0] if row else None


def archive_sha(db, file_id: int) -> str:
    """The SHA-256 of an archive file."""
    return db.execute("SELECT sha256 FROM archive_files WHERE id = ?", [file_id]).fetchone()[0]


def archive_paths(db, file_ids: list[int]) -> list[str]:
    """The archive paths of these archive files, in the order given."""
    if not file_ids:
        return []
    found = dict(db.execute(f"SELECT id, path FROM archive_files WHERE id IN ({','.join('?' * len(file_ids))})",
                            list(file_ids)).fetchall())
    return [found[i] for i in file_ids if i in found]


def acks_to_send(db, limit: int = 500) -> list[dict]:
    """Acknowledgements due: takes whose files are all archived, and refusals; oldest first."""
    return list(db.query(_SELECT + " WHERE o.ack = 'pending' AND (o.state = 'refused' OR o.files_done = 1) "
                         "ORDER BY o.taken_at, o.id LIMIT ?", [int(limit)]))


def mark_ack(db, online_id: int, at: str) -> None:
    db.execute("UPDATE online_dossiers SET ack = 'done', acked_at = ?, ack_error = '', "
               "ack_attempts = ack_attempts + 1 WHERE id = ?", [at, online_id])


def mark_ack_failed(db, online_id: int, error: str) -> None:
    db.execute("UPDATE online_dossiers SET ack_attempts = ack_attempts + 1, ack_error = ? WHERE id = ?",
               [error[:300], online_id])


def unacknowledged_takes(db, dossier_ids: list[int]) -> set[int]:
    """Those of ``dossier_ids`` taken from the portal whose take the portal has not confirmed yet:
    nothing of theirs may go to DongBoHoSoMC before it (the portal refuses a dossier never taken)."""
    if not dossier_ids:
        return set()
    out: set[int] = set()
    for i in range(0, len(dossier_ids), 500):
        part = list(dossier_ids[i:i + 500])
        out |= {r[0] for r in db.execute(
            f"SELECT dossier_id FROM online_dossiers WHERE ack != 'done' AND state = 'taken' "
            f"AND dossier_id IN ({','.join('?' * len(part))})", part).fetchall()}
    return out


def by_dossier(db, dossier_ids: list[int]) -> dict[int, dict]:
    """The online row (dvc, submitted_at) of each taken dossier among ``dossier_ids``."""
    out: dict[int, dict] = {}
    for i in range(0, len(dossier_ids), 500):
        part = list(dossier_ids[i:i + 500])
        for r in db.query(f"SELECT dossier_id, dvc, submitted_at FROM online_dossiers WHERE state = 'taken' "
                          f"AND dossier_id IN ({','.join('?' * len(part))})", part):
            out[r["dossier_id"]] = r
    return out


"""The sync outbox: entries to send (pending), held for a fix (failed), on a spool (spooled), done.

Every change writes its entries in the same transaction as the change (``add_entry``); the nightly
sync (onestop/sync/) reads them in id order and records each outcome here. States:
``pending`` → ``done`` (acknowledged by the server) / ``spooled`` (written to a spool folder, done
only once its acknowledgement comes back) / ``failed`` (refused: held until ``sync retry``).
"""

from __future__ import annotations

# Bound on the ids in one ``IN (…)`` list (SQLite's old default limit is 999 variables).
_CHUNK = 500

# Outcomes as one statement per entry: a refused entry keeps its first refusal time in failed_at
# (the operator's "since when").
_FAILED = ("UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, "
           "failed_at = COALESCE(failed_at, ?) WHERE id = ?")


def _ph(values) -> str:
    return ",".join("?" * len(values))


def _chunks(ids: list) -> list[list]:
    return [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _column(db, sql: str, params=()) -> list:
    return [r[0] for r in db.execute(sql, params).fetchall()]


# ---------------------------------------------------------------- writing entries

def add_entry(db, dossier_id: int, kind: str, ref_id: int | None, created_at: str) -> None:
    """Queue one entry (create / update / step / file) for the sync."""
    db.execute("INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES (?, ?, ?, ?)",
               [dossier_id, kind, ref_id, created_at])


def queue_update_after_file(db, dossier_id: int, entry_id: int, at: str) -> None:
    """Queue an update of the dossier's record unless one is already pending after ``entry_id``."""
    db.execute("INSERT INTO outbox (dossier_id, kind, created_at) SELECT ?, 'update', ? "
               "WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE dossier_id = ? AND kind = 'update' "
               "AND state = 'pending' AND id > ?)", [dossier_id, at, dossier_id, entry_id])


def queue_update_if_created(db, dossier_id: int, at: str) -> None:
    """Queue an update (the full record) when the dossier's create already left (done or spooled)."""
    db.execute("INSERT INTO outbox (dossier_id, kind, created_at) SELECT ?, 'update', ? "
               "WHERE EXISTS (SELECT 1 FROM outbox WHERE dossier_id = ? AND kind = 'create' "
               "AND state IN ('done', 'spooled'))", [dossier_id, at, dossier_id])


# ---------------------------------------------------------------- the sending loop reads

def pending_entries(db, after_id: int, limit: int, dossier_id: int | None = None) -> list[dict]:
    """Pending entries with an id above ``after_id``, in id order: id, dossier_id, kind, ref_id, attempts,
    unanswered."""
    sql = "SELECT id, dossier_id, kind, ref_id, attempts, unanswered FROM outbox WHERE state = 'pending' AND id > ?"
    params: list = [after_id]
    if dossier_id is not None:
        sql += " AND dossier_id = ?"
        params.append(dossier_id)
    return list(db.query(sql + " ORDER BY id LIMIT ?", [*params, int(limit)]))


def dossiers_not_created(db, dossier_ids: list[int], ok_states: tuple[str, ...]) -> set[int]:
    """Those of ``dossier_ids`` with a create entry not in ``ok_states`` (not on the server yet)."""
    if not dossier_ids:
        return set()
    return set(_column(db, f"SELECT DISTINCT dossier_id FROM outbox WHERE kind = 'create' AND state NOT IN "
                           f"({_ph(ok_states)}) AND dossier_id IN ({_ph(dossier_ids)})",
                       [*ok_states, *dossier_ids]))


def dossiers_on_spool(db, dossier_ids: list[int]) -> set[int]:
    """Those of ``dossier_ids`` with entries still spooled (waiting for an acknowledgement)."""
    if not dossier_ids:
        return set()
    return set(_column(db, f"SELECT DISTINCT dossier_id FROM outbox WHERE state = 'spooled' "
                           f"AND dossier_id IN ({_ph(dossier_ids)})", dossier_ids))


def dossiers_with_failed_steps(db, dossier_ids: list[int]) -> set[int]:
    """Those of ``dossier_ids`` with a step held for a fix (their later steps must wait)."""
    if not dossier_ids:
        return set()
    return set(_column(db, f"SELECT DISTINCT dossier_id FROM outbox WHERE kind = 'step' AND state = 'failed' "
                           f"AND dossier_id IN ({_ph(dossier_ids)})", dossier_ids))


def acknowledged_step_events(db, dossier_ids: list[int], ok_states: tuple[str, ...]) -> list[int]:
    """Event ids of the steps of ``dossier_ids`` already in ``ok_states`` (for the doubt check)."""
    if not dossier_ids:
        return []
    return _column(db, f"SELECT ref_id FROM outbox WHERE kind = 'step' AND state IN ({_ph(ok_states)}) "
                       f"AND dossier_id IN ({_ph(dossier_ids)})", [*ok_states, *dossier_ids])


# ---------------------------------------------------------------- outcomes

def mark_done(db, ids: list[int], at: str) -> None:
    """Entries acknowledged by the server."""
    for part in _chunks(list(ids)):
        db.execute(f"UPDATE outbox SET state = 'done', done_at = ?, last_error = '' WHERE id IN ({_ph(part)})",
                   [at, *part])


def mark_spooled(db, ids: list[int], at: str) -> None:
    """Entries written to a spool folder (done only when the spool's acknowledgement comes back)."""
    for part in _chunks(list(ids)):
        db.execute(f"UPDATE outbox SET state = 'spooled', spooled_at = ?, last_error = '' WHERE id IN ({_ph(part)})",
                   [at, *part])


def mark_unanswered(db, ids: list[int], value: int) -> None:
    """Creates about to go out (1: from now on the server may hold them without our knowing), or
    answered by the server (0)."""
    for part in _chunks(list(ids)):
        db.execute(f"UPDATE outbox SET unanswered = ? WHERE id IN ({_ph(part)})", [int(value), *part])


def mark_failed(db, failures: list[tuple[int, str, str]]) -> None:
    """Entries refused, as (id, reason, at): held for a fix."""
    for entry_id, reason, at in failures:
        db.execute(_FAILED, [reason, at, entry_id])


def count_attempts(db, ids: list[int]) -> None:
    """Record that these steps are about to go out (a step with attempts > 0 may be on the server)."""
    for part in _chunks(list(ids)):
        db.execute(f"UPDATE outbox SET attempts = attempts + 1 WHERE id IN ({_ph(part)})", part)


def set_remote_id(db, entry_id: int, remote_id: str) -> None:
    """The server's IdTepTin of a file entry."""
    db.execute("UPDATE outbox SET remote_id = ? WHERE id = ?", [remote_id, entry_id])


# ---------------------------------------------------------------- uploaded files (sync_files)

def archive_files_meta(db, table: str, file_ids: list[int], *, has_state: bool) -> dict[int, dict]:
    """The archive's rows for ``file_ids`` (id, path, sha256, state), keyed by id."""
    if not file_ids:
        return {}
    state = "state" if has_state else "'current'"
    return {r["id"]: r for r in db.query(
        f"SELECT id, path, sha256, {state} AS state FROM {table} WHERE id IN ({_ph(file_ids)})", file_ids)}


def uploads_of_files(db, file_ids: list[int]) -> dict[int, tuple[str, str]]:
    """What the server answered for each of ``file_ids`` already uploaded: (remote_id, url)."""
    if not file_ids:
        return {}
    return {f: (rid, url) for f, rid, url in db.execute(
        f"SELECT file_id, remote_id, url FROM sync_files WHERE file_id IN ({_ph(file_ids)})", file_ids).fetchall()}


def upload_by_sha(db, sha256: str) -> tuple[str, str] | None:
    """(remote_id, url) of any file with this content already uploaded, or None."""
    row = db.execute("SELECT remote_id, url FROM sync_files WHERE sha256 = ? LIMIT 1", [sha256]).fetchone()
    return (row[0], row[1]) if row else None


def record_upload(db, file_id: int, sha256: str, remote_id: str, url: str, at: str) -> None:
    """Remember the server's answer for an archive file (its records point there)."""
    db.execute("INSERT INTO sync_files (file_id, sha256, remote_id, url, uploaded_at) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (file_id) DO UPDATE SET sha256 = excluded.sha256, remote_id = excluded.remote_id, "
               "url = excluded.url, uploaded_at = excluded.uploaded_at",
               [file_id, sha256, remote_id, url, at])


# ---------------------------------------------------------------- acknowledgements of a spool

def count_by_state(db) -> dict[str, int]:
    """Entries per state."""
    return dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


def ack_spooled(db, ids: list[int], at: str) -> None:
    """Spooled entries the server acknowledged become done (others are left as they are)."""
    for part in _chunks(sorted(ids)):
        db.execute(f"UPDATE outbox SET state = 'done', done_at = ? WHERE state = 'spooled' "
                   f"AND id IN ({_ph(part)})", [at, *part])


def ack_spooled_file(db, table: str, sha256: str, remote_id: str, at: str) -> None:
    """Spooled file entries with this content become done, with the server's IdTepTin."""
    db.execute(f"UPDATE outbox SET state = 'done', done_at = ?, remote_id = ? WHERE state = 'spooled' "
               f"AND kind = 'file' AND ref_id IN (SELECT id FROM {table} WHERE sha256 = ?)",
               [at, remote_id, sha256])


def replace_placeholder_upload(db, sha256: str, remote_id: str, url: str, placeholder: str) -> None:
    """Uploads of this content still known by a spool's ``placeholder`` URL now point to the server's file."""
    db.execute("UPDATE sync_files SET remote_id = ?, url = ? WHERE sha256 = ? AND url LIKE ?",
               [remote_id, url, sha256, placeholder + "%"])


def refuse_spooled_file(db, table: str, sha256: str, reason: str, at: str) -> None:
    """Spooled file entries with this content were refused by the server: held for a fix."""
    db.execute(f"UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, "
               f"failed_at = COALESCE(failed_at, ?) WHERE state = 'spooled' AND kind = 'file' "
               f"AND ref_id IN (SELECT id FROM {table} WHERE sha256 = ?)", [reason, at, sha256])


def refuse_spooled(db, ids: list[int], reason: str, at: str) -> None:
    """Spooled entries refused by the server: held for a fix (entries in another state are left)."""
    for entry_id in ids:
        db.execute(_FAILED.replace("WHERE id = ?", "WHERE id = ? AND state = 'spooled'"), [reason, at, entry_id])


# ---------------------------------------------------------------- what the operator reads

def held_for_fix(db) -> tuple[int, str | None]:
    """Entries held for a fix and the oldest refusal time."""
    n, oldest = db.execute(
        "SELECT count(*), min(COALESCE(failed_at, created_at)) FROM outbox WHERE state = 'failed'").fetchone()
    return n, oldest


def held_waiting(db) -> int:
    """Pending entries (not files) of dossiers that have an entry held for a fix."""
    return db.execute(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND kind != 'file' AND dossier_id IN "
        "(SELECT dossier_id FROM outbox WHERE state = 'failed')").fetchone()[0]


def oldest_held_code(db) -> str | None:
    """The dossier code of the oldest entry held for a fix."""
    row = db.execute(
        "SELECT d.code FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE o.state = 'failed' "
        "ORDER BY COALESCE(o.failed_at, o.created_at), o.id LIMIT 1").fetchone()
    return row[0] if row else None


def pending_by_kind(db) -> dict[str, int]:
    """Pending entries per kind."""
    return dict(db.execute("SELECT kind, count(*) FROM outbox WHERE state = 'pending' GROUP BY kind").fetchall())


def steps_in_doubt(db) -> int:
    """Pending steps that went out at least once (the server may hold them)."""
    return db.execute(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND kind = 'step' AND attempts > 0").fetchone()[0]


def failed_entries(db, limit: int = 500) -> list[dict]:
    """Entries held for a fix, oldest first: code, kind, attempts, error, since."""
    return list(db.query(
        "SELECT d.code AS code, o.kind AS kind, o.attempts AS attempts, o.last_error AS error, "
        "COALESCE(o.failed_at, o.created_at) AS since FROM outbox o JOIN dossiers d ON d.id = o.dossier_id "
        "WHERE o.state = 'failed' ORDER BY o.id LIMIT ?", [int(limit)]))


def spooled_unacknowledged(db) -> tuple[int, str | None]:
    """Spooled entries and the oldest spooling time."""
    n, oldest = db.execute("SELECT count(*), min(spooled_at) FROM outbox WHERE state = 'spooled'").fetchone()
    return n, oldest


def spooled_overdue(db, before: str) -> tuple[int, str | None]:
    """Spooled entries written to a spool before ``before`` and still unacknowledged, and the oldest time."""
    n, oldest = db.execute("SELECT count(*), min(spooled_at) FROM outbox WHERE state = 'spooled' "
                           "AND spooled_at < ?", [before]).fetchone()
    return n, oldest


def requeue_spooled(db, before: str, placeholder: str) -> int:
    """Put back in the queue every spooled entry of the dossiers with an entry spooled before
    ``before`` (a lost stick); returns how many. The stick may have been delivered after all, so
    each entry goes back "in doubt": creates ``unanswered`` (a "đã tồn tại" is then ours), steps
    with ``attempts`` raised (looked up before being resent); files lose their spool placeholder
    so they are uploaded (or copied to the new stick) again."""
    dossiers = ("SELECT DISTINCT dossier_id FROM outbox WHERE state = 'spooled' AND spooled_at < ?")
    db.execute(f"DELETE FROM sync_files WHERE url LIKE ? AND file_id IN (SELECT ref_id FROM outbox WHERE "
               f"state = 'spooled' AND kind = 'file' AND dossier_id IN ({dossiers}))", [placeholder + "%", before])
    return db.execute(
        f"UPDATE outbox SET state = 'pending', attempts = attempts + 1, "
        f"unanswered = CASE WHEN kind = 'create' THEN 1 ELSE unanswered END "
        f"WHERE state = 'spooled' AND dossier_id IN ({dossiers})", [before]).rowcount


def requeue_failed(db, dossier_id: int) -> int:
    """Put a dossier's entries held for a fix back to pending; returns how many."""
    return db.execute("UPDATE outbox SET state = 'pending', last_error = '', failed_at = NULL "
                      "WHERE dossier_id = ? AND state = 'failed'", [dossier_id]).rowcount

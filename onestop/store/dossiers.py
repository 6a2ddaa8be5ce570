"""Dossier rows: insert, update, look-ups by code, lists, components, the event history, the outbox
rows a change queues, and the forms handed out without a code (Mẫu 02/03).

The code itself is allocated in onestop/store/codes.py. The JSON ``data`` column of an event is a
dict on both sides of these functions.
"""

from __future__ import annotations

import json

# ---------------------------------------------------------------- writes


def insert_dossier(db, row: dict) -> int:
    """Insert a dossier row (column -> value); its id."""
    cur = db.execute(f"INSERT INTO dossiers ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) RETURNING id",
                     list(row.values()))
    return cur.fetchone()[0]


def insert_components(db, dossier_id: int, rows: list[dict]) -> None:
    """Insert the received-component rows of a dossier (keys n, code, name, originals, copies, pages,
    received, applies)."""
    if not rows:
        return
    # One multi-row statement: a statement per component made bulk intake (P6) ~12% slower.
    db.execute(
        "INSERT INTO dossier_components (dossier_id, n, code, name, originals, copies, pages, received, applies) "
        "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
        [v for r in rows for v in (dossier_id, r["n"], r["code"], r["name"], r["originals"], r["copies"], r["pages"],
                                   int(r["received"]), None if r["applies"] is None else int(r["applies"]))])


def update_dossier(db, dossier_id: int, fields: dict) -> None:
    """Set columns of one dossier (``fields``: column -> value; column names come from code, never input)."""
    db.execute(f"UPDATE dossiers SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
               [*fields.values(), dossier_id])


def add_event(db, dossier_id: int, at: str, officer: str, unit: str, action: str, note: str,
              status_from: str | None, status_to: str, data: dict | None = None) -> int:
    """Append one event to a dossier's history; its id."""
    cur = db.execute(
        "INSERT INTO events (dossier_id, at, officer, unit, action, note, status_from, status_to, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [dossier_id, at, officer, unit, action, note, status_from, status_to,
         json.dumps(data or {}, ensure_ascii=False)])
    return cur.fetchone()[0]


def queue_outbox(db, dossier_id: int, kind: str, ref_id: int | None, at: str) -> None:
    """Queue one entry (create, update, step, file) for the nightly sync."""
    queue_outbox_rows(db, dossier_id, [(kind, ref_id)], at)


def queue_outbox_rows(db, dossier_id: int, entries: list[tuple[str, int | None]], at: str) -> None:
    """Queue several entries ``(kind, ref_id)`` of one dossier, in this order, in one statement
    (one round trip on PostgreSQL)."""
    db.execute("INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES "
               + ", ".join(["(?, ?, ?, ?)"] * len(entries)),
               [v for kind, ref_id in entries for v in (dossier_id, kind, ref_id, at)])


def insert_counter_form(db, row: dict) -> int:
    """Record a form handed out without a dossier code (02 guidance, 03 refusal); its id."""
    cur = db.execute(f"INSERT INTO counter_forms ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) RETURNING id",
                     list(row.values()))
    return cur.fetchone()[0]


def set_counter_form_pdf(db, form_id: int, path: str) -> None:
    """Where the PDF of a counter form was written."""
    db.execute("UPDATE counter_forms SET pdf_path = ? WHERE id = ?", [path, form_id])


# ---------------------------------------------------------------- look-ups


def dossier_by_code(db, code: str) -> dict | None:
    """The dossier row with exactly this code, or None."""
    return next(db.query("SELECT * FROM dossiers WHERE code = ?", [code]), None)


def dossier_for_update(db, dossier_id: int) -> dict | None:
    """The dossier row as committed now, locked until the transaction ends: a change of a dossier reads
    it here, inside its transaction, so two desks changing one dossier at once take turns and the second
    sees the first's change. PostgreSQL: ``FOR UPDATE`` (READ COMMITTED waits for the holder, then reads
    its committed row); SQLite: the IMMEDIATE transaction already holds the database's write lock."""
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    return next(db.query(f"SELECT * FROM dossiers WHERE id = ?{lock}", [dossier_id]), None)


def dossiers_ending_with(db, tail: str, limit: int) -> list[dict]:
    """Dossier rows whose code ends with ``-<tail>``, newest first, at most ``limit``."""
    return list(db.query("SELECT * FROM dossiers WHERE code LIKE ? ORDER BY received_at DESC, id DESC LIMIT ?",
                         ["%-" + tail, limit]))


def duplicate_codes(db, id_number: str, procedure_code: str, start: str, end: str) -> list[str]:
    """Codes of dossiers for this ID and procedure received between ``start`` and ``end`` (ISO), oldest first."""
    return [r["code"] for r in db.query(
        "SELECT code FROM dossiers WHERE id_number = ? AND procedure_code = ? AND received_at >= ? AND received_at <= ? "
        "ORDER BY received_at", [id_number, procedure_code, start, end])]


def components_of(db, dossier_id: int) -> list[dict]:
    """A dossier's components in number order."""
    return list(db.query(
        "SELECT n, code, name, originals, copies, pages, received, applies, submission, digitized "
        "FROM dossier_components WHERE dossier_id = ? ORDER BY n", [dossier_id]))


def events_of(db, dossier_id: int) -> list[dict]:
    """A dossier's history, oldest first (``data`` decoded)."""
    return [dict(r, data=json.loads(r["data"])) for r in db.query(
        "SELECT at, officer, unit, action, note, status_from, status_to, data FROM events "
        "WHERE dossier_id = ? ORDER BY id", [dossier_id])]


def last_event_at(db, dossier_id: int) -> str | None:
    """The time of a dossier's latest event (ISO), or None."""
    return db.execute("SELECT max(at) FROM events WHERE dossier_id = ?", [dossier_id]).fetchone()[0]


def status_events(db, dossier_id: int, statuses) -> list[dict]:
    """A dossier's status moves to one of ``statuses``, oldest first (at, officer, note, status_to, data decoded)."""
    statuses = list(statuses)
    return [dict(r, data=json.loads(r["data"] or "{}")) for r in db.query(
        "SELECT at, officer, note, status_to, data FROM events WHERE dossier_id = ? AND status_to IN "
        f"({', '.join('?' * len(statuses))}) AND action LIKE 'status_%' ORDER BY id", [dossier_id, *statuses])]


def list_dossiers(db, columns: list[str], *, start: str | None = None, end: str | None = None,
                  status: str | None = None, limit: int = 0, ids: list[int] | None = None) -> list[dict]:
    """Dossier rows (``columns``), received in [start, end), in ``status`` and among ``ids`` when
    given, newest first (``limit`` 0: all)."""
    where, params = [], []
    if ids is not None:
        where.append(f"id IN ({', '.join('?' * len(ids))})" if ids else "1 = 0")
        params += list(ids)
    if start is not None:
        where.append("received_at >= ? AND received_at < ?")
        params += [start, end]
    if status:
        where.append("status = ?")
        params.append(status)
    sql = f"SELECT {', '.join(columns)} FROM dossiers"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY received_at DESC, id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return list(db.query(sql, params))


def codes_received_between(db, start: str, end: str) -> list[str]:
    """Codes of the dossiers received in [start, end) (ISO), newest first."""
    return [r["code"] for r in db.query(
        "SELECT code FROM dossiers WHERE received_at >= ? AND received_at < ? ORDER BY id DESC", [start, end])]

"""Where the backlog and the period report are computed: the grouped SQL behind the supervisor figures.

Every figure is an aggregate over the covering indexes of migration ``0004_reports``; each function
returns a few grouped rows (one per status / procedure / day, never one per dossier, except the
overdue list) and ``onestop/reports/figures.py`` folds them with the working-day calendar. Moments are ISO
strings compared as text, as they are stored (``received_at < ?`` with the next day's date).
Definitions of every figure: docs/reports.md.
"""

from __future__ import annotations

# Must match the partial index of 0004_reports verbatim, or SQLite scans the table instead.
_OPEN = "status IN ('2','4','5','6')"

# "late": after the appointment, or more than one request for papers, or rescheduled (Mẫu 04 is
# the apology for missing the appointment the citizen was first given).
_TIMELINESS = ("CASE WHEN papers_requests > 1 OR rescheduled = 1 OR finished_at > due_at THEN 'late' "
               "WHEN substr(finished_at, 1, 10) < substr(due_at, 1, 10) THEN 'early' ELSE 'on_time' END")

# Booleans as 0/1 on both backends (PostgreSQL has no sum(boolean) and returns true/false): a CASE,
# which both dialects accept, rather than SQLite's bare comparison.
_OVERDUE = "CASE WHEN due_at < ? THEN 1 ELSE 0 END"

# The status a dossier had just before a moment, from the event log (events are appended in order).
_STATUS_BEFORE = ("(SELECT e.status_to FROM events e WHERE e.dossier_id = d.id AND e.at < ? "
                  "AND e.status_to IS NOT NULL ORDER BY e.id DESC LIMIT 1)")


def _filters(procedure: str | None, field: str | None, officer: str | None) -> tuple[str, list]:
    where, params = "", []
    for col, val in (("procedure_code", procedure), ("field_code", field), ("officer", officer)):
        if val:
            where += f" AND {col} = ?"
            params.append(val)
    return where, params


def procedure_names(db) -> dict[str, str]:
    """``{procedure code: name}`` of the whole catalog (labels for the figures)."""
    return {r["code"]: r["name"] for r in db.query("SELECT code, name FROM procedures")}


# ---------------------------------------------------------------- backlog

def open_counts(db, received_before: str, *, procedure: str | None = None, field: str | None = None,
                officer: str | None = None) -> list[dict]:
    """Open dossiers (2, 4, 5, 6) received before a moment: ``status, procedure_code, due_day, n``."""
    fsql, fparams = _filters(procedure, field, officer)
    return list(db.query(
        f"SELECT status, procedure_code, substr(due_at, 1, 10) AS due_day, count(*) AS n FROM dossiers "
        f"WHERE {_OPEN} AND received_at < ?{fsql} GROUP BY 1, 2, 3", [received_before, *fparams]))


def overdue_dossiers(db, due_before: str, received_before: str, *, procedure: str | None = None,
                     field: str | None = None, officer: str | None = None, limit: int = 0) -> list[dict]:
    """Dossiers in processing (2, 4) due before a moment, oldest appointment first (unmasked rows)."""
    fsql, fparams = _filters(procedure, field, officer)
    params = [due_before, received_before, *fparams]
    if limit:
        params.append(int(limit))
    return list(db.query(
        f"SELECT code, procedure_code, applicant_name, id_number, phone, status, received_at, due_at, officer "
        f"FROM dossiers WHERE status IN ('2','4') AND due_at < ? AND received_at < ?{fsql} "
        f"ORDER BY due_at, id" + (" LIMIT ?" if limit else ""), params))


# ---------------------------------------------------------------- period report

def carried_over(db, before: str) -> int:
    """Dossiers received before a moment and not ended before it (an end is never before receipt)."""
    received = db.execute("SELECT count(*) FROM dossiers WHERE received_at < ?", [before]).fetchone()[0]
    ended = db.execute("SELECT count(*) FROM dossiers WHERE finished_at < ?", [before]).fetchone()[0]
    return received - ended


def received_counts(db, lo: str, hi: str) -> list[dict]:
    """Dossiers received in ``[lo, hi)``: ``channel, procedure_code, n, synced``.

    ``synced``: its 'create' outbox row is done, i.e. the ministry's server acknowledged it (a create
    only written to a spool is 'spooled' until ``sync acks``: not counted).
    """
    return list(db.query(
        "SELECT channel, procedure_code, count(*) AS n, "
        "sum(CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.dossier_id = d.id AND o.kind = 'create' "
        "AND o.state = 'done') THEN 1 ELSE 0 END) AS synced FROM dossiers d WHERE received_at >= ? AND received_at < ? GROUP BY 1, 2", [lo, hi]))


def ended_counts(db, lo: str, hi: str) -> list[dict]:
    """Dossiers ended in ``[lo, hi)``: ``status, procedure_code, received_day, finished_day, timeliness
    ('early'/'on_time'/'late'), digitized (0/1: a component was scanned), synced (0/1: the ministry's
    server acknowledged its record and every entry since, the result's step and files included:
    nothing of it is pending, spooled or held in the outbox), n``."""
    return list(db.query(
        f"SELECT status, procedure_code, substr(received_at, 1, 10) AS received_day, "
        f"substr(finished_at, 1, 10) AS finished_day, {_TIMELINESS} AS timeliness, "
        "CASE WHEN EXISTS (SELECT 1 FROM dossier_components c WHERE c.dossier_id = d.id AND c.digitized > 0) "
        "THEN 1 ELSE 0 END AS digitized, "
        "CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.dossier_id = d.id AND o.kind = 'create' AND o.state = 'done') "
        "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dossier_id = d.id AND o.state <> 'done') "
        "THEN 1 ELSE 0 END AS synced, "
        "count(*) AS n FROM dossiers d WHERE finished_at >= ? AND finished_at < ? GROUP BY 1, 2, 3, 4, 5, 6, 7",
        [lo, hi]))


def not_ended_counts(db, end: str, *, overdue_before: str | None = None) -> list[dict]:
    """Dossiers received before ``end`` and not ended before it (open now, or ended later), by the
    status they had then: ``procedure_code, status, overdue (due before overdue_before, default end), n``."""
    due = overdue_before or end
    rows = list(db.query(
        f"SELECT procedure_code, {_STATUS_BEFORE} AS status, {_OVERDUE} AS overdue, count(*) AS n FROM dossiers d "
        f"WHERE {_OPEN} AND received_at < ? GROUP BY 1, 2, 3", [end, due, end]))
    rows += db.query(
        f"SELECT procedure_code, {_STATUS_BEFORE} AS status, {_OVERDUE} AS overdue, count(*) AS n FROM dossiers d "
        "WHERE finished_at >= ? AND received_at < ? GROUP BY 1, 2, 3", [end, due, end, end])
    return rows

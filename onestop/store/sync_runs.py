"""The sync's own records: one row per run (``sync_runs``) and the spool identity of this office's
database (its rows of the ``office`` table, onestop/store/office.py)."""

from __future__ import annotations

import json


def start_run(db, started_at: str, target: str) -> int:
    """Log a run as started; returns its id."""
    # query() reads the RETURNING row to the end, so the autocommit INSERT is finished at once
    return next(iter(db.query("INSERT INTO sync_runs (started_at, target) VALUES (?, ?) RETURNING id",
                              [started_at, target])))["id"]


def finish_run(db, run_id: int, finished_at: str, summary: dict, exit_code: int) -> None:
    """Record a run's end: counts, exit code and the summary (JSON)."""
    db.execute("UPDATE sync_runs SET finished_at = ?, sent = ?, already = ?, failed = ?, exit_code = ?, "
               "summary = ? WHERE id = ?",
               [finished_at, summary["sent"], summary["already"], summary["failed"], exit_code,
                json.dumps(summary, ensure_ascii=False), run_id])


def log_acks(db, at: str, target: str, acknowledged: int, refused: int, summary: dict) -> None:
    """Log an import of a spool's acknowledgements as a finished run (exit 0)."""
    db.execute("INSERT INTO sync_runs (started_at, finished_at, target, sent, already, failed, exit_code, summary) "
               "VALUES (?, ?, ?, ?, 0, ?, 0, ?)",
               [at, at, target, acknowledged, refused, json.dumps(summary, ensure_ascii=False)])


def last_run(db) -> dict | None:
    """The latest run: started_at, finished_at, target, sent, already, failed, exit_code, summary (JSON text)."""
    rows = list(db.query("SELECT started_at, finished_at, target, sent, already, failed, exit_code, summary "
                         "FROM sync_runs ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def last_success(db) -> dict | None:
    """The latest run that reached the server (url or acks) and ended 0 or 11: at, target, exit_code."""
    rows = list(db.query(
        "SELECT finished_at AS at, target, exit_code FROM sync_runs WHERE finished_at IS NOT NULL "
        "AND exit_code IN (0, 11) AND (target LIKE 'url:%' OR target LIKE 'acks:%') ORDER BY id DESC LIMIT 1"))
    return rows[0] if rows else None


def office_id(db) -> str:
    """The random id of this database, written into every spool folder it fills."""
    return db.execute("SELECT value FROM office WHERE key = 'office_id'").fetchone()[0]


def office_secret(db) -> str:
    """The key of the MAC that seals this database's spool batches (never written to a stick)."""
    row = db.execute("SELECT value FROM office WHERE key = 'spool_secret'").fetchone()
    return (row[0] if row else "") or ""

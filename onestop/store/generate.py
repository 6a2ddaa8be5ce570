"""Bulk loading of the generated benchmark databases (``onestop generate``; the rows are built by
``onestop/generate.py``).

The whole module is SQLite-only: it turns journaling off, drops the secondary indexes during the
load and rebuilds them once, and writes with ``executemany`` in big transactions. A PostgreSQL
loader (stage 2 of issue 9) would use COPY instead and live here too.
"""

from __future__ import annotations

# The order of the values in each generated row.
DOSSIER_COLUMNS = ["id", "code", "agency", "code_rule", "procedure_code", "procedure_name", "field_code",
                   "field_name", "channel", "applicant_name", "id_type", "id_number", "phone", "address", "status",
                   "received_at", "due_at", "original_due_at", "limit_value", "limit_unit", "book_year", "book_no",
                   "officer", "unit", "papers_requests", "rescheduled", "finished_at", "returned_at", "created_at",
                   "updated_at"]
EVENT_COLUMNS = ["dossier_id", "at", "officer", "unit", "action", "note", "status_from", "status_to"]
OUTBOX_COLUMNS = ["dossier_id", "created_at", "state", "done_at"]  # kind 'create'
COMPONENT_COLUMNS = ["dossier_id", "digitized"]                   # component 1, 'Đơn đề nghị', 2 pages

_TABLES = ("dossiers", "events", "outbox", "dossier_components")
_INSERTS = (
    f"INSERT INTO dossiers ({', '.join(DOSSIER_COLUMNS)}) VALUES ({', '.join('?' * len(DOSSIER_COLUMNS))})",
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
    "INSERT INTO outbox (dossier_id, kind, created_at, state, done_at) VALUES (?, 'create', ?, ?, ?)",
    "INSERT INTO dossier_components (dossier_id, n, name, pages, digitized) VALUES (?, 1, 'Đơn đề nghị', 2, ?)",
)


def procedures(db) -> list[dict]:
    """The catalog rows the generator draws from: ``code, name, field_code, field_name, limits``."""
    return list(db.query("SELECT code, name, field_code, field_name, limits FROM procedures"))


# dialect: sqlite-only (PRAGMA, sqlite_master)
def begin_bulk_load(db) -> list[str]:
    """Journal and sync off, the loaded tables' secondary indexes dropped; returns their CREATE statements."""
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -200000")
    where = f"type = 'index' AND sql IS NOT NULL AND tbl_name IN {_TABLES}"
    indexes = list(db.query(f"SELECT name, sql FROM sqlite_master WHERE {where}"))
    for ix in indexes:
        db.execute(f"DROP INDEX {ix['name']}")
    return [ix["sql"] for ix in indexes]


# dialect: sqlite-only (executemany on the sqlite3 connection)
def insert_batch(db, dossiers: list[tuple], events: list[tuple], outbox: list[tuple], components: list[tuple]) -> None:
    """One transaction of generated rows (tuples in the order of the ``*_COLUMNS`` lists above)."""
    # executemany straight on the sqlite3 connection: a Python loop of db.execute over 50,000-row
    # batches would double the generation time, and Database has no executemany of its own yet.
    conn = db.conn
    conn.execute("BEGIN")
    for sql, rows in zip(_INSERTS, (dossiers, events, outbox, components)):
        conn.executemany(sql, rows)
    conn.execute("COMMIT")


# dialect: sqlite-only (INSERT OR REPLACE)
def set_book_counters(db, agency: str, last_by_year: dict[int, int]) -> None:
    """The yearly book numbers reached by the generated dossiers, so a receive continues after them."""
    for year, last in last_by_year.items():
        db.execute("INSERT OR REPLACE INTO book_sequences (agency, year, last) VALUES (?, ?, ?)", [agency, year, last])


# dialect: sqlite-only (ANALYZE, PRAGMA)
def end_bulk_load(db, index_sql: list[str]) -> None:
    """Rebuild the dropped indexes in one transaction, refresh the planner's statistics, back to WAL,
    and close the connection: the generated file is complete."""
    db.execute("BEGIN")
    for sql in index_sql:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode = WAL")
    db.conn.close()

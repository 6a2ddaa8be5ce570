"""Bulk loading of the generated benchmark databases (``onestop generate``; the rows are built by
``onestop/samples/generate.py``).

Both dialects drop the loaded tables' secondary indexes during the load and rebuild them once at the
end. SQLite: journaling off, ``executemany`` in big transactions. PostgreSQL (an office database given
as a URL, for the P11 bench): COPY in big transactions, then the identity columns set past the
loaded ids and VACUUM ANALYZE.
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


def is_empty(db) -> bool:
    """No dossier yet: a PostgreSQL target must be a new database (a SQLite file is made anew)."""
    return db.execute("SELECT 1 FROM dossiers LIMIT 1").fetchone() is None


def begin_bulk_load(db) -> list[str]:
    """Journal and sync off, the loaded tables' secondary indexes dropped; returns their CREATE statements."""
    if db.dialect == "postgresql":
        # Indexes that back a constraint (primary keys, UNIQUE constraints) stay; plain and unique
        # indexes are dropped and rebuilt once, which is several times faster than COPY into them.
        db.execute("SET synchronous_commit = off")
        indexes = list(db.query(
            "SELECT i.indexname AS name, i.indexdef AS sql FROM pg_indexes i WHERE i.schemaname = current_schema() "
            f"AND i.tablename IN {_TABLES} AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace)"))
        for ix in indexes:
            db.execute(f'DROP INDEX "{ix["name"]}"')
        return [ix["sql"] for ix in indexes]
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -200000")
    where = f"type = 'index' AND sql IS NOT NULL AND tbl_name IN {_TABLES}"
    indexes = list(db.query(f"SELECT name, sql FROM sqlite_master WHERE {where}"))
    for ix in indexes:
        db.execute(f"DROP INDEX {ix['name']}")
    return [ix["sql"] for ix in indexes]


_COPIES = (
    f"COPY dossiers ({', '.join(DOSSIER_COLUMNS)}) FROM STDIN",
    f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN",
    "COPY outbox (dossier_id, created_at, state, done_at, kind) FROM STDIN",
    "COPY dossier_components (dossier_id, digitized, n, name, pages) FROM STDIN",
)


def insert_batch(db, dossiers: list[tuple], events: list[tuple], outbox: list[tuple], components: list[tuple]) -> None:
    """One transaction of generated rows (tuples in the order of the ``*_COLUMNS`` lists above)."""
    if db.dialect == "postgresql":
        # COPY through psycopg's own API (no SQL text to adapt): the fastest way in, ~10x executemany.
        conn = db.conn
        with conn.transaction(), conn.cursor() as cur:
            for sql, rows, extra in zip(_COPIES, (dossiers, events, outbox, components),
                                        ((), (), ("create",), (1, "Đơn đề nghị", 2))):
                with cur.copy(sql) as cp:
                    for r in rows:
                        cp.write_row(r + extra if extra else r)
        return
    # executemany straight on the sqlite3 connection: a Python loop of db.execute over 50,000-row
    # batches would double the generation time, and Database has no executemany of its own yet.
    conn = db.conn
    conn.execute("BEGIN")
    for sql, rows in zip(_INSERTS, (dossiers, events, outbox, components)):
        conn.executemany(sql, rows)
    conn.execute("COMMIT")


def set_book_counters(db, agency: str, last_by_year: dict[int, int]) -> None:
    """The yearly book numbers reached by the generated dossiers, so a receive continues after them."""
    for year, last in last_by_year.items():
        db.execute("INSERT INTO book_sequences (agency, year, last) VALUES (?, ?, ?) "
                   "ON CONFLICT (agency, year) DO UPDATE SET last = excluded.last", [agency, year, last])


def end_bulk_load(db, index_sql: list[str]) -> None:
    """Rebuild the dropped indexes in one transaction, refresh the planner's statistics, back to WAL,
    and close the connection: the generated file is complete."""
    if db.dialect == "postgresql":
        db.execute("SET maintenance_work_mem = '256MB'")
        with db.conn.transaction():
            for sql in index_sql:
                db.execute(sql)
        for t in ("dossiers", "events", "outbox"):  # the ids were given: new rows' ids start after them
            db.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                       f"GREATEST((SELECT max(id) FROM {t}), 1))")
        # VACUUM too: it sets the visibility map, without which no index-only scan is possible (the
        # backlog and report read covering indexes); autovacuum would do it later on a live office.
        db.execute(f"VACUUM (ANALYZE) {', '.join(_TABLES)}")
        db.close()
        return
    db.execute("BEGIN")
    for sql in index_sql:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode = WAL")
    db.conn.close()

"""The office a database belongs to (``office`` table: home_id, agency) and what `db status` counts."""

from __future__ import annotations

from pathlib import Path


def office_facts(db) -> dict:
    """The recorded office facts (key -> value); {} when none is recorded yet."""
    return {r["key"]: r["value"] for r in db.query("SELECT key, value FROM office")}


def record_office(db, facts: dict) -> None:
    """Record (or overwrite) office facts."""
    for key, value in facts.items():
        db.execute("INSERT INTO office (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   [key, value])


def adopt_office(db, facts: dict) -> dict:
    """Record ``facts`` where none is recorded yet and return the office as recorded: the first desk to
    commit wins (desks starting together on a new office database all adopt the same identity)."""
    for key, value in facts.items():
        db.execute("INSERT INTO office (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", [key, value])
    return office_facts(db)


def latest_agency(db) -> str | None:
    """The agency of the newest dossier, or None in an empty database."""
    row = db.execute("SELECT agency FROM dossiers ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None


# dialect: sqlite-only (reads the office of a backup file before it is restored)
def office_of_file(path: Path) -> dict:
    """The office recorded in a SQLite database file, opened read-only; {} when none is recorded."""
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT key, value FROM office").fetchall())
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()


def counts(db) -> dict:
    """How many procedures, dossiers, events and pending sync entries the database holds."""
    q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    return {"procedures": q("SELECT count(*) FROM procedures"), "dossiers": q("SELECT count(*) FROM dossiers"),
            "events": q("SELECT count(*) FROM events"),
            "outbox_pending": q("SELECT count(*) FROM outbox WHERE state = 'pending'")}


# dialect: sqlite-only (PRAGMA user_version / journal_mode)
def sqlite_settings(db) -> dict:
    """The schema version and journal mode of a SQLite database."""
    return {"schema_version": db.execute("PRAGMA user_version").fetchone()[0],
            "journal_mode": db.execute("PRAGMA journal_mode").fetchone()[0]}


# dialect: postgresql-only (the size of the office database on the server)
def pg_database_size(db) -> int:
    """The office database's size in bytes."""
    return db.execute("SELECT pg_database_size(current_database())").fetchone()[0]

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


# ---------------------------------------------------------------- office-wide settings (PostgreSQL)
# One row per setting of onestop.office.KEYS, the value as JSON text. SQLite has no such table: a
# single desk's config is the office's.

# dialect: postgresql-only (office_settings exists only in the office database)
def office_settings(db) -> dict:
    """The office-wide settings (key -> JSON text); {} before the first desk wrote them."""
    return {r["key"]: r["value"] for r in db.query("SELECT key, value FROM office_settings")}


# dialect: postgresql-only (an advisory lock makes the first desk's write all or nothing)
def publish_if_empty(db, values: dict, at: str) -> dict:
    """Write ``values`` (key -> JSON text) as the office settings unless some desk already did;
    returns the settings in force. Two first desks at once: one writes, the other reads its values."""
    from onestop.store import transaction

    with transaction(db):
        db.execute("SELECT pg_advisory_xact_lock(?, ?)", [_PG_NS, _PG_LOCK_SETTINGS])
        stored = office_settings(db)
        if stored:
            return stored
        for key, value in values.items():
            db.execute("INSERT INTO office_settings (key, value, updated_at) VALUES (?, ?, ?)", [key, value, at])
    return dict(values)


# dialect: postgresql-only
def replace_settings(db, values: dict, at: str) -> None:
    """Write (or overwrite) office settings (key -> JSON text); the caller holds the transaction."""
    for key, value in values.items():
        db.execute("INSERT INTO office_settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                   "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at", [key, value, at])


def may_change_settings(db) -> bool:
    """Whether this login may write the office settings (docs/office.md section 1.3: the owner and the
    supervisor role; a desk role may only read them)."""
    return bool(db.execute("SELECT has_table_privilege('office_settings', 'INSERT') "
                           "AND has_table_privilege('office_settings', 'UPDATE')").fetchone()[0])


def setting_times(db) -> dict:
    """When each office setting was last written (key -> ISO text)."""
    return {r["key"]: r["updated_at"] for r in db.query("SELECT key, updated_at FROM office_settings")}


# Advisory-lock keys of the office settings (same namespace as onestop.store.postgres).
_PG_NS = 0x0E5709
_PG_LOCK_SETTINGS = 3

"""The office a database belongs to and what `db status` counts.

The ``office`` table is the database's one identity table (issue 19; key -> value): ``home_id`` and
``agency`` (onestop/intake/home.py), the restore rows below (PostgreSQL), and the spool identity
(``SPOOL_KEYS``: the id written into every spool folder, when it was made, and the key that seals the
spool batches, made by the schema, read through onestop/store/sync_runs.py and never printed).
"""

from __future__ import annotations

from pathlib import Path


# The spool identity's rows, made by the migration shared_0001_one_identity (before it: sync_office).
SPOOL_KEYS = ("office_id", "office_created_at", "spool_secret")
_NOT_SPOOL = "key NOT IN ('office_id', 'office_created_at', 'spool_secret')"


def office_facts(db) -> dict:
    """The recorded office facts (key -> value), the spool identity aside; {} when none is recorded yet."""
    return {r["key"]: r["value"] for r in db.query(f"SELECT key, value FROM office WHERE {_NOT_SPOOL}")}


def spool_identity(db) -> dict:
    """The spool identity rows (``SPOOL_KEYS`` -> value)."""
    return {r["key"]: r["value"] for r in db.query(
        "SELECT key, value FROM office WHERE key IN ('office_id', 'office_created_at', 'spool_secret')")}


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
        return dict(con.execute(f"SELECT key, value FROM office WHERE {_NOT_SPOOL}").fetchall())
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
# One row per setting of onestop.store.settings.KEYS, the value as JSON text. SQLite has no such table: a
# single desk's config is the office's.

# dialect: postgresql-only (office_settings exists only in the office database)
def office_settings(db) -> dict:
    """The office-wide settings (key -> JSON text); {} before the first desk wrote them."""
    return {r["key"]: r["value"] for r in db.query("SELECT key, value FROM office_settings")}


# dialect: postgresql-only (an advisory lock makes the first desk's write all or nothing)
def publish_if_empty(db, values: dict, at: str) -> dict:
    """Write ``values`` (key -> JSON text) as the office settings unless some desk already did;
    returns the settings in force. Two first desks at once: one writes, the other reads its values."""
    with db.transaction():  # not onestop.store.transaction: the store package imports this module
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


# ---------------------------------------------------------------- after a restore (PostgreSQL)
# Kept in the ``office`` table (no migration): ``db_identity`` (the server's system identifier and the
# database's oid when the office first numbered a dossier: a database made by ``createdb`` +
# ``pg_restore``, or on another server, has another one), ``restore_epoch`` (the restore the desks
# report to), ``restore_at``, and one row ``restore_wait:<desk>`` (value: the desk's last_seen) per desk
# whose high-water mark the office still waits for. onestop/store/home.py explains the mechanism.

RESTORE_WAIT = "restore_wait:"
_IDENTITY_SQL = ("SELECT c.system_identifier::text || ':' || d.oid::text FROM pg_control_system() c, "
                 "pg_database d WHERE d.datname = current_database()")


# dialect: postgresql-only (pg_control_system, pg_database)
def restore_facts(db) -> dict:
    """The restore rows of the ``office`` table plus ``~identity``, this database's identity, in one query."""
    return {r["key"]: r["value"] for r in db.query(
        "SELECT key, value FROM office WHERE key = 'db_identity' OR key LIKE 'restore%' "
        f"UNION ALL SELECT '~identity', ({_IDENTITY_SQL})")}


# dialect: postgresql-only
def record_identity(db) -> None:
    """Record this database's identity unless one is recorded (the first dossier numbered in it)."""
    db.execute(f"INSERT INTO office (key, value) VALUES ('db_identity', ({_IDENTITY_SQL})) "
               "ON CONFLICT (key) DO NOTHING")


# dialect: postgresql-only (a transaction advisory lock: two desks noticing a restore at once start one)
def lock_restore(db) -> None:
    db.execute("SELECT pg_advisory_xact_lock(?, ?)", [_PG_NS, _PG_LOCK_RESTORE])


# dialect: postgresql-only (desks exists only in the office database)
def recent_desks(db, days: int = 30) -> dict:
    """The desks seen at most ``days`` before the newest dossier was received (name -> last_seen as ISO
    text): in a restored database, the desks that were working when the backup was taken (and any that
    connected since). Anchored on the dossiers, not on ``last_seen``: the desk that connects to a
    restored database updates its own row first, and the dump may be months old."""
    return {r["name"]: r["last_seen"].isoformat(timespec="seconds") for r in db.query(
        "SELECT name, last_seen FROM desks WHERE last_seen >= coalesce((SELECT max(created_at)::timestamptz "
        "FROM dossiers), now()) - make_interval(days => ?) ORDER BY name", [days])}


def start_restore(db, epoch: str, identity: str, at: str, waiting: dict) -> None:
    """A new restore epoch: the database's identity as it is now, and the desks to wait for (name ->
    last_seen); the waiting rows of an earlier restore are replaced. The caller holds the transaction."""
    db.execute("DELETE FROM office WHERE key LIKE ?", [RESTORE_WAIT + "%"])
    record_office(db, {"restore_epoch": epoch, "restore_at": at, "db_identity": identity})
    for name, seen in waiting.items():
        db.execute("INSERT INTO office (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                   [RESTORE_WAIT + name, seen or ""])


def stop_waiting(db, desk: str) -> bool:
    """The office no longer waits for ``desk`` (it reported, or it was forgotten); whether it did."""
    return db.execute("DELETE FROM office WHERE key = ?", [RESTORE_WAIT + desk]).rowcount > 0


def counters(db, table: str, agency: str) -> dict:
    """The counter rows of one agency: day (code_sequences) or year (book_sequences) -> last."""
    period = {"code_sequences": "day", "book_sequences": "year"}[table]
    return {r[period]: r["last"] for r in db.query(f"SELECT {period}, last FROM {table} WHERE agency = ?", [agency])}


def raise_counter(db, table: str, agency: str, key, value: int) -> None:
    """Lift one counter row to at least ``value`` (never lowers it; made when missing)."""
    period = {"code_sequences": "day", "book_sequences": "year"}[table]
    larger = "greatest" if db.dialect == "postgresql" else "max"  # SQLite's two-argument max()
    db.execute(f"INSERT INTO {table} (agency, {period}, last) VALUES (?, ?, ?) ON CONFLICT (agency, {period}) "
               f"DO UPDATE SET last = {larger}(excluded.last, {table}.last)", [agency, key, value])


_PG_LOCK_RESTORE = 4

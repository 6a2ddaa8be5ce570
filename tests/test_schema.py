"""Issue 19, one schema written once: the migrations after the frozen histories are one list
(onestop/store/schema.py) rendered for each backend. Checked here: a migration renders with the named
dialect differences; fresh databases of both backends agree on every table, column and index (the
mechanism, not two hand copies); databases at the baseline (SQLite version 13, PostgreSQL version 12)
upgrade through the shared list with their data (the one identity table)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


# What a fresh database of each backend holds, read from the database itself: the mechanism (the frozen
# histories, then onestop/store/schema.py's shared list rendered for each backend) must give the same
# tables, columns and indexes on both, apart from the differences schema.py names.

_PG_TYPES = {"text": "text", "integer": "integer", "bigint": "integer", "double precision": "real"}
_SQLITE_TYPES = {"TEXT": "text", "INTEGER": "integer", "REAL": "real"}


def _sqlite_schema(lite) -> dict:
    from onestop.store import schema

    tables = {}
    for (t,) in lite.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        if t in schema.SQLITE_ONLY_TABLES or t.startswith(schema.SQLITE_SHADOW_PREFIX):
            continue
        tables[t] = [(r[1], _SQLITE_TYPES[r[2]], bool(r[3] or r[5])) for r in lite.conn.execute(f"PRAGMA table_info({t})")]
    indexes = {}
    for name, t in lite.conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"):
        if t in schema.SQLITE_ONLY_TABLES:
            continue
        cols = tuple(r[2] for r in lite.conn.execute(f"PRAGMA index_info({name})"))
        unique, partial = lite.conn.execute("SELECT \"unique\", partial FROM pragma_index_list(?) WHERE name = ?",
                                            [t, name]).fetchone()
        indexes[name] = (t, cols, bool(unique), bool(partial))
    return {"tables": tables, "indexes": indexes}


def _pg_schema(store) -> dict:
    from onestop.store import schema

    tables = {}
    for t, c, typ, notnull in store.execute(
            "SELECT table_name, column_name, data_type, is_nullable = 'NO' FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"):
        if t not in schema.PG_ONLY_TABLES:
            tables.setdefault(t, []).append((c, _PG_TYPES[typ], notnull))
    indexes = {}
    for name, t, cols, unique, partial in store.execute(
            "SELECT i.relname, c.relname, array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o), x.indisunique, "
            "x.indpred IS NOT NULL FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE s.nspname = 'public' AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = x.indexrelid)"):
        if name not in schema.PG_ONLY_INDEXES and t not in schema.PG_ONLY_TABLES:
            indexes[name] = (t, tuple(cols), unique, partial)
    return {"tables": tables, "indexes": indexes}


def test_one_schema_mechanism_gives_both_backends_the_same_tables_columns_and_indexes(pg_url):
    """Issue 19: the schema is written once (the frozen histories, then schema.SHARED rendered per
    backend). Fresh databases of both backends agree on every table, its columns (name, order, type
    class, NOT NULL: rows move between them unchanged) and every index (table, columns, unique,
    partial), apart from the differences schema.py names; the shared migrations follow each history
    in the same order, recorded as applied on both."""
    from onestop.store import postgres, schema
    from onestop.store.pg_schema import HISTORY, MIGRATIONS
    from onestop.store.sqlite import connect as sqlite_connect
    from onestop.store.sqlite_schema import HISTORY as SQLITE_HISTORY, migrations

    store = postgres.connect(pg_url)
    lite = sqlite_connect(Path(os.environ["ONESTOP_HOME"]) / "x.db")
    a, b = _sqlite_schema(lite), _pg_schema(store)
    assert a["tables"].keys() == b["tables"].keys(), a["tables"].keys() ^ b["tables"].keys()
    for t in sorted(a["tables"]):
        assert a["tables"][t] == b["tables"][t], t
    assert a["indexes"] == b["indexes"]
    # The search tables are each backend's own (FTS5 / tsvector), both present.
    assert lite.conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'search_fts'").fetchone()[0] == 1
    assert store.execute("SELECT to_regclass('search_docs') IS NOT NULL").fetchone()[0]
    # One list, two runners: the shared names follow each frozen history, and are recorded as applied.
    shared = [m.name for m in schema.SHARED]
    assert [n for n, _ in migrations._migrations[SQLITE_HISTORY:]] == shared
    assert [n for n, _ in MIGRATIONS[len(HISTORY):]] == shared
    assert [r[0] for r in lite.conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")][SQLITE_HISTORY:] == shared
    assert lite.conn.execute("PRAGMA user_version").fetchone()[0] == SQLITE_HISTORY + len(shared)
    assert postgres.schema_version(store) == len(HISTORY) + len(shared)


def test_a_migration_written_once_renders_for_each_backend():
    """The named dialect words go in per backend, each backend's own statements follow the shared
    ones, and a word named for one backend only stops the migration with its name."""
    from onestop.store import schema

    m = schema.Migration("shared_9999_example", sql="""
        CREATE TABLE fees_paid (id {{id}}, amount {{real}} NOT NULL, dossier_id {{bigint}} NOT NULL);
        CREATE INDEX fees_paid_dossier ON fees_paid(dossier_id)
        """, postgresql_only="REVOKE UPDATE ON fees_paid FROM PUBLIC")
    lite, pg = schema.render(m, "sqlite"), schema.render(m, "postgresql")
    assert "id INTEGER PRIMARY KEY, amount REAL NOT NULL, dossier_id INTEGER NOT NULL" in lite
    assert ("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, amount DOUBLE PRECISION NOT NULL, "
            "dossier_id BIGINT NOT NULL") in pg
    assert "REVOKE" not in lite and pg.endswith(";\nREVOKE UPDATE ON fees_paid FROM PUBLIC")
    assert "{{" not in lite + pg and lite.count(";\n") == 1 and pg.count(";\n") == 3
    assert pg.startswith("COMMENT ON TABLE onestop_schema")  # only the owner gets past it (exit 19 for a desk)
    assert schema.DIALECTS["sqlite"].keys() == schema.DIALECTS["postgresql"].keys()
    with pytest.raises(KeyError, match="shared_9999_example.*money"):
        schema.render(schema.Migration("shared_9999_example", sql="CREATE TABLE t (x {{money}})"), "sqlite")
    for dialect in schema.DIALECTS:  # every shipped shared migration renders on both
        assert [n for n, _ in schema.rendered(dialect)] == [m.name for m in schema.SHARED]


def _baseline_sqlite(path: Path, monkeypatch):
    """A SQLite database as the last onestop before issue 19 left it: the frozen history only (version 13)."""
    from onestop.store.sqlite import connect as sqlite_connect
    from onestop.store.sqlite_schema import HISTORY, migrations

    with monkeypatch.context() as m:
        m.setattr(migrations, "_migrations", migrations._migrations[:HISTORY])
        lite = sqlite_connect(path)
    assert lite.conn.execute("PRAGMA user_version").fetchone()[0] == HISTORY == 13
    return lite


@pytest.mark.sqlite_only
def test_a_sqlite_database_at_the_baseline_moves_its_spool_identity_into_office(tmp_path, monkeypatch):
    """Issue 19, one identity table: a database at SQLite version 13 (sync_office beside office) upgrades
    with its spool id, date and secret as they were, now rows of office; sync_office is gone; the sync
    reads the same id and secret; the office facts (home, agency) are unchanged and keep the secret out."""
    from onestop.store import office, sync_runs
    from onestop.store.sqlite import connect as sqlite_connect

    lite = _baseline_sqlite(tmp_path / "old.db", monkeypatch)
    (oid, created, secret), = lite.execute("SELECT office_id, created_at, secret FROM sync_office WHERE id = 1")
    lite.execute("INSERT INTO office (key, value) VALUES ('home_id', 'h1'), ('agency', '000.00.01.H56')")
    lite.conn.close()
    lite = sqlite_connect(tmp_path / "old.db")
    from onestop.store import schema

    # 13 frozen SQLite versions, then one per shared migration (later issues append theirs)
    assert lite.conn.execute("PRAGMA user_version").fetchone()[0] == 13 + len(schema.SHARED)
    assert dict(lite.execute("SELECT key, value FROM office").fetchall()) == {
        "home_id": "h1", "agency": "000.00.01.H56", "office_id": oid, "office_created_at": created,
        "spool_secret": secret}
    assert lite.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sync_office'").fetchone()[0] == 0
    assert (sync_runs.office_id(lite), sync_runs.office_secret(lite)) == (oid, secret)
    assert office.office_facts(lite) == {"home_id": "h1", "agency": "000.00.01.H56"}
    assert office.office_of_file(tmp_path / "old.db") == {"home_id": "h1", "agency": "000.00.01.H56"}


@pytest.mark.postgresql_only
def test_an_office_database_at_the_baseline_moves_its_spool_identity_into_office(pg_url, monkeypatch):
    """The same on PostgreSQL: an office database at version 12 upgrades to 13 with the same id, date and
    secret as rows of office, the office's restore rows untouched, sync_office gone."""
    from onestop.store import office, postgres, sync_runs
    from onestop.store.pg_schema import HISTORY

    with monkeypatch.context() as m:
        m.setattr(postgres, "MIGRATIONS", HISTORY)
        old = postgres.connect(pg_url)
    assert postgres.schema_version(old) == len(HISTORY) == 12
    (oid, created, secret), = old.execute("SELECT office_id, created_at, secret FROM sync_office WHERE id = 1")
    old.execute("INSERT INTO office (key, value) VALUES ('agency', 'A'), ('restore_epoch', 'e1')")
    old.close()
    store = postgres.connect(pg_url)
    from onestop.store import schema

    assert postgres.schema_version(store) == 12 + len(schema.SHARED)  # one per shared migration after the 12
    assert dict(store.execute("SELECT key, value FROM office").fetchall()) == {
        "agency": "A", "restore_epoch": "e1", "office_id": oid, "office_created_at": created, "spool_secret": secret}
    assert not store.execute("SELECT to_regclass('sync_office') IS NOT NULL").fetchone()[0]
    assert (sync_runs.office_id(store), sync_runs.office_secret(store)) == (oid, secret)
    assert office.office_facts(store) == {"agency": "A", "restore_epoch": "e1"}

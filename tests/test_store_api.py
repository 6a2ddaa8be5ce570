"""One connection API on both backends: ``onestop.store.sqlite.Database`` (SQLite) and ``PgStore`` (a real
PostgreSQL server from tests/pg.py) run the same store SQL, written with ``?`` placeholders."""

from __future__ import annotations

import pytest

from onestop.store.sqlite import transaction
from onestop.store.paramstyle import qmark_to_format


# ---------------------------------------------------------------- the paramstyle adapter (no server)

@pytest.mark.parametrize("sql, expected", [
    ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
    ("SELECT 1", "SELECT 1"),
    ("SELECT '?' , ?", "SELECT '?' , %s"),                       # a ? inside a literal is text
    ("SELECT '100%'", "SELECT '100%%'"),                          # psycopg reads % everywhere
    ("WHERE code LIKE '%-' || ?", "WHERE code LIKE '%%-' || %s"),
    ("WHERE a % 7 = ?", "WHERE a %% 7 = %s"),
    ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),              # doubled quote stays in the literal
    ('SELECT "odd?col" FROM t WHERE x = ?', 'SELECT "odd?col" FROM t WHERE x = %s'),
    ("-- what's new? 5%\nSELECT ?", "-- what's new? 5%%\nSELECT %s"),  # a quote in a comment opens nothing
    ("SELECT /* why? 'x */ ?", "SELECT /* why? 'x */ %s"),
    ("SELECT %s", "SELECT %%s"),                                  # format style is not the store's style
    ("SELECT 'unterminated ?", "SELECT 'unterminated ?"),
    ("INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b RETURNING id",
     "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT (a) DO UPDATE SET b = excluded.b RETURNING id"),
])
def test_qmark_to_format(sql, expected):
    assert qmark_to_format(sql) == expected


def test_adapter_result_is_cached_per_sql_string():
    sql = "SELECT ? AS cached_once"
    qmark_to_format(sql)
    hits = qmark_to_format.cache_info().hits
    assert qmark_to_format(sql) == "SELECT %s AS cached_once"
    assert qmark_to_format.cache_info().hits == hits + 1


# ---------------------------------------------------------------- the same calls on both backends

@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, cfg):
    if request.param == "sqlite":
        from onestop.store.sqlite import connect

        yield connect(cfg.db_path)
    else:
        from onestop.store import postgres

        s = postgres.connect(request.getfixturevalue("pg_url"))
        yield s
        s.close()


def test_backend_names(store):
    assert store.backend == store.dialect == store.__class__.backend
    assert store.backend in ("sqlite", "postgresql")


def test_execute_query_and_cursor(store):
    cur = store.execute("INSERT INTO personal_access (at, officer, command, detail) VALUES (?, ?, ?, ?)",
                        ["2026-11-23T08:00:00+07:00", "An", "show", "50% of 'x?'"])
    first = cur.lastrowid
    assert cur.rowcount == 1 and isinstance(first, int) and first > 0
    second = store.execute("INSERT INTO personal_access (at, command) VALUES (?, ?)",
                           ["2026-11-23T09:00:00+07:00", "search"]).lastrowid
    assert second == first + 1
    rows = store.query("SELECT id, officer, detail FROM personal_access WHERE detail LIKE ? ORDER BY id", ["50%"])
    assert next(rows) == {"id": first, "officer": "An", "detail": "50% of 'x?'"}
    assert list(rows) == []
    assert [dict(r) for r in store.query("SELECT command FROM personal_access ORDER BY id")] == [
        {"command": "show"}, {"command": "search"}]
    # A literal '%' and '?' with and without parameters.
    assert tuple(store.execute("SELECT '5%', 'a?b'").fetchone()) == ("5%", "a?b")
    assert tuple(store.execute("SELECT '5%', ?", ["x"]).fetchone()) == ("5%", "x")
    cur = store.execute("UPDATE personal_access SET officer = ? WHERE id >= ?", ["Bình", first])
    assert cur.rowcount == 2
    assert [r[0] for r in store.execute("SELECT officer FROM personal_access ORDER BY id").fetchall()] == ["Bình"] * 2
    store.executemany("INSERT INTO office (key, value) VALUES (?, ?)", [("agency", "X"), ("home_id", "h")])
    assert dict(store.execute("SELECT key, value FROM office WHERE key IN ('agency', 'home_id')").fetchall()) == {"agency": "X", "home_id": "h"}
    rid = store.execute("INSERT INTO personal_access (at, command) VALUES (?, ?) RETURNING id",
                        ["2026-11-23T10:00:00+07:00", "book"]).fetchone()[0]
    assert rid == second + 1


def test_transaction_commits_or_rolls_back(store):
    with transaction(store):
        store.execute("INSERT INTO office (key, value) VALUES (?, ?)", ["agency", "A"])
    with pytest.raises(ZeroDivisionError):
        with transaction(store, immediate=False):
            store.execute("UPDATE office SET value = ? WHERE key = ?", ["B", "agency"])
            store.execute("INSERT INTO office (key, value) VALUES (?, ?)", ["home_id", "h"])
            1 / 0
    assert dict(store.execute("SELECT key, value FROM office WHERE key IN ('agency', 'home_id')").fetchall()) == {"agency": "A"}


def test_integrity_error_is_caught_the_same_way(store):
    store.execute("INSERT INTO office (key, value) VALUES (?, ?)", ["agency", "A"])
    with pytest.raises(store.IntegrityError):
        with transaction(store):
            store.execute("INSERT INTO office (key, value) VALUES (?, ?)", ["home_id", "h"])
            store.execute("INSERT INTO office (key, value) VALUES (?, ?)", ["agency", "B"])
    assert issubclass(store.IntegrityError, store.Error)
    assert dict(store.execute("SELECT key, value FROM office WHERE key IN ('agency', 'home_id')").fetchall()) == {"agency": "A"}

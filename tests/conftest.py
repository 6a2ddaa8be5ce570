"""Every test gets its own data home (ONESTOP_HOME) and a fixed agency config.

The backend under test: SQLite (the default), or with ``ONESTOP_TEST_BACKEND=postgresql`` a fresh
database per test on the session's throwaway PostgreSQL server (tests/pg.py), set as the test's
ONESTOP_DATABASE_URL, so the same tests run against the office database. Tests about the SQLite
file itself are marked ``sqlite_only`` and skipped on that run. Read stored rows with the ``rows``
fixture (either backend), not through ``db.conn``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pg import pg_server, pg_url  # noqa: F401  (fixtures, for every module; see tests/pg.py)

REPO = Path(__file__).resolve().parent.parent

BACKEND = (os.environ.get("ONESTOP_TEST_BACKEND") or "sqlite").strip().lower()
if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"ONESTOP_TEST_BACKEND={BACKEND!r}: expected 'sqlite' or 'postgresql'")


def pytest_report_header(config):
    return f"onestop backend: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    if BACKEND != "postgresql":
        # Tests that need the office server whatever the backend (several desks on one database, parity
        # of both backends) run once, in the PostgreSQL pass (`make test` runs it after this one).
        later = pytest.mark.skip(reason="postgresql_only: runs in the PostgreSQL pass "
                                        "(ONESTOP_TEST_BACKEND=postgresql, the second half of make test)")
        for item in items:
            if "postgresql_only" in item.keywords:
                item.add_marker(later)
        return
    skip = pytest.mark.skip(reason="sqlite_only: about the SQLite file itself, not run with "
                                   "ONESTOP_TEST_BACKEND=postgresql")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch, request) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("ONESTOP_HOME", str(h))
    monkeypatch.setenv("ONESTOP_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("ONESTOP_OFFICER", "Trần Thị Cán Bộ")
    monkeypatch.delenv("ONESTOP_LANG", raising=False)
    monkeypatch.delenv("ONESTOP_SYNC_URL", raising=False)
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)  # a developer's office URL must not leak in
    if BACKEND == "postgresql":
        monkeypatch.setenv("ONESTOP_DATABASE_URL", request.getfixturevalue("pg_url"))
        # Commands run in this process use the office database even before the switch is on for
        # users, so this run shows which modules work there (commands in a child process still refuse).
        from onestop import store

        monkeypatch.setattr(store, "COMMANDS_ON_POSTGRESQL", True)
    from onestop import i18n

    i18n.set_lang(None)
    return h


@pytest.fixture
def cfg(home):
    from onestop import config

    return config.load()


@pytest.fixture
def db(cfg):
    """The test's store (SQLite ``Database`` or ``PgStore``) with the catalog loaded."""
    from onestop import catalog, store

    d = store.connect(cfg)
    catalog.ensure_loaded(d, cfg.catalog_file)
    return d


@pytest.fixture
def rows(cfg):
    """``rows(sql, params=())``: the rows as tuples, read from the test's backend (SQL with ``?``).

    Its own connection, opened at the first call: it sees what the commands committed.
    """
    opened = []

    def _rows(sql: str, params=()) -> list[tuple]:
        if not opened:
            from onestop import store

            opened.append(store.connect(cfg))
        return [tuple(r) for r in opened[0].execute(sql, params).fetchall()]

    yield _rows
    for s in opened:
        if s.backend == "postgresql":
            s.close()  # SQLite: left to the collector, as the db fixture's connection


@pytest.fixture
def run():
    """Invoke the CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from onestop.cli import app, load_commands, state

    load_commands()

    def _run(*args, input=None):
        state.update(debug=False, officer=None)
        return CliRunner().invoke(app, [str(a) for a in args], input=input)

    return _run

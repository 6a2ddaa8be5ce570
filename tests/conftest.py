"""Every test gets its own data home (ONESTOP_HOME) and a fixed agency config.

The backend under test: SQLite (the default), or with ``ONESTOP_TEST_BACKEND=postgresql`` a fresh
database per test on the session's throwaway PostgreSQL server (tests/pg.py), set as the test's
ONESTOP_DATABASE_URL, so the same tests run against the office database. Tests about the SQLite
file itself are marked ``sqlite_only`` and skipped on that run. Read stored rows with the ``rows``
fixture (either backend), not through ``db.conn``.

`make test` runs the tests in parallel (pytest-xdist: one worker process per core, each with its own
temporary folders and PostgreSQL server, in any order). A test stays safe in parallel when it:
- writes only under ``tmp_path`` or its ``home``: no fixed path in /tmp, the repository or ~;
- listens on port 0 (the OS picks a free one, as tests/ministry_server.py and tests/pg.py do), never a
  fixed port, and gets its databases from ``pg_url`` / ``new_database``, never by a fixed name;
- finds its own processes by pid or by its own home (``ONESTOP_HOME`` in /proc/PID/environ), never by
  name alone: another worker runs the same commands at the same time;
- waits for a condition with a generous deadline, never for a fixed time, and asserts no duration: the
  other workers load the machine;
- parametrizes in a fixed order (a list, or a sorted set: every worker must collect the same tests)
  and leaves no module-level state that another test depends on.
"""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pg import new_database, pg_server, pg_url  # noqa: F401  (fixtures, for every module; see tests/pg.py)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CATALOG = REPO / "config" / "procedures.sample.json"

# The warm archive helper that `online accept` leaves for the next one (sync/portal_early.py) waits
# 5 s here, not 120: a test that waits for its home's processes to leave sees it go, and none is
# left over the machine after the suite. tests/test_online_helper.py sets its own.
os.environ.setdefault("ONESTOP_HELPER_IDLE", "5")

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
    from onestop.common import i18n

    i18n.set_lang(None)
    return h


@pytest.fixture
def cfg(home):
    from onestop.common import config

    return config.load()


@pytest.fixture(scope="session")
def loaded_sqlite(tmp_path_factory) -> Path:
    """A SQLite database migrated and with the sample catalog loaded, built once per session (once per
    pytest-xdist worker): the ``db`` fixture copies it instead of migrating and importing again."""
    from onestop.intake import catalog
    from onestop.store.sqlite import connect

    path = tmp_path_factory.mktemp("loaded") / "onestop.db"
    d = connect(path)
    catalog.ensure_loaded(d, SAMPLE_CATALOG)
    d.conn.close()  # the last connection: the WAL is checkpointed into the file and removed
    return path


@pytest.fixture
def db(cfg, request):
    """The test's store (SQLite ``Database`` or ``PgStore``) with the catalog loaded.

    A new store with the sample catalog starts as a copy of one built once per session (SQLite:
    ``loaded_sqlite``; PostgreSQL: the loaded template of tests/pg.py): the same schema and catalog
    rows, without running every migration and the catalog import again for each test. Then the
    usual connect (the desk's registration and office settings) and ``ensure_loaded``.
    """
    from onestop.intake import catalog
    from onestop import store

    copied = _copy_loaded(cfg, request)
    d = store.connect(cfg)
    if copied:
        # The one random value a migration writes (the spool id, migration 0006, now a row of office): each
        # database still has its own, as when it was migrated for this test.
        d.executemany("UPDATE office SET value = ? WHERE key = ?",
                      [(secrets.token_hex(16), "office_id"),
                       (datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "office_created_at")])
    catalog.ensure_loaded(d, cfg.catalog_file)
    return d


def _copy_loaded(cfg, request) -> bool:
    """Put a copy of the loaded database where the test's store will be, if that store is new (no
    SQLite file yet, or this test's own empty PostgreSQL database) and uses the sample catalog."""
    from onestop import store

    if cfg.catalog_file.resolve() != SAMPLE_CATALOG:
        return False
    try:
        url = store.database_url(cfg)
    except Exception:  # noqa: BLE001 - a bad URL is the test's subject: store.connect reports it
        return False
    if url is None:
        if cfg.db_path.exists():
            return False
        shutil.copyfile(request.getfixturevalue("loaded_sqlite"), cfg.db_path)
        cfg.db_path.chmod(0o600)
        return True
    if BACKEND == "postgresql" and url == request.getfixturevalue("pg_url"):
        return request.getfixturevalue("pg_server").load(url, SAMPLE_CATALOG)
    return False


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

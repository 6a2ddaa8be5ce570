"""The data home: ONESTOP_HOME, db path/status/backup, officer from config or --officer."""

import json
import os
import sqlite3
import stat

import pytest


@pytest.mark.sqlite_only
def test_db_path_follows_onestop_home(run, home):
    r = run("db", "path")
    assert r.exit_code == 0 and r.stdout.strip() == str(home / "onestop.db")


@pytest.mark.sqlite_only
def test_db_status_and_backup(run, home, tmp_path, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    assert run("receive", "-p", "1.003584", "--name", "An", "--id", "001085012345", "--all-components").exit_code == 0
    st = json.loads(run("db", "status", "--json").stdout)
    assert st["dossiers"] == 1 and st["outbox_pending"] == 2 and st["journal_mode"] == "wal"
    dest = tmp_path / "b" / "copy.db"
    r = run("db", "backup", dest)
    assert r.exit_code == 0
    assert sqlite3.connect(dest).execute("SELECT count(*) FROM dossiers").fetchone()[0] == 1
    assert stat.S_IMODE(os.stat(dest).st_mode) & 0o077 == 0


def test_officer_from_option_overrides_config(run, db, monkeypatch, rows):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    r = run("--officer", "Vũ Thị Lan", "receive", "-p", "1.003584", "--name", "An", "--id", "001085012345",
            "--all-components", "--json")
    assert r.exit_code == 0
    assert rows("SELECT officer FROM events")[0][0] == "Vũ Thị Lan"
    assert rows("SELECT officer FROM dossiers")[0][0] == "Vũ Thị Lan"


def test_home_config_overrides_agency(run, home, monkeypatch):
    # No store opened before the override: in an office the first desk's agency becomes the office's
    # (tests/test_office.py), so this is the agency of the office on both backends.
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    (home / "onestop.toml").write_text('[agency]\ncode = "000.00.01.H56"\n', encoding="utf-8")
    r = run("receive", "-p", "1.003584", "--name", "An", "--id", "001085012345", "--all-components", "--json")
    assert json.loads(r.stdout)["code"] == "000.00.01.H56-261130-0001"


def test_bad_agency_code_is_a_config_error(run, home, db, monkeypatch):
    (home / "onestop.toml").write_text('[agency]\ncode = "H56"\n', encoding="utf-8")
    r = run("receive", "-p", "1.003584", "--name", "An", "--id", "001085012345", "--all-components")
    assert r.exit_code == 8 and "[agency] code" in r.stderr


def test_broken_config_file_is_a_config_error(run, home):
    (home / "onestop.toml").write_text("[agency\ncode=", encoding="utf-8")
    r = run("list")
    assert r.exit_code == 8 and "onestop.toml" in r.stderr


@pytest.mark.parametrize("args, way", [(["db", "path"], "db status"), (["db", "backup", "COPY"], "pg_dump"),
                                       (["db", "restore", "COPY"], "pg_restore")])
def test_sqlite_file_commands_refuse_an_office_database(run, home, tmp_path, monkeypatch, args, way):
    """No file to print, copy or replace on the office database: refused (exit 2), pointing to the
    server's tools, never touching a local SQLite file. The refusal needs no server."""
    monkeypatch.setenv("ONESTOP_DATABASE_URL", "postgresql://desk:s3cret@db.office.invalid/onestop")
    copy = tmp_path / "copy.db"
    sqlite3.connect(copy).close()
    r = run("--lang", "en", *[str(copy) if a == "COPY" else a for a in args])
    assert r.exit_code == 2, (r.exit_code, r.stderr)
    assert way in r.stderr and "docs/office.md" in r.stderr and "office database" in r.stderr
    assert "s3cret" not in r.stderr + r.stdout and r.stdout == ""
    assert not (home / "onestop.db").exists() and copy.stat().st_size == 0  # backup wrote nothing into it

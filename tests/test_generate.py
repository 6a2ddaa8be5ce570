"""`onestop generate` (the P7 bench's database): a small one is complete and usable by the reports.

A guard for the bulk loader (onestop/store/generate.py): rows in every table, the secondary indexes
rebuilt (the reports depend on them), WAL restored, and the book numbers continue after the
generated dossiers.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

# The generator writes a SQLite file (bulk loader with journal off): the SQLite side only.
pytestmark = pytest.mark.sqlite_only


def test_generated_database_is_complete(run, home):
    path = home / "onestop.db"
    r = run("generate", path, "--dossiers", 600, "--events", 3000, "--months", 2, "--end", "2026-11-30")
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(path)
    count = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    assert count("SELECT count(*) FROM dossiers") == 600
    assert count("SELECT count(*) FROM events") >= 2400
    assert count("SELECT count(*) FROM outbox WHERE kind = 'create'") == 600
    assert count("SELECT count(*) FROM dossier_components") == 600
    indexes = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"dossiers_open", "dossiers_received_cover", "dossiers_finished", "outbox_create"} <= indexes
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert count("SELECT count(*) FROM sqlite_stat1") > 0  # ANALYZE ran
    for year, last in con.execute("SELECT year, last FROM book_sequences"):
        assert last == count(f"SELECT max(book_no) FROM dossiers WHERE book_year = {year}")
    open_ = count("SELECT count(*) FROM dossiers WHERE status IN ('2','4','5','6')")
    con.close()

    b = run("backlog", "--as-of", "2026-11-30", "--json")
    assert b.exit_code == 0, b.output
    assert json.loads(b.stdout)["total"] == open_ > 0

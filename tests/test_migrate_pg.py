"""`onestop db migrate-to URL`: a one-desk SQLite office moved into an empty PostgreSQL database
(the real server of tests/pg.py). The desk has dossiers in every status, a real scan (tesseract),
counter forms, a search index, and a half-synced outbox (sent, pending and rejected entries)
against the test ministry server; after the move every row is there once, the next code and book
number continue, ids continue, and the SQLite file has not changed by a byte."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ministry_server import MinistryServer
from pages import new_dossier, numbered, save
from sync_helpers import add_file, fake_pdf, make_dossiers, point_at, write_sync_config

from onestop.common import errors

SKIPPED = ("sqlite_", "_sqlite_migrations", "search_fts")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lite_counts(path: Path) -> dict[str, int]:
    """Rows per table of the SQLite file, read independently of onestop.store.migrate."""
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    names = [n for (n,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
             if not n.startswith(SKIPPED)]
    out = {n: c.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}
    out["search_docs"] = c.execute("SELECT count(*) FROM search_fts").fetchone()[0]
    c.close()
    return out


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """A desk's data home after a working day, built once (the scan runs tesseract); each test copies it."""
    import os

    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("desk") / "home"
    home.mkdir()
    repo = Path(__file__).resolve().parent.parent
    for k, v in {"ONESTOP_HOME": str(home), "ONESTOP_CONFIG_DIR": str(repo / "config"),
                 "ONESTOP_OFFICER": "Trần Thị Cán Bộ"}.items():
        mp.setenv(k, v)
    for k in ("ONESTOP_LANG", "ONESTOP_DATABASE_URL"):
        mp.delenv(k, raising=False)
    from typer.testing import CliRunner

    from onestop.intake import catalog, dossiers, due_dates
    from onestop.common import config
    from onestop.reports import figures as reports
    from onestop.cli import app, load_commands, state
    from onestop.store.sqlite import connect

    load_commands()

    def run(*args):
        state.update(debug=False, officer=None)
        return CliRunner().invoke(app, [str(a) for a in args])

    due_dates._CAL_MEMO.clear()  # a fresh desk process: the calendar goes through its database cache
    with MinistryServer() as srv:
        write_sync_config(home)
        point_at(mp, srv.url)
        cfg = config.load()
        db = connect(cfg.db_path)
        catalog.ensure_loaded(db, cfg.catalog_file)
        first = make_dossiers(db, cfg, 9)  # statuses 2, 4, 9
        add_file(db, cfg, first[0], 1, fake_pdf(1))  # uploaded by the sync below: a sync_files row
        srv.reject[first[1]] = "Mã lĩnh vực không đúng danh mục"
        assert run("sync").exit_code == errors.SYNC_PARTIAL  # all sent but one: done + failed
        # After the sync: more work, still pending at the move.
        more = make_dossiers(db, cfg, 6, moves=False)
        for code, path in {more[0]: ["5"], more[1]: ["6"], more[2]: ["7"], more[3]: ["8"],
                           more[4]: ["9", "10"], more[5]: ["5", "4"]}.items():
            for s in path:
                dossiers.move(db, cfg, code, s, note="Thiếu bản sao giấy phép", render=False)
        dossiers.refuse(db, cfg, "1.003604", dossiers.Applicant(name="Lê Văn Từ Chối", id_number="001085012345"), "Không thuộc thẩm quyền",
                        render=False)
        scanned = new_dossier(db, cfg, pages={1: 1}, name="Phạm Thị Quét")
        page = save(numbered(1), home.parent / "trang-1.png")
        r = run("scan", scanned, "--component", 1, page, "--yes", "--json")
        assert r.exit_code == 0, r.output
        assert run("search", "pham thi quet").exit_code == 0  # dossier fields indexed, search_state set
        reports.record_personal_access(db, cfg, "backlog", "--show-personal")
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.close()
    mp.undo()
    statuses = {s for (s,) in sqlite3.connect(home / "onestop.db").execute("SELECT DISTINCT status FROM dossiers")}
    assert statuses == {"2", "4", "5", "6", "7", "8", "9", "10"}
    return home


@pytest.fixture
def desk(office, home, monkeypatch):
    """This test's copy of the desk: the autouse ``home`` (ONESTOP_HOME) filled with the office's files.
    A one-desk SQLite home, also on the PostgreSQL test run (no ONESTOP_DATABASE_URL)."""
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    shutil.rmtree(home)
    shutil.copytree(office, home)
    return home


def test_move_copies_everything_and_the_office_continues(run, desk, pg_server, pg_url, monkeypatch):
    from onestop.common import config
    from onestop.intake import dossiers
    from onestop.store import connect as store_connect
    from onestop.archive import search
    from onestop.store import postgres
    from onestop.store import search as index

    db_file = desk / "onestop.db"
    before_sha, before_counts = sha(db_file), lite_counts(db_file)
    lite = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    outbox_rows = lite.execute("SELECT id, dossier_id, kind, ref_id, state, attempts, done_at, remote_id, last_error "
                               "FROM outbox ORDER BY id").fetchall()
    states = {s for (*_, s, _a, _d, _r, _e) in outbox_rows}
    assert {"done", "pending", "failed"} <= states  # half-synced, with a rejected entry
    r = run("db", "migrate-to", pg_url, "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    # counts per table, checked against the source read independently
    got = {t["table"]: (t["source"], t["copied"]) for t in report["tables"]}
    assert got == {t: (n, n) for t, n in before_counts.items()}
    for t in ("dossiers", "dossier_components", "events", "outbox", "archive_files", "archive_pages",
              "counter_forms", "procedures", "procedure_components", "code_sequences", "book_sequences",
              "calendar_cache", "sync_runs", "sync_files", "personal_access", "search_state", "search_docs",
              "office"):
        assert got[t][0] > 0, t  # the home really exercises every table
    assert report["target"] == pg_url.replace(pg_server.password, "***")
    assert pg_server.password not in r.output + r.stderr
    # the SQLite file is untouched
    assert sha(db_file) == before_sha and lite_counts(db_file) == before_counts
    store = postgres.connect(pg_url)
    for t, n in before_counts.items():
        assert store.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == n, t
    # the desk's identities come along: its spool acknowledgements and its home still match
    office = [tuple(r) for r in store.execute("SELECT key, value FROM office ORDER BY 1")]
    assert office == lite.execute("SELECT key, value FROM office ORDER BY 1").fetchall()
    assert {"office_id", "office_created_at", "spool_secret", "home_id"} <= {k for k, _ in office}
    # every outbox entry with its state: nothing lost, nothing sent again
    assert [tuple(r) for r in store.execute(
        "SELECT id, dossier_id, kind, ref_id, state, attempts, done_at, remote_id, last_error FROM outbox "
        "ORDER BY id")] == outbox_rows
    assert report["outbox"] == {s: sum(1 for o in outbox_rows if o[4] == s) for s in states}
    # the next code and book number continue the desk's sequence; ids continue past the copied ones
    cfg = config.load()
    today = dossiers.now(cfg).date()
    last_seq = lite.execute("SELECT last FROM code_sequences WHERE agency = ? AND day = ?",
                            [cfg.agency_code, today.strftime("%y%m%d")]).fetchone()[0]
    last_book = lite.execute("SELECT last FROM book_sequences WHERE agency = ? AND year = ?",
                             [cfg.agency_code, today.year]).fetchone()[0]
    max_id = {t: lite.execute(f"SELECT max(id) FROM {t}").fetchone()[0] for t in ("dossiers", "events", "outbox")}
    # a receive on the office database, as a desk makes it
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    office_cfg = config.load()
    office = store_connect(office_cfg)
    new = dossiers.receive(office, office_cfg, dossiers.ReceiveRequest(
        procedure_code="1.003604", applicant=dossiers.Applicant(name="Người Sau Chuyển", id_number="001085012345"),
        components=None, pages={}), render=False)
    new["id"] = store.execute("SELECT id FROM dossiers WHERE code = ?", [new["code"]]).fetchone()[0]
    assert new["code"].endswith(f"-{today:%y%m%d}-{last_seq + 1:04d}")
    assert new["book_no"] == last_book + 1
    assert new["id"] == max_id["dossiers"] + 1 == report["next_ids"]["dossiers"]
    assert store.execute("SELECT max(id) FROM events").fetchone()[0] == max_id["events"] + 1
    assert store.execute("SELECT max(id) FROM outbox").fetchone()[0] == max_id["outbox"] + 2
    assert store.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0] == \
        sum(1 for o in outbox_rows if o[4] == "pending") + 2
    # search finds the scanned page and the dossier fields without re-indexing them
    assert index.refresh_dossiers(store) == 1  # only the dossier inserted after the move
    hits = search.search(store, "trang so 1")
    assert hits and hits[0]["kind"] == "page" and hits[0]["component"] == 1
    assert [h["kind"] for h in search.search(store, "pham thi quet")] == ["dossier"]


def test_text_output_and_url_from_the_environment(run, desk, pg_server, pg_url, monkeypatch):
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    r = run("db", "migrate-to")
    assert r.exit_code == 0, r.output
    assert "dossiers" in r.stdout and "outbox" in r.stdout and "✗" not in r.stdout
    assert "search_docs ← search_fts" in r.stdout
    assert "Đã chuyển" in r.stderr and "***" in r.stderr and "chờ gửi" in r.stderr
    assert pg_server.password not in r.output + r.stderr
    # the office database now answers db status, with this desk among those seen
    st = json.loads(run("db", "status", "--json").stdout)
    assert st["backend"] == "postgresql" and st["dossiers"] == lite_counts(desk / "onestop.db")["dossiers"]


def test_refuses_a_target_that_is_not_empty(run, desk, pg_server, pg_url):
    from onestop.store import postgres

    assert run("db", "migrate-to", pg_url).exit_code == 0
    store = postgres.connect(pg_url)
    n = store.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    r = run("db", "migrate-to", pg_url)
    assert r.exit_code == errors.SCHEMA_MISMATCH == 19, r.output
    assert "không trống" in r.stderr and "dossiers (" in r.stderr and pg_server.password not in r.stderr
    assert store.execute("SELECT count(*) FROM dossiers").fetchone()[0] == n  # nothing added twice
    pg_server.sql("CREATE DATABASE other_app")
    pg_server.sql("CREATE TABLE invoices (id int)", "other_app")
    r = run("db", "migrate-to", pg_server.url("other_app"))
    assert r.exit_code == 19 and "không phải của onestop" in r.stderr


def test_an_empty_schema_made_by_a_desk_is_still_empty(run, desk, pg_url):
    """A desk that connected first (schema created, desk registered) leaves the database a valid target."""
    from onestop.store import postgres

    postgres.connect(pg_url, desk="quay-1")
    assert run("db", "migrate-to", pg_url).exit_code == 0


def test_the_owners_first_run_leaves_the_database_a_valid_target(run, desk, pg_url, tmp_path, monkeypatch, rows):
    """docs/office.md section 1: the owner's first run (schema, catalog, settings) comes before the move;
    the moved desk's catalog and settings replace those, row for row."""
    server = tmp_path / "server-home"
    server.mkdir()
    monkeypatch.setenv("ONESTOP_HOME", str(server))
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    assert run("db", "status").exit_code == 0
    monkeypatch.setenv("ONESTOP_HOME", str(desk))
    monkeypatch.delenv("ONESTOP_DATABASE_URL")
    r = run("db", "migrate-to", pg_url, "--json")
    assert r.exit_code == 0, r.output
    report = {t["table"]: t for t in json.loads(r.stdout)["tables"]}
    assert report["procedures"]["copied"] == report["procedures"]["source"] > 0


def _pg_empty(pg_url) -> bool:
    from onestop.store import postgres
    from onestop.store.migrate import _nonempty

    return _nonempty(postgres.connect(pg_url)) == {}


@pytest.mark.parametrize("change, named", [
    ("CREATE TABLE desk_notes (id INTEGER PRIMARY KEY, note TEXT)", "desk_notes"),
    ("ALTER TABLE dossiers ADD COLUMN priority INTEGER NOT NULL DEFAULT 0", "dossiers(priority)"),
    ("CREATE VIRTUAL TABLE notes_fts USING fts5(body)", "notes_fts (virtual)"),
])
def test_a_table_or_column_without_a_counterpart_stops_the_move(run, desk, pg_url, change, named):
    """What another migration adds to SQLite but not to the PostgreSQL schema is never left behind."""
    c = sqlite3.connect(desk / "onestop.db")
    c.execute(change)
    c.commit()
    c.close()
    r = run("db", "migrate-to", pg_url)
    assert r.exit_code == errors.SCHEMA_MISMATCH, r.output
    assert named in r.stderr and "Không chuyển gì" in r.stderr
    assert _pg_empty(pg_url)


def test_a_value_postgresql_refuses_rolls_everything_back(run, desk, pg_url):
    c = sqlite3.connect(desk / "onestop.db")
    c.execute("UPDATE dossiers SET summary = 'a' || char(0) || 'b' WHERE id = (SELECT max(id) FROM dossiers)")
    c.commit()
    c.close()
    r = run("db", "migrate-to", pg_url)
    assert r.exit_code == errors.INVALID_INPUT, r.output
    assert "dossiers" in r.stderr and "vẫn trống" in r.stderr
    assert _pg_empty(pg_url)


def test_a_write_to_the_desk_during_the_move_rolls_back(desk, pg_url, cfg):
    """The desk keeps working while the office is moved: nothing half-moved, exit 6, run again."""
    from onestop.store import migrate

    def write_once(table, n, done=[]):
        if not done:
            c = sqlite3.connect(cfg.db_path)
            c.execute("INSERT INTO search_state (key, value) VALUES ('late', 'write')")
            c.commit()
            c.close()
            done.append(1)

    with pytest.raises(errors.DatabaseBusy) as e:
        migrate.migrate_to(cfg.db_path, pg_url, progress=write_once)
    assert e.value.exit_code == 6 and "Dừng onestop" in e.value.vi
    assert _pg_empty(pg_url)
    assert migrate.migrate_to(cfg.db_path, pg_url)["tables"]  # with the desk quiet, it goes through


def test_source_problems(run, desk, home, pg_url):
    c = sqlite3.connect(desk / "onestop.db")
    c.execute("PRAGMA user_version = 2")
    c.commit()
    c.close()
    r = run("db", "migrate-to", pg_url)
    assert r.exit_code == 19 and "onestop db status" in r.stderr
    (desk / "onestop.db").unlink()
    r = run("db", "migrate-to", pg_url)
    assert r.exit_code == errors.NOT_FOUND and "ONESTOP_HOME" in r.stderr
    (desk / "onestop.db").write_bytes(b"not a database at all" * 100)
    r = run("db", "migrate-to", pg_url)
    assert r.exit_code == errors.DATABASE_DAMAGED and "onestop db restore" in r.stderr
    assert _pg_empty(pg_url)


def test_target_url_checked_and_never_printed(run, desk, pg_server, pg_url):
    r = run("db", "migrate-to", "mysql://u:s3cret@h/db")
    assert r.exit_code == errors.CONFIG and "s3cret" not in r.output + r.stderr
    r = run("db", "migrate-to")
    assert r.exit_code == errors.INVALID_INPUT and "ONESTOP_DATABASE_URL" in r.stderr
    bad = pg_url.replace(pg_server.password, "Wr0ngPassw0rd")
    r = run("db", "migrate-to", bad)
    assert r.exit_code == errors.DATABASE_AUTH and "Wr0ngPassw0rd" not in r.output + r.stderr


def test_two_moves_at_once_copy_once(desk, pg_url):
    """Two admins (real processes) move the same desk into the same database at the same time: one
    succeeds, the other waits for it and then finds the database not empty; every row is there once."""
    import os
    import subprocess
    import sys

    from onestop.store import postgres

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    procs = [subprocess.Popen([sys.executable, "-m", "onestop", "db", "migrate-to", pg_url, "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, errors.SCHEMA_MISMATCH], outs
    loser = outs[[p.returncode for p in procs].index(errors.SCHEMA_MISMATCH)]
    assert "không trống" in loser[1]
    store = postgres.connect(pg_url)
    for t, n in lite_counts(desk / "onestop.db").items():
        assert store.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == n, t


def test_counters_raised_to_the_homes_high_water_mark(run, desk, pg_url):
    """A desk whose database was restored from a backup is behind the receipts it printed
    (codes-issued.json, onestop/store/home.py): the office continues after the printed codes."""
    from onestop.common import config
    from onestop.intake import dossiers
    from onestop.store import postgres

    hw_file = desk / "codes-issued.json"
    data = json.loads(hw_file.read_text())
    cfg = config.load()
    today = dossiers.now(cfg).date()
    key_seq, key_book = f"{cfg.agency_code}|{today:%y%m%d}", f"{cfg.agency_code}|{today.year}"
    data["seq"][key_seq] += 40
    data["book"][key_book] += 40
    hw_file.write_text(json.dumps(data))
    r = run("db", "migrate-to", pg_url, "--json")
    assert r.exit_code == 0, r.output
    raised = json.loads(r.stdout)["raised_to_high_water"]
    assert {(x["table"], x["to"] - x["from"]) for x in raised} == {("code_sequences", 40), ("book_sequences", 40)}
    store = postgres.connect(pg_url)
    assert store.execute("SELECT last FROM code_sequences WHERE day = ?", [f"{today:%y%m%d}"]).fetchone()[0] == \
        data["seq"][key_seq]
    assert store.execute("SELECT last FROM book_sequences WHERE year = ?", [today.year]).fetchone()[0] == \
        data["book"][key_book]


def test_a_database_of_another_home_is_not_moved(run, desk, pg_url):
    hw_file = desk / "codes-issued.json"
    data = json.loads(hw_file.read_text())
    data["home_id"] = "0" * 32
    hw_file.write_text(json.dumps(data))
    r = run("db", "migrate-to", pg_url)
    assert r.exit_code == errors.HOME_MISMATCH, r.output
    assert _pg_empty(pg_url)


def test_a_sync_after_the_move_sends_only_what_was_pending(run, desk, pg_url, monkeypatch):
    """The office's first nightly sync after the move sends the entries the desk had not sent, each
    once, and nothing the desk had already sent (on a portal that has not seen any of it)."""
    from onestop.store import postgres

    assert run("db", "migrate-to", pg_url).exit_code == 0
    store = postgres.connect(pg_url)

    def entries(state):
        return [(r["code"], r["kind"]) for r in store.query(
            "SELECT d.code, o.kind FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE o.state = ? "
            "ORDER BY o.id", [state])]
    pending, done = entries("pending"), entries("done")
    held = {code for code, _ in entries("failed")}  # refused before the move: held until `sync retry`
    assert pending and done and held
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    with MinistryServer() as srv:
        point_at(monkeypatch, srv.url)
        r = run("sync", "--json")
        st = srv.state
    # still held behind the refusal, as on the desk: exit 11 says so; everything else went
    assert r.exit_code == errors.SYNC_PARTIAL, r.output
    sent = [(code, kind) for code, kind in pending if code not in held]
    assert dict(st.creates) == {code: 1 for code, kind in sent if kind == "create"}
    assert not {code for code, kind in done if kind == "create"} & set(st.creates)
    assert st.n_steps == sum(kind == "step" for _, kind in sent)
    assert entries("pending") == [e for e in pending if e[0] in held]
    assert len(entries("done")) == len(done) + len(sent)

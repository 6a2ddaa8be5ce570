"""Issue 8, scanning: races between real OS processes, killed scans, hostile inbox entries, and
the archive's write-once rule. Each test reproduces a way papers were lost or misfiled."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pages import new_dossier, numbered, save


def _onestop(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "onestop", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or dict(os.environ))


def _both(*procs):
    outs = [p.communicate(timeout=180) for p in procs]
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outs)]


def _wait_for(cond, proc, what: str):
    """Poll until ``cond()`` holds while ``proc`` runs (no timing is asserted: it fails only if the
    process ends first or nothing happens for a minute)."""
    for _ in range(1200):
        found = cond()
        if found:
            return found
        if proc.poll() is not None:
            pytest.fail(f"the scan ended before {what}: {proc.returncode} {proc.stderr.read()}")
        time.sleep(0.05)
    pytest.fail(f"no {what}")


def _check(run):
    """(exit code, report without the signature counts of docs/signing.md)."""
    r = run("check", "--json")
    rep = json.loads(r.stdout)
    rep.pop("signatures", None)
    return r.exit_code, rep


def _inbox(home: Path) -> Path:
    (home / "onestop.toml").write_text("[scan]\nsettle_seconds = 0\n")
    box = home / "inbox"
    box.mkdir()
    return box


# ---------------------------------------------------------------- item 1: one component, two scans

def test_two_scans_of_one_component_exactly_one_wins(run, db, cfg, tmp_path):
    page = save(numbered(1), tmp_path / "p1.png")
    codes = [new_dossier(db, cfg) for _ in range(3)]
    for code in codes:  # a few rounds: both scans write the same archive name at about the same time
        results = _both(*(_onestop("scan", code, "-c", 3, page, "--yes") for _ in range(2)))
        rcs = sorted(rc for rc, _, _ in results)
        assert rcs == [0, 15], results
        [(_, _, err)] = [x for x in results if x[0] == 15]
        assert "onestop: lỗi:" in err and code in err and "--replace" in err and "Traceback" not in err
        rows = db.execute("SELECT path, state FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id "
                          "WHERE d.code = ?", [code]).fetchall()
        assert len(rows) == 1 and rows[0][1] == "current" and Path(rows[0][0]).is_file()
    # Nothing missing (the winner's PDF was never removed), nothing orphaned (the loser cleaned up).
    assert _check(run) == (0, {"ok": True, "files": 3, "problems": [], "rescan": [], "documents": []})
    assert sorted(p.name for p in cfg.archive_dir.rglob("*") if p.is_file()) == sorted(
        Path(p).name for (p,) in db.execute("SELECT path FROM archive_files"))


def test_two_replacements_at_once_one_wins(run, db, cfg, home, tmp_path):
    code = new_dossier(db, cfg)
    page = save(numbered(1), tmp_path / "p1.png")
    assert run("scan", code, "-c", 3, page, "--yes").exit_code == 0
    # The overlap is made certain, not left to timing: the first replacement is stopped (with its
    # OCR engines) once it is reading pages, the second runs to the end, then the first goes on.
    first = subprocess.Popen([sys.executable, "-m", "onestop", "scan", code, "-c", "3", str(page), "--yes",
                              "--replace"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    _wait_for(lambda: list((home / "work").glob("scan-*")), first, "a work folder")
    os.killpg(first.pid, signal.SIGSTOP)
    try:
        [(rc2, _, err2)] = _both(_onestop("scan", code, "-c", 3, page, "--yes", "--replace"))
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    [(rc1, _, err1)] = _both(first)
    assert rc2 == 0, err2
    assert rc1 == 15 and "--replace" in err1 and "Traceback" not in err1, err1
    assert db.execute("SELECT state FROM archive_files ORDER BY id").fetchall() == [("replaced",), ("current",)]
    assert _check(run)[0] == 0


# ---------------------------------------------------------------- item 2: two inbox scans

def test_two_inbox_scans_take_each_file_once(run, db, cfg, home):
    box = _inbox(home)
    save(numbered(1), box / "a.jpg")
    save(numbered(2), box / "b.png")
    codes = [new_dossier(db, cfg, name=n) for n in ("Nguyễn Văn An", "Lê Đức Thắng")]
    results = _both(*(_onestop("scan", c, "-c", 3, "--inbox", "--yes", "--json") for c in codes))
    rcs = sorted(rc for rc, _, _ in results)
    assert rcs[0] == 0 and rcs[1] in (4, 15), results  # the loser found the inbox empty, or taken
    stored = [json.loads(s) for (s,) in db.execute("SELECT sources FROM archive_files")]
    assert stored == [["a.jpg", "b.png"]]  # one dossier holds the citizen's papers, the other none
    assert sorted(p.name for p in (box / "done").iterdir()) == ["a.jpg", "b.png"]
    assert not [p for p in box.iterdir() if p.is_file()]
    assert not list((box / ".claims").glob("run-*"))


@pytest.mark.slow
def test_ctrl_c_returns_claimed_inbox_files(db, cfg, home):
    box = _inbox(home)
    names = [f"s{i:02d}.png" for i in range(1, 9)]
    for i, n in enumerate(names, 1):
        save(numbered(i), box / n)
    code = new_dossier(db, cfg)
    p = _onestop("scan", code, "-c", 3, "--inbox", "--yes")
    _wait_for(lambda: [c for c in (box / ".claims").glob("run-*") if list(c.glob("*.png"))], p, "claim")
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, (err, sorted(str(q.relative_to(box)) for q in box.rglob("*")))
    assert sorted(q.name for q in box.iterdir() if q.is_file()) == names  # back, under their own names
    assert not list((box / ".claims").glob("run-*")) and not (box / "done").exists()
    assert db.execute("SELECT count(*) FROM archive_files").fetchone() == (0,)


# ---------------------------------------------------------------- items 2 and 8: a killed scan

@pytest.mark.slow
def test_killed_scan_leaves_work_in_home_and_next_scan_recovers(run, db, cfg, home, tmp_path):
    box = _inbox(home)
    names = [f"s{i:02d}.png" for i in range(1, 7)]
    for i, n in enumerate(names, 1):
        save(numbered(i), box / n)
    code = new_dossier(db, cfg)
    systmp = tmp_path / "systmp"
    systmp.mkdir()
    p = _onestop("scan", code, "-c", 3, "--inbox", "--yes", env=dict(os.environ, TMPDIR=str(systmp)))
    work = _wait_for(lambda: [w for w in (home / "work").glob("scan-*") if list(w.glob("*.tif"))
                              or list(w.glob("*.tsv")) or list(w.glob("*.txt"))], p, "page files in a work folder")
    p.kill()
    p.communicate(timeout=60)
    assert stat.S_IMODE(work[0].stat().st_mode) == 0o700 and stat.S_IMODE((home / "work").stat().st_mode) == 0o700
    assert not list(systmp.iterdir())  # no page images or OCR text in the system temp folder
    rc, rep = _check(run)
    kinds = sorted(x["kind"] for x in rep["problems"])
    assert rc == 10 and kinds == ["stale_claim", "stale_work"]
    assert sorted(next(x for x in rep["problems"] if x["kind"] == "stale_claim")["files"]) == names
    # The next scan removes the work folder and returns the claimed files, then takes them itself.
    r = run("scan", code, "-c", 3, "--inbox", "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert [pg["source"] for pg in json.loads(r.stdout)["pages"]] == names
    assert not work[0].exists() and not list((home / "work").iterdir())
    assert _check(run) == (0, {"ok": True, "files": 1, "problems": [], "rescan": [], "documents": []})


# ---------------------------------------------------------------- item 10: links in the inbox

def test_inbox_links_and_special_files_are_refused(run, db, cfg, home, tmp_path):
    box = _inbox(home)
    first = new_dossier(db, cfg, name="Lê Đức Thắng")
    assert run("scan", first, "-c", 3, save(numbered(1), tmp_path / "x.png"), "--yes").exit_code == 0
    (theirs,) = db.execute("SELECT path FROM archive_files").fetchone()
    before = Path(theirs).read_bytes()
    code = new_dossier(db, cfg)
    (box / "trang.pdf").symlink_to(theirs)  # another citizen's archived papers
    r = run("scan", code, "-c", 3, "--inbox", "--yes")
    assert r.exit_code == 9, r.output
    assert "trang.pdf" in r.stderr and "symlink" in r.stderr and "Chưa có gì được lưu" in r.stderr
    assert db.execute("SELECT count(*) FROM archive_files").fetchone() == (1,)
    assert (box / "trang.pdf").is_symlink() and Path(theirs).read_bytes() == before  # left as it was
    (box / "trang.pdf").unlink()
    os.mkfifo(box / "fifo.jpg")
    r = run("scan", code, "-c", 3, "--inbox", "--yes")
    assert r.exit_code == 9 and "fifo.jpg" in r.stderr and "không phải tệp thông thường" in r.stderr
    assert stat.S_ISFIFO(os.lstat(box / "fifo.jpg").st_mode)
    # An archive file given directly (or through a link elsewhere) is refused as well.
    link = tmp_path / "elsewhere.pdf"
    link.symlink_to(theirs)
    for arg in (theirs, link):
        r = run("scan", code, "-c", 3, arg, "--yes")
        assert r.exit_code == 9 and "kho lưu trữ" in r.stderr, r.output
    assert db.execute("SELECT count(*) FROM archive_files").fetchone() == (1,)


# ---------------------------------------------------------------- item 3: write-once archive

def test_rescan_never_overwrites_an_archive_file(run, db, cfg, tmp_path):
    """A database restored from an older backup does not know a stored PDF: a rescan must not write over it."""
    code = new_dossier(db, cfg)
    assert run("scan", code, "-c", 3, save(numbered(1), tmp_path / "a.png"), "--yes").exit_code == 0
    (old,) = db.execute("SELECT path FROM archive_files").fetchone()
    kept = Path(old).read_bytes()
    pages = [r[0] for r in db.execute("SELECT id FROM archive_pages")]
    from onestop.archive import search

    search.unindex_pages(db, pages)  # the search index of either backend
    db.execute("DELETE FROM archive_pages")
    db.execute("DELETE FROM outbox WHERE kind = 'file'")
    db.execute("DELETE FROM archive_files")
    db.execute("UPDATE dossier_components SET digitized = 0")
    r = run("scan", code, "-c", 3, save(numbered(2), tmp_path / "b.png"), "--yes", "--json")
    assert r.exit_code == 0, r.output
    new = json.loads(r.stdout)["pdf"]
    assert new != old and Path(old).read_bytes() == kept
    rc, rep = _check(run)
    assert rc == 10 and [(x["kind"], x["path"]) for x in rep["problems"]] == [("orphan", old)]
    assert "Đừng xóa" in rep["problems"][0]["message"]


# ---------------------------------------------------------------- item 11: check after --replace

def test_replace_as_check_advises_clears_the_missing_file(run, db, cfg, tmp_path):
    code = new_dossier(db, cfg)
    page = save(numbered(1), tmp_path / "a.png")
    assert run("scan", code, "-c", 3, page, "--yes").exit_code == 0
    (path,) = db.execute("SELECT path FROM archive_files").fetchone()
    Path(path).unlink()
    rc, rep = _check(run)
    assert rc == 10 and [x["kind"] for x in rep["problems"]] == ["missing"] and "--replace" in rep["problems"][0]["message"]
    assert run("scan", code, "-c", 3, page, "--yes", "--replace").exit_code == 0
    assert _check(run) == (0, {"ok": True, "files": 2, "problems": [], "rescan": [], "documents": []})
    assert db.execute("SELECT state FROM archive_files ORDER BY id").fetchall() == [("lost",), ("current",)]
    # A replaced file that was intact stays checked: removing it later is still reported.
    assert run("scan", code, "-c", 3, page, "--yes", "--replace").exit_code == 0
    (kept,) = db.execute("SELECT path FROM archive_files WHERE state = 'replaced'").fetchone()
    Path(kept).unlink()
    rc, rep = _check(run)
    assert rc == 10 and [(x["kind"], x["path"]) for x in rep["problems"]] == [("missing", kept)]


# ---------------------------------------------------------------- issue 9: the office server's connection lost

@pytest.mark.postgresql_only
def test_connection_lost_in_the_commit_stores_nothing_and_loses_nothing(run, db, cfg, home, rows):
    """The scan's connection is killed by the server (pg_terminate_backend, as a server restart or a
    dropped network would) after its archive row was inserted, before it committed."""
    import psycopg

    from onestop.common import errors

    url = os.environ["ONESTOP_DATABASE_URL"]
    box = _inbox(home)
    code = new_dossier(db, cfg)
    page = save(numbered(1), box / "p1.png")
    kept = page.read_bytes()
    with psycopg.connect(url, autocommit=True) as holder, psycopg.connect(url, autocommit=True) as admin:
        # Another session holds the component's row: the scan's commit, archive row already
        # inserted, waits on it; that is the moment its connection is cut.
        holder.execute("BEGIN")
        holder.execute("SELECT 1 FROM dossier_components c JOIN dossiers d ON d.id = c.dossier_id "
                       "WHERE d.code = %s AND c.n = 3 FOR UPDATE OF c", [code])
        proc = _onestop("scan", code, "-c", 3, "--inbox", "--yes")
        (pid,) = _wait_for(lambda: admin.execute(
            "SELECT a.pid FROM pg_stat_activity a WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' "
            "AND a.pid <> pg_backend_pid() AND a.query LIKE 'UPDATE dossier_components%%'").fetchone(),
            proc, "the scan's commit")
        # Inside the scan's transaction now: its archive row is inserted, uncommitted.
        assert admin.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = 'archive_files'::regclass "
                             "AND mode = 'RowExclusiveLock'", [pid]).fetchone()[0] == 1
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True
        [(rc, out, err)] = _both(proc)
        holder.execute("ROLLBACK")
    assert rc == errors.DATABASE_UNREACHABLE, (rc, out, err)
    assert "Mất kết nối" in err and "Traceback" not in err and out == ""
    # Nothing half-stored: no archive row, no page, no search entry, no event, no sync entry, not digitized.
    assert rows("SELECT count(*) FROM archive_files") == [(0,)]
    assert rows("SELECT count(*) FROM archive_pages") == [(0,)]
    assert rows("SELECT count(*) FROM search_docs WHERE kind = 'page'") == [(0,)]
    assert rows("SELECT count(*) FROM events WHERE action = 'digitize'") == [(0,)]
    assert rows("SELECT count(*) FROM outbox WHERE kind = 'file'") == [(0,)]
    assert rows("SELECT c.digitized FROM dossier_components c JOIN dossiers d ON d.id = c.dossier_id "
                "WHERE d.code = ? AND c.n = 3", [code]) == [(0,)]
    # Nothing lost: the inbox file is back in the inbox, unchanged; the PDF written before the commit
    # stays (an orphan that `check` names), never removed while the database cannot say who owns it.
    assert page.read_bytes() == kept and not (box / "done").exists()
    assert [p.name for p in box.iterdir() if p.name != ".claims"] == ["p1.png"]
    rc, rep = _check(run)
    assert rc == 10 and [x["kind"] for x in rep["problems"]] == ["orphan"]
    orphan = Path(rep["problems"][0]["path"])
    # Run again once the server is back: the same scan takes the orphan over and commits it.
    r = run("scan", code, "-c", 3, "--inbox", "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["pdf"] == str(orphan) and (box / "done" / "p1.png").is_file()
    assert _check(run) == (0, {"ok": True, "files": 1, "problems": [], "rescan": [], "documents": []})


@pytest.mark.postgresql_only
def test_interrupted_scan_never_removes_the_file_another_scan_commits(run, db, cfg, tmp_path, rows):
    """Two scans of one page write one archive name: the first creates the PDF, the second finds the
    same bytes there and takes it over. The first is interrupted (Ctrl-C) in its commit while the
    second is committing: the first must not remove the file the second's row is about to point to."""
    import psycopg

    url = os.environ["ONESTOP_DATABASE_URL"]
    page = save(numbered(1), tmp_path / "p1.png")
    code = new_dossier(db, cfg)

    def scan(name):  # the scan's session is named, so the test can tell the two apart on the server
        return _onestop("scan", code, "-c", 3, page, "--yes",
                        env=dict(os.environ, ONESTOP_DATABASE_URL=f"{url}?application_name={name}"))

    def waiting(admin, name, query=""):
        return admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s AND "
                             "wait_event_type = 'Lock' AND query LIKE %s", [name, query + "%"]).fetchone()

    with psycopg.connect(url, autocommit=True) as holder, psycopg.connect(url, autocommit=True) as admin:
        holder.execute("BEGIN")  # holds the component's row: a scan's commit waits on it
        holder.execute("SELECT 1 FROM dossier_components c JOIN dossiers d ON d.id = c.dossier_id "
                       "WHERE d.code = %s AND c.n = 3 FOR UPDATE OF c", [code])
        a = scan("scan-a")
        _wait_for(lambda: waiting(admin, "scan-a", "UPDATE dossier_components"), a, "scan A's commit")
        b = scan("scan-b")
        _wait_for(lambda: waiting(admin, "scan-b"), b, "scan B's commit")
        a.send_signal(signal.SIGINT)
        # Scan A gives up; it removes its PDF only if no committed row points to it. Let B commit once A
        # has either finished or is waiting to decide.
        for _ in range(1200):
            if a.poll() is not None or waiting(admin, "scan-a", "SELECT pg_advisory_xact_lock"):
                break
            time.sleep(0.05)
        else:
            pytest.fail("scan A neither ended nor waited after Ctrl-C")
        holder.execute("ROLLBACK")
        (rc_a, _, err_a), (rc_b, out_b, err_b) = _both(a, b)
    assert rc_a == 130 and "Traceback" not in err_a, err_a
    assert rc_b == 0, err_b
    [(path, state)] = rows("SELECT path, state FROM archive_files")
    assert state == "current" and Path(path).is_file()
    assert _check(run) == (0, {"ok": True, "files": 1, "problems": [], "rescan": [], "documents": []})


# ---------------------------------------------------------------- the migration keeps racing leftovers

@pytest.mark.sqlite_only
def test_migration_keeps_duplicate_current_files_as_parts(home):
    """A database where the old race already stored two current files migrates without losing either."""
    import sqlite3

    from onestop.intake import catalog
    from onestop.common import config
    from onestop.store.sqlite import connect
    from onestop.store.sqlite_schema import migrations

    cfg = config.load()
    d = connect(cfg.db_path)
    catalog.ensure_loaded(d, cfg.catalog_file)
    code = new_dossier(d, cfg)
    d.conn.close()
    con = sqlite3.connect(cfg.db_path, isolation_level=None)
    n = len(migrations._migrations)
    con.execute("DROP INDEX archive_files_one_current")
    con.execute("ALTER TABLE archive_files DROP COLUMN part")
    con.execute("DELETE FROM _sqlite_migrations WHERE name = '0007_archive_one_current'")
    con.execute(f"PRAGMA user_version = {n - 1}")  # only this migration is pending again
    did = con.execute("SELECT id FROM dossiers WHERE code = ?", [code]).fetchone()[0]
    for i in (1, 2):
        con.execute("INSERT INTO archive_files (dossier_id, component_n, path, sha256, size, pages, created_at) "
                    "VALUES (?, 3, ?, 'x', 1, 1, '2026-11-30T09:00:00+07:00')", [did, f"/nowhere/{i}.pdf"])
    con.close()
    d = connect(cfg.db_path)
    assert d.execute("SELECT state, part FROM archive_files ORDER BY id").fetchall() == [("current", 1), ("current", 2)]
    with pytest.raises(sqlite3.IntegrityError):
        d.execute("INSERT INTO archive_files (dossier_id, component_n, path, sha256, size, pages, created_at) "
                  "VALUES (?, 3, '/nowhere/3.pdf', 'x', 1, 1, '2026-11-30T09:00:00+07:00')", [did])

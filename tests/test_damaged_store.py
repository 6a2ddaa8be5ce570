"""A damaged, empty, restored or foreign database: real files, real processes, nothing reissued."""

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys

import pytest

# The SQLite file itself: truncated, emptied, overwritten, restored from a copy, its WAL and backups.
pytestmark = pytest.mark.sqlite_only

PROC = "1.003584"


def onestop(home, *args, env=None):
    e = dict(os.environ, ONESTOP_HOME=str(home), ONESTOP_NOW="2026-11-30 10:00", **(env or {}))
    return subprocess.run([sys.executable, "-m", "onestop", *map(str, args)], capture_output=True, text=True, env=e)


def receive(home, name="Nguyễn Văn An", **kw):
    r = onestop(home, "receive", "-p", PROC, "--name", name, "--id", "001085012345", "--all-components", "--json", **kw)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_empty_or_missing_database_in_a_used_home_issues_no_code(home):
    first = [receive(home, f"Người {i}") for i in range(2)]
    receipts = {p: open(p, "rb").read() for p in (f["receipt"] for f in first)}
    db = home / "onestop.db"
    for wipe in ("empty", "missing"):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(str(db) + suffix):
                os.remove(str(db) + suffix)
        if wipe == "empty":
            db.write_bytes(b"")
        r = onestop(home, "receive", "-p", PROC, "--name", "Kẻ Mới", "--id", "001085012345", "--all-components")
        assert r.returncode == 14, r.stderr
        assert "onestop db restore" in r.stderr and ("trống" if wipe == "empty" else "không có") in r.stderr
        assert db.exists() == (wipe == "empty") and (not db.exists() or db.stat().st_size == 0)  # nothing created
        assert onestop(home, "list").returncode == 14
    for p, data in receipts.items():
        assert open(p, "rb").read() == data  # the printed receipts are untouched


def test_restored_backup_does_not_reissue_codes_printed_after_it(home, tmp_path):
    receive(home)
    backup = tmp_path / "b.db"
    assert onestop(home, "db", "backup", backup).returncode == 0
    later = [receive(home, f"Người {i}") for i in range(2)]
    assert [x["code"][-4:] for x in later] == ["0002", "0003"]
    printed = {x["receipt"]: open(x["receipt"], "rb").read() for x in later}
    r = onestop(home, "db", "restore", backup)
    assert r.returncode == 0, r.stderr
    # It says what it lifted: the backup's counters stand below the codes printed since (issue 17).
    day = later[0]["code"].split("-")[1]
    assert f"code_sequences 000.00.12.H26 {day}: 1 → 3" in r.stderr
    assert f"book_sequences 000.00.12.H26 20{day[:2]}: 1 → 3" in r.stderr
    nxt = receive(home, "Người Sau")
    assert nxt["code"].endswith("-0004") and nxt["book_no"] == 4
    for p, data in printed.items():
        assert open(p, "rb").read() == data


def test_lost_high_water_mark_is_rebuilt_from_the_receipts_on_disk(home, tmp_path):
    receive(home)
    shutil.copy(home / "onestop.db", tmp_path / "old.db")  # a plain copy made while idle
    receive(home, "Người 2")
    receive(home, "Người 3")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(home / "onestop.db") + suffix):
            os.remove(str(home / "onestop.db") + suffix)
    shutil.copy(tmp_path / "old.db", home / "onestop.db")  # restored by hand
    (home / "codes-issued.json").unlink()
    assert receive(home, "Người 4")["code"].endswith("-0004")


def test_database_of_another_office_or_home_issues_no_code(home, tmp_path):
    receive(home)
    (home / "onestop.toml").write_text('[agency]\ncode = "000.00.01.H56"\n', encoding="utf-8")
    r = onestop(home, "receive", "-p", PROC, "--name", "An", "--id", "001085012345", "--all-components")
    assert r.returncode == 14 and "000.00.01.H56" in r.stderr, r.stderr
    (home / "onestop.toml").unlink()
    other = tmp_path / "other"
    other.mkdir()
    receive(other)
    shutil.copy(other / "onestop.db", home / "onestop.db")
    r = onestop(home, "receive", "-p", PROC, "--name", "An", "--id", "001085012345", "--all-components")
    assert r.returncode == 14 and "onestop db restore" in r.stderr, r.stderr
    assert sqlite3.connect(home / "onestop.db").execute("SELECT count(*) FROM dossiers").fetchone()[0] == 1


def test_reprinted_receipt_is_a_new_file(home):
    first = receive(home)
    before = open(first["receipt"], "rb").read()
    r = onestop(home, "print", first["code"])
    assert r.returncode == 0, r.stderr
    again = r.stdout.strip()
    assert again != first["receipt"] and os.path.exists(again)
    assert open(first["receipt"], "rb").read() == before


@pytest.fixture
def big_home(home, cfg, db):
    """A real database of about 400 kB: catalog and 600 dossiers."""
    from onestop.intake import dossiers

    at = dossiers.parse_when("2026-11-23 09:00", cfg)
    reqs = [dossiers.ReceiveRequest(PROC, dossiers.Applicant(f"Người {i}", "001085012345"), at=at) for i in range(600)]
    dossiers.receive_many(db, cfg, reqs)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    assert (home / "onestop.db").stat().st_size > 300_000
    return home


COMMANDS = [["list"], ["show", "0001"], ["db", "status"], ["search", "nguoi"],
            ["receive", "-p", PROC, "--name", "An", "--id", "001085012345", "--all-components"]]


@pytest.mark.parametrize("size", [100, 4096, 60_000, 200_000])
def test_truncated_database_gives_exit_13_at_every_command(big_home, tmp_path, size):
    backup = tmp_path / "good.db"
    assert onestop(big_home, "db", "backup", backup).returncode == 0
    db = big_home / "onestop.db"
    os.truncate(db, size)
    for cmd in COMMANDS:
        r = onestop(big_home, *cmd)
        assert r.returncode == 13, (cmd, r.stderr)
        assert "bị hỏng" in r.stderr and "onestop db restore" in r.stderr, r.stderr
        assert "không mong đợi" not in r.stderr
    assert db.stat().st_size == size  # nothing written into it


def test_overwritten_pages_are_reported_as_damage_not_a_bug(big_home):
    db = big_home / "onestop.db"
    with open(db, "r+b") as f:  # same size, garbage after the first page (the schema survives)
        f.seek(4096)
        f.write(b"\xa5" * (db.stat().st_size - 4096))
    for cmd in (["list"], ["show", "0001"], ["search", "nguoi"]):
        r = onestop(big_home, "--lang", "en", *cmd)
        assert r.returncode == 13, (cmd, r.stderr)
        assert "damaged" in r.stderr and "onestop db restore" in r.stderr


def test_db_restore_checks_the_backup_and_keeps_the_damaged_file(big_home, tmp_path):
    good = tmp_path / "good.db"
    assert onestop(big_home, "db", "backup", good).returncode == 0
    db = big_home / "onestop.db"
    os.truncate(db, 50_000)
    damaged = db.read_bytes()
    (big_home / "onestop.db-wal").write_bytes(b"stale wal")
    bad = tmp_path / "bad.db"
    shutil.copy(good, bad)
    os.truncate(bad, 70_000)
    r = onestop(big_home, "db", "restore", bad)
    assert r.returncode == 4 and "bad.db" in r.stderr, r.stderr
    assert db.read_bytes() == damaged  # a bad backup changes nothing
    r = onestop(big_home, "db", "restore", good)
    assert r.returncode == 0, r.stderr
    aside = sorted(p.name for p in big_home.glob("onestop.db.before-restore-*"))
    assert len(aside) == 2 and aside[1].endswith("-wal")
    assert (big_home / aside[0]).read_bytes() == damaged
    assert not (big_home / "onestop.db-wal").exists() or (big_home / "onestop.db-wal").read_bytes() != b"stale wal"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    r = onestop(big_home, "list", "--limit", "0", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)) == 600
    assert receive(big_home)["code"].endswith("-261130-0001")


def test_backup_is_private_also_over_an_existing_file(home, tmp_path):
    receive(home)
    dest = tmp_path / "b.db"
    dest.write_bytes(b"old")
    dest.chmod(0o644)
    r = onestop(home, "db", "backup", dest)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert sqlite3.connect(dest).execute("SELECT count(*) FROM dossiers").fetchone()[0] == 1


def test_codes_only_in_the_sync_spool_are_not_reissued(home, cfg, db, tmp_path, monkeypatch):
    # receive_many renders no receipt: the spool written by the nightly sync is the only trace on disk
    from onestop.intake import dossiers

    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    at = dossiers.parse_when("2026-11-30 09:00", cfg)
    dossiers.receive_many(db, cfg, [dossiers.ReceiveRequest(PROC, dossiers.Applicant("Một", "001085012345"), at=at)])
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(home / "onestop.db", tmp_path / "old.db")
    dossiers.receive_many(db, cfg, [dossiers.ReceiveRequest(PROC, dossiers.Applicant(n, "001085012345"), at=at)
                                    for n in ("Hai", "Ba")])
    db.conn.close()
    r = onestop(home, "sync", "--spool", home / "spool")
    assert r.returncode == 0, r.stderr
    assert not (home / "forms").exists()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(home / "onestop.db") + suffix):
            os.remove(str(home / "onestop.db") + suffix)
    shutil.copy(tmp_path / "old.db", home / "onestop.db")
    (home / "codes-issued.json").unlink()
    assert receive(home, "Bốn")["code"].endswith("-261130-0004")

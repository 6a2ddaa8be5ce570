"""The spool round trip: spool on one machine, --from-spool to the server, same server state as a
direct sync; interrupted and repeated deliveries send nothing twice."""

from __future__ import annotations

import json
import os

import pytest

from ministry_server import MinistryServer
from sync_helpers import (add_file, assert_exactly_once, fake_pdf, files_table, make_dossiers, point_at,
                          write_sync_config)


def _snapshot(srv) -> dict:
    st = srv.state
    return {"dossiers": st.dossiers, "steps": st.steps, "files": {k: v["DuongDan"] for k, v in st.files.items()},
            "creates": dict(st.creates)}


def _use(monkeypatch, path, database_url: str | None) -> None:
    """Make ``path`` the current data home, on the office database ``database_url`` (None: the home's
    own SQLite file, as on a machine outside the office, such as the connected one)."""
    path.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("ONESTOP_HOME", str(path))
    if database_url:
        monkeypatch.setenv("ONESTOP_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)


@pytest.fixture
def office_url(home):
    """The office database of the test's home on the backend under test (None: its SQLite file)."""
    return os.environ.get("ONESTOP_DATABASE_URL")


@pytest.fixture
def two_homes(home, tmp_path, monkeypatch, office_url, new_database):
    """The same data in two offices: one syncs directly, the other through a spool. The second is a
    copy of the first's database: of its SQLite file, or of its PostgreSQL database (then its URL)."""
    from onestop.intake import catalog
    from onestop.common import config
    from onestop.store import connect

    write_sync_config(home)
    cfg = config.load()
    db = connect(cfg)
    catalog.ensure_loaded(db, cfg.catalog_file)
    codes = make_dossiers(db, cfg, 14)
    if files_table(db):
        for i, code in enumerate(codes[:6]):
            add_file(db, cfg, code, 1, fake_pdf(i % 4))
    other = tmp_path / "home2"
    other.mkdir()
    (other / "onestop.toml").write_text((home / "onestop.toml").read_text())
    other_url = None
    if office_url:
        db.close()  # PostgreSQL copies a database no session is connected to
        other_url = new_database(copy_of=office_url)
        db = connect(cfg)
    else:
        db.execute("VACUUM INTO ?", [str(other / "onestop.db")])
    return cfg, db, other, other_url


def test_spool_round_trip_gives_the_same_server_state(two_homes, run, monkeypatch, tmp_path, home):
    cfg, db, other, other_url = two_homes
    with MinistryServer() as direct, MinistryServer() as via_spool:
        point_at(monkeypatch, direct.url)
        assert run("sync").exit_code == 0
        assert_exactly_once(direct, db)

        _use(monkeypatch, other, other_url)
        monkeypatch.delenv("ONESTOP_SYNC_URL")
        spool = tmp_path / "usb" / "spool"
        r = run("sync", "--spool", spool)
        assert r.exit_code == 0, r.output
        assert via_spool.state.stats()["requests"] == {}
        assert (spool / "000001-upload.json").exists() or not files_table(db)
        # nothing left to spool
        n_batches = len(list(spool.glob("*.json")))
        assert run("sync", "--spool", spool).exit_code == 0
        assert len(list(spool.glob("*.json"))) == n_batches

        # on the connected machine (its own home, no dossiers)
        _use(monkeypatch, tmp_path / "office", None)
        point_at(monkeypatch, via_spool.url)
        via_spool.fault("drop", times=1, service="CapNhatTienDoHoSoMC")
        via_spool.fault("drop", times=1, path="upload")
        r = run("sync", "--from-spool", spool)
        assert r.exit_code == 0, r.output
        before = via_spool.state.stats()
        assert run("sync", "--from-spool", spool).exit_code == 0  # a second delivery sends nothing
        after = via_spool.state.stats()
        assert (after["creates"], after["steps"], after["uploads"]) == (before["creates"], before["steps"], before["uploads"])
        assert _snapshot(via_spool) == _snapshot(direct)
        assert_exactly_once(via_spool, db)


def test_spool_written_again_after_a_crash_has_no_duplicate(home, run, tmp_path, monkeypatch, rows):
    """The writer died after writing a batch but before recording it: the rewrite finds the lines."""
    from onestop.intake import catalog
    from onestop.common import config
    from onestop.store import connect

    write_sync_config(home)
    cfg = config.load()
    db = connect(cfg)
    catalog.ensure_loaded(db, cfg.catalog_file)
    make_dossiers(db, cfg, 6)
    spool = tmp_path / "spool"
    assert run("sync", "--spool", spool).exit_code == 0
    # as if the commit after writing had not happened
    db.execute("UPDATE outbox SET state = 'pending', attempts = 1 WHERE kind IN ('step', 'create')")
    assert run("sync", "--spool", spool).exit_code == 0
    steps = [s for p in sorted(spool.glob("*-CapNhatTienDoHoSoMC.json"))
             for s in json.loads(p.read_text("utf-8"))["data"]]
    expected = rows("SELECT count(*) FROM outbox WHERE kind = 'step'")[0][0]
    assert len(steps) == expected
    with MinistryServer() as srv:
        _use(monkeypatch, tmp_path / "office", None)  # the connected machine
        point_at(monkeypatch, srv.url)
        assert run("sync", "--from-spool", spool).exit_code == 0
        assert_exactly_once(srv, db)


def test_no_url_and_no_spool_is_a_config_error_not_a_silent_local_spool(home, run, db, cfg, rows):
    # Issue 17 item 10: a cron line that did not export ONESTOP_SYNC_URL spooled every night, exit 0.
    make_dossiers(db, cfg, 2)
    r = run("sync")
    assert r.exit_code == 8, r.output
    assert "ONESTOP_SYNC_URL" in r.stderr and "--spool" in r.stderr
    assert not (home / "spool").exists()
    assert rows("SELECT count(*) FROM outbox WHERE state <> 'pending'")[0][0] == 0  # nothing marked
    # An office without a line says so: [sync] spool (or --spool) is its chosen target.
    (home / "onestop.toml").write_text(f'[sync]\nspool = "{home / "spool"}"\n', encoding="utf-8")
    r = run("sync")
    assert r.exit_code == 0, r.output
    assert str(home / "spool") in r.stderr
    assert len(list((home / "spool").glob("0*.json"))) == 2  # two batch files (+ office.json)


def test_from_spool_needs_an_address(home, run, tmp_path):
    (tmp_path / "spool").mkdir()
    r = run("sync", "--from-spool", tmp_path / "spool")
    assert r.exit_code == 8
    assert "ONESTOP_SYNC_URL" in r.stderr


# ---------------------------------------------------------------- spooled is not synced (issue 12)

def _home(path, monkeypatch, database_url: str | None):
    """(cfg, db) of the data home at ``path`` on ``database_url`` (see ``_use``), made the current one."""
    from onestop.intake import catalog
    from onestop.common import config
    from onestop.store import connect

    _use(monkeypatch, path, database_url)
    write_sync_config(path)
    cfg = config.load()
    db = connect(cfg)
    catalog.ensure_loaded(db, cfg.catalog_file)
    return cfg, db


def _states(db) -> dict[int, str]:
    return dict(db.execute("SELECT id, state FROM outbox").fetchall())


def _synced_in_report(run, db) -> int:
    lo, hi = db.execute("SELECT min(substr(received_at, 1, 10)), max(substr(received_at, 1, 10)) "
                             "FROM dossiers").fetchone()
    r = run("report", "--from", lo, "--to", hi, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["synced"]


def test_spool_acknowledgements_round_trip(home, run, tmp_path, monkeypatch, rows, office_url, new_database):
    cfg, db = _home(home, monkeypatch, office_url)
    codes = make_dossiers(db, cfg, 8)
    if files_table(db):
        for i, code in enumerate(codes[:3]):
            add_file(db, cfg, code, 1, fake_pdf(i))
    spool = tmp_path / "usb" / "spool"
    r = run("sync", "--spool", spool)
    assert r.exit_code == 0, r.output
    assert "CHƯA đồng bộ" in r.stderr
    n = len(_states(db))
    # on a USB stick is not on the portal
    assert _synced_in_report(run, db) == 0
    st = json.loads(run("sync", "status", "--json").stdout)
    assert st["pending_total"] == 0 and st["spooled_unacknowledged"] == n
    assert st["spooled_age_seconds"] >= 0 and st["spooled_oldest"] and st["last_success"] is None
    assert f"chưa được Bộ xác nhận: {n} mục" in run("sync", "status").stdout

    # the connected machine delivers it; the server refuses one dossier
    with MinistryServer() as srv:
        bad = codes[4]
        srv.reject[bad] = "Mã lĩnh vực không đúng danh mục"
        _home(tmp_path / "connected", monkeypatch, None)
        point_at(monkeypatch, srv.url)
        r = run("sync", "--from-spool", spool)
        assert r.exit_code == 11, r.output
        assert sorted(srv.state.dossiers) == sorted(set(codes) - {bad})
    acks = sorted((spool / "acks").glob("*.json"))
    assert len(acks) == len(list(spool.glob("0*.json")))
    # one step batch's acknowledgement is not back yet (say, a second stick)
    held_back = [p for p in acks if p.name.endswith("-CapNhatTienDoHoSoMC.json")][0]
    aside = tmp_path / "aside.json"
    held_back.rename(aside)
    not_acked = {i for ids in json.loads((spool / held_back.name).read_text("utf-8"))["entries"] for i in ids}
    assert not_acked

    # another office cannot take this spool's acknowledgements, nor write into its folder
    cfg2, db2 = _home(tmp_path / "other-office", monkeypatch, new_database() if office_url else None)
    make_dossiers(db2, cfg2, 8)
    assert run("sync", "--spool", tmp_path / "other-spool").exit_code == 0
    before2 = _states(db2)
    assert set(before2.values()) == {"spooled"} and set(before2) & set(_states(db))  # the same outbox ids
    r = run("sync", "acks", spool)
    assert r.exit_code == 4 and "văn phòng khác" in r.stderr
    assert _states(db2) == before2
    r = run("sync", "--spool", spool)
    assert r.exit_code == 4 and "văn phòng khác" in r.stderr
    assert _states(db2) == before2

    # back at the office: exactly the acknowledged entries are done
    _use(monkeypatch, home, office_url)
    r = run("sync", "acks", spool)
    assert r.exit_code == 11, r.output  # the refused dossier is held for a fix
    assert "Mã lĩnh vực" in run("sync", "status").stdout
    bad_id = rows("SELECT id FROM dossiers WHERE code = ?", [bad])[0][0]
    of_bad = {i for (i,) in rows("SELECT id FROM outbox WHERE dossier_id = ?", [bad_id])}
    expected = {i: "spooled" if i in not_acked else "failed" if i in of_bad else "done" for i in _states(db)}
    assert _states(db) == expected
    assert _synced_in_report(run, db) == 7
    st = json.loads(run("sync", "status", "--json").stdout)
    assert st["spooled_unacknowledged"] == len(not_acked) and st["held"] == len(of_bad - not_acked)
    assert st["last_success"]["target"].startswith("acks:")
    # twice: nothing changes
    snapshot = rows("SELECT * FROM outbox ORDER BY id")
    r = run("sync", "acks", spool, "--json")
    assert r.exit_code == 11 and json.loads(r.stdout)["acknowledged"] == 0
    assert rows("SELECT * FROM outbox ORDER BY id") == snapshot
    # the late acknowledgement arrives
    aside.rename(spool / "acks" / held_back.name)
    assert run("sync", "acks", spool).exit_code == 11
    assert {i for i, s in _states(db).items() if s == "spooled"} == set()
    assert {i for i, s in _states(db).items() if s != "done"} == of_bad


def test_a_dossier_with_entries_on_a_spool_waits_before_going_over_the_line(home, run, tmp_path, monkeypatch,
                                                                            office_url):
    """Spooled, then the line comes back: its later steps wait for the spool's acknowledgement
    (sending them first would put them on the portal before the dossier)."""
    from onestop.intake import dossiers

    cfg, db = _home(home, monkeypatch, office_url)
    codes = make_dossiers(db, cfg, 2, moves=False)
    spool = tmp_path / "spool"
    assert run("sync", "--spool", spool).exit_code == 0
    dossiers.move(db, cfg, codes[0], "4", render=False)
    with MinistryServer() as srv:
        point_at(monkeypatch, srv.url)
        r = run("sync")
        assert r.exit_code == 0, r.output
        assert "chờ xác nhận của thư mục spool" in r.stderr
        assert srv.state.dossiers == {} and srv.state.n_steps == 0
        # the spool is delivered and its acknowledgements come back: now the rest goes
        _use(monkeypatch, tmp_path / "connected", None)
        assert run("sync", "--from-spool", spool).exit_code == 0
        _use(monkeypatch, home, office_url)
        assert run("sync", "acks", spool).exit_code == 0
        assert run("sync").exit_code == 0
        assert [s["TrangThai"] for s in srv.state.steps[codes[0]]] == ["2", "4"]
        assert_exactly_once(srv, db)


def test_acks_of_a_damaged_or_foreign_folder_import_nothing(home, run, tmp_path, monkeypatch, office_url):
    cfg, db = _home(home, monkeypatch, office_url)
    make_dossiers(db, cfg, 3)
    spool = tmp_path / "spool"
    assert run("sync", "--spool", spool).exit_code == 0
    with MinistryServer() as srv:
        _home(tmp_path / "connected", monkeypatch, None)
        point_at(monkeypatch, srv.url)
        assert run("sync", "--from-spool", spool).exit_code == 0
    _use(monkeypatch, home, office_url)
    before = _states(db)
    damaged = sorted((spool / "acks").glob("*.json"))[-1]
    good = damaged.read_bytes()
    damaged.write_bytes(good[: len(good) // 2])
    r = run("sync", "acks", spool)
    assert r.exit_code == 4 and "bị hỏng" in r.stderr and "Traceback" not in r.output
    assert _states(db) == before
    damaged.write_bytes(good)
    assert run("sync", "acks", spool).exit_code == 0
    assert set(_states(db).values()) == {"done"}
    r = run("sync", "acks", tmp_path / "nowhere")
    assert r.exit_code == 3

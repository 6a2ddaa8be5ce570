"""The spool round trip: spool on one machine, --from-spool to the server, same server state as a
direct sync; interrupted and repeated deliveries send nothing twice."""

from __future__ import annotations

import json

import pytest

from ministry_server import MinistryServer
from sync_helpers import (add_file, assert_exactly_once, fake_pdf, files_table, make_dossiers, point_at,
                          write_sync_config)


def _snapshot(srv) -> dict:
    st = srv.state
    return {"dossiers": st.dossiers, "steps": st.steps, "files": {k: v["DuongDan"] for k, v in st.files.items()},
            "creates": dict(st.creates)}


@pytest.fixture
def two_homes(home, tmp_path, monkeypatch):
    """The same data in two homes: one syncs directly, the other through a spool."""
    from onestop import catalog, config
    from onestop.db import connect

    write_sync_config(home)
    cfg = config.load()
    db = connect(cfg.db_path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    codes = make_dossiers(db, cfg, 14)
    if files_table(db):
        for i, code in enumerate(codes[:6]):
            add_file(db, cfg, code, 1, fake_pdf(i % 4))
    other = tmp_path / "home2"
    other.mkdir()
    (other / "onestop.toml").write_text((home / "onestop.toml").read_text())
    db.conn.execute("VACUUM INTO ?", [str(other / "onestop.db")])
    return cfg, db, other


def test_spool_round_trip_gives_the_same_server_state(two_homes, run, monkeypatch, tmp_path, home):
    cfg, db, other = two_homes
    with MinistryServer() as direct, MinistryServer() as via_spool:
        point_at(monkeypatch, direct.url)
        assert run("sync").exit_code == 0
        assert_exactly_once(direct, db)

        monkeypatch.setenv("ONESTOP_HOME", str(other))
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
        monkeypatch.setenv("ONESTOP_HOME", str(tmp_path / "office"))
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


def test_spool_written_again_after_a_crash_has_no_duplicate(home, run, tmp_path, monkeypatch):
    """The writer died after writing a batch but before recording it: the rewrite finds the lines."""
    from onestop import catalog, config
    from onestop.db import connect

    write_sync_config(home)
    cfg = config.load()
    db = connect(cfg.db_path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    make_dossiers(db, cfg, 6)
    spool = tmp_path / "spool"
    assert run("sync", "--spool", spool).exit_code == 0
    # as if the commit after writing had not happened
    db.conn.execute("UPDATE outbox SET state = 'pending', attempts = 1 WHERE kind IN ('step', 'create')")
    assert run("sync", "--spool", spool).exit_code == 0
    steps = [s for p in sorted(spool.glob("*-CapNhatTienDoHoSoMC.json"))
             for s in json.loads(p.read_text("utf-8"))["data"]]
    expected = db.conn.execute("SELECT count(*) FROM outbox WHERE kind = 'step'").fetchone()[0]
    assert len(steps) == expected
    with MinistryServer() as srv:
        monkeypatch.setenv("ONESTOP_HOME", str(tmp_path / "office"))
        point_at(monkeypatch, srv.url)
        assert run("sync", "--from-spool", spool).exit_code == 0
        assert_exactly_once(srv, db)


def test_default_target_without_url_is_the_spool_in_the_data_home(home, run, db, cfg):
    make_dossiers(db, cfg, 2)
    r = run("sync")
    assert r.exit_code == 0
    assert str(home / "spool") in r.stderr
    assert len(list((home / "spool").glob("0*.json"))) == 2  # two batch files (+ office.json)


def test_from_spool_needs_an_address(home, run, tmp_path):
    (tmp_path / "spool").mkdir()
    r = run("sync", "--from-spool", tmp_path / "spool")
    assert r.exit_code == 8
    assert "ONESTOP_SYNC_URL" in r.stderr

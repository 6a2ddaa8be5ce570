"""Counter commands on the office database (issue 9): a connection lost in the middle of a receive
consumes no code, and each desk keeps its own data home (its own codes-issued.json) on one shared
database. Run against the real PostgreSQL server of tests/pg.py on both test runs."""

from __future__ import annotations

import json

import pytest

from onestop.common import errors

ID = "001085012345"


@pytest.fixture
def office(pg_url, monkeypatch):
    """This test's data home pointed at a fresh office database."""
    from onestop import store

    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    monkeypatch.setattr(store, "COMMANDS_ON_POSTGRESQL", True)
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-23 09:00")
    return pg_url


def _request():
    from onestop.intake import dossiers

    return dossiers.ReceiveRequest(procedure_code="1.003584",
                                   applicant=dossiers.Applicant(name="Lê Văn Tám", id_number=ID))


def test_connection_lost_during_receive_consumes_no_code(office, home):
    """The session ends while the receive holds its transaction (dossier, components, event and outbox
    rows inserted, the numbering statement under way): a third session holds the book counter table, so the
    receive waits inside its numbering statement (onestop/store/codes.py: number_dossier); the server
    then ends the desk's session from another one. (Since P11 the receipt is rendered after the
    commit, so it can no longer serve as the moment inside the transaction.)"""
    import threading
    import time

    from onestop.intake import catalog, dossiers
    from onestop.common import config
    from onestop import store

    cfg = config.load()
    desk, admin, blocker = store.connect(cfg), store.connect(cfg), store.connect(cfg)
    catalog.ensure_loaded(desk, cfg.catalog_file)
    pid = desk.execute("SELECT pg_backend_pid()").fetchone()[0]
    outcome = {}

    def receive():
        try:
            outcome["result"] = dossiers.receive(desk, cfg, _request())
        except BaseException as e:  # noqa: BLE001 - checked below
            outcome["error"] = e

    with blocker.transaction():
        blocker.execute("LOCK TABLE book_sequences IN EXCLUSIVE MODE")  # blocks the numbering, nothing before it
        worker = threading.Thread(target=receive)
        worker.start()
        deadline = time.monotonic() + 30
        while not admin.execute("SELECT count(*) FROM pg_locks WHERE pid = ? AND NOT granted", [pid]).fetchone()[0]:
            assert time.monotonic() < deadline and worker.is_alive(), outcome
            time.sleep(0.01)
        # it waits inside the numbering statement (which opened the counter tables), holding its rows
        held = {r[0] for r in admin.execute("SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                            "WHERE l.pid = ? AND l.granted", [pid]).fetchall()}
        assert {"dossiers", "dossier_components", "events", "outbox", "code_sequences"} <= held, held
        admin.execute("SELECT pg_terminate_backend(?)", [pid])
        worker.join(30)
    e = outcome.get("error")
    assert isinstance(e, errors.DatabaseUnreachable), outcome
    assert e.exit_code == 17 and "Nothing was stored" in e.en
    assert not list(home.rglob("*_Mau01*.pdf"))  # no receipt for a code never committed
    for table in ("dossiers", "code_sequences", "book_sequences", "events", "outbox"):
        assert admin.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    # The next receive (a new connection) issues the number the lost one had: no gap.
    again = store.connect(cfg)
    r = dossiers.receive(again, cfg, _request(), render=False)
    assert r["code"].endswith("-261123-0001") and r["book_no"] == 1


def test_desks_with_their_own_homes_share_the_office_sequence(office, home, tmp_path, monkeypatch, run):
    """A second desk whose home already issued codes on its own SQLite file (its codes-issued.json
    names that home) joins the office database: it is not refused as "another data home", and its
    marks still keep it above the codes it printed."""
    r = run("receive", "-p", "1.003584", "--name", "An", "--id", ID, "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["code"].endswith("-261123-0001")
    second = tmp_path / "desk2"
    second.mkdir()
    (second / "codes-issued.json").write_text(json.dumps(
        {"home_id": "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0", "seq": {"000.00.12.H26|261123": 5},
         "book": {"000.00.12.H26|2026": 5}}))
    monkeypatch.setenv("ONESTOP_HOME", str(second))
    r = run("receive", "-p", "1.003584", "--name", "Bình", "--id", ID, "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["code"].endswith("-261123-0006") and json.loads(r.stdout)["book_no"] == 6
    monkeypatch.setenv("ONESTOP_HOME", str(home))
    r = run("receive", "-p", "1.003584", "--name", "Chi", "--id", ID, "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["code"].endswith("-261123-0007")


def test_office_of_another_agency_is_refused_naming_the_database(office, home, run, pg_server):
    r = run("receive", "-p", "1.003584", "--name", "An", "--id", ID, "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    (home / "onestop.toml").write_text('[agency]\ncode = "000.00.13.H26"\n')  # this desk's own override
    r = run("--lang", "en", "receive", "-p", "1.003584", "--name", "An", "--id", ID, "--all-components", "--json")
    assert r.exit_code == errors.HomeMismatch.exit_code, r.stderr
    assert "belongs to agency '000.00.12.H26'" in r.stderr and "ONESTOP_DATABASE_URL" in r.stderr
    assert "onestop.db" not in r.stderr and pg_server.password not in r.stderr

"""Issue 17, items 4 and 5: the USB stick is not trusted, and a lost stick does not strand entries.

The office seals each spool batch (SHA-256 + nonce + HMAC-SHA256 under a secret kept in its
database); the delivering machine checks batches and files before sending anything, sends with the
stick's agency code and reads what it already delivered from the stick; the office takes an
acknowledgement only for its own sealed batch, delivered unchanged. Entries spooled and not
acknowledged after ``[sync] spool_ack_days`` are reported (exit 11) and ``sync resend-spooled``
sends them again, by URL or to a new stick, without anything twice.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from ministry_server import MinistryServer
from sync_helpers import add_file, assert_exactly_once, fake_pdf, files_table, make_dossiers, point_at
from test_sync_spool import _home, _states, _use, office_url  # noqa: F401 - fixture


def _spool(run, db, cfg, tmp_path, n=6, *, files=True, moves=False):
    codes = make_dossiers(db, cfg, n, moves=moves)
    if files and files_table(db):
        for i, code in enumerate(codes[:2]):
            add_file(db, cfg, code, 1, fake_pdf(i))
    spool = tmp_path / "usb" / "spool"
    r = run("sync", "--spool", spool)
    assert r.exit_code == 0, r.output
    return codes, spool


def _batch(spool, service: str):
    return sorted(spool.glob(f"*-{service}.json"))[0]


def _reseal(spool, batch) -> None:
    """What someone without the office's secret can do: put the edited batch's hash in its seal."""
    seal = spool / "seals" / batch.name
    body = json.loads(seal.read_text())
    body["sha256"] = hashlib.sha256(batch.read_bytes()).hexdigest()
    seal.write_text(json.dumps(body))


def _connected(monkeypatch, tmp_path, srv, agency: str | None = None):
    """The connected machine: its own data home (SQLite), maybe another office's agency code."""
    cfg, db = _home(tmp_path / "connected", monkeypatch, None)
    if agency:
        with open(tmp_path / "connected" / "onestop.toml", "a", encoding="utf-8") as f:
            f.write(f'\n[agency]\ncode = "{agency}"\n')
    point_at(monkeypatch, srv.url)
    from onestop.common import config

    return config.load(), db


def _no_requests(srv) -> bool:
    reqs = srv.state.stats()["requests"]
    return not any(reqs.get(k) for k in ("DongBoHoSoMC", "CapNhatTienDoHoSoMC", "upload"))


# ---------------------------------------------------------------- item 4: acknowledgements

def test_a_forged_acknowledgement_marks_nothing_done(home, run, tmp_path, monkeypatch, office_url):
    """Red team: an acks/*.json with the office id and every entry id marked six never-sent entries
    synced. Now it is refused (exit 4, the file named) and nothing changes."""
    cfg, db = _home(home, monkeypatch, office_url)
    _, spool = _spool(run, db, cfg, tmp_path, files=False)
    office = json.loads((spool / "office.json").read_text())
    before = _states(db)
    assert set(before.values()) == {"spooled"}
    (spool / "acks").mkdir()
    forged = spool / "acks" / "000001-DongBoHoSoMC.json"
    forged.write_text(json.dumps({"office_id": office["office_id"], "agency": office["agency"],
                                  "batch": "000001-DongBoHoSoMC.json", "acked": sorted(before), "refused": []}))
    r = run("sync", "acks", spool)
    assert r.exit_code == 4, r.output
    assert str(forged) in r.stderr and "Traceback" not in r.output
    assert _states(db) == before
    # copying the real batch's hash and nonce does not help when the batch itself was edited
    batch = _batch(spool, "DongBoHoSoMC")
    body = json.loads(batch.read_text("utf-8"))
    body["data"][0]["ChuHoSo"] = "Người Khác"
    batch.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
    _reseal(spool, batch)
    seal = json.loads((spool / "seals" / batch.name).read_text())
    forged.write_text(json.dumps({"office_id": office["office_id"], "batch": batch.name, "sha256": seal["sha256"],
                                  "nonce": seal["nonce"], "final": True,
                                  "acked_items": list(range(len(body["data"])))}))
    r = run("sync", "acks", spool)
    assert r.exit_code == 4 and str(spool / "seals" / batch.name) in r.stderr, r.output
    assert _states(db) == before


def test_an_edited_batch_is_refused_by_the_delivering_machine(home, run, tmp_path, monkeypatch, office_url):
    """Red team: a batch edited on the stick (another name, ID and phone) reached the ministry and
    was acknowledged. Now the delivering machine refuses it before sending anything; one that also
    rewrote the seal's hash is refused by the office's own machine (it holds the key), and its
    acknowledgement is refused at the office."""
    cfg, db = _home(home, monkeypatch, office_url)
    codes, spool = _spool(run, db, cfg, tmp_path, files=False)
    batch = _batch(spool, "DongBoHoSoMC")
    body = json.loads(batch.read_text("utf-8"))
    body["data"][0].update(ChuHoSo="Kẻ Giả Mạo", SoGiayToChuHoSo="001099000001", SoDienThoai="0999000111")
    batch.write_text(json.dumps(body, ensure_ascii=False, indent=1), "utf-8")
    with MinistryServer() as srv:
        _connected(monkeypatch, tmp_path, srv)
        r = run("sync", "--from-spool", spool)
        assert r.exit_code == 4, r.output
        assert str(batch) in r.stderr and "SHA-256" in r.stderr
        assert _no_requests(srv) and srv.state.dossiers == {}
        assert not (spool / "acks").exists() or not list((spool / "acks").iterdir())
        # the seal's hash rewritten too: the office's own machine checks the MAC
        _reseal(spool, batch)
        _use(monkeypatch, home, office_url)
        point_at(monkeypatch, srv.url)
        r = run("sync", "--from-spool", spool)
        assert r.exit_code == 4 and "MAC" in r.stderr, r.output
        assert _no_requests(srv)
        # a machine without the key cannot tell and delivers it; the office refuses the acknowledgements
        _connected(monkeypatch, tmp_path, srv)
        assert run("sync", "--from-spool", spool).exit_code == 0
    _use(monkeypatch, home, office_url)
    before = _states(db)
    r = run("sync", "acks", spool)
    assert r.exit_code == 4 and batch.name in r.stderr, r.output
    assert _states(db) == before and set(before.values()) == {"spooled"}


def test_a_stick_copied_without_its_sent_db_is_not_delivered_twice(home, run, tmp_path, monkeypatch, office_url):
    """Red team: a copy of the stick without the hidden .sent.db was delivered again (a duplicate
    step). What was delivered is now read from the stick's own acks/."""
    cfg, db = _home(home, monkeypatch, office_url)
    codes, spool = _spool(run, db, cfg, tmp_path, moves=True)
    with MinistryServer() as srv:
        _connected(monkeypatch, tmp_path, srv)
        assert run("sync", "--from-spool", spool).exit_code == 0
        before = srv.state.stats()
        copy = tmp_path / "copy"
        shutil.copytree(spool, copy, ignore=shutil.ignore_patterns(".*"))
        assert not list(copy.glob(".*"))
        r = run("sync", "--from-spool", copy)
        assert r.exit_code == 0, r.output
        after = srv.state.stats()
        assert (after["creates"], after["updates"], after["steps"], after["uploads"]) == \
            (before["creates"], before["updates"], before["steps"], before["uploads"])
        assert after["requests"].get("DongBoHoSoMC") == before["requests"].get("DongBoHoSoMC")
        _use(monkeypatch, home, office_url)
        assert run("sync", "acks", copy).exit_code == 0
        assert set(_states(db).values()) == {"done"}
        assert_exactly_once(srv, db)


def test_a_delivery_cut_after_a_create_went_out_resumes_without_a_collision(home, run, tmp_path, monkeypatch,
                                                                           office_url):
    """The connected machine loses the line after the server applied a create batch: the stick says
    the batch's delivery had begun, so the next run's "đã tồn tại" is ours (an update, not a
    collision), and nothing goes twice."""
    cfg, db = _home(home, monkeypatch, office_url)
    codes, spool = _spool(run, db, cfg, tmp_path, files=False, moves=True)
    with MinistryServer() as srv:
        _connected(monkeypatch, tmp_path, srv)
        srv.fault("drop", times=10, service="DongBoHoSoMC")
        assert run("sync", "--from-spool", spool).exit_code == 75
        batch = _batch(spool, "DongBoHoSoMC")
        assert json.loads((spool / "acks" / batch.name).read_text())["final"] is False
        assert srv.state.stats()["creates"] >= 1  # applied, answers lost
        srv.state.faults.clear()
        r = run("sync", "--from-spool", spool)
        assert r.exit_code == 0, r.output
        _use(monkeypatch, home, office_url)
        assert run("sync", "acks", spool).exit_code == 0
        assert set(_states(db).values()) == {"done"}
        assert_exactly_once(srv, db)


@pytest.mark.parametrize("attack", ["absolute", "escape", "symlink"])
def test_upload_items_reach_only_the_sticks_own_files(home, run, tmp_path, monkeypatch, office_url, attack):
    """Red team: an upload item's ``file`` path or a files/<sha>.pdf symlink made the delivering
    machine upload any local file it could read. Now: exit 4 naming the file, nothing uploaded."""
    cfg, db = _home(home, monkeypatch, office_url)
    if not files_table(db):
        pytest.skip("no archive table")
    codes, spool = _spool(run, db, cfg, tmp_path)
    secret = tmp_path / "connected-secret.txt"
    secret.write_text("mật khẩu của máy có mạng")
    sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    batch = _batch(spool, "upload")
    body = json.loads(batch.read_text("utf-8"))
    if attack == "symlink":
        target = spool / body["data"][0]["file"]
        target.unlink()
        target.symlink_to(secret)
        named = target
    else:
        body["data"][0]["file"] = str(secret) if attack == "absolute" else f"files/../../../{secret.name}"
        body["data"][0]["sha256"] = sha
        batch.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
        _reseal(spool, batch)
        named = batch
    with MinistryServer() as srv:
        _connected(monkeypatch, tmp_path, srv)
        r = run("sync", "--from-spool", spool)
        assert r.exit_code == 4, r.output
        assert str(named) in r.stderr and "Traceback" not in r.output
        assert srv.state.files == {} and _no_requests(srv)


def test_from_spool_sends_with_the_sticks_agency_code(home, run, tmp_path, monkeypatch, office_url):
    """Red team: --from-spool used the delivering machine's agency code instead of the stick's."""
    cfg, db = _home(home, monkeypatch, office_url)
    codes, spool = _spool(run, db, cfg, tmp_path)
    with MinistryServer() as srv:
        ccfg, _ = _connected(monkeypatch, tmp_path, srv, agency="000.00.99.H99")
        assert ccfg.agency_code == "000.00.99.H99"
        assert run("sync", "--from-spool", spool).exit_code == 0
        assert set(srv.state.madonvi) == {cfg.agency_code}
        assert sorted(srv.state.dossiers) == sorted(codes)


@pytest.mark.parametrize("damage", ["batch", "seal", "office", "ack", "acks-link", "unsealed", "nested", "mac"])
def test_damaged_or_hostile_stick_files_exit_4_naming_the_file(home, run, tmp_path, monkeypatch, office_url,
                                                                 damage):
    cfg, db = _home(home, monkeypatch, office_url)
    codes, spool = _spool(run, db, cfg, tmp_path, files=False)
    batch = _batch(spool, "CapNhatTienDoHoSoMC")
    with MinistryServer() as srv:
        if damage == "ack":  # delivered once, then its acknowledgement damaged
            _connected(monkeypatch, tmp_path, srv)
            assert run("sync", "--from-spool", spool).exit_code == 0
        if damage == "batch":
            named = batch
            named.write_bytes(named.read_bytes()[:40])
        elif damage == "seal":
            named = spool / "seals" / batch.name
            named.write_bytes(b"\xff\xfe garbage")
        elif damage == "office":
            named = spool / "office.json"
            named.write_text("[1, 2")
        elif damage == "ack":
            named = spool / "acks" / batch.name
            named.write_text('{"office_id": 1')
        elif damage == "nested":  # valid JSON nested beyond Python's recursion limit
            named = spool / "seals" / batch.name
            named.write_text("[" * 200000 + "]" * 200000)
        elif damage == "mac":  # a MAC that is not even hex, checked by the office's own machine
            named = spool / "seals" / batch.name
            seal = json.loads(named.read_text())
            named.write_text(json.dumps(dict(seal, mac="mã-giả"), ensure_ascii=False))
        elif damage == "acks-link":
            elsewhere = tmp_path / "elsewhere"
            elsewhere.mkdir()
            named = spool / "acks"
            named.symlink_to(elsewhere, target_is_directory=True)
        else:
            named = spool / "000099-DongBoHoSoMC.json"
            named.write_text(json.dumps({"madonvi": cfg.agency_code, "service": "DongBoHoSoMC",
                                         "isUpdating": "False", "data": []}))
        if damage == "mac":
            _use(monkeypatch, home, office_url)
            point_at(monkeypatch, srv.url)
        else:
            _connected(monkeypatch, tmp_path, srv)
        n = srv.state.stats()["requests"]
        r = run("sync", "--from-spool", spool)
        assert r.exit_code == 4, r.output
        assert str(named) in r.stderr and "Traceback" not in r.output
        assert srv.state.stats()["requests"] == n
        if damage == "acks-link":
            assert list(elsewhere.iterdir()) == []
    _use(monkeypatch, home, office_url)
    before = _states(db)
    r = run("sync", "acks", spool)
    if damage in ("office", "ack", "acks-link"):  # what `sync acks` reads without an acknowledgement
        assert r.exit_code == 4 and str(named) in r.stderr, r.output
    assert r.exit_code != 1 and "Traceback" not in r.output
    assert _states(db) == before


# ---------------------------------------------------------------- item 5: a lost stick

def _lost_stick_office(home, run, tmp_path, monkeypatch, office_url):
    """Two dossiers spooled on 1 December; the stick is not back on the 9th (spool_ack_days 7)."""
    monkeypatch.setenv("ONESTOP_NOW", "2026-12-01 09:00")
    cfg, db = _home(home, monkeypatch, office_url)
    codes, spool = _spool(run, db, cfg, tmp_path, n=2)
    monkeypatch.setenv("ONESTOP_NOW", "2026-12-09 09:30")
    return cfg, db, codes, spool


def test_a_lost_stick_is_reported_and_resent_by_url(home, run, tmp_path, monkeypatch, office_url):
    """Red team: spool, lose the stick, go on working: every night exited 0 ("2 mục chờ xác nhận"),
    `sync retry` requeued nothing, the dossier's later steps never left."""
    from onestop.intake import dossiers

    cfg, db, codes, spool = _lost_stick_office(home, run, tmp_path, monkeypatch, office_url)
    dossiers.move(db, cfg, codes[0], "4", render=False)  # work goes on
    n = sum(1 for v in _states(db).values() if v == "spooled")
    with MinistryServer() as srv:
        point_at(monkeypatch, srv.url)
        r = run("sync")
        assert r.exit_code == 11, r.output
        assert "resend-spooled" in r.stderr and f"{n} mục đã ghi vào spool" in r.stderr
        st = json.loads(run("sync", "status", "--json").stdout)
        assert st["spooled_overdue"] == n and st["spooled_overdue_since"].startswith("2026-12-01")
        assert st["spool_ack_days"] == 7
        assert "Quá 7 ngày chưa được xác nhận" in run("sync", "status").stdout
        assert srv.state.dossiers == {}
        r = run("sync", "resend-spooled")
        assert r.exit_code == 0, r.output
        assert sorted(srv.state.dossiers) == sorted(codes)
        assert [s["TrangThai"] for s in srv.state.steps[codes[0]]] == ["2", "4"]
        assert_exactly_once(srv, db)
        assert set(_states(db).values()) == {"done"}
        st = json.loads(run("sync", "status", "--json").stdout)
        assert st["spooled_overdue"] == 0 and st["spooled_unacknowledged"] == 0
        assert run("sync").exit_code == 0
        # the lost stick turns up and is delivered after all: nothing twice, its acks change nothing
        _connected(monkeypatch, tmp_path, srv)
        assert run("sync", "--from-spool", spool).exit_code in (0, 11)
        _use(monkeypatch, home, office_url)
        assert_exactly_once(srv, db)
        assert srv.state.dossiers[codes[0]]["TrangThaiHoSo"] == "4"


def test_a_stick_delivered_whose_acks_were_lost_is_resent_without_duplicates(home, run, tmp_path, monkeypatch,
                                                                             office_url):
    """The stick reached the ministry but its acknowledgements never came back: sending again finds
    the creates and steps on the server (an update for each create, no second step or upload)."""
    cfg, db, codes, spool = _lost_stick_office(home, run, tmp_path, monkeypatch, office_url)
    with MinistryServer() as srv:
        _connected(monkeypatch, tmp_path, srv)
        assert run("sync", "--from-spool", spool).exit_code == 0
        before = srv.state.stats()
        _use(monkeypatch, home, office_url)
        point_at(monkeypatch, srv.url)
        r = run("sync", "resend-spooled")
        assert r.exit_code == 0, r.output  # "đã tồn tại" after a spool is ours, not a collision
        after = srv.state.stats()
        assert (after["creates"], after["steps"]) == (before["creates"], before["steps"])
        assert_exactly_once(srv, db)
        assert set(_states(db).values()) == {"done"}


def test_a_lost_stick_is_resent_to_a_new_stick(home, run, tmp_path, monkeypatch, office_url):
    """Both sticks end up delivered (the old one turned up): every dossier, step and file once;
    both sticks' acknowledgements are taken."""
    cfg, db, codes, spool = _lost_stick_office(home, run, tmp_path, monkeypatch, office_url)
    new = tmp_path / "usb2" / "spool"
    r = run("sync", "resend-spooled", "--spool", new)
    assert r.exit_code == 0, r.output
    assert set(_states(db).values()) == {"spooled"}
    assert json.loads(run("sync", "status", "--json").stdout)["spooled_overdue"] == 0
    assert run("sync", "resend-spooled", "--spool", new).exit_code == 0  # nothing overdue: nothing written
    with MinistryServer() as srv:
        _connected(monkeypatch, tmp_path, srv)
        assert run("sync", "--from-spool", spool).exit_code == 0
        r = run("sync", "--from-spool", new)
        assert r.exit_code == 0, r.output
        _use(monkeypatch, home, office_url)
        assert run("sync", "acks", new).exit_code == 0
        assert run("sync", "acks", spool).exit_code == 0
        assert set(_states(db).values()) == {"done"}
        assert_exactly_once(srv, db)


def test_the_office_secret_never_reaches_the_stick_or_the_log(home, run, tmp_path, monkeypatch, office_url, rows):
    cfg, db = _home(home, monkeypatch, office_url)
    codes, spool = _spool(run, db, cfg, tmp_path)
    secret = rows("SELECT value FROM office WHERE key = 'spool_secret'")[0][0]
    assert len(secret) == 64 and int(secret, 16) >= 0
    outputs = [run("sync", "status", "--json").stdout, run("sync", "--spool", spool, "--json").stdout]
    with MinistryServer() as srv:
        _connected(monkeypatch, tmp_path, srv)
        outputs.append(run("sync", "--from-spool", spool).stderr)
    _use(monkeypatch, home, office_url)
    r = run("sync", "acks", spool, "--json")
    assert r.exit_code == 0, r.output
    outputs += [r.stdout, r.stderr]
    files = [p for p in list(spool.rglob("*")) + list(home.rglob("*.log")) if p.is_file()]
    assert files and not any(secret.encode() in p.read_bytes() for p in files)
    assert not any(secret in o for o in outputs)

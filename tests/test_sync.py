"""Sync against a real HTTP server on 127.0.0.1 (tests/ministry_server.py) that misbehaves on command.

Every test ends with the server's state: each dossier, step and file exactly once.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from ministry_server import REQUIRED
from sync_helpers import env, srv  # noqa: F401 - fixtures
from sync_helpers import (PASSWORD, add_file, assert_exactly_once, expected_steps, fake_pdf, files_table,
                          make_dossiers, write_sync_config)



def sync(cfg, db, **kw):
    from onestop.sync import run_sync

    return run_sync(cfg, db, **kw)


def pending(db) -> int:
    return db.execute("SELECT count(*) FROM outbox WHERE state != 'done'").fetchone()[0]


def test_everything_once_and_second_run_sends_nothing(env, srv, run, home):
    cfg, db = env
    make_dossiers(db, cfg, 12)
    r = run("sync")
    assert r.exit_code == 0, r.output
    assert "đã gửi" in r.stderr
    assert_exactly_once(srv, db)
    assert pending(db) == 0
    before = srv.state.stats()
    r = run("sync")
    assert r.exit_code == 0
    assert srv.state.stats()["creates"] == before["creates"]
    assert srv.state.stats()["steps"] == before["steps"]


def test_payloads_follow_the_contract(env, srv, rows):
    cfg, db = env
    codes = make_dossiers(db, cfg, 3)
    res = sync(cfg, db)
    assert res.exit_code == 0
    rec = srv.state.dossiers[codes[0]]
    for k in ("MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "KenhThucHien", "ChuHoSo", "LoaiDoiTuong",
              "TrichYeuHoSo", "NgayTiepNhan", "NgayHenTra", "TrangThaiHoSo", "DonViXuLy", "TaiLieuNop"):
        assert k in rec
    assert re.fullmatch(r"\d{14}", rec["NgayTiepNhan"]) and re.fullmatch(r"\d{14}", rec["NgayHenTra"])
    assert rec["TrangThaiHoSo"] in ("4", "9") and isinstance(rec["KenhThucHien"], str)
    assert rec["DinhDanhCHS"] == [{"LoaiDinhDanh": "1", "SoDinhDanh": "001085012345"}]
    assert all(d["IsDeleted"] == "False" for d in rec["TaiLieuNop"])
    first = srv.state.steps[codes[1]][0]
    assert first["NoiDungXuLy"] == "Tiếp nhận hồ sơ" and first["TrangThai"] == "2"
    assert first["ThoiDiemXuLy"] == srv.state.dossiers[codes[1]]["NgayTiepNhan"]
    # Vietnam time: the stored ISO time with its +07:00 offset, digits only
    d = rows("SELECT received_at FROM dossiers WHERE code = ?", [codes[1]])[0][0]
    assert rec and srv.state.dossiers[codes[1]]["NgayTiepNhan"] == re.sub(r"\D", "", d[:19])
    assert srv.state.headers_seen[0].get("dstcode") == "VN:GOV:000.00.00.G22:vpcpdvcprovider"


def test_log_has_no_password_and_no_personal_data(env, srv, rows):
    cfg, db = env
    make_dossiers(db, cfg, 4)
    srv.reject[rows("SELECT code FROM dossiers LIMIT 1")[0][0]] = "Trường ChuHoSo không hợp lệ"
    sync(cfg, db)
    text = (cfg.logs_dir / "sync.log").read_text("utf-8")
    assert "sync end" in text
    for secret in (PASSWORD, "Nguyễn Văn An", "001085012345", "0912345678"):
        assert secret not in text
    assert not re.search(r"[0-9a-f]{32}", text)  # no session token


def test_http_500_is_retried(env, srv):
    cfg, db = env
    make_dossiers(db, cfg, 6)
    srv.fault("500", times=2, service="DongBoHoSoMC")
    srv.fault("500", times=2, service="CapNhatTienDoHoSoMC")
    assert sync(cfg, db).exit_code == 0
    assert_exactly_once(srv, db)


def test_dropped_connection_after_applying_steps_sends_no_duplicate(env, srv):
    cfg, db = env
    make_dossiers(db, cfg, 8)
    srv.fault("drop", times=2, service="CapNhatTienDoHoSoMC")
    res = sync(cfg, db)
    assert res.exit_code == 0
    assert res.stats["already_by_kind"].get("step", 0) >= 5  # found on the server, not resent
    assert_exactly_once(srv, db)


def test_dropped_connection_after_applying_creates(env, srv):
    cfg, db = env
    make_dossiers(db, cfg, 7)
    srv.fault("drop", times=1, service="DongBoHoSoMC")
    res = sync(cfg, db)
    assert res.exit_code == 0
    assert res.stats["already_by_kind"].get("create") == 5  # "đã tồn tại" → resent as update
    assert_exactly_once(srv, db)


def test_timeout_then_answer_lost(env, srv):
    cfg, db = env
    make_dossiers(db, cfg, 5)
    srv.fault("timeout", times=1, service="CapNhatTienDoHoSoMC", delay=1.5)
    assert sync(cfg, db).exit_code == 0
    assert_exactly_once(srv, db)


def test_slow_answers_are_waited_for(env, srv):
    cfg, db = env
    make_dossiers(db, cfg, 5)
    srv.fault("slow", times=3, delay=0.4)
    assert sync(cfg, db).exit_code == 0
    assert_exactly_once(srv, db)


def test_session_expiry_logs_in_again(env, srv):
    cfg, db = env
    make_dossiers(db, cfg, 12)
    srv.fault("expire", times=1, service="CapNhatTienDoHoSoMC")
    srv.fault("401", times=1, service="DongBoHoSoMC")
    assert sync(cfg, db).exit_code == 0
    assert srv.state.logins == 3
    assert_exactly_once(srv, db)


def test_rejected_item_is_recorded_and_retried_after_fix(env, srv, run):
    cfg, db = env
    codes = make_dossiers(db, cfg, 6)
    bad = codes[3]
    srv.reject[bad] = "Mã lĩnh vực không đúng danh mục"
    r = run("sync")
    assert r.exit_code == 11
    assert "Mã lĩnh vực không đúng danh mục" in r.stderr
    assert bad not in srv.state.dossiers and len(srv.state.dossiers) == 5
    assert bad not in srv.state.steps  # its steps wait for the dossier
    st = json.loads(run("sync", "status", "--json").stdout)
    assert [f["code"] for f in st["failed"]] == [bad]
    assert "Mã lĩnh vực" in st["failed"][0]["error"]
    assert st["last_run"]["exit_code"] == 11
    # a second run does not hammer the server with the same bad item, and still says it is held
    before = srv.state.stats()["requests"].get("DongBoHoSoMC", 0)
    assert run("sync").exit_code == 11
    assert srv.state.stats()["requests"].get("DongBoHoSoMC", 0) == before
    del srv.reject[bad]
    r = run("sync", "retry", bad)
    assert r.exit_code == 0 and "1" in r.stderr
    assert run("sync").exit_code == 0
    assert_exactly_once(srv, db)


def test_rejected_step_holds_the_later_steps(env, srv):
    cfg, db = env
    from onestop.intake import dossiers

    codes = make_dossiers(db, cfg, 2, moves=False)
    srv.reject_steps[codes[0]] = "NguoiXuLy không hợp lệ"
    assert sync(cfg, db).exit_code == 11
    dossiers.move(db, cfg, codes[0], "4", render=False)
    res = sync(cfg, db)
    assert res.stats["held"] == 1 and codes[0] not in srv.state.steps
    del srv.reject_steps[codes[0]]
    from onestop.sync import retry

    retry(db, cfg, codes[0])
    assert sync(cfg, db).exit_code == 0
    assert [s["TrangThai"] for s in srv.state.steps[codes[0]]] == ["2", "4"]
    assert_exactly_once(srv, db)


def test_already_exists_after_a_lost_answer_is_resent_as_update(env, srv, rows):
    """Our create reached the server but its answer was lost (a run killed after sending): the
    "đã tồn tại" of the next attempt is ours, even when TraCuuHoSo does not say whose."""
    cfg, db = env
    codes = make_dossiers(db, cfg, 3)
    srv.seed(codes[1])  # the contract's TraCuuHoSo: MaHoSo and TrangThaiHoSo only
    did = rows("SELECT id FROM dossiers WHERE code = ?", [codes[1]])[0][0]
    db.execute("UPDATE outbox SET unanswered = 1 WHERE kind = 'create' AND dossier_id = ?", [did])
    res = sync(cfg, db)
    assert res.exit_code == 0
    assert res.stats["already_by_kind"] == {"create": 1}
    assert srv.state.updates[codes[1]] == 1 and "ChuHoSo" in srv.state.dossiers[codes[1]]


def test_answer_lost_inside_one_run_is_not_a_collision(env, srv):
    """The first attempt was applied and its connection dropped; the retry of the same run hears
    "đã tồn tại": our own create, resent as an update."""
    cfg, db = env
    codes = make_dossiers(db, cfg, 3)
    srv.fault("drop", times=1, service="DongBoHoSoMC")
    res = sync(cfg, db)
    assert res.exit_code == 0, res.stats
    assert_exactly_once(srv, db)


def test_same_code_first_attempt_is_a_collision_even_when_lookup_cannot_tell(env, srv, run, rows):
    """Issue 17 item 6: another office with our agency code put a dossier under our code; the
    server's TraCuuHoSo says only MaHoSo and TrangThaiHoSo (the contract). Our create's first
    attempt is answered "đã tồn tại": held with the message, never resent as an update."""
    cfg, db = env
    codes = make_dossiers(db, cfg, 3)
    theirs = {"MaHoSo": codes[1], "TrangThaiHoSo": "2"}
    srv.seed(codes[1], dict(theirs))
    r = run("sync")
    assert r.exit_code == 11, r.output
    assert "mã hồ sơ đã được dùng cho hồ sơ khác: kiểm tra mã cơ quan" in r.stderr
    assert "đã tồn tại" in r.stderr  # the server's own message is kept
    assert srv.state.dossiers[codes[1]] == theirs and srv.state.updates[codes[1]] == 0
    assert codes[1] not in srv.state.steps
    st = json.loads(run("sync", "status", "--json").stdout)
    assert [(f["code"], f["kind"]) for f in st["failed"]] == [(codes[1], "create")]
    assert "kiểm tra mã cơ quan" in st["failed"][0]["error"]
    # a retry without a fix: still held, still not overwritten
    assert run("sync", "retry", codes[1]).exit_code == 0
    assert run("sync").exit_code == 11
    assert srv.state.dossiers[codes[1]] == theirs and srv.state.updates[codes[1]] == 0


def test_unreachable_exits_75_and_keeps_the_queue(env, monkeypatch, run, rows):
    cfg, db = env
    make_dossiers(db, cfg, 3)
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("ONESTOP_SYNC_URL", f"http://127.0.0.1:{port}/api")
    r = run("sync")
    assert r.exit_code == 75, r.output
    assert "không kết nối" in r.stderr.lower()
    assert pending(db) == rows("SELECT count(*) FROM outbox")[0][0]


def test_lost_answer_across_runs(env, srv, home, rows):
    """The run dies with the steps applied but unanswered; the next run finds them on the server."""
    cfg, db = env
    make_dossiers(db, cfg, 5)
    write_sync_config(home, retries=0)
    from onestop.common import config

    cfg0 = config.load()
    srv.fault("timeout", times=1, service="CapNhatTienDoHoSoMC", delay=1.5)
    assert sync(cfg0, db).exit_code == 75
    assert rows("SELECT count(*) FROM outbox WHERE kind='step' AND state='pending' AND attempts > 0")[0][0] == 5
    assert srv.state.n_steps == 5
    res = sync(cfg, db)
    assert res.exit_code == 0 and res.stats["already_by_kind"]["step"] == 5
    assert_exactly_once(srv, db)


def test_lock_gives_its_own_exit_code(env, run, home):
    from onestop.sync.lock import run_lock

    cfg, db = env
    with run_lock(cfg):  # the data home's lock file, or the office database's advisory lock
        r = run("sync")
    assert r.exit_code == 12
    assert "đang chạy" in r.stderr


def test_wrong_password(env, monkeypatch, run):
    cfg, db = env
    make_dossiers(db, cfg, 1)
    monkeypatch.setenv("ONESTOP_SYNC_PASSWORD", "sai-mat-khau")
    r = run("sync")
    assert r.exit_code == 8
    assert "sai-mat-khau" not in r.output + r.stderr


def test_dry_run_writes_payloads_and_sends_nothing(env, srv, run, tmp_path, rows):
    cfg, db = env
    make_dossiers(db, cfg, 6)
    out = tmp_path / "dry"
    r = run("sync", "--dry-run", out)
    assert r.exit_code == 0
    names = sorted(p.name for p in out.glob("*.json"))
    assert names[0] == "000001-DongBoHoSoMC.json"
    body = json.loads((out / names[0]).read_text("utf-8"))
    assert body["service"] == "DongBoHoSoMC" and body["isUpdating"] == "False" and len(body["data"]) == 5
    assert srv.state.stats()["requests"] == {}
    assert pending(db) == rows("SELECT count(*) FROM outbox")[0][0]


def test_limit_and_dossier(env, srv, run):
    cfg, db = env
    codes = make_dossiers(db, cfg, 6)
    assert run("sync", "--dossier", codes[2]).exit_code == 0
    assert list(srv.state.dossiers) == [codes[2]]
    assert run("sync", "--limit", 3).exit_code == 0
    assert len(srv.state.dossiers) == 2
    assert run("sync").exit_code == 0
    assert_exactly_once(srv, db)


def test_status_json(env, srv, run):
    cfg, db = env
    make_dossiers(db, cfg, 2)
    st = json.loads(run("sync", "status", "--json").stdout)
    assert st["pending"]["create"] == 2 and st["last_run"] is None
    run("sync")
    st = json.loads(run("sync", "status", "--json").stdout)
    assert st["pending_total"] == 0 and st["last_run"]["sent"] >= 4 and st["last_run"]["exit_code"] == 0


def test_files_uploaded_once_before_their_record(env, srv):
    cfg, db = env
    if not files_table(db):
        pytest.skip("the archive's files table (migration 0002_archive) is not in this tree yet")
    codes = make_dossiers(db, cfg, 4)
    add_file(db, cfg, codes[0], 1, fake_pdf(1))
    add_file(db, cfg, codes[1], 1, fake_pdf(2))
    add_file(db, cfg, codes[2], 1, fake_pdf(1))  # the same bytes: one file on the server
    srv.fault("drop", times=1, path="upload")
    assert sync(cfg, db).exit_code == 0
    assert len(srv.state.files) == 2
    assert_exactly_once(srv, db)
    # a scan after the dossier reached the server: the file, then an update pointing to it
    add_file(db, cfg, codes[3], 1, fake_pdf(3))
    res = sync(cfg, db)
    assert res.stats["sent_by_kind"] == {"file": 1, "update": 1}
    assert srv.state.dossiers[codes[3]]["HoSoCoThanhPhanSoHoa"] == "1"
    assert_exactly_once(srv, db)


def test_dates_are_vietnam_time_digits():
    from onestop.sync.payloads import vn_time

    assert vn_time("2026-11-22T08:05:09+07:00") == "20261122080509"
    assert vn_time("2026-11-22T01:05:09+00:00") == "20261122080509"
    assert vn_time("2026-12-31T20:00:00-05:00") == "20270101080000"
    assert vn_time(None) == "" and vn_time("") == ""


def test_counter_keeps_working_while_the_sync_runs(env, srv):
    """Dossiers received during a run are sent by this run or the next, never lost or doubled."""
    import threading

    from onestop.store import connect

    cfg, db = env
    make_dossiers(db, cfg, 30, moves=False)
    srv.state.delay = 0.01
    done = {}
    th = threading.Thread(target=lambda: done.setdefault("res", sync(cfg, connect(cfg))))
    th.start()
    make_dossiers(db, cfg, 10)
    th.join()
    assert done["res"].exit_code == 0
    srv.state.delay = 0
    assert sync(cfg, db).exit_code == 0
    assert_exactly_once(srv, db)


# ---------------------------------------------------------------- issue 12: what it sends, what it tells

def _docs(srv, code) -> list[tuple]:
    return [(d["MaThanhPhanHoSo"], d["TepDinhKemId"]) for d in srv.state.dossiers[code]["TaiLieuNop"]]


def test_unscanned_components_reach_a_strict_portal_and_a_later_scan_is_added(env, srv, run, rows):
    """The portal refuses a TaiLieuNop item without a file: paper-only components are left out, so
    every dossier of the day reaches it; a component scanned later comes in by an update."""
    cfg, db = env
    if not files_table(db):
        pytest.skip("no archive files table")
    codes = make_dossiers(db, cfg, 6)
    add_file(db, cfg, codes[0], 1, fake_pdf(1))
    add_file(db, cfg, codes[0], 2, fake_pdf(2))
    add_file(db, cfg, codes[2], 1, fake_pdf(3))
    r = run("sync")
    assert r.exit_code == 0, r.stderr
    assert sorted(srv.state.dossiers) == sorted(codes)  # none refused for its paper-only components
    comp = dict(rows("SELECT n, code FROM dossier_components WHERE dossier_id = "
                     "(SELECT id FROM dossiers WHERE code = ?)", [codes[0]]))
    assert [c for c, _ in _docs(srv, codes[0])] == [comp[1], comp[2]]
    assert all(fid.startswith("T") for _, fid in _docs(srv, codes[0]))
    assert srv.state.dossiers[codes[0]]["HoSoCoThanhPhanSoHoa"] == "1"
    assert _docs(srv, codes[1]) == [] and srv.state.dossiers[codes[1]]["HoSoCoThanhPhanSoHoa"] == "0"
    assert_exactly_once(srv, db)
    # component 2 of the second dossier is scanned the next day: the file, then an update that lists it
    add_file(db, cfg, codes[1], 2, fake_pdf(4))
    res = sync(cfg, db)
    assert res.exit_code == 0 and res.stats["sent_by_kind"] == {"file": 1, "update": 1}
    assert len(_docs(srv, codes[1])) == 1 and srv.state.dossiers[codes[1]]["HoSoCoThanhPhanSoHoa"] == "1"
    assert srv.state.creates[codes[1]] == 1 and srv.state.updates[codes[1]] == 1
    assert_exactly_once(srv, db)


def test_refusal_keeps_every_run_at_exit_11_until_retry_and_success(env, srv, run):
    cfg, db = env
    codes = make_dossiers(db, cfg, 4)
    bad = codes[2]
    srv.reject[bad] = "Mã lĩnh vực không đúng danh mục"
    assert run("sync").exit_code == 11
    for _ in range(2):  # the night operator keeps hearing of it
        r = run("sync")
        assert r.exit_code == 11, r.stderr
        assert "lỗi 0" in r.stderr  # nothing new refused tonight…
        assert re.search(r"Đang giữ chờ sửa: 1 mục bị từ chối \(\+\d+ mục chờ sau chúng\), cũ nhất từ 20\d\d-", r.stderr)
        assert bad in r.stderr  # …but the oldest held dossier is named
    st = json.loads(run("sync", "status", "--json").stdout)
    assert st["held"] == 1 and st["oldest_held"]["code"] == bad and st["oldest_held"]["age_seconds"] >= 0
    assert st["held_waiting"] >= 1  # its step waits behind it
    assert st["last_success"]["exit_code"] == 11 and st["last_success"]["target"].startswith("url:")
    assert "Đang giữ chờ sửa: 1" in run("sync", "status").stdout
    del srv.reject[bad]
    assert run("sync").exit_code == 11  # not retried yet: still held
    assert run("sync", "retry", bad).exit_code == 0
    assert run("sync").exit_code == 0
    st = json.loads(run("sync", "status", "--json").stdout)
    assert st["held"] == 0 and st["oldest_held"] is None and st["last_success"]["exit_code"] == 0
    assert_exactly_once(srv, db)


def test_same_code_on_the_server_for_another_dossier_is_held_not_overwritten(env, srv, run):
    """Two offices configured with one agency code: the server's dossier under our code is another
    citizen's; it is never overwritten and our entry is held with a clear error."""
    cfg, db = env
    codes = make_dossiers(db, cfg, 3)
    other = {"MaHoSo": codes[1], "ChuHoSo": "Hoàng Văn Khác", "MaTTHC": "9.999999", "TrangThaiHoSo": "2",
             "NgayTiepNhan": "20260102080000", "TaiLieuNop": []}
    srv.seed(codes[1], dict(other))
    r = run("sync")
    assert r.exit_code == 11
    assert "mã hồ sơ đã được dùng cho hồ sơ khác: kiểm tra mã cơ quan" in r.stderr
    assert srv.state.dossiers[codes[1]] == other and srv.state.updates[codes[1]] == 0
    assert codes[1] not in srv.state.steps  # no step of ours merged into the other citizen's dossier
    st = json.loads(run("sync", "status", "--json").stdout)
    assert [(f["code"], f["kind"]) for f in st["failed"]] == [(codes[1], "create")]
    assert "kiểm tra mã cơ quan" in st["failed"][0]["error"]
    # a retry without fixing the agency code checks again: still held, still not overwritten
    assert run("sync", "retry", codes[1]).exit_code == 0
    assert run("sync").exit_code == 11
    assert srv.state.dossiers[codes[1]] == other and srv.state.updates[codes[1]] == 0
    assert sorted(srv.state.dossiers) == sorted(codes)


def test_same_dossier_already_there_is_still_updated(env, srv, rows):
    """A create whose answer was lost: TraCuuHoSo shows our own applicant, procedure and time."""
    cfg, db = env
    codes = make_dossiers(db, cfg, 2)
    from onestop.sync.payloads import dossier_records

    did = rows("SELECT id FROM dossiers WHERE code = ?", [codes[0]])[0][0]
    rec = dossier_records(db, cfg, [did])[did]
    srv.seed(codes[0], dict(rec, ChuHoSo=rec["ChuHoSo"].upper(), TrangThaiHoSo="2"))
    db.execute("UPDATE outbox SET unanswered = 1 WHERE kind = 'create' AND dossier_id = ?", [did])  # a run killed
    res = sync(cfg, db)
    assert res.exit_code == 0 and res.stats["already_by_kind"] == {"create": 1}
    assert srv.state.updates[codes[0]] == 1
    assert_exactly_once(srv, db)


def test_server_message_quoting_the_citizen_is_masked_everywhere(env, srv, run, rows):
    cfg, db = env
    codes = make_dossiers(db, cfg, 2)
    srv.reject[codes[0]] = "Chủ hồ sơ CCCD 001085066666, ĐT 0966555444 không khớp CSDLQG về dân cư"
    r = run("sync")
    assert r.exit_code == 11
    log_text = (cfg.logs_dir / "sync.log").read_text("utf-8")
    st = run("sync", "status", "--json").stdout
    summary = rows("SELECT summary FROM sync_runs ORDER BY id DESC LIMIT 1")[0][0]
    for where in (log_text, r.stderr, st, summary):
        assert "001085066666" not in where and "0966555444" not in where
    assert "CCCD *********666, ĐT 096*****44 không khớp" in log_text
    assert "*********666" in json.loads(st)["failed"][0]["error"]


@pytest.mark.parametrize("quoted, id_no, phone", [
    ("CCCD 001-085-066-666, ĐT 0966-555-444", "001-085-066-666", "0966-555-444"),
    ("CCCD 001 085 066 666, ĐT 0966 555 444", "001 085 066 666", "0966 555 444"),
    ("CCCD 001.085.066.666, SĐT: 0966.555.444", "001.085.066.666", "0966.555.444"),
])
def test_numbers_written_with_dashes_or_spaces_are_masked_everywhere(env, srv, run, rows, quoted, id_no, phone):
    # Issue 17 item 9: the ministry quotes the citizen's numbers grouped as people write them.
    cfg, db = env
    codes = make_dossiers(db, cfg, 2)
    srv.reject[codes[0]] = f"Chủ hồ sơ {quoted} không khớp CSDLQG về dân cư"
    r = run("sync", "--json")
    assert r.exit_code == 11
    log_text = (cfg.logs_dir / "sync.log").read_text("utf-8")
    st_json = run("sync", "status", "--json").stdout
    st_text = run("sync", "status").stdout
    digits = {id_no.replace(id_no[3], ""), phone.replace(phone[4], "")}
    for where in (log_text, r.stdout, r.stderr, st_json, st_text):
        assert id_no not in where and phone not in where
        assert not any(d in where.replace(" ", "").replace("-", "").replace(".", "") for d in digits)
    assert "*********666" in log_text and "096*****44" in log_text
    assert codes[0] in st_text  # the dossier code itself (with its dashes) is kept


def test_redact_keeps_codes_dates_and_hashes():
    from onestop.sync.redact import redact

    keep = ("000.00.12.H26-261122-0007 20261122080509 T0012345678abcdef 2026-11-22 08:05:09 [1] MaTTHC 1.003593 "
            "https://192.168.100.200:8443/api")
    assert redact(keep) == keep
    assert redact("SĐT 0966 555 444, CMND 123456789, +84966555444") == "SĐT 096*****44, CMND ******789, +84*******44"
    assert redact("ĐT:0966555444 (CCCD: 001085066666).") == "ĐT:096*****44 (CCCD: *********666)."
    assert redact("０９６６５５５４４４") == "096*****44"  # fullwidth digits are digits too


def test_dossier_record_carries_every_field_of_the_contract(env):
    """MINISTRY_API.md's record: the required fields and every optional one ("" when unknown)."""
    from onestop.sync.payloads import dossier_records

    cfg, db = env
    code = make_dossiers(db, cfg, 1)[0]
    did = db.execute("SELECT id FROM dossiers WHERE code = ?", [code]).fetchone()[0]
    rec = dossier_records(db, cfg, [did])[did]
    optional = ("SoBienNhan", "MaDoiTuong", "SoGiayToChuHoSo", "DinhDanhCHS", "ThongTinKhac", "Email", "Fax",
                "SoDienThoai", "NgayNopHoSo", "NgayTra", "ThongTinTra", "HinhThuc", "NgayKetThucXuLy", "NgayTuChoi",
                "GhiChu", "NoiNopHoSo", "HoSoCoThanhPhanSoHoa", "TaiKhoanDuocXacThucVoiVNeID",
                "DuocThanhToanTrucTuyen", "DanhSachLePhi", "DanhSachTepDinhKemKhac", "DanhSachHoSoBoSung",
                "DanhSachGiayToKetQua", "DSKetNoiCSDL")
    missing = [k for k in REQUIRED + optional if k not in rec]
    assert missing == []
    assert all(isinstance(v, (str, list)) for v in rec.values())
    assert rec["TaiKhoanDuocXacThucVoiVNeID"] == ""


# ---------------------------------------------------------------- one nightly sync per office (issue 9)

def test_one_sync_per_office_across_processes_and_desks(env, srv, home, tmp_path, rows):
    """A second `onestop sync` (a real OS process) started while one runs exits 12 naming the holder;
    the holder killed with SIGKILL does not block the next run. On the office database the second
    run is another desk (its own data home, the same database URL); on SQLite the office is the data
    home, so both runs use it."""
    import os
    import signal
    import subprocess
    import sys

    cfg, db = env
    make_dossiers(db, cfg, 6)
    office_url = os.environ.get("ONESTOP_DATABASE_URL")
    write_sync_config(home, timeout=60.0)  # the holder waits at the held server, it does not time out
    (home / "onestop.toml").write_text((home / "onestop.toml").read_text() + '[counter]\ndesk = "desk-a"\n')
    other = home
    if office_url:
        other = tmp_path / "desk-b"
        other.mkdir()
        write_sync_config(other)
        (other / "onestop.toml").write_text((other / "onestop.toml").read_text() + '[counter]\ndesk = "desk-b"\n')
    cmd = [sys.executable, "-m", "onestop", "sync"]
    srv.hold()
    a = subprocess.Popen(cmd, env=dict(os.environ, ONESTOP_HOME=str(home)), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):  # the holder has the lock once its first request reaches the server
            if srv.state.requests or a.poll() is not None:
                break
            time.sleep(0.05)
        assert a.poll() is None and srv.state.requests, a.stderr.read() if a.poll() is not None else "no request"
        b = subprocess.run(cmd, env=dict(os.environ, ONESTOP_HOME=str(other)), capture_output=True, text=True,
                           timeout=120)
        assert b.returncode == 12, b.stderr
        assert "đang chạy" in b.stderr and "Traceback" not in b.stderr
        if office_url:
            assert "desk-a" in b.stderr  # the holder, named
            password = office_url.rsplit("@", 1)[0].rsplit(":", 1)[1]
            assert password not in b.stderr + b.stdout
        os.kill(a.pid, signal.SIGKILL)  # the holder dies mid-run: its lock goes with its process or session
        a.wait(timeout=60)
    finally:
        srv.release()
        if a.poll() is None:
            a.kill()
        a.stderr.close()
    for _ in range(100):  # the server notices the closed session; bounded retries, no timing assertion
        b = subprocess.run(cmd, env=dict(os.environ, ONESTOP_HOME=str(other)), capture_output=True, text=True,
                           timeout=120)
        if b.returncode != 12:
            break
    assert b.returncode == 0, b.stderr
    assert_exactly_once(srv, db)
    assert rows("SELECT count(*) FROM outbox WHERE state != 'done'")[0][0] == 0

"""Online dossiers (channel 2, issue 23) against the strict test portal (tests/portal.py): pull,
list, accept, refuse, and the ordinary dossier after the take, on both backends."""

from __future__ import annotations

import json
import os
import stat


from online_helpers import P2, P4, seed, srv  # noqa: F401 - srv: a fixture


def _json(res):
    assert res.exit_code == 0, res.stderr + res.stdout
    return json.loads(res.stdout)


def test_pull_three_accept_two_refuse_one(run, db, cfg, srv, rows):
    """The issue's acceptance: pull 3, accept 2, refuse 1; the portal ends with 2 taken, 1 refused,
    2 channel-2 dossiers with their files and no violation; the report counts 2 online."""
    dvcs = seed(srv.portal, 3)
    st = _json(run("online", "pull", "--json"))
    assert (st["listed"], st["new"], st["blocked"], st["files"]) == (3, 3, 0, 6)
    listed = _json(run("online", "list", "--json"))
    assert [r["dvc"] for r in listed] == dvcs  # oldest submission first
    assert listed[0]["id_number"] != "033190004567" and listed[0]["id_number"].endswith("567")  # masked
    assert listed[1]["paid_online"] is False and listed[0]["paid_online"] is True
    assert listed[0]["fees"][0]["MaPhiLePhi"] == "LP01"
    queue = cfg.home / "online"
    assert stat.S_IMODE(queue.stat().st_mode) == 0o700
    for f in listed[0]["files"]:
        assert stat.S_IMODE(os.stat(f["path"]).st_mode) == 0o600

    a1 = _json(run("online", "accept", dvcs[0], "--json"))
    a2 = _json(run("online", "accept", dvcs[1], "--json"))
    assert a1["code"] != a2["code"] and a1["portal"]["sent"] == 1
    ref = run("online", "refuse", dvcs[2], "--reason", "Hồ sơ nộp nhầm thủ tục", "--json")
    assert _json(ref)["status"] == "3"
    assert _json(run("online", "list", "--json")) == []

    sync = run("sync", "--json")
    assert sync.exit_code == 0, sync.stderr
    p = srv.portal
    assert p.taken() == {dvcs[0]: a1["code"], dvcs[1]: a2["code"]}
    assert p.refused() == {dvcs[2]: "Hồ sơ nộp nhầm thủ tục"}
    assert p.violations == []
    for code, dvc in ((a1["code"], dvcs[0]), (a2["code"], dvcs[1])):
        rec = srv.state.dossiers[code]
        assert rec["KenhThucHien"] == "2"
        assert rec["NgayNopHoSo"] == p.dossiers[dvc]["record"]["NgayNopHoSo"]
        assert {d["TepDinhKemId"] for d in rec["TaiLieuNop"]} == {f"{dvc}-F1", f"{dvc}-F2"}
    assert sum(srv.state.uploads.values()) == 0  # the portal's files are not uploaded again
    assert rows("SELECT count(*) FROM dossiers WHERE channel = '2'") == [(2,)]
    assert rows("SELECT count(*) FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id "
                "WHERE d.channel = '2'") == [(4,)]
    assert not any(queue.iterdir())  # the queue's copies went once archived / refused
    rep = _json(run("report", "--period", cfg_period(cfg), "--json"))
    assert rep["received_by_channel"]["2"] == 2 and rep["received"] == 2
    assert rep["online_rate"] == 1.0 and rep["online_target"] == 0.5


def test_accept_is_an_ordinary_receive(run, db, cfg, srv, rows):
    """Channel 2 takes the code from the same sequence, the channel-2 time limit (12 working days
    here, 15 at the counter), Mẫu 01, and is then shown, moved and searched as any dossier."""
    from onestop.intake import dossiers

    paper = dossiers.receive(db, cfg, dossiers.ReceiveRequest(
        P2, dossiers.Applicant(name="Lê Văn Giấy", id_number="001085012399")), render=False)
    [dvc] = seed(srv.portal, 1, procedure=P4)
    run("online", "pull")
    res = _json(run("online", "accept", dvc, "--json"))
    seq = lambda c: int(c.rsplit("-", 1)[1])  # noqa: E731
    assert seq(res["code"]) == seq(paper["code"]) + 1
    d = dossiers.resolve_code(db, cfg, res["code"])
    assert d["channel"] == "2" and d["limit_value"] == 12.0
    assert os.path.isfile(res["receipt"])
    shown = _json(run("show", res["code"], "--json"))
    assert shown["channel"] == "2" and shown["portal_id"] == dvc
    assert run("move", res["code"], "4", "--yes").exit_code == 0
    hits = _json(run("search", "chuyển giao công nghệ", "--json"))
    assert res["code"] in {h["code"] for h in (hits if isinstance(hits, list) else hits["hits"])}


def test_refuse_with_missing_papers_and_no_code(run, db, cfg, srv, rows):
    dvc = "DVC-2026-000777"
    from online_helpers import text_pdf

    srv.portal.add(dvc, P4, files=[("gt1.pdf", f"{P4}-GT01", text_pdf("Văn bản đề nghị"))])
    run("online", "pull")
    r = run("online", "accept", dvc)
    assert r.exit_code == 29 and "--missing" in r.stderr
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]
    out = _json(run("online", "refuse", dvc, "--missing", "--json"))
    assert out["code"] is None and out["reason"].startswith("Thiếu giấy tờ")
    assert srv.portal.refused()[dvc].startswith("Thiếu giấy tờ")
    assert os.path.isfile(out["form"])
    again = run("online", "accept", dvc)
    assert again.exit_code == 30 and "từ chối" in again.stderr


def test_blocked_records_stay_out_of_the_queue(run, db, cfg, srv):
    from online_helpers import text_pdf

    good, bad_sha, gone, no_fields = seed(srv.portal, 4)
    srv.portal.corrupt.add(f"{bad_sha}-F2")
    srv.portal.missing.add(f"{gone}-F1")
    srv.portal.dossiers[no_fields]["record"].pop("SoGiayToChuHoSo")
    st = _json(run("online", "pull", "--json"))
    assert (st["new"], st["blocked"]) == (1, 3)
    listed = {r["dvc"]: r for r in _json(run("online", "list", "--json"))}
    assert listed[good]["state"] == "waiting"
    assert "SHA-256" in listed[bad_sha]["reason"] and listed[bad_sha]["files"] == []
    assert "không có trên cổng" in listed[gone]["reason"]
    assert "SoGiayToChuHoSo" in listed[no_fields]["reason"]
    r = run("online", "accept", bad_sha)
    assert r.exit_code == 29 and "SHA-256" in r.stderr
    assert not (cfg.home / "online" / bad_sha).exists()
    # fixed at the portal: the next pull takes it into the queue
    srv.portal.corrupt.clear()
    st = _json(run("online", "pull", "--json"))
    assert st["new"] == 1 and st["already"] == 1


def test_pull_again_stores_nothing_twice(run, db, srv, rows):
    seed(srv.portal, 2)
    run("online", "pull")
    st = _json(run("online", "pull", "--json"))
    assert (st["new"], st["already"], st["files"]) == (0, 2, 0)
    assert rows("SELECT count(*) FROM online_dossiers") == [(2,)]
    assert rows("SELECT count(*) FROM online_files") == [(4,)]


def test_lost_take_answer_is_sent_again_and_taken_once(run, db, cfg, srv, rows):
    [dvc] = seed(srv.portal, 1)
    run("online", "pull")
    srv.fault("drop", times=10, service="CapNhatDaNhanHoSo")  # applied, answer lost, every retry
    r = run("online", "accept", dvc, "--json")
    assert r.exit_code == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["portal"]["sent"] == 0 and res["portal"]["waiting"]
    assert srv.portal.taken() == {dvc: res["code"]}  # the portal has it; we do not know yet
    assert rows("SELECT ack FROM online_dossiers") == [("pending",)]
    srv.state.faults.clear()
    assert run("sync").exit_code == 0
    assert rows("SELECT ack FROM online_dossiers") == [("done",)]
    assert srv.portal.takes == 1 and srv.portal.violations == []
    assert res["code"] in srv.state.dossiers


def test_unreachable_portal_keeps_the_take_and_sync_waits(run, db, cfg, srv, rows, monkeypatch):
    [dvc] = seed(srv.portal, 1)
    run("online", "pull")
    monkeypatch.setenv("ONESTOP_SYNC_URL", "http://127.0.0.1:9/api")  # nothing listens
    res = _json(run("online", "accept", dvc, "--json"))
    assert res["portal"]["waiting"]
    assert run("sync").exit_code == 75
    monkeypatch.setenv("ONESTOP_SYNC_URL", srv.url)
    assert run("sync").exit_code == 0
    assert srv.portal.taken() == {dvc: res["code"]} and srv.portal.violations == []
    assert res["code"] in srv.state.dossiers


def test_sync_status_shows_the_queue_and_nightly_pull(run, db, cfg, srv, home):
    seed(srv.portal, 2)
    with open(home / "onestop.toml", "a", encoding="utf-8") as f:
        f.write("\n[online]\npull = true\n")
    out = _json(run("sync", "--json"))
    assert out["online_pulled"] == 2
    st = _json(run("sync", "status", "--json"))
    assert st["online"]["waiting"] == 2


def cfg_period(cfg) -> str:
    from onestop.intake.clock import now

    return f"{now(cfg):%Y-%m}"


def test_report_online_share_in_every_format(run, db, cfg, srv, home, tmp_path):
    """2 online of 3 received beside [report] online_target = 60: table, JSON, CSV, Excel, HTML."""
    from onestop.intake import dossiers

    with open(home / "onestop.toml", "a", encoding="utf-8") as f:
        f.write("\n[report]\nonline_target = 60\n")
    dossiers.receive(db, cfg, dossiers.ReceiveRequest(
        P2, dossiers.Applicant(name="Lê Văn Giấy", id_number="001085012399")), render=False)
    for dvc in seed(srv.portal, 2):
        run("online", "pull")
        assert run("online", "accept", dvc, "--no-receipt").exit_code == 0
    period = cfg_period(cfg)
    rep = _json(run("report", "--period", period, "--json"))
    assert (rep["received"], rep["received_by_channel"]["2"]) == (3, 2)
    assert (rep["online_rate"], rep["online_target"]) == (0.6667, 0.6)
    table = run("report", "--period", period).stdout
    assert "online_rate\tTỷ lệ hồ sơ trực tuyến\t66.7%" in table and "online_target\tMục tiêu hồ sơ trực tuyến\t60.0%" in table
    csv = run("report", "--period", period, "--csv").stdout
    assert "online_rate,,0.6667" in csv and "online_target,,0.6" in csv
    xlsx = tmp_path / "r.xlsx"
    assert run("report", "--period", period, "--xlsx", xlsx).exit_code == 0
    import openpyxl

    ws = openpyxl.load_workbook(xlsx)["Tổng hợp"]
    got = {row[2]: row[:2] for row in ws.iter_rows(values_only=True)}
    assert got["online_rate"] == ("Tỷ lệ hồ sơ trực tuyến", 0.6667)
    assert got["online_target"] == ("Mục tiêu hồ sơ trực tuyến", 0.6)
    html = tmp_path / "r.html"
    assert run("report", "--period", period, "--html", html).exit_code == 0
    assert 'class="chart bar online"' in html.read_text(encoding="utf-8")


def test_pull_and_accept_in_a_fresh_home(run, srv, rows):
    """The first command of a new data home is `online pull`: the catalog is loaded for it (its
    procedures are not "unknown"), and the take works."""
    [dvc] = seed(srv.portal, 1)
    st = _json(run("online", "pull", "--json"))
    assert (st["new"], st["blocked"]) == (1, 0)
    assert _json(run("online", "accept", dvc, "--json"))["code"]


def test_a_damaged_queue_file_is_fetched_again_or_nothing_is_taken(run, db, srv, rows):
    """The queue's copies are checked at the take: one damaged after the pull is fetched again from
    the portal; one the portal no longer serves stops the take before any code is used (exit 29)."""
    a, b = seed(srv.portal, 2)
    run("online", "pull")
    for dvc in (a, b):
        path = _json(run("online", "show", dvc, "--json"))["files"][0]["path"]
        with open(path, "r+b") as f:
            f.write(b"XXXX")
    assert run("online", "accept", a).exit_code == 0
    srv.portal.missing.add(f"{b}-F1")
    r = run("online", "accept", b)
    assert r.exit_code == 29 and "không tải lại được" in r.stderr
    assert rows("SELECT count(*) FROM dossiers") == [(1,)]
    assert srv.portal.violations == []


def test_personal_data_stays_masked_in_the_queue_and_the_log(run, db, cfg, srv):
    """A record blocked for its applicant's ID: the reason is shown masked, nothing on stderr but the
    summary, and the sync log masks the number."""
    bad_id = "001185999999"  # century digit for a birth after today: refused by the ID rules
    srv.portal.add("DVC-2026-000900", P2, id_number=bad_id, files=[])
    r = run("online", "pull")
    assert r.exit_code == 0 and bad_id not in r.stderr and "blocked" not in r.stderr
    listed = _json(run("online", "list", "--json"))
    assert listed[0]["state"] == "blocked" and bad_id not in json.dumps(listed, ensure_ascii=False)
    log = (cfg.logs_dir / "sync.log").read_text(encoding="utf-8")
    assert "DVC-2026-000900" in log and bad_id not in log


def test_portal_refusing_the_take_is_exit_31_and_kept_locally(run, db, srv, rows):
    """The portal already holds the dossier as taken under another code (e.g. by another system):
    the take stays here, the command says what the portal answered (exit 31), `online show` keeps
    the portal's message, and the dossier is not sent to DongBoHoSoMC."""
    [dvc] = seed(srv.portal, 1)
    run("online", "pull")
    with srv.portal.lock:
        srv.portal.dossiers[dvc].update(state="taken", code="000.00.99.X99-261201-0001")
    r = run("online", "accept", dvc)
    assert r.exit_code == 31 and "đã được tiếp nhận" in r.stderr
    assert rows("SELECT count(*) FROM dossiers WHERE channel = '2'") == [(1,)]
    shown = _json(run("online", "show", dvc, "--json"))
    assert shown["state"] == "taken" and not shown["portal_told"] and "đã được tiếp nhận" in shown["portal_error"]
    run("sync")
    assert srv.state.dossiers == {}  # held: never sent while the portal has not confirmed the take
    st = _json(run("sync", "status", "--json"))
    assert st["online"]["portal_pending"] == 1


def test_list_csv_and_backlog(run, db, srv):
    a, b = seed(srv.portal, 2)
    run("online", "pull")
    csv = run("online", "list", "--csv").stdout.splitlines()
    assert csv[0].lstrip("\ufeff").startswith("dvc,procedure,applicant,id_number,submitted_at,waited_seconds,files")
    assert csv[1].startswith(a + ",") and csv[2].startswith(b + ",")
    code = _json(run("online", "accept", a, "--json"))["code"]
    assert _json(run("backlog", "--json"))["total"] == 1  # the taken dossier is in the office's backlog
    assert code in run("list", "--json").stdout


def test_a_blocked_dossier_can_be_refused(run, db, srv, rows):
    [dvc] = seed(srv.portal, 1)
    srv.portal.corrupt.add(f"{dvc}-F1")
    run("online", "pull")
    out = _json(run("online", "refuse", dvc, "--reason", "Tệp đính kèm bị hỏng, đề nghị nộp lại", "--json"))
    assert out["status"] == "3" and out["portal"]["sent"] == 1
    assert srv.portal.refused() == {dvc: "Tệp đính kèm bị hỏng, đề nghị nộp lại"} and srv.portal.violations == []
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]


def test_one_pull_at_a_time_per_office(run, db, cfg, srv, rows):
    """Another desk's pull (or sync) holds the office's run lock: this pull stops at once, exit 12,
    and stores nothing; once it is free the pull goes."""
    from onestop.sync.lock import run_lock

    seed(srv.portal, 1)
    with run_lock(cfg):  # its own connection on PostgreSQL: as another desk's
        r = run("online", "pull")
        assert r.exit_code == 12 and "lấy hồ sơ trực tuyến" in r.stderr
    assert rows("SELECT count(*) FROM online_dossiers") == [(0,)]
    assert run("online", "pull").exit_code == 0
    assert rows("SELECT count(*) FROM online_dossiers") == [(1,)]


def test_the_test_portal_is_strict(srv):
    """tests/portal.py refuses what the real portal refuses (each counted as a violation): a take
    before the files were downloaded, a second take under another code, a take after a refusal, and
    a channel-2 DongBoHoSoMC never taken; the same take again is answered 0."""
    import httpx

    a, b = seed(srv.portal, 2)
    with httpx.Client() as c:
        tok = c.post(f"{srv.url}/login", json={"username": "canbo", "password": "mat-khau-thu"}).json()["session"]

        def call(service, data):
            return c.post(f"{srv.url}/service", json={"session": tok, "madonvi": "X", "service": service,
                                                      "isUpdating": "False", "data": data}).json()

        take = {"MaHoSoDVC": a, "MaHoSo": "C-1", "NgayTiepNhan": "20261201090000", "NgayHenTra": "20261210170000",
                "NguoiXuLy": "x"}
        assert call("CapNhatDaNhanHoSo", [take])["results"][0]["error_code"] != 0  # files not downloaded
        for f in srv.portal.dossiers[a]["record"]["TaiLieuNop"]:
            assert c.get(f["DuongDanTaiTepTin"]).status_code == 200
        assert call("CapNhatDaNhanHoSo", [take])["results"][0]["error_code"] == 0
        assert call("CapNhatDaNhanHoSo", [take])["results"][0]["error_code"] == 0  # idempotent
        assert call("CapNhatDaNhanHoSo", [dict(take, MaHoSo="C-2")])["results"][0]["error_code"] != 0
        assert call("TuChoiTiepNhanHoSo", [{"MaHoSoDVC": b, "LyDoTuChoi": "Sai", "NgayTuChoi": "20261201090000",
                                            "NguoiXuLy": "x"}])["results"][0]["error_code"] == 0
        assert call("CapNhatDaNhanHoSo", [dict(take, MaHoSoDVC=b)])["results"][0]["error_code"] != 0
    # a channel-2 record (DongBoHoSoMC, checked after the contract's own checks) whose code was never taken
    assert "chưa được tiếp nhận" in srv.portal.check_record({"MaHoSo": "C-9", "KenhThucHien": "2"})
    assert srv.portal.check_record({"MaHoSo": "C-1", "KenhThucHien": "2"}) == ""
    assert len(srv.portal.violations) == 4  # not downloaded, another code, after a refusal, never taken
    assert srv.portal.taken() == {a: "C-1"} and list(srv.portal.refused()) == [b]


def test_show_opens_the_files_in_the_queue_then_in_the_archive(run, db, cfg, srv):
    from onestop.sync.online_take import open_files

    [dvc] = seed(srv.portal, 1)
    run("online", "pull")
    queued = open_files(db, cfg, dvc)
    assert len(queued) == 2 and all(str(cfg.home / "online") in p for p in queued)
    run("online", "accept", dvc)
    archived = open_files(db, cfg, dvc)
    assert len(archived) == 2 and all(str(cfg.archive_dir.resolve()) in p for p in archived)


def test_a_taken_dossier_is_in_the_book_and_takes_a_result_scan(run, db, cfg, srv, tmp_path):
    """After the take the online dossier is an ordinary one: its line in the tracking book (Mẫu 06),
    and once resolved its result paper is scanned like any other (`scan --result`)."""
    from online_helpers import text_pdf

    [dvc] = seed(srv.portal, 1)
    run("online", "pull")
    code = _json(run("online", "accept", dvc, "--json"))["code"]
    from onestop.intake.clock import now

    book = _json(run("book", "--year", now(cfg).year, "--json"))
    rows_ = book if isinstance(book, list) else book.get("rows", [])
    assert code in json.dumps(rows_, ensure_ascii=False)
    assert run("move", code, "4", "--yes").exit_code == 0
    assert run("move", code, "9", "--yes").exit_code == 0
    result = tmp_path / "ket-qua.pdf"
    result.write_bytes(text_pdf("Giấy chứng nhận đăng ký hoạt động khoa học và công nghệ (cấp lại)"))
    r = run("scan", code, "--result", "--component", "1", result, "--yes", "--json")
    assert r.exit_code == 0, r.stderr

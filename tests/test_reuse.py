"""Issue 21, reusing what is already digitized: a returning applicant's papers (components of earlier
dossiers) and results are offered at receive, a reused component points to the archived file (no
copy, no rescan, no second upload), the ministry's server gets DuocTaiSuDung / MaKetQuaThayThe, a
paper past its validity or of another person is never offered, and the report's reuse rate is exact.
Real scans (tesseract), a real test ministry server, both backends."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from onestop.common import errors
from pages import render, save
from sync_helpers import env, srv  # noqa: F401 - fixtures
from test_office_roles import office  # noqa: F401 - fixture (PostgreSQL only)

ID = "001085012345"
NAME = "Nguyễn Văn An"
RESULT_CODE = "KQ-1.003584-1"
# 1.003593 case 1 asks for the certificate 1.003584 issues (its result) as component 4.
REUSE_CONFIG = '\n[reuse]\nresults = { "1.003593-GT04" = ["KQ-1.003584-1"] }\n'


def _receive(run, procedure: str, *extra, name: str = NAME, id_: str = ID):
    r = run("receive", "-p", procedure, "--name", name, "--id", id_, *extra, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _scan(run, code: str, n: int, lines: list[str], tmp_path, *extra):
    page = save(render(lines, dpi=200, size_mm=(148, 105)), tmp_path / f"{code[-4:]}_{n}_{len(extra)}.png")
    r = run("scan", code, "--component", n, page, "--yes", "--json", *extra)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _earlier(run, cfg, db, tmp_path, home) -> tuple[str, str, dict, dict]:
    """The applicant's earlier dossiers: A (1.003593, its statute scanned as component 3) and R
    (1.003584, resolved, its certificate scanned as result 1). Returns (A, R, A's scan, R's scan)."""
    from onestop.intake import dossiers

    (home / "onestop.toml").write_text((home / "onestop.toml").read_text() + REUSE_CONFIG, encoding="utf-8")
    a = _receive(run, "1.003593", "--case", 1, "--all-components")["code"]
    sa = _scan(run, a, 3, ["ĐIỀU LỆ TỔ CHỨC VÀ HOẠT ĐỘNG", "Viện Nghiên cứu Ứng dụng", "Chương I. Quy định chung"],
               tmp_path)
    r = _receive(run, "1.003584", "--all-components")["code"]
    dossiers.move(db, cfg, r, "4", render=False)
    dossiers.move(db, cfg, r, "9", render=False)
    page = save(render(["GIẤY CHỨNG NHẬN", "đăng ký hoạt động khoa học và công nghệ", "Số 1205/QĐ-BKHCN"]),
                tmp_path / "ket-qua.png")
    res = run("scan", r, "--result", page, "--yes", "--json")
    assert res.exit_code == 0, res.output
    return a, r, sa, json.loads(res.stdout)


def _rows(db, sql, params=()):
    return [tuple(x) for x in db.execute(sql, params).fetchall()]


def test_second_dossier_reuses_a_paper_and_a_result_and_the_server_gets_the_flags_without_a_second_upload(
        env, srv, run, tmp_path, home):
    cfg, db = env
    a, r, sa, sr = _earlier(run, cfg, db, tmp_path, home)
    assert run("sync").exit_code == 0
    uploads = dict(srv.state.uploads)
    assert sum(uploads.values()) == 2  # the statute and the certificate, once each

    # What this applicant has digitized here, with references for --reuse; the ID masked.
    out = run("papers", ID, "--json")
    assert out.exit_code == 0, out.output
    listed = json.loads(out.stdout)
    assert listed["id_number"] == "*********345" and ID not in out.stdout
    refs = {p["ref"]: p for p in listed["papers"]}
    assert set(refs) == {f"{a}/3", f"{r}/KQ1"}
    assert refs[f"{r}/KQ1"]["kind"] == "result" and refs[f"{r}/KQ1"]["result_code"] == RESULT_CODE
    assert refs[f"{a}/3"]["valid"] is True and refs[f"{a}/3"]["pages"] == 1
    # The look-up is recorded as one of personal data (masked there too).
    assert ("papers", "id=*********345 rows=2") in _rows(db, "SELECT command, detail FROM personal_access")

    # The second dossier: component 3 reuses A's statute, component 4 R's certificate; 1 and 2 on paper.
    b = _receive(run, "1.003593", "--case", 1, "-c", 1, "-c", 2, "--reuse", "auto")
    assert b["status"] == "2", b
    assert b["reused"] == [{"component": 3, "ref": f"{a}/3", "kind": "paper"},
                           {"component": 4, "ref": f"{r}/KQ1", "kind": "result"}]
    code = b["code"]
    shown = json.loads(run("show", code, "--json").stdout)
    assert [(c["n"], c["received"], c["digitized"]) for c in shown["components"]] == [
        (1, 1, 0), (2, 1, 0), (3, 1, 2), (4, 1, 3)]
    assert [(u["n"], u["source_code"], u["source_n"], u["path"]) for u in shown["reused"]] == [
        (3, a, 3, sa["pdf"]), (4, r, -1, sr["pdf"])]
    assert f"TP 3: dùng lại {a}/3 — {sa['pdf']}" in run("show", code).stdout
    # No copy: the new dossier has no archive file of its own; it points to the earlier ones.
    assert _rows(db, "SELECT count(*) FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id WHERE d.code = ?",
                 [code]) == [(0,)]
    assert sorted(_rows(db, "SELECT r.n, r.file_id, r.kind, r.result_code FROM reused_papers r JOIN dossiers d "
                            "ON d.id = r.dossier_id WHERE d.code = ?", [code])) == [
        (3, sa["file_id"], "1", ""), (4, sr["file_id"], "2", RESULT_CODE)]

    res = run("sync", "--json")
    assert res.exit_code == 0, res.output
    assert dict(srv.state.uploads) == uploads  # no second upload
    rec = srv.state.dossiers[code]
    by_code = {d["MaThanhPhanHoSo"]: d for d in rec["TaiLieuNop"]}
    sha_a = _rows(db, "SELECT sha256 FROM archive_files WHERE id = ?", [sa["file_id"]])[0][0]
    sha_r = _rows(db, "SELECT sha256 FROM archive_files WHERE id = ?", [sr["file_id"]])[0][0]
    assert by_code["1.003593-GT03"]["TepDinhKemId"] == srv.state.files[sha_a]["IdTepTin"]
    assert by_code["1.003593-GT03"]["DuongDanTaiTepTin"] == srv.state.files[sha_a]["DuongDan"]
    assert (by_code["1.003593-GT03"]["DuocTaiSuDung"], by_code["1.003593-GT03"]["MaKetQuaThayThe"]) == ("1", "")
    assert by_code["1.003593-GT04"]["TepDinhKemId"] == srv.state.files[sha_r]["IdTepTin"]
    assert (by_code["1.003593-GT04"]["DuocTaiSuDung"], by_code["1.003593-GT04"]["MaKetQuaThayThe"]) == ("2", RESULT_CODE)
    assert rec["HoSoCoThanhPhanSoHoa"] == "1"
    # A's own record is unchanged: its scan is its own paper.
    assert [d["DuocTaiSuDung"] for d in srv.state.dossiers[a]["TaiLieuNop"]] == ["0"]

    # A reused component can still be replaced by a scan: then it is the dossier's own file.
    _scan(run, code, 3, ["ĐIỀU LỆ ĐÃ SỬA ĐỔI", "Viện Nghiên cứu Ứng dụng", "Chương I"], tmp_path)
    assert json.loads(run("show", code, "--json").stdout)["components"][2]["digitized"] == 1
    assert run("sync").exit_code == 0
    items = {d["MaThanhPhanHoSo"]: d for d in srv.state.dossiers[code]["TaiLieuNop"]}
    assert items["1.003593-GT03"]["DuocTaiSuDung"] == "0"
    assert items["1.003593-GT03"]["TepDinhKemId"] != srv.state.files[sha_a]["IdTepTin"]
    assert items["1.003593-GT04"]["DuocTaiSuDung"] == "2"


def test_reused_before_the_first_sync_the_file_is_uploaded_once(env, srv, run, tmp_path, home):
    """The earlier dossier's scan is not on the server yet when the second dossier reuses it: one run
    uploads it once and both records point to it."""
    cfg, db = env
    a, r, sa, _sr = _earlier(run, cfg, db, tmp_path, home)
    b = _receive(run, "1.003593", "--case", 1, "-c", 1, "-c", 2, "--reuse", f"3={a}/3", "--reuse", f"4={r}/KQ1")
    assert run("sync").exit_code == 0
    assert sorted(srv.state.uploads.values()) == [1, 1]
    sha_a = _rows(db, "SELECT sha256 FROM archive_files WHERE id = ?", [sa["file_id"]])[0][0]
    fid = srv.state.files[sha_a]["IdTepTin"]
    assert fid in {d["TepDinhKemId"] for d in srv.state.dossiers[a]["TaiLieuNop"]}
    assert [d["DuocTaiSuDung"] for d in srv.state.dossiers[b["code"]]["TaiLieuNop"]
            if d["TepDinhKemId"] == fid] == ["1"]
    assert {d["MaKetQuaThayThe"] for d in srv.state.dossiers[b["code"]]["TaiLieuNop"]} == {"", RESULT_CODE}
    # Without --json the officer reads what was reused (stderr), the code alone on stdout.
    again = run("receive", "-p", "1.003593", "--case", 1, "--name", NAME, "--id", ID, "-c", 1, "-c", 2, "--reuse", "auto")
    assert again.exit_code == 0, again.output
    assert f"Thành phần 3: dùng lại giấy tờ đã số hóa {a}/3 (không cần quét)" in again.stderr
    assert f"Thành phần 4: dùng lại giấy tờ đã số hóa {r}/KQ1" in again.stderr and again.stdout.count("\n") == 1


def test_another_persons_paper_is_never_offered_even_with_the_same_name(env, run, tmp_path, home):
    cfg, db = env
    (home / "onestop.toml").write_text((home / "onestop.toml").read_text() + REUSE_CONFIG, encoding="utf-8")
    other = _receive(run, "1.003593", "--case", 1, "--all-components", id_="001085012346")["code"]
    _scan(run, other, 3, ["ĐIỀU LỆ TỔ CHỨC VÀ HOẠT ĐỘNG", "Công ty khác"], tmp_path)
    assert json.loads(run("papers", ID, "--json").stdout)["papers"] == []
    # auto finds nothing for this ID: components on paper only, nothing reused
    b = _receive(run, "1.003593", "--case", 1, "--all-components", "--reuse", "auto")
    assert "reused" not in b
    # naming the other person's paper is refused: not found among this applicant's papers
    r = run("receive", "-p", "1.003593", "--name", NAME, "--id", ID, "--case", 1, "-c", 1, "-c", 2, "-c", 4,
            "--reuse", f"3={other}/3", "--json")
    assert r.exit_code == errors.NOT_FOUND, r.output
    assert "không phải giấy tờ đã số hóa của người nộp này" in r.stderr
    assert _rows(db, "SELECT count(*) FROM reused_papers") == [(0,)]
    # a component named for reuse that has no offer says so
    r = run("receive", "-p", "1.003593", "--name", NAME, "--id", ID, "--case", 1, "--reuse", "3=auto", "--json")
    assert r.exit_code == errors.NOT_FOUND and "thành phần 3" in r.stderr


def test_a_paper_past_its_validity_is_not_offered(env, run, tmp_path, home):
    cfg, db = env
    (home / "onestop.toml").write_text((home / "onestop.toml").read_text() + REUSE_CONFIG, encoding="utf-8")
    # An expiry printed on the paper, read at scan time.
    a = _receive(run, "1.003593", "--case", 1, "--all-components")["code"]
    _scan(run, a, 3, ["ĐIỀU LỆ TỔ CHỨC VÀ HOẠT ĐỘNG", "Có giá trị đến ngày 01/02/2021"], tmp_path)
    p = json.loads(run("papers", ID, "--json").stdout)["papers"]
    assert [(x["ref"], x["valid_until"], x["expiry_source"], x["valid"]) for x in p] == [
        (f"{a}/3", "2021-02-01", "read", False)]
    assert json.loads(run("papers", ID, "--valid", "--json").stdout)["papers"] == []
    b = _receive(run, "1.003593", "--case", 1, "-c", 1, "-c", 2, "-c", 4, "--reuse", "auto")
    assert "reused" not in b and b["status"] == "incomplete"  # component 3 not reused, so missing
    r = run("receive", "-p", "1.003593", "--name", NAME, "--id", ID, "--case", 1, "-c", 1, "-c", 2, "-c", 4,
            "--reuse", f"3={a}/3", "--json")
    assert r.exit_code == errors.INVALID_INPUT and "hết hiệu lực ngày 2021-02-01" in r.stderr
    # A typed expiry replaces the one read: in the future, the paper is offered again.
    future = (cfg_today(cfg) + timedelta(days=365)).isoformat()
    assert run("papers", ID, "--expiry", f"{a}/3={future}").exit_code == 0
    b = _receive(run, "1.003593", "--case", 1, "-c", 1, "-c", 2, "-c", 4, "--reuse", "auto")
    assert b["reused"] == [{"component": 3, "ref": f"{a}/3", "kind": "paper"}]
    # Cleared, the date read counts again.
    assert run("papers", ID, "--expiry", f"{a}/3=none").exit_code == 0
    assert [x["valid_until"] for x in json.loads(run("papers", ID, "--json").stdout)["papers"]] == ["2021-02-01"]
    # [reuse] valid_days from the document's date: a statute dated 2020 kept 365 days is past.
    a2 = _receive(run, "1.003593", "--case", 1, "--all-components")["code"]
    _scan(run, a2, 3, ["ĐIỀU LỆ TỔ CHỨC VÀ HOẠT ĐỘNG", "Chương I. Quy định chung"], tmp_path)
    assert [x["valid"] for x in json.loads(run("papers", ID, "--json").stdout)["papers"]] == [True, False]
    r = run("amend", a2, "--component", 3, "--document-number", "1205/QĐ-BKHCN", "--document-date", "2020-03-01")
    assert r.exit_code == 0, r.output
    with open(home / "onestop.toml", "a", encoding="utf-8") as f:
        f.write('valid_days = { "1.003593-GT03" = 365 }\n')
    p = json.loads(run("papers", ID, "--json").stdout)["papers"]
    assert [(x["ref"], x["date"], x["valid_until"], x["expiry_source"], x["valid"]) for x in p] == [
        (f"{a2}/3", "2020-03-01", "2021-03-01", "valid_days", False), (f"{a}/3", p[1]["date"],
                                                                       "2021-02-01", "read", False)]
    assert "reused" not in _receive(run, "1.003593", "--case", 1, "--all-components", "--reuse", "auto")


def cfg_today(cfg):
    from onestop.intake.clock import now

    return now(cfg).date()


def test_report_reuse_rate_is_exact_in_every_format(env, srv, run, tmp_path, home):
    cfg, db = env
    a, r, _sa, _sr = _earlier(run, cfg, db, tmp_path, home)
    _receive(run, "1.003593", "--case", 1, "-c", 1, "-c", 2, "--reuse", "auto")
    _receive(run, "1.003584", "--all-components", id_="033190004567", name="Trần Thị Bích Ngọc")
    # 4 received, 1 with a reused component: 25%, beside the target (default 80%, here set to 60%)
    with open(home / "onestop.toml", "a", encoding="utf-8") as f:
        f.write("\n[report]\nreuse_target = 0.6\n")
    today = cfg_today(cfg)
    period = f"{today:%Y-%m}"
    rep = json.loads(run("report", "--period", period, "--json").stdout)
    assert (rep["received"], rep["reused"], rep["reuse_rate"], rep["reuse_target"]) == (4, 1, 0.25, 0.6)
    rows = list(csv.DictReader(io.StringIO(run("report", "--period", period, "--csv").stdout.lstrip("\ufeff"))))
    got = {x["figure"]: x["value"] for x in rows if x["figure"] in ("reused", "reuse_rate", "reuse_target")}
    assert got == {"reused": "1", "reuse_rate": "0.25", "reuse_target": "0.6"}
    table = run("report", "--period", period).stdout
    assert "Tỷ lệ tái sử dụng\t25.0%" in table and "Mục tiêu tái sử dụng\t60.0%" in table
    html = tmp_path / "r.html"
    assert run("report", "--period", period, "--html", html).exit_code == 0
    text = html.read_text(encoding="utf-8")
    assert 'data-figure="reuse_rate"' in text and ">25%<" in text and ">60%<" in text
    assert 'class="chart bar reuse"' in text
    xlsx = tmp_path / "r.xlsx"
    assert run("report", "--period", period, "--xlsx", xlsx).exit_code == 0
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).worksheets[0]
    values = {row[2]: row[1] for row in ws.iter_rows(values_only=True) if row and len(row) > 2}
    assert values["reuse_rate"] == 0.25 and values["reuse_target"] == 0.6 and values["reused"] == 1
    # a target outside 0..1 stops with the config error naming it
    with open(home / "onestop.toml", "a", encoding="utf-8") as f:
        f.write("")
    (home / "onestop.toml").write_text((home / "onestop.toml").read_text().replace("reuse_target = 0.6",
                                                                                    "reuse_target = 80"))
    bad = run("report", "--period", period, "--json")
    assert bad.exit_code == errors.CONFIG and "reuse_target" in bad.stderr


@pytest.mark.parametrize("value", ["3", "x=1", "0=auto", "3="])
def test_reuse_option_must_be_well_formed(run, value):
    r = run("receive", "-p", "1.003593", "--name", NAME, "--id", ID, "--reuse", value, "--json")
    assert r.exit_code == errors.INVALID_INPUT, r.output
    assert "N=MÃHỒSƠ/M" in r.stderr


def test_interactive_receive_offers_the_applicants_papers_once_the_id_is_known(env, run, tmp_path, home):
    cfg, db = env
    a, r, _sa, _sr = _earlier(run, cfg, db, tmp_path, home)
    answers = "\n".join([
        "", "", "", "",   # phone, address, email, authorised person: skipped
        "c",              # A was received for this procedure minutes ago: receive a new dossier anyway
        "c", "1",         # component 1 received, 1 page
        "c", "1",         # component 2
        "",               # component 3: the statute of A offered: Enter takes the first
        "0", "c", "2",    # component 4: the certificate of R offered, refused: the paper is taken, 2 pages
    ]) + "\n"
    res = run("receive", "-p", "1.003593", "--case", 1, "--name", NAME, "--id", ID, "--ask", "--json", input=answers)
    assert res.exit_code == 0, res.stderr
    assert f"1) {a}/3" in res.stderr and f"1) {r}/KQ1" in res.stderr and "Đã số hóa trước đây" in res.stderr
    out = json.loads(res.stdout)
    assert out["reused"] == [{"component": 3, "ref": f"{a}/3", "kind": "paper"}]
    shown = json.loads(run("show", out["code"], "--json").stdout)
    assert [(c["n"], c["received"], c["pages"], c["digitized"]) for c in shown["components"]] == [
        (1, 1, 1, 0), (2, 1, 1, 0), (3, 1, 1, 2), (4, 1, 2, 0)]


@pytest.mark.postgresql_only
def test_the_documented_desk_role_can_reuse_and_list_papers(run, office, tmp_path):
    """The grants of docs/office.md section 1.3 are enough to reuse a paper and type its expiry."""
    from pages import make_samples

    office.desk(run)
    code = _receive(run, "1.003584", "--all-components")["code"]
    page = make_samples(tmp_path / "scans")[2]
    assert run("scan", code, "--component", 1, page, "--yes").exit_code == 0
    again = _receive(run, "1.003584", "--all-components", "--reuse", "auto")
    assert again["reused"] == [{"component": 1, "ref": f"{code}/1", "kind": "paper"}]
    r = run("papers", ID, "--expiry", f"{code}/1=2031-01-01", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["papers"][0]["valid_until"] == "2031-01-01"


@pytest.mark.parametrize("text, expected", [
    ("CĂN CƯỚC CÔNG DÂN\nCó giá trị đến: 15/08/2031", "2031-08-15"),
    ("Giấy phép có giá trị đến ngày 1/2/2027.", "2027-02-01"),
    ("GIÁ TRỊ SỬ DỤNG ĐẾN 31-12-2030", "2030-12-31"),
    ("Ngày hết hạn: 05.06.2029", "2029-06-05"),
    ("Date of expiry 15 / 08 / 2031", "2031-08-15"),
    ("Co gia tri den ngay 31/02/2030", None),        # no such day: not a date read
    ("Quyết định số 12/QĐ-UBND ngày 15/08/2021", None),  # a date, but not an expiry
])
def test_an_expiry_printed_on_the_paper_is_read(text, expected):
    from onestop.intake.reuse import read_expiry

    assert read_expiry(text) == expected


def test_reuse_values_parsed():
    from onestop.intake.reuse import parse_option

    assert parse_option(["auto", "3=000.00.12.H26-261122-0001/2", "4=X/KQ1", "5=AUTO"]) == {
        0: "auto", 3: "000.00.12.H26-261122-0001/2", 4: "X/KQ1", 5: "auto"}

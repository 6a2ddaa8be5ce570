"""Receiving at the counter: code, appointment date, receipt PDF, bad input."""

import json
import os
import sqlite3
import stat
import subprocess

import pypdf
import pytest

PROC = "1.003584"  # 15 working days, sample catalog
ARGS = ["receive", "--procedure", PROC, "--name", "Nguyễn Thị Hương", "--id", "001185012345",
        "--phone", "0912345678", "--address", "Số 12 ngõ 34 phố Hàng Bạc, Hà Nội", "--all-components"]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 16:00")


def count(db, table):
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def receive(run, *extra):
    r = run(*ARGS, *extra, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_receive_issues_code_due_date_and_receipt(run, db, cfg, rows):
    out = receive(run, "--at", "2026-11-23 09:15")
    assert out["code"] == f"{cfg.agency_code}-261123-0001"
    assert out["status"] == "2"
    assert out["received_at"] == "2026-11-23T09:15:00+07:00"
    # 15 working days from Mon 23/11/2026, day of receipt not counted, 24/11 is a day off
    # (Ngày Văn hóa Việt Nam in the holidays package): 25,26,27 | 30,1,2,3,4 | 7,8,9,10,11 | 14,15 -> 15/12
    assert out["due_at"] == "2026-12-15T09:15:00+07:00"
    text = " ".join("".join(p.extract_text() for p in pypdf.PdfReader(out["receipt"]).pages).split())
    for needle in (out["code"], "Nguyễn Thị Hương", PROC, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
                   "09 giờ 15 phút, ngày 23/11/2026", "09 giờ 15 phút, ngày 15/12/2026", "Liên 1: Lưu",
                   "Liên 2: Giao người nộp"):
        assert needle in text, needle
    assert stat.S_IMODE(os.stat(out["receipt"]).st_mode) == 0o600
    row = rows("SELECT status, applicant_name, original_due_at FROM dossiers")[0]
    assert row == ("2", "Nguyễn Thị Hương", "2026-12-15T09:15:00+07:00")
    assert [r[0] for r in rows("SELECT kind FROM outbox ORDER BY id")] == ["create", "step"]
    ev = rows("SELECT officer, action, status_to FROM events")[0]
    assert ev == ("Trần Thị Cán Bộ", "receive", "2")


def test_receipt_qr_decodes_to_code_and_due_date(run, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    out = receive(run, "--at", "2026-11-23 09:15")
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", out["receipt"], str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    codes = zxingcpp.read_barcodes(Image.open(png))
    data = json.loads(codes[0].text)
    assert data["MaHoSo"] == out["code"] and data["MaTTHC"] == PROC
    assert data["NgayHenTra"] == "20261215091500" and data["SoDinhDanh"] == "001185012345"


def test_sequence_per_day_and_book_number_per_year(run):
    a = receive(run, "--at", "2026-11-23 09:00")
    b = receive(run, "--at", "2026-11-23 10:00")
    c = receive(run, "--at", "2026-11-24 08:00")
    assert [x["code"][-11:] for x in (a, b, c)] == ["261123-0001", "261123-0002", "261124-0001"]
    assert [x["book_no"] for x in (a, b, c)] == [1, 2, 3]


def test_incomplete_dossier_gets_guidance_form_and_consumes_no_code(run, db):
    r = run("receive", "-p", PROC, "--name", "Lê Văn Bình", "--id", "001085012345", "-c", "1", "--json",
            "--at", "2026-11-23 09:00")
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["status"] == "incomplete" and out["code"] is None and len(out["missing"]) >= 1
    text = "".join(p.extract_text() for p in pypdf.PdfReader(out["form"]).pages)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in " ".join(text.split())
    assert count(db, "dossiers") == 0 and count(db, "outbox") == 0
    assert receive(run, "--at", "2026-11-23 09:30")["code"].endswith("-261123-0001")


def test_refusal_writes_form_03_without_code(run, db):
    r = run("receive", "-p", PROC, "--name", "Lê Văn Bình", "--id", "001085012345",
            "--refuse", "Không thuộc thẩm quyền giải quyết của Sở", "--json")
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["status"] == "3" and out["code"] is None
    text = " ".join("".join(p.extract_text() for p in pypdf.PdfReader(out["form"]).pages).split())
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text and "Không thuộc thẩm quyền" in text
    assert count(db, "dossiers") == 0


def test_chip_card_qr_fills_the_applicant(run, db, rows):
    qr = "001085012345|012345678|Nguyễn Văn An|15031985|Nam|Số 5 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"
    r = run("receive", "-p", PROC, "--qr", qr, "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    row = rows("SELECT applicant_name, id_number, id_type, address FROM dossiers")[0]
    assert row == ("Nguyễn Văn An", "001085012345", "cccd", "Số 5 Tràng Tiền, Hoàn Kiếm, Hà Nội")


def test_names_keep_diacritics_as_typed_in_nfc(run, db, rows):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Đặng Thị Ánh Tuyết")
    r = run("receive", "-p", PROC, "--name", nfd, "--id", "001185012345", "--all-components", "--json")
    assert r.exit_code == 0
    assert rows("SELECT applicant_name FROM dossiers")[0][0] == "Đặng Thị Ánh Tuyết"


def test_business_applicant_by_tax_code(run, db, rows):
    r = run("receive", "-p", PROC, "--name", "Công ty TNHH Ánh Dương", "--id", "0100233488", "--all-components", "--json")
    assert r.exit_code == 0
    assert rows("SELECT applicant_type, id_type FROM dossiers")[0] == ("2", "mst")


@pytest.mark.parametrize("args,code,needle", [
    (["--id", "001185012346X"], 4, "hộ chiếu"),
    (["--id", "999185012345"], 4, "tỉnh"),
    (["--id", "0100233489"], 4, "mã số"),
    (["--at", "2026-02-30 09:00"], 4, "không hợp lệ"),
    (["--at", "2099-01-01 09:00"], 4, "tương lai"),
    (["--procedure", "9.999999"], 3, "Không có thủ tục"),
    (["--component", "99"], 4, "không có thành phần"),
])
def test_bad_input_is_refused_with_vietnamese_message_and_nothing_stored(run, db, args, code, needle):
    base = ["receive", "--procedure", PROC, "--name", "Nguyễn Văn An", "--id", "001085012345"]
    # later options win in click, so the bad value overrides the good one
    extra = [] if "--component" in args else ["--all-components"]
    r = run(*base, *extra, *args, "--json")
    assert r.exit_code == code, (r.stdout, r.stderr)
    assert r.stderr.startswith("onestop: lỗi: ")
    assert needle.lower() in r.stderr.lower()
    assert r.stdout == ""
    assert count(db, "dossiers") == 0 and count(db, "outbox") == 0 and count(db, "code_sequences") == 0


def test_english_messages_on_request(run):
    r = run("--lang", "en", "receive", "--procedure", "9.999999", "--name", "A", "--id", "001085012345", "--all-components")
    assert r.exit_code == 3 and r.stderr.startswith("onestop: error: No procedure")


@pytest.mark.sqlite_only
def test_locked_database_is_a_clear_error_and_stores_nothing(run, db, cfg, monkeypatch):
    import onestop.store.sqlite

    monkeypatch.setattr(onestop.store.sqlite, "BUSY_TIMEOUT_MS", 200)
    other = sqlite3.connect(str(cfg.db_path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        r = run(*ARGS)
    finally:
        other.execute("ROLLBACK")
    assert r.exit_code == 6 and "đang bị khóa" in r.stderr
    assert count(db, "dossiers") == 0


@pytest.mark.sqlite_only
def test_database_file_is_private(run, cfg):
    receive(run)
    assert stat.S_IMODE(os.stat(cfg.db_path).st_mode) == 0o600


def test_home_folders_are_private(run, cfg):
    receive(run)
    assert stat.S_IMODE(os.stat(cfg.home / "forms").st_mode) == 0o700


def test_missing_required_option_without_terminal(run):
    r = run("receive", "--procedure", PROC, "--id", "001085012345", "--all-components")
    assert r.exit_code == 4 and "--name" in r.stderr


def test_receive_many_is_all_or_nothing(cfg, db):
    from onestop.intake import dossiers
    from onestop.common.errors import InvalidInput

    at = dossiers.parse_when("2026-11-23 09:00", cfg)
    good = [dossiers.ReceiveRequest(PROC, dossiers.Applicant(f"Người {i}", "001085012345"), at=at) for i in range(5)]
    bad = good + [dossiers.ReceiveRequest(PROC, dossiers.Applicant("Sai", "12"), at=at)]
    with pytest.raises(InvalidInput) as e:
        dossiers.receive_many(db, cfg, bad)
    assert "Hồ sơ thứ 6" in e.value.vi
    assert count(db, "dossiers") == 0 and count(db, "code_sequences") == 0
    out = dossiers.receive_many(db, cfg, good)
    assert [o["code"][-4:] for o in out] == ["0001", "0002", "0003", "0004", "0005"]
    assert count(db, "outbox") == 10


def test_receipt_is_the_same_with_or_without_the_prerender_helper(run, monkeypatch):
    a = receive(run, "--at", "2026-11-23 09:15")
    monkeypatch.setenv("ONESTOP_NO_PRERENDER", "1")
    b = receive(run, "--at", "2026-11-23 09:16")

    def text(p):
        return " ".join("".join(pg.extract_text() for pg in pypdf.PdfReader(p).pages).split())

    ta, tb = text(a["receipt"]), text(b["receipt"])
    assert a["code"] in ta and b["code"] in tb
    import re

    # same form, field for field: only the code, the minute and the book number differ
    assert re.sub(r"\d", "#", ta) == re.sub(r"\d", "#", tb)


def test_codes_continue_above_the_receipts_this_home_printed(run, db, home):
    """A database behind the codes this desk already printed (codes-issued.json: a restored backup,
    an office database restored on the server) continues above them, code and book number alike;
    the counter rows are lifted too, so the next desk continues from there."""
    a = receive(run)
    issued = home / "codes-issued.json"
    marks = json.loads(issued.read_text())
    for kind in ("seq", "book"):
        marks[kind] = {k: v + 5 for k, v in marks[kind].items()}
    issued.write_text(json.dumps(marks))
    b = receive(run)
    assert a["code"].endswith("-0001") and a["book_no"] == 1
    assert b["code"].endswith("-0007") and b["book_no"] == 7
    assert db.execute("SELECT last FROM code_sequences").fetchall() == [(7,)]
    assert db.execute("SELECT last FROM book_sequences").fetchall() == [(7,)]
    assert receive(run)["code"].endswith("-0008")


def test_code_numbers_past_9999_and_the_owner_digit_rule(run, db, cfg, home):
    """The code is built where the number is taken (on PostgreSQL in SQL, onestop/store/codes.py):
    it grows past 9999 untruncated and keeps TT 04/2025's two owner digits, as codes.format_code."""
    from pages import new_dossier

    issued = home / "codes-issued.json"
    receive(run)
    marks = json.loads(issued.read_text())
    marks["seq"] = {k: 9998 for k in marks["seq"]}
    issued.write_text(json.dumps(marks))
    assert [new_dossier(db, cfg).rsplit("-", 1)[1] for _ in range(2)] == ["9999", "10000"]
    cfg.data.setdefault("counter", {}).update(code_rule="tt04-2025", owner_code="07")
    code = new_dossier(db, cfg)
    assert code.rsplit("-", 1)[1] == "0710001", code
    assert db.execute("SELECT code_rule FROM dossiers WHERE code = ?", [code]).fetchone() == ("tt04-2025",)

"""Forms printed by the counter commands: dated by the action, signed by a configured name (pypdf)."""

import json

import pytest
from pypdf import PdfReader

PROC = "1.003584"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-12-31 16:00")


def pdf_text(path) -> str:
    return " ".join(" ".join((p.extract_text() or "") for p in PdfReader(path).pages).split())


def receive(run, *extra):
    r = run("receive", "-p", PROC, "--name", "Phạm Minh Châu", "--id", "001085012345", "--all-components",
            "--at", "2026-11-02 09:00", "--json", *extra)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_mau_02_is_dated_by_the_move_time_not_today(run):
    code = receive(run)["code"]
    r = run("move", code, "5", "--missing", "Điều lệ: chưa ký", "--at", "2026-11-03 09:00", "--json")
    assert r.exit_code == 0, r.stderr
    text = pdf_text(json.loads(r.stdout)["form"])
    assert "ngày 03 tháng 11 năm 2026" in text
    assert "ngày 31 tháng 12 năm 2026" not in text
    assert "liên hệ với cán bộ Trần Thị Cán Bộ" in text


def test_forms_are_refused_without_an_officer_name_and_nothing_is_stored(run, db, monkeypatch, rows):
    monkeypatch.delenv("ONESTOP_OFFICER")
    monkeypatch.setenv("USER", "root")
    r = run("receive", "-p", PROC, "--name", "Phạm Minh Châu", "--id", "001085012345", "--all-components")
    assert r.exit_code == 8, r.stderr
    assert "ONESTOP_OFFICER" in r.stderr and "[counter] officer" in r.stderr
    assert rows("SELECT count(*) FROM dossiers")[0][0] == 0
    assert rows("SELECT count(*) FROM counter_forms")[0][0] == 0
    # --officer sets it for one command.
    r = run("--officer", "Lê Thị Mai", "receive", "-p", PROC, "--name", "Phạm Minh Châu", "--id", "001085012345",
            "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    text = pdf_text(json.loads(r.stdout)["receipt"])
    assert "Lê Thị Mai" in text and "root" not in text


def test_reschedule_form_shows_the_original_then_the_new_appointment(run, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-10 10:00")
    out = receive(run)
    assert out["due_at"] == "2026-11-23T09:00:00+07:00"
    r = run("reschedule", out["code"], "--to", "2026-11-27 14:00", "--reason", "Cần xác minh thực tế", "--json")
    assert r.exit_code == 0, r.stderr
    text = pdf_text(json.loads(r.stdout)["form"])
    assert "Ngày hẹn trả kết quả: 09 giờ 00 phút, ngày 23/11/2026" in text
    assert "Ngày hẹn trả kết quả mới: 14 giờ 00 phút, ngày 27/11/2026" in text
    assert text.index("23/11/2026") < text.index("27/11/2026")
    assert "ngày 10 tháng 11 năm 2026" in text  # dated by the reschedule
    assert "TM. SỞ KHOA HỌC VÀ CÔNG NGHỆ" in text and "GIÁM ĐỐC" in text  # signed for the agency


def test_hand_over_to_processing_prints_mau_05_with_one_row_per_hand_over(run):
    code = receive(run)["code"]
    r = run("move", code, "4", "--at", "2026-11-02 10:00", "--json")
    assert r.exit_code == 0, r.stderr
    form = json.loads(r.stdout)["form"]
    assert form.endswith(".pdf") and "Mau05" in form
    text = pdf_text(form)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text
    assert code in text
    assert "ngày 02 tháng 11 năm 2026" in text
    assert "1. Giao: Bộ phận tiếp nhận và trả kết quả" in text
    assert "10 giờ 00 phút, ngày 02/11/2026" in text and "Người giao: Trần Thị Cán Bộ" in text
    assert "Trước hạn" in text
    # Papers requested, then back: the second hand-over to processing lists all three rows.
    assert run("move", code, "5", "--missing", "Điều lệ", "--at", "2026-11-03 09:00").exit_code == 0
    r = run("move", code, "4", "--at", "2026-11-04 09:00", "--json")
    text = pdf_text(json.loads(r.stdout)["form"])
    assert "1. Giao:" in text and "2. Giao:" in text and "3. Giao:" in text
    assert "09 giờ 00 phút, ngày 04/11/2026" in text


def test_form_files_follow_one_naming_of_versions_and_are_never_overwritten(run):
    """<code>_MauNN.pdf the first time, then <code>_MauNN_v2.pdf, _v3 … whatever made the new print
    (a reprint, a correction, a second request for papers, the next hand-over), across months."""
    from pathlib import Path

    first = receive(run)
    code, receipt = first["code"], Path(first["receipt"])
    assert receipt.name == f"{code}_Mau01.pdf"
    forms = []
    for status, at in (("4", "2026-11-02 10:00"), ("5", "2026-11-03 09:00"), ("4", "2026-11-04 09:00"),
                       ("5", "2026-12-01 09:00")):
        r = run("move", code, status, "--missing", "Điều lệ", "--at", at, "--json") if status == "5" else \
            run("move", code, status, "--at", at, "--json")
        assert r.exit_code == 0, r.stderr
        forms.append(Path(json.loads(r.stdout)["form"]))
    assert [(f.parent.name, f.name) for f in forms] == [
        ("202611", f"{code}_Mau05.pdf"), ("202611", f"{code}_Mau02.pdf"), ("202611", f"{code}_Mau05_v2.pdf"),
        ("202612", f"{code}_Mau02_v2.pdf")]                       # December: still the second request
    printed = receipt.read_bytes()
    r = run("print", code)
    assert r.exit_code == 0, r.stderr
    assert Path(r.stdout.strip()).name == f"{code}_Mau01_v2.pdf"
    r = run("amend", code, "--name", "Phạm Minh Chân", "--reason", "Nhập sai", "--json")
    assert r.exit_code == 0, r.stderr
    assert Path(json.loads(r.stdout)["receipt"]).name == f"{code}_Mau01_v3.pdf"
    assert receipt.read_bytes() == printed                       # the citizen's paper stays as printed

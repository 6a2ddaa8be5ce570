"""Procedure cases, conditional papers, amend, reschedule in working time, status words, short codes,
double entries: what an officer corrects or is protected from at the counter."""

import json

import pypdf
import pytest

CASES = "1.005082"  # case 1: components 1-5 (5 conditional), case 2: components 6-8
BIZ = ["--name", "Công ty TNHH Ánh Dương", "--id", "0100233488"]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


def pdf_text(path) -> str:
    return " ".join("".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


def receive(run, *args):
    r = run("receive", *args, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_second_case_components_can_be_received_and_printed(run, db, rows):
    out = receive(run, "-p", CASES, *BIZ, "-c", "6", "-c", "7", "-c", "8")  # the case follows the components
    assert out["status"] == "2"
    text = pdf_text(out["receipt"])
    assert "Văn bản thỏa thuận gia hạn, sửa đổi, bổ sung hợp đồng" in text
    assert "Trường hợp gia hạn, sửa đổi, bổ sung hợp đồng" in text
    assert "Văn bản giao kết chuyển giao công nghệ" not in text  # case 1's papers are not listed
    out = receive(run, "-p", CASES, *BIZ, "--case", "2", "--all-components")
    comps = rows("SELECT n FROM dossier_components WHERE dossier_id = (SELECT id FROM dossiers WHERE code = ?) "
                 "ORDER BY n", [out["code"]])
    assert [r[0] for r in comps] == [6, 7, 8]
    assert rows("SELECT case_name FROM dossiers WHERE code = ?", [out["code"]])[0] == (
        "Trường hợp gia hạn, sửa đổi, bổ sung hợp đồng",)


def test_unknown_case_and_a_component_of_another_case_are_refused(run, db, rows):
    r = run("receive", "-p", CASES, *BIZ, "--case", "3", "--all-components")
    assert r.exit_code == 4 and "1. Trường hợp đăng ký lần đầu" in r.stderr
    r = run("receive", "-p", CASES, *BIZ, "--case", "1", "-c", "6")
    assert r.exit_code == 4 and "--case" in r.stderr
    assert rows("SELECT count(*) FROM dossiers")[0][0] == 0


def test_procedures_show_numbers_the_cases(run):
    r = run("procedures", "show", CASES)
    assert "Trường hợp 2 (--case 2): Trường hợp gia hạn" in r.stdout
    assert json.loads(run("procedures", "show", CASES, "--json").stdout)["cases"][1]["components"] == [6, 7, 8]


def test_conditional_papers_are_missing_only_when_marked_as_applying(run):
    # 1.003604: 2 "bị rách nát, hư hỏng (nếu có)", 3 "xác nhận việc mất (trường hợp bị mất)"
    assert receive(run, "-p", "1.003604", *BIZ, "-c", "1")["status"] == "2"
    out = receive(run, "-p", "1.003604", *BIZ, "-c", "1", "--applies", "3")
    assert out["status"] == "incomplete" and out["missing"] == [
        "Văn bản xác nhận việc mất Giấy chứng nhận của cơ quan công an (trường hợp bị mất)"]


def test_amend_records_old_and_new_rerenders_the_receipt_and_queues_an_update(run, db, cfg, rows):
    out = receive(run, "-p", "1.003584", "--name", "Nguyễn Thị Huong", "--id", "001185012345", "--phone",
                  "0912345678", "--all-components")
    code = out["code"]
    db.execute("UPDATE outbox SET state = 'done'")  # last night's sync sent the dossier
    r = run("amend", code, "--name", "Nguyễn Thị Hương", "--phone", "0987654321", "--reason", "Nhập sai dấu và số máy",
            "--json")
    assert r.exit_code == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["code"] == code and res["receipt"].endswith("_Mau01_v2.pdf")
    assert "Nguyễn Thị Hương" in pdf_text(res["receipt"]) and "Nguyễn Thị Huong" in pdf_text(out["receipt"])
    shown = json.loads(run("show", code, "--json", "--show-personal").stdout)
    assert shown["applicant_name"] == "Nguyễn Thị Hương" and shown["code"] == code
    ev = shown["events"][-1]
    assert ev["action"] == "amend" and ev["note"] == "Nhập sai dấu và số máy" and ev["officer"] == "Trần Thị Cán Bộ"
    assert ev["data"]["changes"] == {"applicant_name": {"old": "Nguyễn Thị Huong", "new": "Nguyễn Thị Hương"},
                                     "phone": {"old": "0912345678", "new": "0987654321"}}
    assert shown["events"][0]["action"] == "receive"  # history kept, not edited
    masked = json.loads(run("show", code, "--json", "--mask").stdout)["events"][-1]["data"]["changes"]["phone"]
    assert "0987654321" not in json.dumps(masked)
    pending = rows("SELECT kind, dossier_id FROM outbox WHERE state = 'pending'")
    assert [p[0] for p in pending] == ["update"]
    from onestop.sync.payloads import dossier_records

    record = dossier_records(db, cfg, [pending[0][1]])[pending[0][1]]
    assert record["MaHoSo"] == code and "Nguyễn Thị Hương" in json.dumps(record, ensure_ascii=False)


def test_amend_refuses_bad_values_and_no_change(run, db, rows):
    code = receive(run, "-p", "1.003584", "--name", "Lê Văn Bình", "--id", "001085012345", "--all-components")["code"]
    assert run("amend", code, "--id", "12345", "--reason", "sai số").exit_code == 4
    assert run("amend", code, "--name", "Lê Văn Bình", "--reason", "không đổi").exit_code == 4
    assert run("amend", code, "--name", "Lê Văn Bính").exit_code == 2  # --reason is required
    assert rows("SELECT count(*) FROM events WHERE action = 'amend'")[0][0] == 0


def test_reschedule_outside_working_time_is_refused(run, db, rows):
    code = receive(run, "-p", "1.003584", "--name", "Lê Văn Bình", "--id", "001085012345", "--all-components")["code"]
    r = run("reschedule", code, "--to", "2026-12-27 22:00", "--reason", "xác minh")  # a Sunday night
    assert r.exit_code == 4 and "Chủ nhật" in r.stderr and "ngày nghỉ" in r.stderr
    r = run("reschedule", code, "--to", "2026-12-28 19:00", "--reason", "xác minh")  # Monday evening
    assert r.exit_code == 4 and "ngoài giờ làm việc" in r.stderr
    assert rows("SELECT rescheduled FROM dossiers")[0] == (0,)
    r = run("reschedule", code, "--to", "2026-12-28 16:00", "--reason", "xác minh")
    assert r.exit_code == 0 and "Thứ Hai ngày 28 tháng 12 năm 2026" in r.stderr


@pytest.mark.parametrize("word,status", [("da xu ly", "9"), ("Đã xử lý", "9"), ("bo sung", "5"),
                                         ("dang xu ly", "4")])
def test_move_accepts_vietnamese_words_and_prints_names(run, db, word, status, rows):
    code = receive(run, "-p", "1.003584", "--name", "Lê Văn Bình", "--id", "001085012345", "--all-components")["code"]
    r = run("move", code, word, "--note", "ghi chú")
    assert r.exit_code == 0, r.stderr
    assert rows("SELECT status FROM dossiers")[0] == (status,)
    assert "Được tiếp nhận (2) → " in r.stdout and "2 → " not in r.stdout


def test_move_help_and_errors_list_the_words(run):
    assert "tra ket qua" in run("move", "--help").stdout
    code = receive(run, "-p", "1.003584", "--name", "Lê Văn Bình", "--id", "001085012345", "--all-components")["code"]
    r = run("move", code, "xong roi nhe")
    assert r.exit_code == 4 and "da xu ly" in r.stderr and "tra ket qua" in r.stderr


def test_same_id_and_procedure_twice_within_the_window_is_warned(run, cfg):
    args = ["-p", "1.003584", "--name", "Lê Văn Bình", "--id", "001085012345", "--all-components"]
    first = receive(run, *args, "--at", "2026-11-30 09:00")
    r = run("receive", *args, "--at", "2026-11-30 09:20", "--json")
    out = json.loads(r.stdout)
    assert out["possible_duplicates"] == [first["code"]] and first["code"] in r.stderr and "nhập trùng" in r.stderr
    later = receive(run, *args, "--at", "2026-11-30 09:55")  # 35 min after the second: outside 30 min
    assert later["possible_duplicates"] == []


def test_names_without_diacritics_warn_in_scripts(run):
    r = run("receive", "-p", "1.003584", "--name", "Nguyen Van An", "--id", "001085012345", "--all-components", "--json")
    assert r.exit_code == 0 and "không có dấu" in r.stderr
    assert json.loads(r.stdout)["warnings"]

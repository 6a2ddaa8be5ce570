"""Moving a dossier through its statuses: appended events, outbox rows, forms, refusals."""

import json

import pypdf
import pytest

PROC = "1.003584"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-12-31 16:00")


@pytest.fixture
def code(run):
    r = run("receive", "-p", PROC, "--name", "Phạm Minh Châu", "--id", "001085012345", "--all-components",
            "--at", "2026-11-02 09:00", "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["code"]


def events(db):
    return [tuple(r) for r in db.execute("SELECT action, status_from, status_to, officer FROM events ORDER BY id")]


def test_full_happy_path_appends_one_event_and_two_outbox_rows_per_move(run, db, code, rows):
    for st, at in (("4", "2026-11-02 10:00"), ("9", "2026-11-10 10:00"), ("10", "2026-11-11 10:00")):
        r = run("move", code, st, "--at", at, "--json")
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout)["status"] == st
    assert [e[:3] for e in events(db)] == [("receive", None, "2"), ("status_4", "2", "4"), ("status_9", "4", "9"),
                                           ("status_10", "9", "10")]
    assert all(e[3] == "Trần Thị Cán Bộ" for e in events(db))
    kinds = [r[0] for r in rows("SELECT kind FROM outbox ORDER BY id")]
    assert kinds == ["create", "step"] + ["update", "step"] * 3
    row = rows("SELECT status, finished_at, returned_at FROM dossiers")[0]
    assert row == ("10", "2026-11-10T10:00:00+07:00", "2026-11-11T10:00:00+07:00")


def test_request_for_papers_restarts_the_clock_and_keeps_the_original_date(run, db, code, rows):
    r = run("move", code, "5", "--missing", "Điều lệ tổ chức: chưa có chữ ký", "--at", "2026-11-03 09:00", "--json")
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["status"] == "5"
    text = " ".join("".join(p.extract_text() for p in pypdf.PdfReader(out["form"]).pages).split())
    assert "Điều lệ tổ chức" in text and code in text
    r = run("move", code, "4", "--note", "Đã nhận đủ giấy tờ bổ sung", "--at", "2026-11-06 14:00", "--json")
    out = json.loads(r.stdout)
    # 15 working days counted again from Fri 6/11: 9-13, 16-20, 23, 25, 26, 27, 30 (24/11 off) -> Mon 30/11
    assert out["due_at"] == "2026-11-30T14:00:00+07:00"
    # original: 15 working days from Mon 2/11: 3-6, 9-13, 16-20, 23 -> Mon 23/11 09:00
    assert out["original_due_at"] == "2026-11-23T09:00:00+07:00"
    d = rows("SELECT due_at, original_due_at, papers_requests FROM dossiers")[0]
    assert d[0] == "2026-11-30T14:00:00+07:00" and d[1] != d[0] and d[2] == 1
    data = json.loads(rows("SELECT data FROM events WHERE action='status_4'")[0][0])
    assert data["new_due_at"] == "2026-11-30T14:00:00+07:00"


@pytest.mark.parametrize("path,refused", [
    (["10"], "10"), (["4", "2"], "2"), (["7", "4"], "4"), (["8", "9"], "9"), (["9", "4"], "4"), (["4", "9", "10", "4"], "4"),
])
def test_refused_moves_exit_5_and_change_nothing(run, db, code, path, refused, rows):
    for st in path[:-1]:
        assert run("move", code, st).exit_code == 0
    before = (events(db), rows("SELECT count(*) FROM outbox")[0][0])
    r = run("move", code, refused)
    assert r.exit_code == 5 and "không chuyển sang" in r.stderr
    assert (events(db), rows("SELECT count(*) FROM outbox")[0][0]) == before


def test_request_for_papers_needs_what_is_missing(run, code):
    r = run("move", code, "5")
    assert r.exit_code == 4 and "--missing" in r.stderr


def test_unknown_status_and_unknown_dossier(run, code):
    assert run("move", code, "nonsense").exit_code == 4
    r = run("move", "000.00.12.H26-261102-9999", "4")
    assert r.exit_code == 3 and "Không tìm thấy hồ sơ" in r.stderr


def test_reschedule_once_with_form_04(run, db, code, monkeypatch, rows):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-10 09:00")
    r = run("reschedule", code, "--to", "2026-12-01 16:00", "--reason", "Cần xác minh thực tế tại cơ sở", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    text = " ".join("".join(p.extract_text() for p in pypdf.PdfReader(out["form"]).pages).split())
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text and "01/12/2026" in text
    r = run("reschedule", code, "--to", "2026-12-05 16:00", "--reason", "lần hai")
    assert r.exit_code == 5 and "một lần" in r.stderr
    assert rows("SELECT due_at, rescheduled FROM dossiers")[0] == ("2026-12-01T16:00:00+07:00", 1)


def test_reschedule_refused_less_than_a_day_before_due(run, code, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-23 16:00")  # due 24/11 09:00 or so: under 24 h
    r = run("show", code, "--json")
    due = json.loads(r.stdout)["due_at"]
    monkeypatch.setenv("ONESTOP_NOW", due[:10] + " 08:00")
    r = run("reschedule", code, "--to", "2027-01-05 16:00", "--reason", "muộn")
    assert r.exit_code == 5 and "1 ngày" in r.stderr


def test_show_and_list(run, code):
    r = run("show", code[-11:], "--json")  # a unique tail of the code is enough
    assert r.exit_code == 0 and json.loads(r.stdout)["code"] == code
    r = run("show", code, "--json")
    d = json.loads(r.stdout)
    assert d["code"] == code and d["applicant_name"] == "Phạm Minh Châu" and len(d["components"]) >= 3
    assert d["events"][0]["note"] == "Tiếp nhận hồ sơ"
    r = run("show", code, "--mask", "--json")
    assert json.loads(r.stdout)["id_number"].endswith("345") and "001085" not in r.stdout
    r = run("list", "--csv")
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("code,received_at") and code in lines[1]
    r = run("list", "--status", "4", "--json")
    assert json.loads(r.stdout) == []


def test_papers_arriving_after_15h_keep_their_time_when_the_procedure_has_no_cutoff_flag(run, code):
    # 1.003584 has no "next day after 15:00" flag: papers arriving Fri 6/11 16:00 count from that day,
    # 15 working days (24/11 off): 9-13, 16-20, 23, 25, 26, 27, 30 -> Mon 30/11 at 16:00
    assert run("move", code, "5", "--missing", "Điều lệ", "--at", "2026-11-03 09:00").exit_code == 0
    r = run("move", code, "4", "--at", "2026-11-06 16:00", "--json")
    assert json.loads(r.stdout)["due_at"] == "2026-11-30T16:00:00+07:00"

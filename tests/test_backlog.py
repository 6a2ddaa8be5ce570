"""`onestop backlog` on a known month of dossiers (October 2026), every figure in table, JSON and CSV.

``build_month`` is shared with the report, book and HTML tests. October 2026 has no holiday; its
weekends are 3-4, 10-11, 17-18, 24-25, 31. Procedures: 1.003604 and 1.003700 take 5 working
days, 1.003593 takes 10; the due time keeps the time of day of receipt.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from onestop.store.sqlite import transaction

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
P5, P5B, P10 = "1.003604", "1.003700", "1.003593"
PEOPLE = {
    "C1": ("Nguyễn Văn An", "001085012345", "0912345678"),
    "C2": ("Trần Thị Bích", "033190004567", "0987654321"),
}


def at(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def build_month(db, cfg) -> dict[str, str]:
    """The known set; returns {label: dossier code}. Expected figures are in the tests below."""
    from onestop.common import config
    from onestop.intake import dossiers

    codes: dict[str, str] = {}

    def rec(label, proc, when, channel="1", officer_cfg=None):
        name, idn, phone = PEOPLE.get(label, (f"Người nộp {label}", "001085012345", "0912345678"))
        r = dossiers.receive(db, officer_cfg or cfg, dossiers.ReceiveRequest(
            procedure_code=proc, applicant=dossiers.Applicant(name=name, id_number=idn, phone=phone,
                                                              address=f"Số {len(codes) + 1} phố Huế, Hà Nội"),
            at=at(when), channel=channel, pages={n: 1 for n in range(1, 10)}), render=False)
        codes[label] = r["code"]
        return r

    def mv(label, status, when, **kw):
        if status == "5":
            kw.setdefault("note", "Thiếu bản sao giấy tờ")
        dossiers.move(db, cfg, codes[label], status, at=at(when), render=False, **kw)

    # carried over from September
    rec("C1", P5, "2026-09-24 09:00"); mv("C1", "4", "2026-09-25 09:00"); mv("C1", "9", "2026-10-01 08:00")
    mv("C1", "10", "2026-10-02 10:00")                                       # on time (due 10-01 09:00)
    rec("C2", P10, "2026-09-28 09:00"); mv("C2", "4", "2026-09-28 10:00")     # due 10-12, still open
    rec("C3", P5, "2026-09-10 09:00"); mv("C3", "9", "2026-09-15 09:00")     # ended before October
    # received in October
    rec("D1", P5, "2026-10-01 09:00"); mv("D1", "4", "2026-10-01 10:00"); mv("D1", "9", "2026-10-05 10:00")
    mv("D1", "10", "2026-10-06 09:00")                                       # early (due 10-08)
    rec("D2", P5, "2026-10-02 09:00", channel="2"); mv("D2", "9", "2026-10-09 08:30")  # on time (due 10-09 09:00)
    rec("D3", P5, "2026-10-05 09:00"); mv("D3", "4", "2026-10-05 10:00"); mv("D3", "9", "2026-10-13 10:00")  # late
    rec("D4", P5B, "2026-10-06 09:00", channel="3")                           # two requests for papers: late
    mv("D4", "5", "2026-10-07 09:00"); mv("D4", "4", "2026-10-08 10:00"); mv("D4", "5", "2026-10-09 09:00")
    mv("D4", "4", "2026-10-12 09:00"); mv("D4", "9", "2026-10-14 09:00")
    rec("D5", P5B, "2026-10-07 09:00"); mv("D5", "4", "2026-10-07 10:00")    # rescheduled (Mẫu 04): late
    dossiers.reschedule(db, cfg, codes["D5"], at("2026-10-16 09:00"), "Chờ ý kiến phòng chuyên môn",
                        at=at("2026-10-12 09:00"), render=False)
    mv("D5", "9", "2026-10-15 09:00")
    rec("D6", P5, "2026-10-08 09:00"); mv("D6", "7", "2026-10-09 09:00")     # withdrawn
    rec("D7", P5, "2026-10-09 09:00", channel="2"); mv("D7", "8", "2026-10-13 09:00")  # stopped
    rec("D8", P5, "2026-10-20 09:00"); mv("D8", "4", "2026-10-20 10:00")     # due 10-27: overdue
    rec("D9", P5, "2026-10-26 09:00", officer_cfg=config.load(officer="Lê Văn Bình"))  # due 11-02: due soon
    rec("D10", P5, "2026-10-23 09:00"); mv("D10", "4", "2026-10-23 10:00")   # due 10-30: due that day
    rec("D11", P10, "2026-10-22 09:00"); mv("D11", "5", "2026-10-23 09:00")  # waiting for papers
    rec("D12", P5B, "2026-10-14 09:00"); mv("D12", "6", "2026-10-15 09:00")  # waiting for fees
    rec("D13", P5, "2026-10-15 09:00"); mv("D13", "5", "2026-10-16 09:00")   # one request only: not late
    mv("D13", "4", "2026-10-19 09:00"); mv("D13", "9", "2026-10-22 14:00")   # new due 10-26: early
    rec("D14", P5, "2026-10-28 09:00"); mv("D14", "4", "2026-10-29 09:00"); mv("D14", "9", "2026-11-03 09:00")
    ids = {k: db.execute("SELECT id FROM dossiers WHERE code = ?", [c]).fetchone()[0] for k, c in codes.items()}
    with transaction(db):
        for k in ("D1", "D2", "D13"):  # scanned components (the archive's job)
            db.execute("UPDATE dossier_components SET digitized = 1 WHERE dossier_id = ? AND n = 1", [ids[k]])
        for k in ("D1", "D2", "D3", "D8"):  # sent to the portal (the sync's job)
            db.execute("UPDATE outbox SET state = 'done' WHERE dossier_id = ? AND kind = 'create'", [ids[k]])
    return codes


@pytest.fixture
def month(db, cfg):
    return build_month(db, cfg)


def test_fixture_due_dates(db, month, rows):
    due = dict(rows("SELECT code, due_at FROM dossiers"))
    assert due[month["C1"]].startswith("2026-10-01T09:00")
    assert due[month["C2"]].startswith("2026-10-12T09:00")
    assert due[month["D4"]].startswith("2026-10-19T09:00")  # restarted after the second request
    assert due[month["D5"]].startswith("2026-10-16T09:00")  # rescheduled
    assert due[month["D13"]].startswith("2026-10-26T09:00")
    assert due[month["D9"]].startswith("2026-11-02T09:00")


EXPECTED_STATUS = {  # status: (count, overdue, due_today, due_soon)
    "2": (1, 0, 0, 1), "4": (3, 2, 1, 0), "5": (1, 0, 0, 0), "6": (1, 0, 0, 0)}


def test_backlog_json(run, month):
    r = run("backlog", "--as-of", "2026-10-30", "--json")
    assert r.exit_code == 0, r.output
    b = json.loads(r.stdout)
    assert b["as_of"] == "2026-10-30"
    assert (b["total"], b["in_processing"], b["waiting_citizen"]) == (6, 4, 2)
    assert (b["overdue"], b["due_today"], b["due_soon"], b["due_soon_working_days"]) == (2, 1, 1, 3)
    assert {s["status"]: (s["count"], s["overdue"], s["due_today"], s["due_soon"]) for s in b["by_status"]} == EXPECTED_STATUS
    assert [s["name"] for s in b["by_status"]][:2] == ["Được tiếp nhận", "Đang xử lý"]
    procs = {p["procedure_code"]: (p["count"], p["overdue"], p["due_today"], p["due_soon"]) for p in b["by_procedure"]}
    assert procs == {P5: (3, 1, 1, 1), P10: (2, 1, 0, 0), P5B: (1, 0, 0, 0)}
    assert b["by_procedure"][0]["procedure_code"] == P5  # largest first
    lst = b["overdue_list"]
    assert [(x["code"], x["days_late"], x["status"]) for x in lst] == [(month["C2"], 14, "4"), (month["D8"], 3, "4")]
    assert lst[0]["applicant_name"] == "Trần Thị Bích"
    assert lst[0]["id_number"] == "*********567" and lst[0]["phone"] == "098*****21"  # masked by default
    assert lst[0]["due_at"].startswith("2026-10-12T09:00") and lst[0]["procedure_code"] == P10


def test_backlog_filters(run, month):
    def get(*a):
        r = run("backlog", "--as-of", "2026-10-30", "--json", *a)
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    b = get("--procedure", P10)
    assert (b["total"], b["overdue"], b["waiting_citizen"]) == (2, 1, 1)
    assert b["filters"]["procedure"] == P10
    b = get("--field", "G13-KH03")
    assert (b["total"], b["overdue"], b["waiting_citizen"]) == (1, 0, 1)
    b = get("--officer", "Lê Văn Bình")
    assert (b["total"], b["due_soon"], b["overdue_list"]) == (1, 1, [])
    # an earlier day: C2 (overdue by 6 working days), D8 (received that morning), D12 (waiting)
    b = get("--as-of", "2026-10-20")
    assert (b["total"], b["overdue"], b["due_today"], b["due_soon"]) == (3, 1, 0, 0)
    assert b["overdue_list"][0]["days_late"] == 6


def test_backlog_csv(run, month):
    r = run("backlog", "--as-of", "2026-10-30", "--csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["figure", "key", "value"]
    fig = {(x["figure"], x["key"]): int(x["value"]) for x in rows}
    assert fig[("total", "")] == 6 and fig[("in_processing", "")] == 4 and fig[("waiting_citizen", "")] == 2
    assert (fig[("overdue", "")], fig[("due_today", "")], fig[("due_soon", "")]) == (2, 1, 1)
    for st, (n, o, td, ds) in EXPECTED_STATUS.items():
        assert (fig[("status_count", st)], fig[("status_overdue", st)], fig[("status_due_today", st)],
                fig[("status_due_soon", st)]) == (n, o, td, ds)
    assert (fig[("procedure_count", P5)], fig[("procedure_overdue", P5)]) == (3, 1)
    assert (fig[("procedure_count", P10)], fig[("procedure_overdue", P10)]) == (2, 1)
    r = run("backlog", "--as-of", "2026-10-30", "--csv", "--overdue")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["code"], x["days_late"], x["id_number"]) for x in rows] == [
        (month["C2"], "14", "*********567"), (month["D8"], "3", "*********345")]


def test_backlog_table(run, month):
    r = run("backlog", "--as-of", "2026-10-30")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "2\tĐược tiếp nhận\t1\t0\t0\t1" in lines
    assert "4\tĐang xử lý\t3\t2\t1\t0" in lines
    assert "5\tYêu cầu bổ sung giấy tờ\t1\t0\t0\t0" in lines
    assert "6\tYêu cầu thực hiện nghĩa vụ tài chính\t1\t0\t0\t0" in lines
    assert "\tTổng\t6\t2\t1\t1" in lines
    assert any(l.startswith(f"{P5}\t") and l.endswith("\t3\t1\t1\t1") for l in lines)
    over = [l.split("\t") for l in lines if l.startswith(month["C2"]) or l.startswith(month["D8"])]
    assert [(o[0], o[9]) for o in over] == [(month["C2"], "14"), (month["D8"], "3")]
    assert "001085012345" not in r.stdout and "033190004567" not in r.stdout


def test_show_personal_is_recorded(run, db, month, rows):
    r = run("backlog", "--as-of", "2026-10-30", "--json", "--show-personal")
    b = json.loads(r.stdout)
    assert b["overdue_list"][0]["id_number"] == "033190004567" and b["overdue_list"][0]["phone"] == "0987654321"
    assert rows("SELECT officer, command, detail FROM personal_access") == [("Trần Thị Cán Bộ", "backlog", "as_of=2026-10-30 rows=2")]


def test_backlog_bad_date(run):
    r = run("backlog", "--as-of", "30/13/2026")  # dd/mm/yyyy is taken (issue 18); a 13th month is not
    assert r.exit_code == 4  # InvalidInput
    assert "YYYY-MM-DD" in r.stderr and "dd/mm/yyyy" in r.stderr


def test_days_late_match_calendar(db, cfg, month):
    """The ordinal shortcut equals the calendar's own count (Sept 2026 has the 2/9 holidays)."""
    from datetime import date, timedelta

    from onestop.intake.dossiers import calendar_for
    from onestop.reports.figures import workday_ordinals

    cal = calendar_for(db, cfg, [2026])
    ords = workday_ordinals(cal, date(2026, 8, 20), date(2026, 10, 31))
    days = [date(2026, 8, 20) + timedelta(days=i) for i in range(0, 72, 5)]
    for a in days:
        for b in days:
            assert ords[b.isoformat()] - ords[a.isoformat()] == cal.working_days_between(a, b)

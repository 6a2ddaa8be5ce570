"""Looking things up at the counter: by ID or phone, several words, statuses by name, dates for people."""

import json

import pytest

PROC = "1.003584"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 23:00")


@pytest.fixture
def two(run):
    codes = []
    for name, id_, phone, at in (("Lê Thị Hoa", "001090012345", "0987654321", "2026-11-30 09:15"),
                                 ("Đỗ Văn Bình", "079085012345", "0912000111", "2026-11-30 10:30")):
        r = run("receive", "-p", PROC, "--name", name, "--id", id_, "--phone", phone, "--all-components",
                "--at", at, "--json")
        assert r.exit_code == 0, r.stderr
        codes.append(json.loads(r.stdout)["code"])
    return codes


def test_search_finds_a_dossier_by_id_number_masked_and_logged(run, db, two, rows):
    r = run("search", "001090012345", "--json")
    assert r.exit_code == 0, r.stderr
    hits = json.loads(r.stdout)
    assert [h["code"] for h in hits] == [two[0]]
    assert hits[0]["applicant_name"] == "Lê Thị Hoa" and hits[0]["matched"] == "id_number"
    assert "001090012345" not in r.stdout and "0987654321" not in r.stdout
    assert "*********345" in hits[0]["snippet"]
    log = rows("SELECT officer, command, detail FROM personal_access")
    assert len(log) == 1 and log[0][:2] == ("Trần Thị Cán Bộ", "search")
    assert "001090012345" not in log[0][2]


def test_search_finds_a_dossier_by_phone_in_any_spelling(run, db, two, rows):
    for q in ("0987654321", "0987 654 321", "+84987654321"):
        r = run("search", q)
        assert r.exit_code == 0, r.stderr
        assert two[0] in r.stdout and two[1] not in r.stdout, q
        assert "0987654321" not in r.stdout
    r = run("search", "0987654321", "--show-personal", "--json")
    assert json.loads(r.stdout)[0]["snippet"].startswith("«0987654321»")
    assert rows("SELECT count(*) FROM personal_access WHERE command = 'search'")[0][0] == 4


def test_search_accepts_several_words_without_quotes(run, two):
    r = run("search", "dang", "ky", "thanh", "lap", "--json")
    assert r.exit_code == 0, r.stderr
    assert {h["code"] for h in json.loads(r.stdout)} == set(two)
    r = run("search", "le", "thi", "hoa", "--json")
    assert [h["code"] for h in json.loads(r.stdout)] == [two[0]]


def test_list_status_accepts_vietnamese_names_and_refuses_unknown(run, two):
    assert run("move", two[0], "5", "--missing", "Điều lệ", "--at", "2026-11-30 11:00").exit_code == 0
    for word in ("5", "bo sung", "Bổ sung", "yeu cau bo sung giay to", "Yêu cầu bổ sung giấy tờ", "request"):
        r = run("list", "--status", word, "--json")
        assert r.exit_code == 0, (word, r.stderr)
        assert [x["code"] for x in json.loads(r.stdout)] == [two[0]], word
    r = run("list", "--status", "duoc tiep nhan", "--json")
    assert [x["code"] for x in json.loads(r.stdout)] == [two[1]]
    for bad in ("99", "abc"):
        r = run("list", "--status", bad)
        assert r.exit_code == 4, bad
        assert "Yêu cầu bổ sung giấy tờ" in r.stderr  # the message lists the statuses


def test_list_and_show_print_dates_and_status_names_for_people_json_keeps_iso(run, two):
    r = run("list")
    assert r.exit_code == 0, r.stderr
    assert "30/11/2026 09:15" in r.stdout and "Được tiếp nhận" in r.stdout
    assert "2026-11-30T09:15" not in r.stdout
    rows = json.loads(run("list", "--json").stdout)
    assert rows[-1]["received_at"] == "2026-11-30T09:15:00+07:00" and rows[-1]["status"] == "2"
    r = run("show", two[0])
    assert r.exit_code == 0, r.stderr
    assert "30/11/2026 09:15" in r.stdout and "Được tiếp nhận" in r.stdout
    assert "T09:15:00+07:00" not in r.stdout
    d = json.loads(run("show", two[0], "--json").stdout)
    assert d["received_at"] == "2026-11-30T09:15:00+07:00" and d["status"] == "2"


def test_procedures_show_units_and_money_in_vietnamese(run):
    r = run("procedures", "show", PROC)
    assert r.exit_code == 0, r.stderr
    assert "15 ngày làm việc" in r.stdout and "working_days" not in r.stdout
    assert "3.000.000 đồng" in r.stdout and "3,000,000" not in r.stdout

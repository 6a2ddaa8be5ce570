"""`onestop report` for October 2026 on the known month of tests/test_backlog.py, in table, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from test_backlog import P5, P5B, P10, build_month


@pytest.fixture
def month(db, cfg):
    return build_month(db, cfg)


# C1 carried over and resolved on time; C2 carried over, in progress, overdue. Received 14: D1 early,
# D2 on time, D3 late, D4 late (two requests), D5 late (rescheduled), D13 early (one request),
# D6 withdrawn, D7 stopped, D8 and D10 in progress overdue, D9 and D14 in progress within time
# (D14 ended in November), D11 (papers) and D12 (fees) wait on the citizen.
EXPECTED = {
    "from": "2026-10-01", "to": "2026-10-31",
    "carried_over": 2, "received": 14, "total": 16,
    "resolved": 7, "early": 2, "on_time": 2, "late": 3, "on_time_rate": 0.5714,
    "stopped": 1, "withdrawn": 1, "refused": 0,
    "in_progress": 5, "in_progress_within_time": 2, "in_progress_overdue": 3, "waiting_citizen": 2,
    "digitized": 3, "digitization_rate": 0.4286, "digitization_target": 0.8,
    "synced": 4, "sync_rate": 0.2857,
}
EXPECTED_PROCS = {  # received, resolved, early, on_time, late, stopped, withdrawn, in_progress, overdue, waiting, avg wd
    P5: (10, 5, 2, 2, 1, 1, 1, 4, 2, 0, 4.6),
    P5B: (3, 2, 0, 0, 2, 0, 0, 0, 0, 1, 6.0),
    P10: (1, 0, 0, 0, 0, 0, 0, 1, 1, 1, None),
}
PROC_KEYS = ["received", "resolved", "early", "on_time", "late", "stopped", "withdrawn", "in_progress",
             "in_progress_overdue", "waiting_citizen", "avg_working_days"]


def test_report_json(run, month):
    r = run("report", "--period", "2026-10", "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    for k, v in EXPECTED.items():
        assert rep[k] == v, k
    assert rep["received_by_channel"] == {"1": 11, "2": 2, "3": 1}
    assert {p["procedure_code"]: tuple(p[k] for k in PROC_KEYS) for p in rep["by_procedure"]} == EXPECTED_PROCS
    # every dossier to process is accounted for exactly once
    assert rep["carried_over"] + rep["received"] == (rep["resolved"] + rep["stopped"] + rep["withdrawn"] + rep["refused"]
                                                     + rep["in_progress"] + rep["waiting_citizen"])


def test_report_from_to_equals_period(run, month):
    a = json.loads(run("report", "--period", "2026-10", "--json").stdout)
    b = json.loads(run("report", "--from", "2026-10-01", "--to", "2026-10-31", "--json").stdout)
    assert a == b


def test_next_month_carries_over(run, month):
    rep = json.loads(run("report", "--period", "2026-11", "--json").stdout)
    # open at the end of October: C2, D8, D9, D10, D11, D12, D14; D14 resolved early in November
    assert (rep["carried_over"], rep["received"], rep["resolved"], rep["early"]) == (7, 0, 1, 1)
    assert rep["sync_rate"] is None and rep["digitization_rate"] == 0.0


def test_report_csv(run, month):
    r = run("report", "--period", "2026-10", "--csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["figure", "key", "value"]
    fig = {(x["figure"], x["key"]): x["value"] for x in rows}
    for k, v in EXPECTED.items():
        if k in ("from", "to"):
            continue
        assert fig[(k, "")] == str(v), k
    assert [fig[("received_by_channel", ch)] for ch in "123"] == ["11", "2", "1"]
    for code, vals in EXPECTED_PROCS.items():
        for k, v in zip(PROC_KEYS, vals):
            assert fig[(f"procedure_{k}", code)] == ("" if v is None else str(v)), (code, k)


def test_report_table(run, month):
    r = run("report", "--period", "2026-10")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    expect = [
        "carried_over\tKỳ trước chuyển sang\t2", "received\tTiếp nhận trong kỳ\t14",
        "received_by_channel.1\tTrực tiếp\t11", "received_by_channel.2\tTrực tuyến\t2",
        "received_by_channel.3\tBưu chính công ích\t1",
        "online_rate\tTỷ lệ hồ sơ trực tuyến\t14.3%", "online_target\tMục tiêu hồ sơ trực tuyến\t50.0%",
        "total\tTổng số phải giải quyết\t16",
        "resolved\tĐã giải quyết\t7", "early\tTrước hạn\t2", "on_time\tĐúng hạn\t2", "late\tQuá hạn\t3",
        "on_time_rate\tTỷ lệ đúng hạn (trước + đúng hạn)\t57.1%", "stopped\tDừng xử lý\t1",
        "withdrawn\tCông dân rút hồ sơ\t1", "refused\tKhông được tiếp nhận\t0",
        "in_progress\tĐang giải quyết cuối kỳ\t5", "in_progress_within_time\tTrong hạn\t2",
        "in_progress_overdue\tQuá hạn\t3", "waiting_citizen\tChờ bổ sung / nghĩa vụ tài chính cuối kỳ\t2",
        "digitized\tHồ sơ đã giải quyết có số hóa\t3", "digitization_rate\tTỷ lệ số hóa\t42.9%",
        "digitization_target\tMục tiêu số hóa\t80.0%", "synced\tĐã đồng bộ lên Cổng DVCQG\t4",
        "sync_rate\tTỷ lệ đồng bộ\t28.6%",
    ]
    assert lines[:len(expect)] == expect
    proc = {l.split("\t")[0]: l.split("\t")[2:] for l in lines if l[:1] == "1"}
    assert proc[P5] == ["10", "5", "2", "2", "1", "1", "1", "4", "2", "0", "4.6"]
    assert proc[P5B] == ["3", "2", "0", "0", "2", "0", "0", "0", "0", "1", "6.0"]
    assert proc[P10] == ["1", "0", "0", "0", "0", "0", "0", "1", "1", "1", "—"]


def test_report_english(run, month):
    r = run("--lang", "en", "report", "--period", "2026-10")
    assert "received\tReceived in the period\t14" in r.stdout.splitlines()


@pytest.mark.parametrize("args", [[], ["--period", "2026-13"], ["--from", "2026-10-05"],
                                  ["--from", "2026-10-31", "--to", "2026-10-01"]])
def test_report_bad_period(run, args):
    r = run("report", *args)
    assert r.exit_code == 4, r.output
    assert "--period" in r.stderr


def test_empty_database(run):
    rep = json.loads(run("report", "--period", "2026-10", "--json").stdout)
    assert (rep["received"], rep["resolved"], rep["on_time_rate"], rep["by_procedure"]) == (0, 0, None, [])
    b = json.loads(run("backlog", "--json").stdout)
    assert (b["total"], b["overdue_list"]) == (0, [])


def test_results_synced_beside_the_ministrys_target(run, month, db, home):
    """QĐ 1205/QĐ-BKHCN judges the office on results synced to the national portal (100%): a resolved
    dossier counts once the ministry acknowledged its record and every entry since (the result's step
    included). D1: everything acknowledged; D2: its record only (its steps wait): not counted."""
    from onestop.store import transaction

    ids = {k: db.execute("SELECT id FROM dossiers WHERE code = ?", [c]).fetchone()[0] for k, c in month.items()}
    with transaction(db):
        db.execute("UPDATE outbox SET state = 'done' WHERE dossier_id = ?", [ids["D1"]])
    rep = json.loads(run("report", "--period", "2026-10", "--json").stdout)
    assert (rep["results_synced"], rep["results_sync_rate"], rep["results_sync_target"]) == (1, 0.1429, 1.0)
    assert rep["digitization_target"] == 0.8
    fig = {x["figure"]: x["value"] for x in csv.DictReader(io.StringIO(run("report", "--period", "2026-10",
                                                                            "--csv").stdout))}
    assert (fig["results_synced"], fig["results_sync_rate"], fig["results_sync_target"]) == ("1", "0.1429", "1.0")
    assert "results_sync_rate\tTỷ lệ đồng bộ kết quả\t14.3%" in run("report", "--period", "2026-10").stdout
    (home / "onestop.toml").write_text("[report]\nresults_sync_target = 0.95\ndigitization_target = 0.9\n",
                                       encoding="utf-8")
    rep = json.loads(run("report", "--period", "2026-10", "--json").stdout)
    assert (rep["results_sync_target"], rep["digitization_target"]) == (0.95, 0.9)
    (home / "onestop.toml").write_text("[report]\nresults_sync_target = 95\n", encoding="utf-8")
    r = run("--lang", "en", "report", "--period", "2026-10", "--json")
    assert r.exit_code == 8 and "results_sync_target" in r.stderr, r.output

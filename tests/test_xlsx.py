"""Supervisors live in Excel: --xlsx workbooks read back with openpyxl, and CSV files with a BOM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest
from test_backlog import build_month

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture
def month(db, cfg):
    return build_month(db, cfg)


def sheet_rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_list_xlsx_has_vietnamese_headers_real_dates_and_numbers(run, month, tmp_path):
    out = tmp_path / "ds.xlsx"
    r = run("list", "--limit", "0", "--xlsx", out)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "" and str(out) in r.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    ws = openpyxl.load_workbook(out).active
    rows = sheet_rows(ws)
    assert rows[0] == ["Mã hồ sơ", "Thời điểm tiếp nhận", "Mã thủ tục", "Người nộp hồ sơ", "Mã trạng thái",
                       "Trạng thái", "Hẹn trả kết quả", "Cán bộ tiếp nhận"]
    expected = json.loads(run("list", "--limit", "0", "--json").stdout)
    assert len(rows) == len(expected) + 1
    by_code = {row[0]: row for row in rows[1:]}
    c1 = by_code[month["C1"]]
    assert c1[1] == datetime(2026, 9, 24, 9, 0) and isinstance(c1[1], datetime)
    assert c1[6] == datetime(2026, 10, 1, 9, 0)
    assert isinstance(c1[4], int) and c1[5] and c1[3] == "Nguyễn Văn An"
    assert ws.cell(row=2, column=2).number_format == "dd/mm/yyyy hh:mm"


def test_backlog_xlsx_sheets_and_counts(run, month, tmp_path):
    out = tmp_path / "ton-dong.xlsx"
    r = run("backlog", "--as-of", "2026-10-30", "--xlsx", out)
    assert r.exit_code == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Theo trạng thái", "Theo thủ tục", "Quá hạn"]
    b = json.loads(run("backlog", "--as-of", "2026-10-30", "--json").stdout)
    status = sheet_rows(wb["Theo trạng thái"])
    assert status[0][:3] == ["Mã trạng thái", "Trạng thái", "Số hồ sơ"]
    assert [row[2] for row in status[1:]] == [s["count"] for s in b["by_status"]]
    overdue = sheet_rows(wb["Quá hạn"])
    assert len(overdue) - 1 == len(b["overdue_list"]) and len(b["overdue_list"]) > 0
    assert overdue[0][9] == "Số ngày làm việc quá hạn"
    assert all(isinstance(row[9], int) and isinstance(row[8], datetime) for row in overdue[1:])
    assert all("*" in row[4] for row in overdue[1:])  # ID numbers stay masked


def test_report_xlsx_figures_are_numbers_and_rates_percentages(run, month, tmp_path):
    out = tmp_path / "bao-cao.xlsx"
    r = run("report", "--period", "2026-10", "--xlsx", out)
    assert r.exit_code == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    rep = json.loads(run("report", "--period", "2026-10", "--json").stdout)
    rows = {row[2]: (row[0], row[1]) for row in sheet_rows(wb["Tổng hợp"])[1:]}
    assert rows["received"] == ("Tiếp nhận trong kỳ", rep["received"])
    assert rows["on_time_rate"][1] == pytest.approx(rep["on_time_rate"])
    ws = wb["Tổng hợp"]
    rate_row = next(i for i, row in enumerate(ws.iter_rows(values_only=True), 1) if row[2] == "on_time_rate")
    assert ws.cell(row=rate_row, column=2).number_format == "0.0%"
    # The period the figures cover, as dates; sub-rows indented (two "Quá hạn" of two figures).
    assert rows["from"] == ("Từ ngày", datetime(2026, 10, 1)) and rows["to"] == ("Đến ngày", datetime(2026, 10, 31))
    assert ws.cell(row=2, column=2).number_format == "dd/mm/yyyy"
    assert "01/10/2026" in wb.properties.title and "31/10/2026" in ws.oddHeader.center.text
    indent = {row[2].value: row[0].alignment.indent for row in ws.iter_rows(min_row=2)}
    assert indent["late"] == indent["in_progress_overdue"] == indent["early"] == 2
    assert indent["resolved"] == indent["in_progress"] == 0
    procs = sheet_rows(wb["Theo thủ tục"])
    assert procs[0][:3] == ["Mã TTHC", "Tên thủ tục", "Tiếp nhận"]
    assert sum(row[2] for row in procs[1:]) == sum(p["received"] for p in rep["by_procedure"])


def test_csv_to_a_file_starts_with_a_bom_and_a_pipe_does_not(month, tmp_path):
    env = dict(os.environ)
    target = tmp_path / "ds.csv"
    with open(target, "w") as f:
        p = subprocess.run([sys.executable, "-m", "onestop", "list", "--csv"], stdout=f, env=env,
                           stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, p.stderr
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcode,received_at")
    assert "Nguyễn Văn An" in data.decode("utf-8-sig")
    piped = subprocess.run([sys.executable, "-m", "onestop", "list", "--csv"], capture_output=True, env=env)
    assert piped.stdout.startswith(b"code,received_at")

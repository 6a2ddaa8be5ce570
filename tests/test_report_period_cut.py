"""A report for a period that has not ended (issue 18, item 4): cut at now, saying so in every
format, its overdue-in-progress agreeing with `backlog`; a period that has not begun is refused."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from onestop.common import errors
from test_backlog import P5, P10, at

NOW = "2026-12-07 15:00"  # a Monday


@pytest.fixture
def december(db, cfg, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", NOW)
    from onestop.intake import dossiers

    def rec(proc, when):
        r = dossiers.receive(db, cfg, dossiers.ReceiveRequest(
            procedure_code=proc, applicant=dossiers.Applicant(name="Nguyễn Văn An", id_number="001085012345"),
            at=at(when), pages={n: 1 for n in range(1, 10)}), render=False)
        dossiers.move(db, cfg, r["code"], "4", at=at(when.replace("09:00", "10:00")), render=False)
        return r

    rec(P5, "2026-11-20 09:00")   # due 27/11: overdue now
    rec(P5, "2026-11-30 09:00")   # due today 07/12 09:00: not late yet (backlog: due today)
    rec(P5, "2026-12-01 09:00")   # due 08/12
    rec(P10, "2026-12-02 09:00")  # due 16/12


def test_the_current_month_is_cut_at_now_and_agrees_with_backlog(run, december):
    r = run("report", "--period", "2026-12", "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    backlog = json.loads(run("backlog", "--json").stdout)
    assert (backlog["overdue"], backlog["due_today"], backlog["in_processing"]) == (1, 1, 4)
    assert rep["cut_at"] == "2026-12-07T15:00:00+07:00"
    assert (rep["in_progress"], rep["in_progress_overdue"], rep["in_progress_within_time"]) == (4, 1, 3)
    assert rep["in_progress_overdue"] == backlog["overdue"]
    assert (rep["carried_over"], rep["received"]) == (2, 2)
    # An ended month is not cut, and keeps its own rule (due on or before its last day).
    nov = json.loads(run("report", "--period", "2026-11", "--json").stdout)
    assert nov["cut_at"] is None and (nov["in_progress"], nov["in_progress_overdue"]) == (2, 1)


def test_every_format_says_the_period_is_cut(run, december, tmp_path):
    rows = list(csv.reader(io.StringIO(run("report", "--period", "2026-12", "--csv").stdout)))
    assert rows[1] == ["cut_at", "", "2026-12-07T15:00:00+07:00"]
    tsv = run("report", "--period", "2026-12").stdout.splitlines()
    assert tsv[0].split("\t") == ["cut_at", "Kỳ chưa kết thúc: số liệu tính đến", "07/12/2026 15:00"]
    page = tmp_path / "r.html"
    assert run("report", "--period", "2026-12", "--html", page).exit_code == 0
    assert 'data-figure="cut_at"' in page.read_text("utf-8") and "07/12/2026 15:00" in page.read_text("utf-8")
    book = tmp_path / "r.xlsx"
    assert run("report", "--period", "2026-12", "--xlsx", book).exit_code == 0
    cells = [c.value for row in openpyxl.load_workbook(book).worksheets[0].iter_rows() for c in row]
    assert "Kỳ chưa kết thúc: số liệu tính đến" in cells
    ended = run("report", "--period", "2026-11", "--csv").stdout
    assert "cut_at" not in ended


@pytest.mark.parametrize("args", [["--period", "2027-01"], ["--period", "2027"],
                                  ["--from", "2026-12-08", "--to", "2026-12-31"]])
def test_a_period_that_has_not_begun_is_refused(run, december, args):
    r = run("report", *args, "--json")
    assert r.exit_code == errors.INVALID_INPUT, r.output
    assert "chưa bắt đầu" in r.stderr and r.stdout == ""

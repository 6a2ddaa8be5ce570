"""`onestop book`: the tracking book (Mẫu 06) rows and its A4 PDF."""

from __future__ import annotations

import csv
import io
import json

import pytest
from test_backlog import build_month


@pytest.fixture
def month(db, cfg):
    return build_month(db, cfg)


def test_book_rows_json(run, month):
    r = run("book", "--year", "2026", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 17
    assert [x["stt"] for x in rows[:3]] == ["01", "02", "03"]
    c1 = rows[0]
    assert c1["code"] == month["C1"] and c1["applicant_name"] == "Nguyễn Văn An"
    assert c1["received_at"] == "09:00 24/09/2026" and c1["due_at"] == "09:00 01/10/2026"
    assert c1["handed_over_at"] == "09:00 25/09/2026" and c1["result_at"] == "08:00 01/10/2026"
    assert c1["returned_at"] == "10:00 02/10/2026" and c1["note"] == ""
    assert c1["address_phone"].endswith("091*****78")  # masked
    assert c1["agency"] == "SỞ KHOA HỌC VÀ CÔNG NGHỆ" and c1["sets"] == 1
    by_code = {x["code"]: x for x in rows}
    assert by_code[month["D6"]]["note"] == "Công dân yêu cầu rút hồ sơ"
    assert by_code[month["D4"]]["note"].startswith("Yêu cầu bổ sung 2 lần; Hẹn ban đầu 09:00 13/10/2026")
    assert by_code[month["D5"]]["due_at"] == "09:00 16/10/2026"
    assert by_code[month["D5"]]["note"] == "Hẹn ban đầu 09:00 14/10/2026"


def test_book_range_and_csv(run, month):
    r = run("book", "--year", "2026", "--from", "2026-10-01", "--to", "2026-10-09", "--csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [x["code"] for x in rows] == [month[k] for k in ("D1", "D2", "D3", "D4", "D5", "D6", "D7")]
    assert list(rows[0])[:3] == ["stt", "code", "procedure_name"]


def test_book_show_personal(run, db, month, rows):
    book = json.loads(run("book", "--year", "2026", "--json", "--show-personal").stdout)
    assert book[0]["address_phone"].endswith("0912345678")
    assert rows("SELECT command FROM personal_access") == [("book",)]


def test_book_pdf(run, month, tmp_path):
    from pypdf import PdfReader

    out = tmp_path / "so-06.pdf"
    r = run("book", "--year", "2026", "--pdf", out)
    assert r.exit_code == 0, r.output
    assert "17" in r.stderr
    pdf = PdfReader(str(out))
    w, h = (float(x) for x in pdf.pages[0].mediabox[2:])
    assert (round(w), round(h)) == (842, 595)  # A4 landscape
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "SỔ THEO DÕI HỒ SƠ" in text and "Mẫu 06" in text
    assert month["C1"] in text.replace("\n", "") and "Nguyễn Văn An" in text
    assert "0912345678" not in text


def test_book_pdf_breaks_no_date_code_or_header_word(run, month, tmp_path):
    """Mẫu 06 columns are wide enough for every word: "30/1|1/2026" or "Số lư|ợng" was unreadable."""
    from pypdf import PdfReader

    from onestop.reports.book import BOOK_HEADERS

    out = tmp_path / "so-06.pdf"
    assert run("book", "--year", "2026", "--pdf", out).exit_code == 0
    tokens = set()
    for page in PdfReader(str(out)).pages:
        tokens.update(page.extract_text().split())
    rows = json.loads(run("book", "--year", "2026", "--json").stdout)
    expected = {w for h in BOOK_HEADERS.values() for w in h.split()}
    for r in rows:
        expected.add(r["code"])
        for k in ("received_at", "due_at", "handed_over_at", "result_at", "returned_at"):
            expected.update(r[k].split())  # "09:00" and "24/09/2026", each whole
    missing = sorted(w for w in expected if w not in tokens)
    assert not missing, f"broken across lines: {missing}"

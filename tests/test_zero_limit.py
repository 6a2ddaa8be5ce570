"""A procedure with a 0-day limit (same day) prints the catalog's own wording, "Trong ngày làm việc",
on Mẫu 01 and in `procedures`, never "0 ngày làm việc" (issue 18, item 5)."""

import json

import pypdf
import pytest

SAME_DAY = "1.008245"  # config/procedures.sample.json: THOIGIANGIAIQUYET 0, MOTA "Trong ngày làm việc; …"


def pdf_text(path) -> str:
    return " ".join("".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


def test_wording_of_a_zero_limit():
    from onestop.common.output import limit_text, zero_limit_text

    assert limit_text(0, "working_days", "Trong ngày làm việc; hồ sơ nhận sau giờ quy định …") == "Trong ngày làm việc"
    assert limit_text(0, "working_days") == "Trong ngày làm việc"
    assert limit_text(0, "days", "trong ngày") == "Trong ngày"
    # A description that is not a short phrase of its own: the usual wording for the unit.
    assert zero_limit_text("working_days", "Giải quyết trong 0 ngày kể từ khi nhận đủ hồ sơ hợp lệ") == \
        "Trong ngày làm việc"
    assert limit_text(5, "working_days", "Trong ngày làm việc") == "5 ngày làm việc"


def test_receipt_and_procedures_print_the_catalogs_wording(run, db, rows):
    r = run("receive", "-p", SAME_DAY, "--name", "Nguyễn Văn An", "--id", "001085012345", "--all-components",
            "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    text = pdf_text(out["receipt"])
    assert "Thời gian giải quyết hồ sơ theo quy định: Trong ngày làm việc" in text
    assert "0 ngày" not in text
    again = run("print", out["code"])  # rendered again from the stored dossier
    assert again.exit_code == 0, again.output
    text = pdf_text(again.stdout.strip())
    assert "Trong ngày làm việc" in text and "0 ngày" not in text

    listed = {p["code"]: p["limit"] for p in json.loads(run("procedures", "list", "--json").stdout)}
    assert listed[SAME_DAY] == "Trong ngày làm việc" and listed["1.003604"] == "5 ngày làm việc"
    shown = run("procedures", "show", SAME_DAY)
    assert "Kênh 1: Trong ngày làm việc" in shown.stdout and "0 ngày" not in shown.stdout

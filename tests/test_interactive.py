"""The interactive receive: the officer types keywords without diacritics and answers prompts."""

import json

import pytest


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


def test_receive_asks_for_everything(run, db, rows):
    answers = "\n".join([
        "dang ky to chuc khcn",  # procedure keywords
        "1",                      # pick the first match
        "Hoàng Thị Mai",          # name
        "",                       # ID kind: detect from the number
        "001185012345",           # ID
        "0912345678",             # phone
        "Số 3 phố Huế, Hà Nội",   # address
        "mai.hoang@example.vn",   # email
        "Lê Văn Nam",             # authorised person
    ] + ["y", "2"] * 7) + "\n"
    r = run("receive", "--ask", "--json", input=answers)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)  # prompts go to stderr: stdout is only the JSON
    assert out["status"] == "2" and out["code"].endswith("-261130-0001")
    row = rows("SELECT procedure_code, applicant_name, phone, address, email, authorised_name FROM dossiers")[0]
    assert row == ("1.003584", "Hoàng Thị Mai", "0912345678", "Số 3 phố Huế, Hà Nội", "mai.hoang@example.vn",
                   "Lê Văn Nam")
    pages = [r[0] for r in rows("SELECT pages FROM dossier_components ORDER BY n")]
    assert pages and all(p == 2 for p in pages)


def test_receive_interactive_component_missing_gives_guidance(run, db, rows):
    answers = "\n".join(["1.003584", "Hoàng Thị Mai", "", "001185012345", "", "", "", ""] + ["n"] * 7) + "\n"
    r = run("receive", "--ask", "--json", input=answers)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "incomplete"
    assert rows("SELECT count(*) FROM dossiers")[0][0] == 0

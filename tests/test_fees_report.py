"""The fee figures of the period report in every format, the ledger (`fees report`) and what the
ministry receives (`DanhSachLePhi`, `DuocThanhToanTrucTuyen`), on a day with cash, transfer, online,
exempt, partly paid and refunded dossiers (issue 20, docs/fees.md)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sync_helpers import env, srv  # noqa: F401 - fixtures
from test_fees import catalog, pay, receive, receive_online  # noqa: F401 - the fee catalog fixture

R = "01BLP2-001/AA-26P/"
PORTAL_ITEMS = [{"TenPhiLePhi": "Phí thẩm định", "MaPhiLePhi": "PHI-01", "HinhThucThu": "3", "Gia": "1200000",
                 "LoaiPhiLePhi": "1"},
                {"TenPhiLePhi": "Lệ phí cấp giấy chứng nhận", "MaPhiLePhi": "LEPHI-01", "HinhThucThu": "3",
                 "Gia": "200000", "LoaiPhiLePhi": "2"}]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 16:00")


def _ok(r):
    assert r.exit_code == 0, r.stderr
    return r


def _portal(db, code, flag="1", at="2026-11-23 10:05"):
    from onestop.intake.fees import record_portal_payments
    from onestop.store import dossiers

    when = datetime.fromisoformat(at).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    return record_portal_payments(db, dossiers.dossier_by_code(db, code), PORTAL_ITEMS, flag, when)


@pytest.fixture
def day(run, catalog, db, cfg):
    """A: cash in full; B: transfer; C: online on the portal; D: exempt; E: partly paid in cash; F: paid
    then 200.000 refunded; G (next day): paid online at the counter."""
    codes = {}
    for i, k in enumerate("ABDEF"):
        extra = ("--exempt", "Người có công") if k == "D" else ()
        codes[k] = receive(run, *extra, at=f"2026-11-23 09:{10 + i:02d}")["code"]
    codes["C"] = receive_online(db, cfg, at="2026-11-23 09:30")["code"]
    codes["G"] = receive(run, at="2026-11-24 08:10")["code"]
    _ok(pay(run, codes["A"], "--receipt", R + "1", "--at", "2026-11-23 10:00"))
    _ok(pay(run, codes["B"], "--method", "chuyen-khoan", "--receipt", R + "2", "--at", "2026-11-23 10:01"))
    _portal(db, codes["C"])
    _ok(pay(run, codes["E"], "--amount", "500000", "--receipt", R + "3", "--at", "2026-11-23 10:10"))
    _ok(pay(run, codes["F"], "--receipt", R + "4", "--at", "2026-11-23 10:20"))
    _ok(pay(run, codes["F"], "--refund", "Nộp nhầm lệ phí", "--amount", "200000", "--at", "2026-11-23 11:00"))
    _ok(pay(run, codes["G"], "--method", "truc-tuyen", "--at", "2026-11-24 08:30"))
    return codes


def test_report_and_ledger_agree_to_the_dong(run, day):
    rep = json.loads(_ok(run("report", "--period", "2026-11", "--json")).stdout)["fees"]
    assert rep["collected"] == 8_700_000 and rep["refunded"] == 200_000 and rep["net"] == 8_500_000
    assert rep["collected_by_kind"] == {"phi": 7_700_000, "le_phi": 1_000_000}
    assert rep["collected_by_method"] == {"tien-mat": 3_900_000, "chuyen-khoan": 1_700_000, "truc-tuyen": 3_100_000}
    assert rep["outstanding"] == 1_400_000 and rep["dossiers_owing"] == 2  # E owes 1.200.000, F 200.000
    assert rep["exempted"] == 1 and rep["refunds"] == 1
    assert (rep["payments"], rep["online_payments"], rep["online_payment_rate"]) == (6, 2, 0.3333)
    assert rep["online_payment_target"] == 0.45

    led = json.loads(_ok(run("fees", "report", "--period", "2026-11", "--json")).stdout)
    lines = led["lines"]
    assert len(lines) == 12 and [x["at"] for x in lines] == sorted(x["at"] for x in lines)
    assert sum(x["amount"] for x in lines if x["amount"] > 0) == rep["collected"]
    assert -sum(x["amount"] for x in lines if x["amount"] < 0) == rep["refunded"]
    assert sum(x["amount"] for x in lines) == led["total"]["net"] == rep["net"]
    for m in ("tien-mat", "chuyen-khoan", "truc-tuyen"):
        assert sum(x["amount"] for x in lines if x["method"] == m and x["amount"] > 0) == rep["collected_by_method"][m]
    assert [(d["day"], d["collected"], d["refunded"], d["net"]) for d in led["days"]] == [
        ("2026-11-23", 7_000_000, 200_000, 6_800_000), ("2026-11-24", 1_700_000, 0, 1_700_000)]
    assert [x["receipt"] for x in lines if x["method"] != "truc-tuyen" and x["entry"] == "payment"] == [
        R + "1", R + "1", R + "2", R + "2", R + "3", R + "4", R + "4"]
    refund, = [x for x in lines if x["entry"] == "refund"]
    assert (refund["code"], refund["fee_code"], refund["amount"], refund["reason"]) == (
        day["F"], "LEPHI-01", -200_000, "Nộp nhầm lệ phí")
    plain = _ok(run("fees", "report", "--period", "2026-11")).stdout.splitlines()  # a pipe: headed tab lines
    assert plain[0].split("\t")[:2] == ["Thời điểm", "Mã hồ sơ"] and len(plain) == 1 + 12 + 1 + 1 + 2 + 1
    assert plain[-1].split("\t") == ["Tổng", "8.700.000 đồng", "200.000 đồng", "8.500.000 đồng"]
    out = _ok(run("fees", "report", "--period", "2026-11", "--csv")).stdout.lstrip("\ufeff")
    got = list(csv.DictReader(io.StringIO(out)))
    assert len(got) == 12 and sum(int(x["amount"]) for x in got) == 8_500_000


def test_every_report_format_carries_the_fee_figures(run, day, tmp_path):
    out = _ok(run("report", "--period", "2026-11", "--csv")).stdout.lstrip("\ufeff")
    rows = {(r["figure"], r["key"]): r["value"] for r in csv.DictReader(io.StringIO(out))}
    assert rows[("fees_collected", "")] == "8700000" and rows[("fees_collected_by_method", "truc-tuyen")] == "3100000"
    assert rows[("fees_online_payment_rate", "")] == "0.3333" and rows[("fees_online_payment_target", "")] == "0.45"
    table = _ok(run("report", "--period", "2026-11")).stdout  # not a terminal: tab-separated lines
    lines = {ln.split("\t")[0]: ln.split("\t") for ln in table.splitlines() if ln}
    assert lines["fees.collected"][1:] == ["Phí, lệ phí đã thu", "8.700.000 đồng"]
    assert lines["fees.online_payment_rate"][2] == "33.3%" and lines["fees.online_payment_target"][2] == "45.0%"
    html = tmp_path / "r.html"
    _ok(run("report", "--period", "2026-11", "--html", html))
    page = html.read_text(encoding="utf-8")
    assert 'data-figure="fees.online_payment_rate"' in page and "33,3%" in page
    assert 'class="chart bar fees"' in page and "mục tiêu 45%" in page
    book = tmp_path / "r.xlsx"
    _ok(run("report", "--period", "2026-11", "--xlsx", book))
    from openpyxl import load_workbook

    ws = load_workbook(book)["Tổng hợp"]
    values = {r[2]: r[1] for r in ws.iter_rows(values_only=True) if r and r[2]}
    assert values["fees.collected"] == 8_700_000 and values["fees.online_payment_rate"] == 0.3333
    assert values["fees.online_payment_target"] == 0.45
    led_book = tmp_path / "so-thu.xlsx"
    _ok(run("fees", "report", "--period", "2026-11", "--xlsx", led_book))
    wb = load_workbook(led_book)
    assert wb.sheetnames == ["Sổ thu", "Theo ngày"]
    amounts = [r[8] for r in wb["Sổ thu"].iter_rows(values_only=True) if isinstance(r[8], int)]
    assert sum(amounts) == 8_500_000
    assert any(r[0] == "Tổng" and r[3] == 8_500_000 for r in wb["Theo ngày"].iter_rows(values_only=True))


def test_the_target_is_configurable(run, day, home):
    (home / "onestop.toml").write_text("[report]\nonline_payment_target = 60\n", encoding="utf-8")
    rep = json.loads(_ok(run("report", "--period", "2026-11", "--json")).stdout)["fees"]
    assert rep["online_payment_target"] == 0.6


def test_the_ministry_receives_the_fees_and_an_update_when_paid(env, srv, run, catalog):  # noqa: F811
    cfg, db = env
    a = receive(run, at="2026-11-23 09:10")["code"]
    d = receive(run, "--exempt", "Người có công", at="2026-11-23 09:11")["code"]
    # C applied on the portal and paid there: taken at the counter, its payments come with it.
    from online_helpers import text_pdf

    srv.portal.add("DVC-FEES-1", "9.000001", name="Nguyễn Thị Hương", id_number="001185012345",
                   files=[("don.pdf", "GT01", text_pdf("Đơn đề nghị cấp giấy chứng nhận"))],
                   fees=PORTAL_ITEMS, paid=True)
    _ok(run("online", "pull"))
    c = json.loads(_ok(run("online", "accept", "DVC-FEES-1", "--json")).stdout)["code"]
    _ok(run("sync"))
    assert srv.portal.taken() == {"DVC-FEES-1": c} and srv.portal.violations == []
    rec = srv.state.dossiers[a]
    assert rec["DanhSachLePhi"] == [
        {"TenPhiLePhi": "Phí thẩm định", "MaPhiLePhi": "PHI-01", "HinhThucThu": "", "Gia": "1500000", "LoaiPhiLePhi": "1"},
        {"TenPhiLePhi": "Lệ phí cấp giấy chứng nhận", "MaPhiLePhi": "LEPHI-01", "HinhThucThu": "", "Gia": "200000",
         "LoaiPhiLePhi": "2"}]
    assert rec["DuocThanhToanTrucTuyen"] == "3"
    assert [x["Gia"] for x in srv.state.dossiers[d]["DanhSachLePhi"]] == ["0", "0"]
    online = srv.state.dossiers[c]
    assert online["DuocThanhToanTrucTuyen"] == "1" and [x["HinhThucThu"] for x in online["DanhSachLePhi"]] == ["3", "3"]
    assert [x["Gia"] for x in online["DanhSachLePhi"]] == ["1200000", "200000"]
    updates = srv.state.updates[a]
    _ok(pay(run, a, "--amount", "1500000", "--receipt", R + "77", "--at", "2026-11-23 10:00"))
    _ok(run("sync"))
    assert srv.state.updates[a] == updates + 1
    assert [x["HinhThucThu"] for x in srv.state.dossiers[a]["DanhSachLePhi"]] == ["1", ""]
    assert srv.state.dossiers[a]["DuocThanhToanTrucTuyen"] == "3"


def test_the_ministrys_payment_method_codes_are_a_setting(env, srv, run, catalog, home):  # noqa: F811
    """HinhThucThu has no code list in the contract: `[sync] payment_codes` sets them; a setting of the
    wrong shape is refused at start (exit 8)."""
    toml = (home / "onestop.toml").read_text(encoding="utf-8")
    (home / "onestop.toml").write_text(toml + '\npayment_codes = { tien-mat = "TM", chuyen-khoan = "CK" }\n',
                                       encoding="utf-8")
    a = receive(run, at="2026-11-23 09:10")["code"]
    b = receive(run, at="2026-11-23 09:11")["code"]
    _ok(pay(run, a, "--receipt", R + "81", "--at", "2026-11-23 10:00"))
    _ok(pay(run, b, "--method", "chuyen-khoan", "--receipt", R + "82", "--at", "2026-11-23 10:01"))
    _ok(run("sync"))
    assert {x["HinhThucThu"] for x in srv.state.dossiers[a]["DanhSachLePhi"]} == {"TM"}
    assert {x["HinhThucThu"] for x in srv.state.dossiers[b]["DanhSachLePhi"]} == {"CK"}
    (home / "onestop.toml").write_text(toml + '\npayment_codes = { tien-mat = 1 }\n', encoding="utf-8")
    r = run("--lang", "en", "sync")
    assert r.exit_code == 8 and "payment_codes" in r.stderr, r.output


def test_outstanding_is_what_was_owed_at_the_period_end(run, day, monkeypatch):
    """E paid the rest in December: November still shows it owed at its end; December does not."""
    monkeypatch.setenv("ONESTOP_NOW", "2026-12-02 09:00")
    _ok(pay(run, day["E"], "--receipt", R + "90", "--at", "2026-12-01 08:00"))
    nov = json.loads(_ok(run("report", "--period", "2026-11", "--json")).stdout)["fees"]
    dec = json.loads(_ok(run("report", "--period", "2026-12", "--json")).stdout)["fees"]
    assert (nov["outstanding"], nov["dossiers_owing"], nov["collected"]) == (1_400_000, 2, 8_700_000)
    assert (dec["outstanding"], dec["dossiers_owing"], dec["collected"]) == (200_000, 1, 1_200_000)


def test_a_dossier_from_before_the_ledger_sends_whole_dong(env, srv, run, rows):  # noqa: F811
    """A dossier received before migration shared_0002_fees has no dues rows, only the catalog's fees copied
    as floats: it is sent with Gia "3000000", not "3000000.0", and DuocThanhToanTrucTuyen empty."""
    cfg, db = env
    code = receive(run, proc="1.003584", at="2026-11-23 09:10")["code"]
    from onestop.store import transaction

    with transaction(db):  # as an old version stored it
        db.execute("DELETE FROM dossier_fees")
        db.execute("UPDATE dossiers SET fees = ?", [json.dumps([{"code": "PHI-KH-01", "name": "Phí thẩm định",
                                                                  "amount": 3000000.0, "unit": "Đồng"}])])
    _ok(run("sync"))
    rec = srv.state.dossiers[code]
    assert [(x["Gia"], x["HinhThucThu"]) for x in rec["DanhSachLePhi"]] == [("3000000", "")]
    assert rec["DuocThanhToanTrucTuyen"] == ""
    d = json.loads(_ok(run("show", code, "--json")).stdout)
    assert "fee_totals" not in d and d["fees"][0]["amount"] == 3000000.0

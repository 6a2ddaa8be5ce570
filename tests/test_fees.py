"""The fee ledger (issue 20, docs/fees.md): fees per channel in the catalog, dues at receive (Mẫu 01),
payments, refunds and their refusals, status 6 until paid, online payments brought by the portal,
`show`/`list`/`backlog`, the report's fee figures and the ledger, which agree to the đồng."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pypdf
import pytest
from test_office_roles import office, refused  # noqa: F401 - the office set up as docs/office.md says

PROC, OPEN_PROC = "9.000001", "9.000002"
APPLICANT = ["--name", "Nguyễn Thị Hương", "--id", "001185012345", "--phone", "0912345678",
             "--address", "Số 12 phố Hàng Bạc, Hà Nội"]


def _way(kenh: str, fees: list[dict]) -> dict:
    return {"KENH": kenh, "THOIGIAN": [{"THOIGIANGIAIQUYET": "10", "DONVITINH": "Ngày làm việc", "MOTA": "10 ngày",
                                        "PHILEPHI": fees}]}


CATALOG = [
    {"MATTHC": PROC, "TENTTHC": "Cấp giấy chứng nhận thử nghiệm phí", "LINHVUCTHUCHIEN": [{"MALINHVUC": "G13-KH01",
                                                                                        "TENLINHVUC": "Khoa học"}],
     "CACHTHUCTHUCHIEN": [
         _way("1", [{"MAPHILEPHI": "PHI-01", "SOTIEN": "1.500.000", "DONVI": "Đồng", "MOTA": "Phí thẩm định"},
                    {"MAPHILEPHI": "LEPHI-01", "SOTIEN": 200000, "DONVI": "Đồng", "MOTA": "Lệ phí cấp giấy chứng nhận"}]),
         _way("2", [{"MAPHILEPHI": "PHI-01", "SOTIEN": "1200000", "DONVI": "Đồng", "MOTA": "Phí thẩm định"},
                    {"MAPHILEPHI": "LEPHI-01", "SOTIEN": "200000", "DONVI": "Đồng", "MOTA": "Lệ phí cấp giấy chứng nhận"}])],
     "THANHPHANHOSO": [{"TRUONGHOP": "", "GIAYTO": [{"MAGIAYTO": "GT01", "TENGIAYTO": "Đơn đề nghị"}]}]},
    {"MATTHC": OPEN_PROC, "TENTTHC": "Thẩm định hợp đồng thử nghiệm", "LINHVUCTHUCHIEN": [{"MALINHVUC": "G13-KH02",
                                                                                       "TENLINHVUC": "Công nghệ"}],
     "CACHTHUCTHUCHIEN": [_way("1", [{"MAPHILEPHI": "PHI-CG", "SOTIEN": "Theo quy định", "DONVI": "Đồng",
                                      "MOTA": "Phí thẩm định hợp đồng"}])],
     "THANHPHANHOSO": [{"TRUONGHOP": "", "GIAYTO": [{"MAGIAYTO": "GT01", "TENGIAYTO": "Hợp đồng"}]}]},
]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 16:00")


@pytest.fixture
def catalog(run, tmp_path, db):
    path = tmp_path / "fees-catalog.json"
    path.write_text(json.dumps({"error_code": 0, "result": CATALOG}, ensure_ascii=False), encoding="utf-8")
    r = run("procedures", "import", path)
    assert r.exit_code == 0, r.stderr
    return path


def receive(run, *extra, proc=PROC, at="2026-11-23 09:15", ok=True):
    r = run("receive", "-p", proc, *APPLICANT, "--all-components", "--at", at, *extra, "--json")
    if ok:
        assert r.exit_code == 0, r.stderr
        return json.loads(r.stdout)
    return r


def receive_online(db, cfg, at="2026-11-23 09:15", render=False) -> dict:
    """A channel-2 dossier as ``online accept`` stores it (receive with channel 2, inside the take);
    the take itself, with the portal's payments, is tested end to end in tests/test_online_fees.py."""
    from onestop.intake import dossiers

    when = datetime.fromisoformat(at).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    name, idn = APPLICANT[1], APPLICANT[3]
    return dossiers.receive(db, cfg, dossiers.ReceiveRequest(PROC, dossiers.Applicant(name=name, id_number=idn),
                                                             at=when, channel="2"), render=render)


def pay(run, code, *extra):
    return run("pay", code, *extra, "--json")


def show(run, code) -> dict:
    r = run("show", code, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def pdf_text(path) -> str:
    return " ".join("".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


# ---------------------------------------------------------------- pure rules

def test_amounts_are_whole_dong_and_open_amounts_are_none():
    from onestop.domain.fees import parse_amount, parse_receipt

    assert parse_amount("1.500.000") == 1500000 and parse_amount("1500000") == 1500000
    assert parse_amount(200000) == 200000 and parse_amount(500000.0) == 500000 and parse_amount("500000.0") == 500000
    assert parse_amount("1 500 000 đồng") == 1500000
    for open_ in ("Theo quy định", "50.000 - 100.000", "", None, "0,1% giá trị"):
        assert parse_amount(open_) is None, open_
    assert parse_receipt("01BLP2-001 / aa-26p / 0000123") == ("01BLP2-001/AA-26P", "123", "01BLP2-001 / aa-26p / 0000123")
    from onestop.common.errors import InvalidInput

    for bad in ("123", "AA/123", "AA/BB/x12", "AA/BB/0"):
        with pytest.raises(InvalidInput):
            parse_receipt(bad)


# ---------------------------------------------------------------- catalog, receive, Mẫu 01

def test_procedures_show_lists_the_fees_of_each_channel(run, catalog):
    r = run("procedures", "show", PROC)
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "Phí, lệ phí kênh 1: Phí thẩm định: 1.500.000 đồng; Lệ phí cấp giấy chứng nhận: 200.000 đồng" in out
    assert "Phí, lệ phí kênh 2: Phí thẩm định: 1.200.000 đồng; Lệ phí cấp giấy chứng nhận: 200.000 đồng" in out
    r = run("procedures", "show", OPEN_PROC)
    assert "Phí thẩm định hợp đồng: Theo quy định" in " ".join(r.stdout.split())


def test_receive_records_the_channels_fees_as_integers_and_prints_them(run, catalog, rows, db, cfg):
    counter = receive(run)
    online = receive_online(db, cfg, at="2026-11-23 09:20", render=True)
    got = rows("SELECT d.code, f.n, f.code, f.kind, f.amount FROM dossier_fees f JOIN dossiers d ON d.id = f.dossier_id "
               "ORDER BY d.code, f.n")
    assert got == [(counter["code"], 1, "PHI-01", "phi", 1500000), (counter["code"], 2, "LEPHI-01", "le_phi", 200000),
                   (online["code"], 1, "PHI-01", "phi", 1200000), (online["code"], 2, "LEPHI-01", "le_phi", 200000)]
    assert all(isinstance(r[4], int) for r in got)
    text = pdf_text(counter["receipt"])
    assert "7. Phí, lệ phí: Phí thẩm định: 1.500.000 đồng; Lệ phí cấp giấy chứng nhận: 200.000 đồng" in text
    assert "Phí thẩm định: 1.200.000 đồng" in pdf_text(online["receipt"])
    d = show(run, counter["code"])
    assert [(f["code"], f["kind"], f["amount"], f["paid"], f["exempt_reason"]) for f in d["fees"]] == [
        ("PHI-01", "phi", 1500000, 0, ""), ("LEPHI-01", "le_phi", 200000, 0, "")]
    assert d["fee_totals"]["outstanding"] == 1700000 and d["status"] == "2"  # [fees] collect = "sau" by default


def test_exemption_records_zero_with_its_reason(run, catalog, rows):
    out = receive(run, "--exempt", "Người có công với cách mạng")
    assert rows("SELECT amount, catalog_amount, exempt_reason FROM dossier_fees ORDER BY n") == [
        (0, 1500000, "Người có công với cách mạng"), (0, 200000, "Người có công với cách mạng")]
    assert "Phí thẩm định: miễn (Người có công với cách mạng)" in pdf_text(out["receipt"])
    r = pay(run, out["code"], "--receipt", "01BLP2-001/AA-26P/1")
    assert r.exit_code == 25 and "được miễn" in r.stderr
    r = receive(run, "--exempt", "  ", ok=False)
    assert r.exit_code == 4 and "lý do miễn" in r.stderr


def test_an_open_amount_must_be_given_and_nothing_is_stored_without_it(run, catalog, rows):
    r = receive(run, proc=OPEN_PROC, ok=False)
    assert r.exit_code == 4 and "--fee-amount PHI-CG=" in r.stderr and "Theo quy định" in r.stderr
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]
    out = receive(run, "--fee-amount", "PHI-CG=3.250.000", proc=OPEN_PROC)
    assert rows("SELECT amount, catalog_amount FROM dossier_fees") == [(3250000, None)]
    assert "Phí thẩm định hợp đồng: 3.250.000 đồng" in pdf_text(out["receipt"])
    r = receive(run, "--fee-amount", "NOPE=1", proc=OPEN_PROC, ok=False)
    assert r.exit_code == 4 and "không khớp phí nào" in r.stderr


# ---------------------------------------------------------------- pay, refund, refusals

def test_partial_payments_refund_and_the_refusals(run, catalog, rows):
    code = receive(run)["code"]
    r = pay(run, code, "--amount", "1.000.000", "--receipt", "01BLP2-001/AA-26P/0000101", "--at", "2026-11-23 09:30")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["outstanding"] == 700000
    r = pay(run, code, "--amount", "800000", "--receipt", "01BLP2-001/AA-26P/102", "--at", "2026-11-23 09:31")
    assert r.exit_code == 25 and "chỉ còn phải nộp 700.000 đồng" in r.stderr
    r = pay(run, code, "--method", "chuyen-khoan", "--receipt", "01BLP2-001/AA-26P/102", "--at", "2026-11-23 09:32")
    assert r.exit_code == 0 and json.loads(r.stdout)["amount"] == 700000 and json.loads(r.stdout)["outstanding"] == 0
    r = pay(run, code, "--receipt", "01BLP2-001/AA-26P/103")
    assert r.exit_code == 25 and "đã nộp đủ" in r.stderr and "01BLP2-001/AA-26P/0000101" in r.stderr
    r = pay(run, code, "--refund", "Nộp nhầm lệ phí", "--amount", "2000000")
    assert r.exit_code == 25 and "không hoàn được 2.000.000 đồng" in r.stderr
    r = pay(run, code, "--refund", "Nộp nhầm lệ phí", "--amount", "200000", "--at", "2026-11-23 10:00")
    assert r.exit_code == 0, r.stderr
    other = receive(run, at="2026-11-23 09:40")["code"]
    r = pay(run, other, "--receipt", "01blp2-001/aa-26p/101")  # the same book and number, written differently
    assert r.exit_code == 26 and f"đã được ghi cho hồ sơ {code}" in r.stderr
    r = pay(run, other)
    assert r.exit_code == 4 and "--receipt" in r.stderr
    assert pay(run, other, "--fee", "LEPHI-01", "--receipt", "01BLP2-001/AA-26P/201").exit_code == 0
    r = pay(run, other, "--fee", "2", "--receipt", "01BLP2-001/AA-26P/202")  # that fee is paid; the other is not
    assert r.exit_code == 25 and "Khoản 'Lệ phí cấp giấy chứng nhận' (LEPHI-01)" in r.stderr and "đã nộp đủ" in r.stderr
    r = pay(run, other, "--fee", "PHI-09", "--receipt", "01BLP2-001/AA-26P/203")
    assert r.exit_code == 4 and "không có khoản phí 'PHI-09'" in r.stderr
    # every line appended, none edited; the history has one event per payment or refund
    assert rows("SELECT fee_n, entry, method, amount FROM fee_payments WHERE dossier_id = (SELECT id FROM dossiers "
                "WHERE code = ?) ORDER BY id", (code,)) == [
        (1, "payment", "tien-mat", 1000000), (1, "payment", "chuyen-khoan", 500000),
        (2, "payment", "chuyen-khoan", 200000), (2, "refund", "tien-mat", 200000)]
    assert [r[0] for r in rows("SELECT action FROM events e JOIN dossiers d ON d.id = e.dossier_id WHERE d.code = ? "
                               "ORDER BY e.id", (code,))] == ["receive", "fee_payment", "fee_payment", "fee_refund"]
    d = show(run, code)
    assert [(f["paid"], f["refunded"], f["outstanding"], f["methods"]) for f in d["fees"]] == [
        (1500000, 0, 0, ["chuyen-khoan", "tien-mat"]), (0, 200000, 200000, ["chuyen-khoan"])]
    assert d["fees"][0]["receipts"] == ["01BLP2-001/AA-26P/0000101", "01BLP2-001/AA-26P/102"]
    r = run("show", code)
    assert "còn phải nộp 200.000 đồng" in " ".join(r.stdout.split())


def test_collect_before_processing_waits_in_status_6_until_paid(run, catalog, rows, home):
    (home / "onestop.toml").write_text('[fees]\ncollect = "truoc"\n', encoding="utf-8")
    out = receive(run)
    assert out["status"] == "6"
    r = pay(run, out["code"], "--amount", "1500000", "--receipt", "01BLP2-001/AA-26P/7", "--at", "2026-11-23 09:20")
    assert r.exit_code == 0 and json.loads(r.stdout)["status"] == "6"  # partly paid: still waiting
    r = pay(run, out["code"], "--receipt", "01BLP2-001/AA-26P/8", "--at", "2026-11-23 09:25")
    assert r.exit_code == 0 and json.loads(r.stdout)["status"] == "4"
    assert rows("SELECT action, status_from, status_to FROM events ORDER BY id") == [
        ("receive", None, "2"), ("status_6", "2", "6"), ("fee_payment", "6", "6"), ("fee_payment", "6", "6"),
        ("status_4", "6", "4")]
    assert rows("SELECT status FROM dossiers") == [("4",)]
    assert [r[0] for r in rows("SELECT kind FROM outbox ORDER BY id")] == ["create", "step", "step", "update", "step",
                                                                           "update"]
    free = receive(run, "--exempt", "Hộ nghèo", at="2026-11-23 09:30")
    assert free["status"] == "2"  # nothing to pay: no wait


# ---------------------------------------------------------------- online dossiers

def test_portal_payments_are_recorded_as_paid_online(run, catalog, db, cfg, rows):
    from onestop.intake.fees import record_portal_payments
    from onestop.store import dossiers as store

    code = receive_online(db, cfg)["code"]
    row = store.dossier_by_code(db, code)
    items = [{"TenPhiLePhi": "Phí thẩm định", "MaPhiLePhi": "PHI-01", "HinhThucThu": "3", "Gia": "1200000",
              "LoaiPhiLePhi": "1"},
             {"TenPhiLePhi": "Lệ phí cấp giấy chứng nhận", "MaPhiLePhi": "LEPHI-01", "HinhThucThu": "3", "Gia": "200000",
              "LoaiPhiLePhi": "2"}]
    when = datetime(2026, 11, 23, 9, 16, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    res = record_portal_payments(db, row, items, "1", lambda: when)
    assert res == {"recorded": [(1, 1200000), (2, 200000)], "online": "1", "outstanding": 0}
    again = record_portal_payments(db, row, items, "1", when)  # the accept ran twice: nothing twice
    assert again["recorded"] == [] and rows("SELECT count(*) FROM fee_payments") == [(2,)]
    d = show(run, code)
    assert d["fee_totals"]["outstanding"] == 0 and d["fee_totals"]["online"] == "1"
    assert all(f["methods"] == ["truc-tuyen"] for f in d["fees"])
    r = pay(run, code, "--receipt", "01BLP2-001/AA-26P/9")
    assert r.exit_code == 25  # nothing left to collect at the counter
    led = json.loads(run("fees", "report", "--period", "2026-11", "--json").stdout)
    assert [(x["code"], x["method"], x["amount"], x["officer"]) for x in led["lines"]] == [
        (code, "truc-tuyen", 1200000, "Cổng Dịch vụ công"), (code, "truc-tuyen", 200000, "Cổng Dịch vụ công")]
    rep = json.loads(run("report", "--period", "2026-11", "--json").stdout)["fees"]
    assert rep["collected_by_method"]["truc-tuyen"] == 1400000 and rep["online_payment_rate"] == 1.0
    unpaid = receive_online(db, cfg, at="2026-11-23 09:30")["code"]
    res = record_portal_payments(db, store.dossier_by_code(db, unpaid), items, "3", when)
    assert res == {"recorded": [], "online": "3", "outstanding": 1400000}


# ---------------------------------------------------------------- list, backlog

def test_list_and_backlog_filter_the_dossiers_owing_fees(run, catalog):
    owing = receive(run)["code"]
    paid = receive(run, at="2026-11-23 09:20")["code"]
    assert pay(run, paid, "--receipt", "01BLP2-001/AA-26P/11").exit_code == 0
    free = receive(run, "--exempt", "Trẻ em", at="2026-11-23 09:25")["code"]
    listed = json.loads(run("list", "--fees-outstanding", "--json").stdout)
    assert [(r["code"], r["fees_outstanding"]) for r in listed] == [(owing, 1700000)]
    assert {r["code"] for r in json.loads(run("list", "--json").stdout)} == {owing, paid, free}
    assert [r["code"] for r in json.loads(run("backlog", "--fees-outstanding", "--json").stdout)] == [owing]
    csv_ = run("list", "--fees-outstanding", "--csv").stdout
    assert "fees_outstanding" in csv_.splitlines()[0] and "1700000" in csv_


# ---------------------------------------------------------------- receipt numbers across desks

def test_one_receipt_number_per_series_across_two_desks(run, catalog, rows):
    """Two desks (two real processes on one database) record the same receipt number at the same moment,
    for two dossiers: one is stored, the other is refused with exit 26 naming the first dossier."""
    import os
    import subprocess
    import sys

    codes = [receive(run)["code"], receive(run, at="2026-11-23 09:20")["code"]]
    for rnd in range(3):
        receipt = f"01BLP2-001/AA-26P/{500 + rnd}"
        procs = [subprocess.Popen([sys.executable, "-m", "onestop", "pay", c, "--amount", "1000", "--receipt", receipt],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
                 for c in codes]
        outs = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        assert sorted(rc for rc, _ in outs) == [0, 26], outs
        assert any("đã được ghi cho hồ sơ" in err for rc, err in outs if rc == 26)
    assert rows("SELECT count(*) FROM fee_receipts") == [(3,)]
    assert rows("SELECT count(DISTINCT receipt), count(*) FROM fee_payments") == [(3, 3)]


# ---------------------------------------------------------------- interactive, office roles

def test_an_open_amount_is_asked_at_the_terminal(run, catalog, rows):
    r = run("receive", "-p", OPEN_PROC, *APPLICANT, "--all-components", "--at", "2026-11-23 09:15", "--ask", "--json",
            input="\n\nkhông rõ\n3.250.000\n")  # email, authorised person: Enter; a wrong amount is asked again
    assert r.exit_code == 0, r.stderr
    assert "Số tiền 'Phí thẩm định hợp đồng' (Theo quy định)" in r.output
    assert rows("SELECT amount FROM dossier_fees") == [(3250000,)]


def test_pay_names_a_wrong_code_before_anything_else(run, catalog):
    """A code typed wrong is said first (exit 3), not "the receipt number is missing"."""
    r = pay(run, "9999")
    assert r.exit_code == 3 and "9999" in r.stderr and "biên lai" not in r.stderr


def test_a_fee_that_depends_on_the_dossier_is_confirmed_not_taken_silently(run, rows):
    """The sample catalog's 1.005082: 0,1% of the contract's value, at least 3.000.000 and at most
    5.000.000 đồng; its SOTIEN 3.000.000 is only the floor. A script is told what was recorded and how to
    give the amount; at a terminal the catalog's figure is offered and the officer types the real one."""
    args = ["receive", "-p", "1.005082", "--case", "1", "--all-components", "--at", "2026-11-23 09:15",
            "--address", "Số 1 Tràng Tiền, Hà Nội"]
    r = run(*args, "--name", "Nguyễn Văn An", "--id", "001085012345", "--json")
    assert r.exit_code == 0, r.stderr
    assert "tùy hồ sơ; đã ghi 3.000.000 đồng theo danh mục" in r.stderr and "--fee-amount PHI-CG-01=" in r.stderr
    assert json.loads(r.stdout)["estimated_fees"] == [{"code": "PHI-CG-01", "name": json.loads(r.stdout)["estimated_fees"][0]["name"],
                                                      "amount": 3000000}]
    r = run(*args, "--name", "Nguyễn Văn Bình", "--id", "001085012346", "--fee-amount", "PHI-CG-01=4200000", "--json")
    assert r.exit_code == 0 and "tùy hồ sơ" not in r.stderr and "estimated_fees" not in json.loads(r.stdout)
    r = run(*args, "--name", "Nguyễn Văn Cường", "--id", "001085012347", "--ask", "--json",
            input="\n\n\n4.750.000\n")  # phone, email, authorised person: Enter; then the amount
    assert r.exit_code == 0, r.stderr
    assert "Số tiền 'Phí thẩm định hợp đồng chuyển giao công nghệ" in r.output and "[3.000.000 đồng]" in r.output
    assert rows("SELECT amount FROM dossier_fees ORDER BY dossier_id") == [(3000000,), (4200000,), (4750000,)]


@pytest.mark.postgresql_only
def test_a_desk_role_with_the_documented_grants_collects_but_cannot_rewrite_the_ledger(run, tmp_path, office):
    """docs/office.md section 1.3: a desk appends dues, payments and receipt numbers; it cannot change or
    delete a ledger line or free a receipt number."""
    office("onestop_owner", "server")
    assert run("db", "status").exit_code == 0
    path = tmp_path / "fees-catalog.json"
    path.write_text(json.dumps({"error_code": 0, "result": CATALOG}, ensure_ascii=False), encoding="utf-8")
    assert run("procedures", "import", path).exit_code == 0
    office.grant()
    desk = office("onestop_desk", "desk", toml='[fees]\ncollect = "truoc"\n')
    code = receive(run)["code"]
    r = pay(run, code, "--receipt", "01BLP2-001/AA-26P/1", "--at", "2026-11-23 09:30")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "4"
    for sql in ("UPDATE fee_payments SET amount = 1", "DELETE FROM fee_payments", "DELETE FROM fee_receipts",
                "UPDATE dossier_fees SET amount = 0"):
        assert "permission denied" in refused(desk, sql)



def test_a_result_given_with_fees_owed_reminds_the_officer(run, catalog):
    code = receive(run)["code"]
    r = run("move", code, "9", "--yes", "--at", "2026-11-24 10:00")
    assert r.exit_code == 0, r.stderr
    assert f"hồ sơ {code} còn phải nộp 1.700.000 đồng phí, lệ phí" in r.stderr and f"onestop pay {code}" in r.stderr
    assert pay(run, code, "--receipt", "01BLP2-001/AA-26P/31", "--at", "2026-11-24 10:05").exit_code == 0
    r = run("move", code, "10", "--yes", "--at", "2026-11-24 10:10")
    assert r.exit_code == 0 and "còn phải nộp" not in r.stderr


def test_a_procedure_without_charge_has_nothing_to_collect(run, db):
    out = receive(run, proc="1.003626")  # the sample catalog: "Không thu phí", 0 đồng
    assert "7. Phí, lệ phí: Không" in pdf_text(out["receipt"])
    r = pay(run, out["code"], "--receipt", "01BLP2-001/AA-26P/41")
    assert r.exit_code == 25 and "không có khoản phí, lệ phí nào phải nộp" in r.stderr


def test_pay_at_a_terminal_asks_for_the_receipt_number(run, catalog, rows):
    from terminal import Terminal

    code = receive(run)["code"]
    term = Terminal("pay", code, "--amount", "200000")
    term.expect("Số biên lai")
    term.send("123")                                 # not "mẫu số/ký hiệu/số"
    term.expect("không đúng dạng")
    term.send("01BLP2-001/AA-26P/0000042")
    assert term.wait() == 0, term.seen
    assert "Đã thu 200.000 đồng, biên lai 01BLP2-001/AA-26P/0000042" in term.seen
    assert rows("SELECT series, number FROM fee_receipts") == [("01BLP2-001/AA-26P", "42")]


def test_the_ledger_takes_days_as_the_counter_types_them(run, catalog):
    code = receive(run)["code"]
    assert pay(run, code, "--receipt", "01BLP2-001/AA-26P/5", "--at", "2026-11-23 09:30").exit_code == 0
    led = json.loads(run("fees", "report", "--from", "23/11/2026", "--to", "23/11/2026", "--json").stdout)
    assert led["total"]["collected"] == 1_700_000 and (led["from"], led["to"]) == ("2026-11-23", "2026-11-23")
    r = run("fees", "report", "--from", "32/11/2026", "--to", "30/11/2026")
    assert r.exit_code == 4 and "--from '32/11/2026' không hợp lệ" in r.stderr


def test_a_bulk_receive_names_the_dossier_whose_open_amount_is_missing(db, cfg, catalog, rows):
    from onestop.common.errors import InvalidInput
    from onestop.intake.applicants import Applicant
    from onestop.intake.receiving import ReceiveRequest, receive_many

    who = Applicant(name="Nguyễn Văn An", id_number="001085012345")
    reqs = [ReceiveRequest(PROC, who), ReceiveRequest(OPEN_PROC, who, fee_amounts={"PHI-CG": 900000}),
            ReceiveRequest(OPEN_PROC, who)]
    with pytest.raises(InvalidInput) as e:
        receive_many(db, cfg, reqs)
    assert e.value.vi.startswith("Hồ sơ thứ 3: Danh mục không ghi số tiền cố định")
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]
    assert len(receive_many(db, cfg, reqs[:2])) == 2
    assert rows("SELECT amount FROM dossier_fees ORDER BY dossier_id, n") == [(1500000,), (200000,), (900000,)]


def test_a_wrong_collect_setting_stops_receive_before_a_code_is_issued(run, catalog, rows, home):
    (home / "onestop.toml").write_text('[fees]\ncollect = "truoc-khi"\n', encoding="utf-8")
    r = receive(run, ok=False)
    assert r.exit_code == 8 and "[fees] collect = 'truoc-khi' không hợp lệ" in r.stderr
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]

"""The interactive counter through a real pseudo-terminal: answers checked where typed and asked
again, the chip card's QR filling the applicant, cases, confirmations, the OCR bar and prompts."""

import json
from pathlib import Path

import pypdf
import pytest

from terminal import Terminal

REPO = Path(__file__).resolve().parent.parent
QR = "001085012345||Nguyễn Văn An|01011985|Nam|Số 5 Lý Thường Kiệt, Hà Nội|01012022"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


def pdf_text(path) -> str:
    return " ".join("".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


def test_wrong_answers_are_asked_again_and_nothing_typed_is_lost(db, rows):
    term = Terminal("receive")
    term.expect("Thủ tục")
    term.send("dang ky to chuc khcn")
    term.expect("Chọn số")
    term.send("99")                                  # not in the list
    term.expect("Nhập một số từ 1 đến")
    term.send("1")
    term.expect("Họ tên người nộp")
    term.send("Nguyeenx Thij Huwowng")               # raw Telex
    term.expect("Telex")
    term.expect("Vẫn dùng họ tên này? [c/K]")
    term.send("k")
    term.expect("Họ tên người nộp")
    term.send("Hoàng Thị Mai")
    term.expect("Loại giấy tờ")
    term.send("")                                    # detect from the number
    term.expect("Số giấy tờ")
    term.send("12345")                               # fits no ID kind
    term.expect("Nhập lại")
    term.expect("Loại giấy tờ")                      # the kind may have been the mistake: asked again
    term.send("1")
    term.expect("Số giấy tờ")
    term.send("001185012345")
    term.expect("Điện thoại")
    term.send("abc")
    term.expect("không hợp lệ")
    term.expect("Điện thoại")
    term.send("0912345678")
    term.expect("Địa chỉ")
    term.send("Số 3 phố Huế, Hà Nội")
    term.expect("Email (Enter để bỏ qua)")
    term.send("mai hoang")                           # not an address: asked again
    term.expect("không hợp lệ")
    term.expect("Email")
    term.send("")                                    # optional: Enter skips
    term.expect("Người được ủy quyền nộp")
    term.send("")
    term.expect("[C/k]")
    term.send("x")                                   # neither yes nor no
    term.expect("Trả lời c (có) hoặc k (không)")
    term.expect("[C/k]")
    term.send("c")
    term.expect("số trang")
    term.send("abc")                                 # a page count must be a number
    term.expect("Nhập một số từ 1 đến")
    term.send("3")
    for _ in range(6):
        term.expect("[C/k]")
        term.send("có")
        term.expect("số trang")
        term.send("")                                # default 1
    assert term.wait() == 0, term.seen
    row = rows("SELECT applicant_name, id_number, phone, address FROM dossiers")[0]
    assert tuple(row) == ("Hoàng Thị Mai", "001185012345", "0912345678", "Số 3 phố Huế, Hà Nội")
    assert [r[0] for r in rows("SELECT pages FROM dossier_components ORDER BY n")] == [3, 1, 1, 1, 1, 1, 1]


def test_chip_card_qr_scanned_at_the_name_prompt_fills_the_applicant(db, rows):
    term = Terminal("receive", "-p", "1.003584", "--all-components")
    term.expect("Họ tên người nộp")
    term.send(QR)
    term.expect("Đã đọc QR CCCD: Nguyễn Văn An")
    term.expect("Điện thoại")                        # ID and address came from the card
    term.send("")
    term.expect("Email")
    term.send("")
    term.expect("Người được ủy quyền nộp")
    term.send("")
    assert term.wait() == 0, term.seen
    name, id_number, address, receipt = rows(
        "SELECT applicant_name, id_number, address, receipt_path FROM dossiers")[0]
    assert (name, id_number, address) == ("Nguyễn Văn An", "001085012345", "Số 5 Lý Thường Kiệt, Hà Nội")
    text = pdf_text(receipt)
    assert "Nguyễn Văn An" in text and "||" not in text and "01011985" not in text


def test_qr_at_the_procedure_prompt_is_not_taken_for_keywords(db, rows):
    term = Terminal("receive", "--all-components")
    term.expect("Thủ tục")
    term.send(QR)
    term.expect("Đã đọc QR CCCD")
    term.expect("Thủ tục")                           # asked again; the applicant is kept
    term.send("1.003584")
    term.expect("Điện thoại")
    term.send("0912345678")
    term.expect("Email")
    term.send("")
    term.expect("Người được ủy quyền nộp")
    term.send("")
    assert term.wait() == 0, term.seen
    assert rows("SELECT applicant_name, id_number FROM dossiers")[0] == ("Nguyễn Văn An", "001085012345")


def test_case_and_conditional_papers_asked_at_the_prompt(db, rows):
    term = Terminal("receive", "-p", "1.005082", "--name", "Công ty TNHH Ánh Dương", "--id", "0100233488",
                    "--phone", "0912345678", "--address", "Hà Nội", "--email", "anhduong@example.vn",
                    "--authorised", "Lê Văn Nam")
    term.expect("có 2 trường hợp")
    term.expect("Trường hợp số")
    term.send("3")
    term.expect("Nhập một số từ 1 đến 2")
    term.send("1")
    for _ in range(4):
        term.expect("[C/k]")
        term.send("c")
        term.expect("số trang")
        term.send("2")
    shown = term.expect("có áp dụng cho hồ sơ này? [c/K]")  # 5. Văn bản ủy quyền (trường hợp …)
    assert "5. Văn bản ủy quyền" in shown
    term.send("")                                    # does not apply: not missing
    term.expect("Số tiền 'Phí thẩm định hợp đồng chuyển giao công nghệ")  # 0,1% of the contract: confirmed
    term.send("")                                    # Enter keeps the catalog's 3.000.000 đồng
    assert term.wait() == 0, term.seen
    comps = rows("SELECT n, received, applies FROM dossier_components ORDER BY n")
    assert [tuple(c) for c in comps] == [(1, 1, None), (2, 1, None), (3, 1, None), (4, 1, None), (5, 0, 0)]


@pytest.fixture
def two_0001(run):
    """Two dossiers numbered 0001: one received last week, one today."""
    codes = []
    for at in ("2026-11-23 09:00", "2026-11-30 09:00"):
        r = run("receive", "-p", "1.003584", "--name", "Lê Văn Bình", "--id", "001085012345", "--all-components",
                "--at", at, "--json")
        assert r.exit_code == 0, r.stderr
        codes.append(json.loads(r.stdout)["code"])
    return codes


def test_ambiguous_short_code_fails_in_scripts_and_is_asked_at_a_terminal(run, db, two_0001, rows):
    old, new = two_0001
    r = run("move", "0001", "4")
    assert r.exit_code == 16, r.stderr
    assert old in r.stderr and new in r.stderr
    assert rows("SELECT count(*) FROM events WHERE action LIKE 'status_%'")[0][0] == 0
    term = Terminal("move", "0001", "4")
    shown = term.expect("Chọn số")
    assert old in shown and new in shown
    term.send("2")                                   # the older one (newest first)
    assert term.wait() == 0, term.seen
    assert rows("SELECT code FROM dossiers WHERE status = '4'") == [(old,)]


def test_irreversible_move_is_confirmed_with_status_names(run, db, two_0001, rows):
    code = two_0001[1]
    term = Terminal("move", code, "da xu ly")
    shown = term.expect("[c/K]")
    assert "Được tiếp nhận (2)" in shown and "Đã xử lý xong (9)" in shown
    term.send("k")
    assert term.wait() == 130
    assert rows("SELECT status FROM dossiers WHERE code = ?", [code]) == [("2",)]
    term = Terminal("move", code, "đã xử lý")
    term.expect("[c/K]")
    term.send("c")
    assert term.wait() == 0
    assert "Được tiếp nhận (2) → Đã xử lý xong (9)" in term.seen
    assert rows("SELECT status FROM dossiers WHERE code = ?", [code]) == [("9",)]


def test_reschedule_reads_the_new_date_back_in_words(run, db, two_0001, rows):
    code = two_0001[1]
    term = Terminal("reschedule", code, "--to", "2026-12-28 16:00", "--reason", "Cần xác minh")
    shown = term.expect("[c/K]")
    assert "16 giờ 00, Thứ Hai ngày 28 tháng 12 năm 2026" in shown
    term.send("k")
    assert term.wait() == 130
    assert rows("SELECT rescheduled FROM dossiers WHERE code = ?", [code]) == [(0,)]


def test_ocr_progress_bar_does_not_draw_over_the_page_count_question(run):
    r = run("receive", "-p", "1.003584", "--name", "Lê Văn Bình", "--id", "001085012345", "--all-components",
            "--pages", "1=1", "--json")
    code = json.loads(r.stdout)["code"]
    scans = REPO / "scans"
    term = Terminal("scan", code, "-c", "1", str(scans / "01-don-de-nghi-trang-1.jpg"),
                    str(scans / "02-don-de-nghi-trang-2.jpg"))
    shown = term.expect("Vẫn lưu và cập nhật số trang? [c/K]")
    assert "Nhận dạng chữ" not in shown
    term.send("k")
    assert term.wait() == 22
    assert "Nhận dạng chữ" not in term.seen

"""Printed forms (Mẫu 01-04): real PDFs read back with pypdf, pdftoppm and zxing-cpp."""

import json
import shutil
import stat
import subprocess
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from onestop.intake import forms
from onestop.intake.forms import (
    FormContext,
    receipt_qr_payload,
    render_receipt,
    render_refusal,
    render_request_papers,
    render_reschedule,
)

A5 = (419.5, 595.3)
CODE = "000.00.01.H56-261122-0001"
NAME = "Nguyễn Thị Hương"
ADDRESS = "Số 12 ngõ 34 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"
PROCEDURE = "Đăng ký hoạt động khoa học và công nghệ"

CTX = FormContext(
    agency_name="SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH X",
    parent_name="UBND TỈNH X",
    place="Hà Nội",
    system_name="onestop",
)

COMPONENT_NAMES = [
    "Tờ khai đăng ký hoạt động khoa học và công nghệ (Mẫu 01/TK)",
    "Bản sao Quyết định thành lập tổ chức khoa học và công nghệ có chứng thực",
    "Điều lệ tổ chức và hoạt động",
    "Lý lịch khoa học của người đứng đầu tổ chức",
]


def make_dossier(**over):
    d = {
        "code": CODE,
        "agency": "Sở Khoa học và Công nghệ tỉnh X",
        "procedure_code": "1.003560",
        "procedure_name": PROCEDURE,
        "field_name": "Hoạt động khoa học và công nghệ",
        # Decomposed on purpose: the form must print (and the PDF must carry) NFC text.
        "applicant_name": unicodedata.normalize("NFD", NAME),
        "id_number": "001190012345",
        "address": ADDRESS,
        "phone": "0912345678",
        "email": "huong.nguyen@example.vn",
        "received_at": "2026-11-23T09:15:00+07:00",
        "due_at": "2026-11-30T09:15:00+07:00",
        "original_due_at": "2026-11-30T09:15:00+07:00",
        "limit_value": 5,
        "limit_unit": "working_days",
        "delivery": "0",
        "fees": [{"name": "Lệ phí", "amount": 1500000, "unit": "VNĐ"}],
        "sets": 1,
        "book_year": 2026,
        "book_no": 123,
        "officer": "Trần Văn Nam",
        "issued_at": "2026-11-24T10:00:00+07:00",
        "components": [
            {"n": i, "code": f"GT{i}", "name": name, "originals": 1, "copies": i % 2, "pages": 2,
             "received": True}
            for i, name in enumerate(COMPONENT_NAMES, start=1)
        ]
        + [{"n": 5, "code": "GT5", "name": "Giấy tờ chưa nộp", "originals": 1, "copies": 0,
            "pages": 1, "received": False}],
    }
    d.update(over)
    return d


def page_texts(path: Path) -> list[str]:
    """Text of each page, white space collapsed (pypdf breaks lines at font changes)."""
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages]


def assert_a5(path: Path) -> None:
    for page in PdfReader(path).pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert w == pytest.approx(A5[0], abs=1) and h == pytest.approx(A5[1], abs=1)


def assert_written_safely(path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_suffix(".tmp").exists()
    assert list(path.parent.glob("*.tmp")) == []


def render_png(pdf: Path, page: int = 1) -> Path:
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    prefix = pdf.with_name(pdf.stem + f"-p{page}")
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l", str(page), "-singlefile",
         str(pdf), str(prefix)],
        check=True,
    )
    return prefix.with_suffix(".png")


def read_qr(png: Path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    image = Image.open(png)
    codes = [c for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, "exactly one QR code expected on the page"
    return codes[0], image.size


# --------------------------------------------------------------------------- Mẫu 01


def test_receipt_text_pages_and_labels(tmp_path):
    out = render_receipt(make_dossier(), CTX, tmp_path / "receipt.pdf")
    assert out == tmp_path / "receipt.pdf"
    assert_a5(out)
    assert_written_safely(out)
    pages = page_texts(out)
    assert len(pages) == 2
    assert "Liên 1: Lưu" in pages[0] and "Liên 2: Giao người nộp" not in pages[0]
    assert "Liên 2: Giao người nộp" in pages[1]
    for text in pages:
        assert unicodedata.is_normalized("NFC", text)
        for expected in (
            "UBND TỈNH X",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
            f"Mã hồ sơ: {CODE}",
            "Hà Nội, ngày 23 tháng 11 năm 2026",
            "Bộ phận tiếp nhận và trả kết quả: Sở Khoa học và Công nghệ tỉnh X",
            f"Tiếp nhận hồ sơ của: {NAME}",
            "Số định danh cá nhân/Mã số doanh nghiệp: 001190012345",
            f"Địa chỉ: {ADDRESS}",
            "Số điện thoại: 0912345678",
            "Email: huong.nguyen@example.vn",
            f"Nội dung yêu cầu giải quyết: {PROCEDURE} (Mã TTHC: 1.003560)",
            "1. Thành phần hồ sơ nộp gồm:",
            "2. Số lượng hồ sơ: 1 (bộ)",
            "3. Thời gian giải quyết hồ sơ theo quy định: 5 ngày làm việc",
            "4. Thời gian nhận hồ sơ: 09 giờ 15 phút, ngày 23/11/2026",
            "5. Thời gian trả kết quả giải quyết hồ sơ: 09 giờ 15 phút, ngày 30/11/2026",
            "6. Đăng ký nhận kết quả tại: Bộ phận tiếp nhận và trả kết quả",
            "7. Phí, lệ phí: Lệ phí: 1.500.000 đồng",
            "Vào Sổ theo dõi hồ sơ, Quyển số: 2026, Số thứ tự: 123",
            "NGƯỜI NỘP HỒ SƠ",
            "NGƯỜI TIẾP NHẬN HỒ SƠ",
            "(Ký và ghi rõ họ tên)",
            "Trần Văn Nam",
        ):
            assert expected in text, expected
        for name in COMPONENT_NAMES:
            assert name in text
        # Only received components are listed.
        assert "Giấy tờ chưa nộp" not in text


def test_receipt_fee_free_post_and_units(tmp_path):
    dossier = make_dossier(
        fees=[{"name": "Lệ phí", "amount": 0, "unit": "VNĐ"}],
        delivery="1",
        limit_value=8,
        limit_unit="hours",
        sets=2,
        authorised_name="Phạm Văn Đức",
    )
    text = page_texts(render_receipt(dossier, CTX, tmp_path / "r.pdf"))[0]
    assert "7. Phí, lệ phí: Không" in text
    assert "6. Đăng ký nhận kết quả tại: Địa chỉ của người nộp, qua dịch vụ bưu chính công ích" in text
    assert "3. Thời gian giải quyết hồ sơ theo quy định: 8 giờ" in text
    assert "2. Số lượng hồ sơ: 2 (bộ)" in text
    assert "Phạm Văn Đức" in text


def test_receipt_qr_decodes_at_150_dpi_top_left(tmp_path):
    dossier = make_dossier()
    pdf = render_receipt(dossier, CTX, tmp_path / "receipt.pdf")
    code, (width, height) = read_qr(render_png(pdf, 1))
    assert code.text == receipt_qr_payload(dossier, CTX)
    data = json.loads(code.text)
    assert list(data) == [
        "MaHoSo", "MaTTHC", "SoDinhDanh", "TenGiayTo", "HeThong", "ThoiGianCap", "NgayHenTra",
    ]
    assert data == {
        "MaHoSo": CODE,
        "MaTTHC": "1.003560",
        "SoDinhDanh": "001190012345",
        "TenGiayTo": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        "HeThong": "onestop",
        "ThoiGianCap": "20261123091500",
        "NgayHenTra": "20261130091500",
    }
    pos = code.position
    corners = [pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right]
    assert all(p.x < width / 2 and p.y < height / 2 for p in corners)
    # And the second copy carries the same code.
    code2, _ = read_qr(render_png(pdf, 2))
    assert code2.text == code.text


def test_receipt_qr_payload_is_compact_json():
    payload = receipt_qr_payload(make_dossier(), CTX)
    assert payload.startswith('{"MaHoSo":"000.00.01.H56-261122-0001","MaTTHC":"1.003560",')
    assert "Giấy tiếp nhận" in payload  # ensure_ascii=False
    assert " :" not in payload and '", "' not in payload
    assert unicodedata.is_normalized("NFC", payload)


def test_receipt_long_component_list_flows_onto_more_pages(tmp_path):
    names = [
        f"Giấy tờ số {i}: bản kê khai chi tiết về nhân lực, cơ sở vật chất và hoạt động "
        f"khoa học của tổ chức trong năm {2000 + i}"
        for i in range(1, 26)
    ]
    components = [
        {"n": i, "name": n, "originals": 1, "copies": 2, "received": True}
        for i, n in enumerate(names, start=1)
    ]
    out = render_receipt(make_dossier(components=components), CTX, tmp_path / "long.pdf")
    assert_a5(out)
    assert_written_safely(out)
    pages = page_texts(out)
    assert len(pages) > 2
    first_copy = [t for t in pages if "Liên 1: Lưu" in t]
    second_copy = [t for t in pages if "Liên 2: Giao người nộp" in t]
    assert len(first_copy) == len(second_copy) == len(pages) // 2
    for copy in (first_copy, second_copy):
        joined = " ".join(copy)
        for name in names:
            assert name in joined, name
        assert "Trang 1/" in joined
        assert "Vào Sổ theo dõi hồ sơ" in joined


def test_receipt_overwrites_atomically(tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(b"old")
    path.chmod(0o644)
    render_receipt(make_dossier(), CTX, path)
    assert path.read_bytes().startswith(b"%PDF")
    assert_written_safely(path)


def test_long_text_wraps_inside_the_page():
    forms.ensure_fonts()
    width = 200.0
    text = "Nội dung " * 40 + "X" * 200
    lines = forms.wrap_runs([(text, forms.REGULAR)], 8.5, width)
    assert len(lines) > 3
    for line in lines:
        assert forms._line_width(line, 8.5) <= width + 0.01
    assert "".join(t for line in lines for t, _ in line).replace(" ", "") == text.replace(" ", "")


# --------------------------------------------------------------------------- Mẫu 02-04


def test_request_papers(tmp_path):
    missing = [
        {"name": "Bản sao Quyết định thành lập tổ chức", "reason": "Bản sao chưa được chứng thực"},
        {"name": "Lý lịch khoa học của người đứng đầu", "reason": "Thiếu chữ ký và ảnh"},
    ]
    dossier = make_dossier(code="")  # may be printed before a code exists
    out = render_request_papers(
        dossier, missing, CTX, tmp_path / "m02.pdf", note="Nộp bổ sung trong 10 ngày",
        officer="Lê Thị Mai",
    )
    assert_a5(out)
    assert_written_safely(out)
    pages = page_texts(out)
    assert len(pages) == 1
    text = pages[0]
    for expected in (
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        "Hà Nội, ngày 24 tháng 11 năm 2026",
        f"Hồ sơ của: {NAME}",
        f"{PROCEDURE} (Mã TTHC: 1.003560)",
        "Yêu cầu bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:",
        "1. Bản sao Quyết định thành lập tổ chức",
        "Lý do: Bản sao chưa được chứng thực",
        "2. Lý lịch khoa học của người đứng đầu",
        "Lý do: Thiếu chữ ký và ảnh",
        "Nộp bổ sung trong 10 ngày",
        "Lê Thị Mai",
    ):
        assert expected in text, expected
    assert "Mã hồ sơ" not in text


def test_refusal(tmp_path):
    reason = "Hồ sơ không thuộc thẩm quyền giải quyết của Sở Khoa học và Công nghệ"
    out = render_refusal(make_dossier(), reason, CTX, tmp_path / "m03.pdf", officer="Lê Thị Mai")
    assert_a5(out)
    assert_written_safely(out)
    text = page_texts(out)[0]
    for expected in (
        "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        f"Mã hồ sơ: {CODE}",
        f"Tiếp nhận hồ sơ của: {NAME}",
        f"{PROCEDURE} (Mã TTHC: 1.003560)",
        f"Lý do: {reason}",
        "Xin trân trọng thông báo!",
        "Lê Thị Mai",
    ):
        assert expected in text, expected


def test_reschedule_shows_the_original_then_the_new_date_signed_for_the_agency(tmp_path):
    ctx = FormContext(agency_name="SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH X", place="Hà Nội", head_title="Giám đốc",
                      head_name="Hoàng Văn Tư")
    # The dossier row as it reads after the change: due_at already holds the new date.
    dossier = make_dossier(due_at="2026-12-05T14:00:00+07:00")
    out = render_reschedule(
        dossier, "2026-12-05T14:00:00+07:00", "Cần lấy ý kiến của cơ quan liên quan",
        ctx, tmp_path / "m04.pdf", officer="Lê Văn Bình", previous_due_at="2026-11-30T09:15:00+07:00",
        issued_at="2026-11-25T08:30:00+07:00",
    )
    assert_a5(out)
    assert_written_safely(out)
    text = page_texts(out)[0]
    for expected in (
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "Hà Nội, ngày 25 tháng 11 năm 2026",
        f"Mã hồ sơ: {CODE}",
        f"Kính gửi: {NAME}",
        f"{PROCEDURE} (Mã TTHC: 1.003560)",
        "Ngày hẹn trả kết quả: 09 giờ 15 phút, ngày 30/11/2026",
        "Lý do: Cần lấy ý kiến của cơ quan liên quan",
        "xin lỗi ông/bà và hẹn lại ngày trả kết quả vào 14 giờ 00 phút, ngày 05/12/2026",
        "Ngày hẹn trả kết quả mới: 14 giờ 00 phút, ngày 05/12/2026",
        "TM. SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH X GIÁM ĐỐC",
        "Hoàng Văn Tư",
    ):
        assert expected in text, expected
    assert text.index("ngày 30/11/2026") < text.index("ngày 05/12/2026")
    assert "Lê Văn Bình" not in text  # the agency apologises, not the officer


def test_notices_are_dated_by_the_action_not_the_wall_clock(tmp_path):
    dossier = make_dossier()
    del dossier["issued_at"]
    out = render_refusal(dossier, "Không thuộc thẩm quyền", CTX, tmp_path / "m03.pdf", officer="Lê Thị Mai",
                         issued_at="2025-03-04T10:00:00+07:00")
    assert "Hà Nội, ngày 04 tháng 03 năm 2025" in page_texts(out)[0]
    # Without a time the date is left to fill by hand, never today's date.
    out = render_refusal(dossier, "Không thuộc thẩm quyền", CTX, tmp_path / "m03b.pdf", officer="Lê Thị Mai")
    text = page_texts(out)[0]
    assert "Hà Nội, ngày …… tháng …… năm ……" in text


def test_receipt_with_ten_components_fits_one_a5_page_per_copy(tmp_path):
    names = [
        "Tờ khai đăng ký hoạt động khoa học và công nghệ theo mẫu quy định (Mẫu 01/TK)",
        "Bản sao Quyết định thành lập tổ chức khoa học và công nghệ có chứng thực",
        "Điều lệ tổ chức và hoạt động của tổ chức khoa học và công nghệ",
        "Lý lịch khoa học của người đứng đầu tổ chức khoa học và công nghệ",
        "Văn bản xác nhận về trụ sở chính của tổ chức",
        "Danh sách nhân lực khoa học và công nghệ của tổ chức",
        "Bản sao văn bằng của người đứng đầu",
        "Giấy ủy quyền (trường hợp nộp qua người được ủy quyền)",
        "Bản kê khai cơ sở vật chất, trang thiết bị",
        "Báo cáo tài chính năm gần nhất",
    ]
    components = [{"n": i, "name": n, "originals": 1, "copies": 1, "received": True}
                  for i, n in enumerate(names, start=1)]
    out = render_receipt(make_dossier(components=components, authorised_name="Phạm Văn Đức"), CTX,
                         tmp_path / "r10.pdf")
    assert_a5(out)
    pages = page_texts(out)
    assert len(pages) == 2, "one A5 page per copy"
    for page, label in zip(pages, ("Liên 1: Lưu", "Liên 2: Giao người nộp")):
        assert label in page
        for name in names:
            assert name in page, name
        for expected in ("7. Phí, lệ phí:", "Vào Sổ theo dõi hồ sơ", "NGƯỜI NỘP HỒ SƠ", "NGƯỜI TIẾP NHẬN HỒ SƠ",
                         "Trần Văn Nam", "Phạm Văn Đức"):
            assert expected in page, expected
        assert "Trang 1/" not in page


def test_control_slip_mau_05_one_row_per_hand_over(tmp_path):
    from onestop.intake.forms import render_control_slip

    handovers = [
        {"from": "Bộ phận tiếp nhận và trả kết quả", "to": "Phòng Quản lý khoa học", "at": "2026-11-23T10:00:00+07:00",
         "giver": "Trần Văn Nam", "timeliness": "early"},
        {"from": "Phòng Quản lý khoa học", "to": "Bộ phận tiếp nhận và trả kết quả",
         "at": "2026-11-30T16:00:00+07:00", "receiver": "Trần Văn Nam", "timeliness": "late", "note": "Xong"},
    ]
    out = render_control_slip(make_dossier(), handovers, CTX, tmp_path / "m05.pdf",
                              issued_at="2026-11-23T10:00:00+07:00", processing_unit="Phòng Quản lý khoa học")
    assert_a5(out)
    assert_written_safely(out)
    text = page_texts(out)[0]
    for expected in (
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        "Hà Nội, ngày 23 tháng 11 năm 2026",
        f"Mã hồ sơ: {CODE}",
        f"(Kèm theo hồ sơ của: {NAME}",
        "Ngày hẹn trả kết quả: 09 giờ 15 phút, ngày 30/11/2026",
        "Cơ quan (bộ phận) giải quyết hồ sơ: Phòng Quản lý khoa học",
        "TÊN CƠ QUAN", "THỜI GIAN GIAO, NHẬN HỒ SƠ", "GHI CHÚ",
        "1. Giao: Bộ phận tiếp nhận và trả kết quả",
        "10 giờ 00 phút, ngày 23/11/2026",
        "Trước hạn",
        "2. Giao: Phòng Quản lý khoa học",
        "16 giờ 00 phút, ngày 30/11/2026",
        "Quá hạn",
    ):
        assert expected in text, expected


def test_missing_font_names_the_debian_package(tmp_path, monkeypatch):
    from onestop.common.errors import ConfigError

    monkeypatch.setattr("onestop.intake.forms.fonts._FONT_DIRS", (tmp_path,))
    with pytest.raises(ConfigError) as err:
        forms.font_path("DejaVuSans.ttf")
    assert "fonts-dejavu-core" in err.value.vi and "fonts-dejavu-core" in err.value.en

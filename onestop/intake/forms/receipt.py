"""Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả: two copies on A5, the QR top-left, the
table of papers received; the QR's payload (TT 01/2023 Art. 26 fields)."""

from __future__ import annotations

import json
from pathlib import Path

from onestop.common.text import nfc
from onestop.intake.forms import FormContext
from onestop.intake.forms.blocks import SIGN_HINT, _applicant_lines, _draw_header, _signatures, _title
from onestop.intake.forms.fonts import BOLD, REGULAR, SERIF, _width, ensure_fonts
from onestop.intake.forms.layout import (
    CONTENT_W,
    DENSITIES,
    MARGIN_L,
    MARGIN_R,
    MARGIN_T,
    PAGE_W,
    Run,
    _Density,
    _Flow,
    _line_width,
    wrap_runs,
)
from onestop.intake.forms.pdf import _emit, _paginate
from onestop.intake.forms.qr import _qr_matrix
from onestop.intake.forms.values import (
    _DOTS,
    _agency_label,
    _compact_time,
    _fmt_fees,
    _fmt_limit,
    _fmt_number,
    _fmt_place_date,
    _fmt_time_day,
    _procedure_text,
    _s,
)

RECEIPT_TITLE = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
RECEIPT_DOC_NAME = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
COPY_LABELS = ("Liên 1: Lưu", "Liên 2: Giao người nộp")

# After "Đăng ký nhận kết quả tại:" (so no leading "Tại").
DELIVERY = {
    "0": "Bộ phận tiếp nhận và trả kết quả",
    "1": "Địa chỉ của người nộp, qua dịch vụ bưu chính công ích",
}

QR_MIN_MODULE = 1.35  # pt: 2.8 px at 150 dpi, comfortably above what decoders need
QR_TARGET = 78.0  # pt: preferred side of the symbol itself (quiet zone is page margin)


def receipt_qr_payload(dossier: dict, ctx: FormContext) -> str:
    """The exact string encoded in the receipt's QR (TT 01/2023 Art. 26 fields)."""
    payload = {
        "MaHoSo": _s(dossier, "code"),
        "MaTTHC": _s(dossier, "procedure_code"),
        "SoDinhDanh": _s(dossier, "id_number"),
        "TenGiayTo": RECEIPT_DOC_NAME,
        "HeThong": nfc(ctx.system_name),
        "ThoiGianCap": _compact_time(dossier.get("received_at")),
        "NgayHenTra": _compact_time(dossier.get("due_at")),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def render_receipt(dossier: dict, ctx: FormContext, path: Path) -> Path:
    """Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả: A5, two copies, QR top-left."""
    ensure_fonts()
    code = _s(dossier, "code")
    matrix = _qr_matrix(receipt_qr_payload(dossier, ctx))
    n = len(matrix)
    module = max(QR_MIN_MODULE, QR_TARGET / n)
    qr_side = n * module
    received = dossier.get("received_at")
    components = [c for c in dossier.get("components") or [] if c.get("received", True)]

    def copy_flow(label: str, density: _Density) -> _Flow:
        def on_new_page(flow: _Flow, continued: bool) -> None:
            if continued:
                flow.para(
                    [("Mã hồ sơ: ", REGULAR), (code or _DOTS, BOLD), (f"   {label} (tiếp theo)", SERIF)],
                    size=7.5,
                    space_after=4,
                )
                return
            # The agency block and the national motto take the full width, as on every official
            # paper; the QR sits below them on the left, the code and the date beside it.
            flow.y = _draw_header(flow, ctx, left_x=MARGIN_L, right_label=label)
            flow.gap(4)
            top = flow.y
            flow.ops.append(("qr", MARGIN_L, top, module, matrix))
            beside_x = MARGIN_L + qr_side + 10
            beside_w = PAGE_W - MARGIN_R - beside_x
            flow.y = top + max(0.0, (qr_side - 3 * flow.d.lead) / 2)
            flow.para([(_fmt_place_date(ctx.place, received), SERIF)], align="right", x=beside_x, width=beside_w,
                      space_after=4)
            flow.field("Mã hồ sơ:", code, bold=True, x=beside_x, width=beside_w)
            flow.y = max(flow.y, top + qr_side)

        flow = _Flow(on_new_page, density)
        _title(flow, RECEIPT_TITLE)
        flow.field("Bộ phận tiếp nhận và trả kết quả:", _agency_label(dossier, ctx), indent=12)
        _applicant_lines(flow, dossier, "Tiếp nhận hồ sơ của:")
        flow.field("Nội dung yêu cầu giải quyết:", _procedure_text(dossier), bold=True, indent=12)
        if _s(dossier, "field_name"):
            flow.field("Lĩnh vực:", _s(dossier, "field_name"), indent=12)
        flow.para("1. Thành phần hồ sơ nộp gồm:", space_after=2)
        _table(flow, components)
        flow.gap(3)
        sets = dossier.get("sets") or 1
        flow.field("2. Số lượng hồ sơ:", f"{_fmt_number(sets)} (bộ)", indent=12)
        flow.field("3. Thời gian giải quyết hồ sơ theo quy định:", _fmt_limit(dossier), indent=12)
        flow.field("4. Thời gian nhận hồ sơ:", _fmt_time_day(received), indent=12)
        flow.field(
            "5. Thời gian trả kết quả giải quyết hồ sơ:",
            _fmt_time_day(dossier.get("due_at")),
            bold=True,
            indent=12,
        )
        delivery = str(dossier.get("delivery", "0") or "0")
        flow.field("6. Đăng ký nhận kết quả tại:", DELIVERY.get(delivery, nfc(delivery)), indent=12)
        flow.field("7. Phí, lệ phí:", _fmt_fees(dossier.get("fees")), indent=12)
        year = dossier.get("book_year")
        book_no = dossier.get("book_no")
        flow.para(
            "Vào Sổ theo dõi hồ sơ, Quyển số: "
            + (str(year) if year not in (None, "") else _DOTS)
            + ", Số thứ tự: "
            + (f"{int(book_no):02d}" if isinstance(book_no, int) else (_s(dossier, "book_no") or _DOTS)),
            indent=12,
        )
        submitter = _s(dossier, "authorised_name") or _s(dossier, "applicant_name")
        _signatures(
            flow,
            [
                ("NGƯỜI NỘP HỒ SƠ", SIGN_HINT, submitter),
                ("NGƯỜI TIẾP NHẬN HỒ SƠ", SIGN_HINT, _s(dossier, "officer")),
            ],
        )
        return flow

    # The first density at which a copy fits one A5 page; a very long list still flows on.
    for density in DENSITIES:
        flows = [(copy_flow(label, density), label) for label in COPY_LABELS]
        if all(len(f.pages) == 1 for f, _ in flows):
            break
    title = f"{RECEIPT_DOC_NAME} - {code}" if code else RECEIPT_DOC_NAME
    return _emit(path, _paginate(flows), title, ctx)


def _table(flow: _Flow, components: list[dict]) -> None:
    """Components received: STT | Tên giấy tờ | Bản chính | Bản sao; flows across pages."""
    size, lead, pad = flow.d.table_size, flow.d.table_lead, flow.d.table_pad
    cols = [max(24.0, _width("STT", BOLD, size) + 2 * pad + 2), 0.0, 34.0, 30.0]  # "STT" on one line
    cols[1] = CONTENT_W - sum(cols)
    xs = [MARGIN_L]
    for w in cols:
        xs.append(xs[-1] + w)
    headers = ["STT", "Tên giấy tờ", "Bản chính", "Bản sao"]

    def cell_lines(texts: list[str], font: str) -> list[list[list[Run]]]:
        return [wrap_runs([(t, font)], size, cols[i] - 2 * pad) for i, t in enumerate(texts)]

    header_cells = cell_lines(headers, BOLD)
    header_h = max(len(c) for c in header_cells) * lead + 2 * pad

    def draw_row(cells: list[list[list[Run]]], height: float, font_align: list[str]) -> None:
        top = flow.y
        rows = max(len(c) for c in cells)
        for i, lines in enumerate(cells):
            y = top + pad
            if font_align[i] == "middle":  # header cells: centred both ways
                y += (rows - len(lines)) * lead / 2
            for line in lines:
                y += lead
                w = _line_width(line, size)
                if font_align[i] in ("center", "middle"):
                    lx = xs[i] + (cols[i] - w) / 2
                else:
                    lx = xs[i] + pad
                flow.text_at(lx, y - 2.5, line, size)
        flow.ops.append(("rowbox", xs, top, top + height))
        flow.y = top + height

    def header() -> None:
        draw_row(header_cells, header_h, ["middle"] * 4)

    flow.ensure(header_h + lead + 2 * pad)
    header()
    if not components:
        components = [{"n": "", "name": "(Không có giấy tờ)", "originals": "", "copies": ""}]
    for idx, comp in enumerate(components, start=1):
        texts = [
            # Rows numbered 1, 2, 3 as printed: a paper that does not apply (or another case's
            # papers) must not leave a gap; the catalog's number is not the citizen's.
            str(idx) if comp.get("n") not in (None, "") else "",
            nfc(str(comp.get("name") or "")),
            _fmt_number(comp.get("originals", 0)),
            _fmt_number(comp.get("copies", 0)),
        ]
        cells = cell_lines(texts, REGULAR)
        aligns = ["center", "left", "center", "center"]
        while True:
            height = max(len(c) for c in cells) * lead + 2 * pad
            if flow.y + height <= flow.bottom:
                draw_row(cells, height, aligns)
                break
            # Room a continuation page offers a row (its header line and the table header).
            capacity = flow.bottom - MARGIN_T - 2 * flow.d.lead - header_h
            fit = int((flow.room() - 2 * pad) // lead)
            if height > capacity and fit >= 1:
                # Longer than any page: print what fits here, the rest on the next page.
                draw_row([c[:fit] for c in cells], fit * lead + 2 * pad, aligns)
                cells = [c[fit:] or [[]] for c in cells]
            flow.new_page()
            header()

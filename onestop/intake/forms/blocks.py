"""Blocks the forms share: the agency header and national motto, the title, the applicant
lines, signature blocks, the one-copy notices' page header (Mẫu 02-05) and the opening
lines Mẫu 02 and 03 have in common."""

from __future__ import annotations

from typing import Any, Callable

from onestop.common.text import nfc
from onestop.intake.forms import FormContext
from onestop.intake.forms.fonts import BOLD, REGULAR, SERIF, _width, ensure_fonts
from onestop.intake.forms.layout import (
    CONTENT_W,
    MARGIN_L,
    MARGIN_R,
    PAGE_W,
    _Flow,
    _line_width,
    wrap_balanced,
    wrap_runs,
)
from onestop.intake.forms.values import (
    _DOTS,
    _agency_label,
    _fmt_place_date,
    _issued_at,
    _procedure_text,
    _s,
)

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
SIGN_HINT = "(Ký và ghi rõ họ tên)"


def _draw_header(flow: _Flow, ctx: FormContext, *, left_x: float, right_label: str = "") -> float:
    """Agency block (left) and national motto (right); returns the y below the header."""
    y0 = flow.y
    right_w = _width(NATION, BOLD, 7.5) + 6.0
    right_x = PAGE_W - MARGIN_R - right_w
    left_w = right_x - 6.0 - left_x
    size = 7.5
    lead = 9.5
    if right_label:
        w = _width(right_label, SERIF, 7)
        flow.text_at(PAGE_W - MARGIN_R - w, y0 + 6.0, [(right_label, SERIF)], 7)
        y0 += 9.0
    y = y0
    blocks = []
    if ctx.parent_name:
        blocks.append((nfc(ctx.parent_name).upper(), REGULAR))
    blocks.append((nfc(ctx.agency_name).upper(), BOLD))
    if ctx.unit_name:
        blocks.append((nfc(ctx.unit_name).upper(), BOLD))
    for text, font in blocks:
        for line in wrap_balanced(text, font, size, left_w):
            y += lead
            lx = left_x + (left_w - _line_width(line, size)) / 2
            flow.text_at(lx, y - 2, line, size)
    # A short rule under the agency block, as on official documents.
    flow.ops.append(("line", left_x + left_w * 0.3, y + 2.5, left_x + left_w * 0.7, y + 2.5, 0.6))
    left_bottom = y + 4.0
    y = y0
    for text, font, fs in ((NATION, BOLD, 7.5), (MOTTO, BOLD, 8.0)):
        y += lead
        w = _width(text, font, fs)
        flow.text_at(right_x + (right_w - w) / 2, y - 2, [(text, font)], fs)
    mw = _width(MOTTO, BOLD, 8.0)
    mx = right_x + (right_w - mw) / 2
    flow.ops.append(("line", mx, y + 2.0, mx + mw, y + 2.0, 0.6))
    return max(left_bottom, y + 4.0)


def _title(flow: _Flow, text: str) -> None:
    flow.gap(4)
    flow.para([(text, BOLD)], size=10.5, lead=14, align="center", space_after=4)


def _signatures(flow: _Flow, blocks: list[tuple[str, str, str]]) -> None:
    """Signature blocks side by side: (title, hint, name); kept together on one page."""
    d = flow.d
    n = len(blocks)
    col_w = CONTENT_W / n
    w = CONTENT_W / 2 if n == 1 else col_w
    # Titles may hold line breaks ("TM. CƠ QUAN\nGIÁM ĐỐC"); measure every block first.
    texts = [
        [(part, font) for text, font in ((title, BOLD), (hint, SERIF)) for part in text.split("\n")]
        for title, hint, _ in blocks
    ]
    n_lines = max(sum(len(wrap_runs([p], 7.5, w - 4)) for p in block) for block in texts)
    height = 8 + n_lines * (d.lead - 1) + d.sign_space + 2 * d.lead
    flow.ensure(height)
    flow.gap(8)
    top = flow.y
    for i, (title, hint, name) in enumerate(blocks):
        # A single block sits on the right, where the issuer signs.
        x = MARGIN_L + (CONTENT_W / 2 if n == 1 else i * col_w)
        w = CONTENT_W / 2 if n == 1 else col_w
        y = top
        for text, font in texts[i]:
            for line in wrap_runs([(text, font)], 7.5, w - 4):
                y += d.lead - 1
                flow.text_at(x + (w - _line_width(line, 7.5)) / 2, y - 2, line, 7.5)
        if name:
            y += d.sign_space
            line = wrap_runs([(name, BOLD)], d.body, w - 4)[0]
            flow.text_at(x + (w - _line_width(line, d.body)) / 2, y, line, d.body)
    flow.y = top + height - 8


def _applicant_lines(flow: _Flow, dossier: dict, name_label: str) -> None:
    flow.field(name_label, _s(dossier, "applicant_name"), bold=True, indent=12)
    authorised = _s(dossier, "authorised_name")
    if authorised:
        flow.field("Người được ủy quyền nộp hồ sơ:", authorised, indent=12)
    flow.field("Số định danh cá nhân/Mã số doanh nghiệp:", _s(dossier, "id_number"), indent=12)
    flow.field("Địa chỉ:", _s(dossier, "address"), indent=12)
    phone = _s(dossier, "phone") or _DOTS
    email = _s(dossier, "email")
    # No email given: no empty "Email: ......" to fill in (few citizens have one to give at the counter).
    flow.para(f"Số điện thoại: {phone}" + (f"    Email: {email}" if email else ""), indent=12)


def _simple_header(ctx: FormContext, code: str, date_value: Any) -> Callable[[_Flow, bool], None]:
    """Page header of the one-copy notices (Mẫu 02-04)."""

    def on_new_page(flow: _Flow, continued: bool) -> None:
        if continued:
            flow.para([("(tiếp theo)", SERIF)], size=7, align="right")
            return
        flow.y = _draw_header(flow, ctx, left_x=MARGIN_L)
        flow.gap(2)
        top = flow.y
        if code:
            flow.field("Mã hồ sơ:", code, bold=True)
        flow.y = top
        flow.para([(_fmt_place_date(ctx.place, date_value), SERIF)], align="right")

    return on_new_page


def _opening(
    dossier: dict, ctx: FormContext, title: str, applicant_label: str, issued_at: Any = None
) -> "_Flow":
    """Header, title, agency, applicant and procedure: the opening lines Mẫu 02 and 03 share."""
    ensure_fonts()
    flow = _Flow(_simple_header(ctx, _s(dossier, "code"), _issued_at(dossier, issued_at)))
    _title(flow, title)
    flow.field("Bộ phận tiếp nhận và trả kết quả:", _agency_label(dossier, ctx), indent=12)
    _applicant_lines(flow, dossier, applicant_label)
    flow.field("Nội dung yêu cầu giải quyết:", _procedure_text(dossier), bold=True, indent=12)
    flow.gap(3)
    return flow

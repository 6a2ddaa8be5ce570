"""Mẫu 05 — Phiếu kiểm soát quá trình giải quyết hồ sơ: one row per hand-over, travels with
the papers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestop.common.text import nfc
from onestop.intake.forms import FormContext
from onestop.intake.forms.blocks import _simple_header, _title
from onestop.intake.forms.fonts import BOLD, REGULAR, SERIF, ensure_fonts
from onestop.intake.forms.layout import CONTENT_W, MARGIN_L, Run, _Flow, _line_width, wrap_runs
from onestop.intake.forms.pdf import _emit, _paginate
from onestop.intake.forms.values import _DOTS, _fmt_time_day, _issued_at, _parse_dt, _procedure_text, _s

CONTROL_TITLE = "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"
TIMELINESS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}


def render_control_slip(
    dossier: dict,
    handovers: list[dict],
    ctx: FormContext,
    path: Path,
    *,
    issued_at: Any = None,
    processing_unit: str = "",
) -> Path:
    """Mẫu 05 — Phiếu kiểm soát quá trình giải quyết hồ sơ (A5, one copy, travels with the papers).

    One row per hand-over: ``{"from": unit, "to": unit, "at": ISO time,
    "giver": name, "receiver": name, "timeliness": "early"|"on_time"|"late"|"", "note": text}``.
    Rows not yet done are left blank for the next units to fill by hand.
    """
    ensure_fonts()
    code = _s(dossier, "code")
    flow = _Flow(_simple_header(ctx, code, _issued_at(dossier, issued_at)))
    _title(flow, CONTROL_TITLE)
    flow.para(
        [("(Kèm theo hồ sơ của: ", SERIF), (_s(dossier, "applicant_name") or _DOTS, BOLD), (")", SERIF)],
        align="center",
    )
    flow.field("Nội dung yêu cầu giải quyết:", _procedure_text(dossier), indent=12)
    flow.field("Ngày hẹn trả kết quả:", _fmt_time_day(dossier.get("due_at")), bold=True, indent=12)
    flow.field("Cơ quan (bộ phận) giải quyết hồ sơ:", nfc(processing_unit) or _DOTS, indent=12)
    flow.gap(3)
    rows = []
    for i, h in enumerate(handovers, start=1):
        dt = _parse_dt(h.get("at"))
        when = f"{dt:%H} giờ {dt:%M} phút, ngày {dt:%d/%m/%Y}" if dt else f"{_DOTS} giờ {_DOTS}, ngày {_DOTS}"
        who = "; ".join(x for x in (
            f"Người giao: {nfc(h['giver'])}" if h.get("giver") else "",
            f"Người nhận: {nfc(h['receiver'])}" if h.get("receiver") else "") if x)
        rows.append([
            f"{i}. Giao: {_s(h, 'from') or _DOTS}\nNhận: {_s(h, 'to') or _DOTS}",
            when + (f"\n{who}" if who else ""),
            TIMELINESS.get(str(h.get("timeliness") or ""), ""),
            _s(h, "note"),
        ])
    _grid(flow, ["TÊN CƠ QUAN", "THỜI GIAN GIAO, NHẬN HỒ SƠ",
                 "KẾT QUẢ GIẢI QUYẾT HỒ SƠ (Trước hạn/ đúng hạn/ quá hạn)", "GHI CHÚ"],
          rows, [0.30, 0.34, 0.18, 0.18])
    return _emit(path, _paginate([(flow, "")]), CONTROL_TITLE.capitalize(), ctx)


def _grid(flow: _Flow, headers: list[str], rows: list[list[str]], fractions: list[float]) -> None:
    """A plain bordered table (a cell's line breaks are kept); rows are kept whole on one page."""
    size, lead, pad = flow.d.table_size, flow.d.table_lead, flow.d.table_pad
    cols = [CONTENT_W * f for f in fractions]
    xs = [MARGIN_L]
    for w in cols:
        xs.append(xs[-1] + w)

    def cells(texts: list[str], font: str) -> list[list[list[Run]]]:
        out = []
        for i, t in enumerate(texts):
            lines: list[list[Run]] = []
            for part in (t or "").split("\n"):
                lines += wrap_runs([(part, font)], size, cols[i] - 2 * pad)
            out.append(lines)
        return out

    def draw(cs: list[list[list[Run]]], center: bool) -> None:
        height = max(len(c) for c in cs) * lead + 2 * pad
        flow.ensure(height)
        top = flow.y
        for i, lines in enumerate(cs):
            y = top + pad
            for line in lines:
                y += lead
                w = _line_width(line, size)
                lx = xs[i] + (cols[i] - w) / 2 if center else xs[i] + pad
                flow.text_at(lx, y - 2.5, line, size)
        flow.ops.append(("rowbox", xs, top, top + height))
        flow.y = top + height

    head = cells(headers, BOLD)
    draw(head, True)
    for r in rows:
        draw(cells(r, REGULAR), False)

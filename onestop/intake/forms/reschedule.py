"""Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả: the agency's apology and new date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestop.common.text import nfc
from onestop.intake.forms import FormContext
from onestop.intake.forms.blocks import _signatures, _simple_header, _title
from onestop.intake.forms.fonts import BOLD, REGULAR, ensure_fonts
from onestop.intake.forms.layout import _Flow
from onestop.intake.forms.pdf import _emit, _paginate
from onestop.intake.forms.values import (
    _DOTS,
    _agency_label,
    _fmt_time_day,
    _issued_at,
    _parse_dt,
    _procedure_text,
    _s,
)

RESCHEDULE_TITLE = "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"


def render_reschedule(
    dossier: dict,
    new_due_at: str,
    reason: str,
    ctx: FormContext,
    path: Path,
    *,
    previous_due_at: Any = None,
    issued_at: Any = None,
    officer: str = "",
) -> Path:
    """Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả (A5, one copy), dated ``issued_at``.

    The appointment being moved is ``previous_due_at`` (the dossier's ``due_at`` before the
    change; pass it: after the change the dossier row holds the new date). The form is signed
    for the agency by its head (``ctx.head_title``); ``officer`` is not printed.
    """
    ensure_fonts()
    code = _s(dossier, "code")
    agency = _agency_label(dossier, ctx)
    received = _parse_dt(dossier.get("received_at"))
    old_due = previous_due_at or dossier.get("original_due_at") or dossier.get("due_at")
    name = _s(dossier, "applicant_name") or _DOTS
    flow = _Flow(_simple_header(ctx, code, _issued_at(dossier, issued_at)))
    _title(flow, RESCHEDULE_TITLE)
    flow.field("Kính gửi:", name, bold=True, indent=12)
    flow.gap(2)
    when = f"Ngày {received:%d/%m/%Y}" if received else f"Ngày {_DOTS}"
    flow.para(f"{when}, {agency} tiếp nhận giải quyết hồ sơ của ông/bà {name}.")
    flow.field("Mã hồ sơ:", code, bold=True, indent=12)
    flow.field("Số định danh cá nhân/Mã số doanh nghiệp:", _s(dossier, "id_number"), indent=12)
    flow.field("Địa chỉ:", _s(dossier, "address"), indent=12)
    flow.field("Nội dung yêu cầu giải quyết:", _procedure_text(dossier), bold=True, indent=12)
    flow.field("Ngày hẹn trả kết quả:", _fmt_time_day(old_due), indent=12)
    flow.para(f"Tuy nhiên đến nay, {agency} chưa trả kết quả giải quyết hồ sơ của ông/bà.")
    flow.field("Lý do:", nfc(reason), bold=True, indent=12)
    flow.gap(2)
    flow.para(
        [
            (
                f"Sự chậm trễ này đã gây phiền hà cho ông/bà. Nay, {agency} xin lỗi ông/bà "
                "và hẹn lại ngày trả kết quả vào ",
                REGULAR,
            ),
            (_fmt_time_day(new_due_at), BOLD),
            (".", REGULAR),
        ]
    )
    flow.field("Ngày hẹn trả kết quả mới:", _fmt_time_day(new_due_at), bold=True, indent=12)
    flow.para("Xin trân trọng cảm ơn!")
    head = nfc(ctx.head_title or "THỦ TRƯỞNG CƠ QUAN").upper()
    _signatures(flow, [(f"TM. {nfc(ctx.agency_name).upper()}\n{head}" if ctx.agency_name else head,
                        "(Ký, ghi rõ họ tên và đóng dấu)", nfc(ctx.head_name))])
    return _emit(path, _paginate([(flow, "")]), RESCHEDULE_TITLE.capitalize(), ctx)

"""Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: what the citizen must bring or correct."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestop.common.text import nfc
from onestop.intake.forms import FormContext
from onestop.intake.forms.blocks import SIGN_HINT, _opening, _signatures
from onestop.intake.forms.fonts import BOLD
from onestop.intake.forms.layout import CONTENT_W, MARGIN_L
from onestop.intake.forms.pdf import _emit, _paginate
from onestop.intake.forms.values import _DOTS, _s

REQUEST_TITLE = "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"


def render_request_papers(
    dossier: dict,
    missing: list[dict],
    ctx: FormContext,
    path: Path,
    *,
    note: str = "",
    officer: str = "",
    issued_at: Any = None,
) -> Path:
    """Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (A5, one copy), dated ``issued_at``."""
    flow = _opening(dossier, ctx, REQUEST_TITLE, "Hồ sơ của:", issued_at)
    flow.para([("Yêu cầu bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:", BOLD)], space_after=1)
    for i, item in enumerate(missing or [], start=1):
        flow.para(f"{i}. {_s(item, 'name') or _DOTS}", indent=12, x=MARGIN_L + 6, width=CONTENT_W - 6)
        reason = _s(item, "reason")
        if reason:
            flow.field("Lý do:", reason, x=MARGIN_L + 18, width=CONTENT_W - 18, indent=0)
    if note:
        flow.gap(2)
        flow.field("Ghi chú:", nfc(note), indent=12)
    flow.gap(3)
    contact = nfc(officer) or _s(dossier, "officer")
    flow.para(
        "Trong quá trình hoàn thiện hồ sơ nếu có vướng mắc, ông/bà liên hệ với "
        + (f"cán bộ {contact}" if contact else _DOTS)
        + ", Bộ phận tiếp nhận và trả kết quả để được hướng dẫn."
    )
    _signatures(flow, [("NGƯỜI HƯỚNG DẪN", SIGN_HINT, contact)])
    return _emit(path, _paginate([(flow, "")]), REQUEST_TITLE.capitalize(), ctx)

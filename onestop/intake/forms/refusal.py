"""Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ: why the counter does not take the dossier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestop.common.text import nfc
from onestop.intake.forms import FormContext
from onestop.intake.forms.blocks import SIGN_HINT, _opening, _signatures
from onestop.intake.forms.pdf import _emit, _paginate
from onestop.intake.forms.values import _s

REFUSAL_TITLE = "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"


def render_refusal(
    dossier: dict,
    reason: str,
    ctx: FormContext,
    path: Path,
    *,
    officer: str = "",
    issued_at: Any = None,
) -> Path:
    """Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ (A5, one copy), dated ``issued_at``."""
    flow = _opening(dossier, ctx, REFUSAL_TITLE, "Tiếp nhận hồ sơ của:", issued_at)
    flow.para(
        "Qua xem xét, Bộ phận tiếp nhận và trả kết quả thông báo không tiếp nhận, "
        "giải quyết hồ sơ này với lý do cụ thể như sau:"
    )
    flow.field("Lý do:", nfc(reason), bold=True, indent=12)
    flow.gap(3)
    flow.para("Xin trân trọng thông báo!")
    signer = nfc(officer) or _s(dossier, "officer")
    _signatures(flow, [("NGƯỜI TIẾP NHẬN HỒ SƠ", SIGN_HINT, signer)])
    return _emit(path, _paginate([(flow, "")]), REFUSAL_TITLE.capitalize(), ctx)

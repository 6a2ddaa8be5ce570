"""Printed forms of the counter (TT 01/2018/TT-VPCP Mẫu 01-05; DOMAIN.md §2), as A5 PDFs.

- Mẫu 01 ``render_receipt`` (receipt.py): Giấy tiếp nhận hồ sơ và hẹn trả kết quả, two copies,
  QR top-left.
- Mẫu 02 ``render_request_papers`` (request_papers.py): Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ
  (one copy).
- Mẫu 03 ``render_refusal`` (refusal.py): Phiếu từ chối tiếp nhận giải quyết hồ sơ (one copy).
- Mẫu 04 ``render_reschedule`` (reschedule.py): Phiếu xin lỗi và hẹn lại ngày trả kết quả (one copy,
  signed for the agency).
- Mẫu 05 ``render_control_slip`` (control_slip.py): Phiếu kiểm soát quá trình giải quyết hồ sơ (one row
  per hand-over).

The parts they share: ``FormContext`` (here: who issues the form), values.py (times, numbers, limits,
fees as printed), fonts.py (the DejaVu fonts, text measuring), qr.py (the receipt's QR), layout.py (A5
geometry, word wrap, ``_Flow``), blocks.py (header and motto, title, applicant lines, signatures),
pdf.py (``warm_up``, playing a layout onto the canvas, writing the file). Names with a leading
underscore are shared inside this package only.

Notices are dated by the time of the action they record (``issued_at``, passed in), never the wall clock.

The receipt is printed while the citizen waits, so nothing heavy is imported at import time:
reportlab and the QR encoder are loaded on the first render, fonts are parsed once per process,
and the layout is a small hand-written flow over the reportlab canvas (platypus would cost more
to import than the whole render). Layout is done in two steps: text is measured and placed into
per-page lists of drawing operations (so a copy knows its page count before anything is drawn),
then the operations are played onto the canvas.

This package imports only common (and reportlab, segno on first use). Its public names below are
loaded on first use: ``receive`` needs only ``FormContext`` in its own process (the receipt is
rendered by the forked helper in prerender.py), so importing this package loads no other module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FormContext",
    "render_receipt",
    "render_request_papers",
    "render_refusal",
    "render_reschedule",
    "render_control_slip",
    "receipt_qr_payload",
    "RECEIPT_TITLE",
]


@dataclass(frozen=True)
class FormContext:
    """Who issues the form: printed in the header and encoded in the receipt QR."""

    agency_name: str  # e.g. "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH X"
    parent_name: str = ""  # governing body line above it, e.g. "UBND TỈNH X" (optional)
    unit_name: str = "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"
    place: str = ""  # place name for "<place>, ngày … tháng … năm …"
    system_name: str = "onestop"  # issuing system name (goes in the QR)
    head_title: str = "THỦ TRƯỞNG CƠ QUAN"  # who signs Mẫu 04 for the agency, e.g. "GIÁM ĐỐC"
    head_name: str = ""  # the head's name under the signature (optional: signed by hand)
    lang: str = "vi"  # forms are always Vietnamese; kept for future use


# Name -> the module of this package that defines it. prerender.py calls the renderers by name
# (``getattr(forms, name)``); reports/book.py sets its tables in the forms' fonts.
_EXPORTS = {
    "render_receipt": "receipt",
    "receipt_qr_payload": "receipt",
    "RECEIPT_TITLE": "receipt",
    "render_request_papers": "request_papers",
    "render_refusal": "refusal",
    "render_reschedule": "reschedule",
    "render_control_slip": "control_slip",
    "warm_up": "pdf",
    "ensure_fonts": "fonts",
    "font_path": "fonts",
    "REGULAR": "fonts",
    "BOLD": "fonts",
    "SERIF": "fonts",
    "wrap_runs": "layout",
    "_line_width": "layout",  # the tests check wrapped lines against the width with it
}


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

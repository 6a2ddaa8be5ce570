"""The PDF engine: loading it ahead of the first render (``warm_up``), playing a layout onto
the reportlab canvas, page footers, and writing the file atomically (0600)."""

from __future__ import annotations

import io
from pathlib import Path

from onestop.common.text import nfc
from onestop.intake.forms import FormContext
from onestop.intake.forms.fonts import SERIF, ensure_fonts
from onestop.intake.forms.layout import MARGIN_B, PAGE_H, PAGE_W, _Flow
from onestop.intake.forms.qr import _draw_qr, _qr_matrix


def warm_up() -> None:
    """Load the PDF engine, the fonts and the QR encoder (see onestop/intake/prerender.py)."""
    import reportlab.pdfgen.canvas  # noqa: F401

    ensure_fonts()
    _qr_matrix("warm-up")


def _emit(path: Path, pages: list[tuple[list[tuple], dict]], title: str, ctx: FormContext) -> Path:
    """Play the layout onto a canvas and write the PDF atomically (0600)."""
    from reportlab import rl_config

    buf = io.BytesIO()
    # Binary (not ASCII85) streams: ASCII85 runs in pure Python without reportlab's C
    # accelerator and costs ~8 ms per receipt for nothing a printer needs.
    saved_a85, rl_config.useA85 = rl_config.useA85, 0
    try:
        _play(buf, pages, title, ctx)
    finally:
        rl_config.useA85 = saved_a85
    _write_atomic(Path(path), buf.getvalue())
    return Path(path)


def _play(buf: io.BytesIO, pages: list[tuple[list[tuple], dict]], title: str, ctx: FormContext) -> None:
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(nfc(ctx.agency_name))
    c.setCreator(nfc(ctx.system_name))
    for ops, extra in pages:
        current_font = None
        for op in ops:
            kind = op[0]
            if kind == "text":
                _, x, y, font, size, text = op
                if (font, size) != current_font:
                    c.setFont(font, size)
                    current_font = (font, size)
                c.drawString(x, PAGE_H - y, text)
            elif kind == "line":
                _, x1, y1, x2, y2, lw = op
                c.setLineWidth(lw)
                c.line(x1, PAGE_H - y1, x2, PAGE_H - y2)
            elif kind == "rowbox":
                _, xs, top, bottom = op
                c.setLineWidth(0.5)
                c.rect(xs[0], PAGE_H - bottom, xs[-1] - xs[0], bottom - top, stroke=1, fill=0)
                for x in xs[1:-1]:
                    c.line(x, PAGE_H - top, x, PAGE_H - bottom)
            elif kind == "qr":
                _, x, y, module, matrix = op
                _draw_qr(c, x, PAGE_H - y, module, matrix)
        if extra.get("footer"):
            c.setFont(SERIF, 7)
            c.drawCentredString(PAGE_W / 2, MARGIN_B / 2, extra["footer"])
        c.showPage()
    c.save()


def _write_atomic(path: Path, data: bytes) -> None:
    from onestop.common.files import write_atomic

    write_atomic(path, data)


def _paginate(flows: list[tuple[_Flow, str]]) -> list[tuple[list[tuple], dict]]:
    """Attach ``Trang k/n`` footers to copies that run over one page."""
    out = []
    for flow, label in flows:
        n = len(flow.pages)
        for k, ops in enumerate(flow.pages, start=1):
            footer = ""
            if n > 1:
                footer = f"Trang {k}/{n}" + (f" - {label}" if label else "")
            out.append((ops, {"footer": footer}))
    return out

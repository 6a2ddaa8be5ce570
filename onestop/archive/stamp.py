"""The visible signature stamp: where on page 1 it goes and what it says (issue 22).

The 2025 national digitization guideline puts the digitizing agency's visible signature at the top
right of page 1, showing the agency (or person) and the date-time in Vietnam's time zone. The stamp
must not cover the page's text: ``place`` starts at the top right corner and moves the box down
until none of page 1's words (onestop's own OCR text layer, ``word_boxes``) is under it. The text
is Vietnamese with its diacritics, in DejaVu Sans (shipped in onestop/data), embedded as a subset,
so the file stays PDF/A-2b.
"""

from __future__ import annotations

import re
from pathlib import Path

WIDTH, HEIGHT = 200.0, 40.0     # points: three lines of 7 pt text with a border (fits a 20 mm top margin)
MARGIN = 6.0                    # from the page's top and right edges
STEP = 6.0
# DejaVu Sans at 1000 units per em (tools/make_stamp_font.py says why)
FONT = Path(__file__).resolve().parents[1] / "data" / "DejaVuSans-upm1000.ttf"
TEXT = "Ký số: %(agency)s\nNgười ký: %(signer)s\nThời gian: %(at)s"


def word_boxes(content: bytes) -> list[tuple[float, float, float, float]]:
    """(x1, y1, x2, y2) in points of every word of onestop's invisible text layer (ocr.text_layer:
    ``/f-0-0 SIZE Tf`` then ``1 0 0 1 X Y Tm TZ Tz <UTF-16> Tj`` per word, glyphs half an em wide)."""
    out = []
    size = 0.0
    for m in re.finditer(rb"/f-0-0 ([\d.]+) Tf|1 0 0 1 ([\d.-]+) ([\d.-]+) Tm ([\d.]+) Tz <([0-9A-F]*)> Tj", content):
        if m.group(1):
            size = float(m.group(1))
            continue
        x, y, tz = float(m.group(2)), float(m.group(3)), float(m.group(4))
        n = max(0, len(m.group(5)) // 4 - 1)  # the trailing space is not part of the word
        out.append((x, y - 0.2 * size, x + n * 0.5 * size * tz / 100.0, y + 0.8 * size))
    return out


def _page_content(page) -> bytes:
    contents = page.get("/Contents")
    if contents is None:
        return b""
    contents = contents.get_object()
    parts = contents if isinstance(contents, list) else [contents]
    return b"\n".join(p.get_object().data for p in parts)


def place(page, text_boxes: list[tuple] | None = None) -> tuple[int, int, int, int]:
    """The stamp's box (x1, y1, x2, y2) on ``page`` (a pyHanko page dictionary): top right, moved
    down in small steps while it would cover a word, within the page's top third; when no place
    there is free the top right corner is used (a page written to its very edge)."""
    x0, y0, x1, y1 = (float(v) for v in page["/MediaBox"])
    if text_boxes is None:
        try:
            text_boxes = word_boxes(_page_content(page))
        except Exception:  # noqa: BLE001 - a page whose content cannot be read: no words known
            text_boxes = []
    right = x1 - MARGIN
    left = max(x0, right - WIDTH)
    top = y1 - MARGIN
    lowest = y1 - (y1 - y0) / 3
    while top - HEIGHT >= lowest:
        if not any(_overlap((left, top - HEIGHT, right, top), b) for b in text_boxes):
            return round(left), round(top - HEIGHT), round(right), round(top)
        top -= STEP
    top = y1 - MARGIN
    return round(left), round(top - HEIGHT), round(right), round(top)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def style():
    """pyHanko's text stamp: DejaVu Sans 7 pt, a thin border, no background (no transparency)."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(stamp_text=TEXT, border_width=1,
                          text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(FONT), font_size=7)))


def text_params(signer, at) -> dict:
    """The stamp's fields: the agency (or the certificate's holder without one), signer, time +07:00."""
    return {"agency": _fit(signer.agency or signer.name), "signer": _fit(signer.name),
            "at": at.strftime("%d/%m/%Y %H:%M:%S +07:00")}


def _fit(s: str, n: int = 44) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"

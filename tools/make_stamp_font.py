"""Make onestop/data/DejaVuSans-upm1000.ttf, the signature stamp's font (archive/stamp.py).

pyHanko writes a CID font's /W widths and TJ adjustments in the font's own units, which the PDF
reads as thousandths of an em: with DejaVu's 2048 units per em the stamp's letters come out twice as
far apart and the widths disagree with the embedded glyphs (PDF/A-2b 6.2.11.5). The same DejaVu Sans,
rescaled to 1000 units per em, makes both right. Its accented letters are also decomposed into simple
outlines: a composite glyph pulls its parts (a combining accent) into the subset without a /W entry,
a width the PDF would then get wrong. Run once when the shipped DejaVuSans.ttf changes:

    .venv/bin/python tools/make_stamp_font.py
"""

from pathlib import Path

from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem

DATA = Path(__file__).resolve().parents[1] / "onestop" / "data"

font = TTFont(DATA / "DejaVuSans.ttf")
scale_upem(font, 1000)
glyf, glyphs = font["glyf"], font.getGlyphSet()
for name in font.getGlyphOrder():
    if glyf[name].isComposite():
        rec = DecomposingRecordingPen(glyphs)
        glyphs[name].draw(rec)
        pen = TTGlyphPen(None)
        rec.replay(pen)
        glyf[name] = pen.glyph()
font.save(DATA / "DejaVuSans-upm1000.ttf")

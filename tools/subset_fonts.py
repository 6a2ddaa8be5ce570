"""Make the small Vietnamese subsets of DejaVu fonts shipped in onestop/data/.

Why: reportlab parses the whole TrueType file at the first render of every process, and the
full DejaVu fonts (6,000 glyphs) cost ~30 ms each while a citizen waits at the counter. The
subsets keep Latin, Vietnamese (Latin Extended Additional, combining marks) and punctuation.
DejaVu's licence allows modified copies as long as they are not named "Bitstream" or "Vera".

Run once after changing the glyph ranges:  .venv/bin/python tools/subset_fonts.py
(needs fontTools: pip install fonttools; not a runtime dependency).
"""

from pathlib import Path

from fontTools import subset

SRC = Path("/usr/share/fonts/truetype/dejavu")
DST = Path(__file__).resolve().parent.parent / "onestop" / "data"
RANGES = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x1E00, 0x1EFF), (0x2000, 0x206F),
    (0x20AB, 0x20AB), (0x2116, 0x2116), (0x2190, 0x2193), (0x2713, 0x2717), (0x25A0, 0x25CF),
]

for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"):
    opts = subset.Options()
    opts.layout_features = []  # reportlab does no shaping; kerning tables only cost parse time
    opts.hinting = False
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = False
    font = subset.load_font(str(SRC / name), opts)
    s = subset.Subsetter(opts)
    s.populate(unicodes=[u for a, b in RANGES for u in range(a, b + 1)])
    s.subset(font)
    DST.mkdir(exist_ok=True)
    subset.save_font(font, str(DST / name), opts)
    print(name, (DST / name).stat().st_size)

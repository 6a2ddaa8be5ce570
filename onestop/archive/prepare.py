"""The OCR input of a page: measured, and prepared only as far as the page needs.

Photocopies and office scans defeat tesseract's global (Otsu) threshold: ink around gray 100 on
paper around gray 200, light falling off across the page, worn strokes, toner specks, a red stamp
across the text. Each page is measured on a reduced copy (contrast, background unevenness, colour
marks) and, when it needs it, prepared:

- colour marks: the brightest channel is read (red stamps, blue signatures turn to paper; black ink stays);
- background: the paper's light estimated on a coarse grid (a rank filter wider than a stroke) and
  subtracted, so the threshold is the same across the page;
- contrast: the ink depth stretched so that worn strokes and tone marks come back dark;
- specks: dark dots smaller than a 3×3 majority at ≥ 250 dpi (toner is 1-2 px there) are removed
  only when the page has many of them. A dấu nặng is 4-6 px across at 300 dpi and survives.

A clean page gets nothing (``prepare`` returns None): a blanket filter costs clean pages accuracy.
Pillow only: every step is one C pass over the page (numpy would add a dependency for no speed).
Only the OCR copy is prepared; the archive keeps the scanner's image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Thresholds, in gray levels of the 0-255 page (calibrated on tests/degraded.py and the P3 pages).
UNEVEN = 14        # paper light varying more than this across the page: normalise the background
LOW_CONTRAST = 150  # paper minus ink below this: stretch
SPECKS = 0.02      # share of ink pixels in isolated dots above this: remove specks
WHITE = 0.1        # darkness (share of the ink depth) up to which a pixel is paper
STRETCH_KNEE = 0.3  # darkness (share of the ink depth) from which a pixel is full black


@dataclass
class Measure:
    paper: int = 255
    ink: int = 0
    uneven: int = 0
    colour_marks: bool = False
    specks: float = 0.0
    steps: list[str] = field(default_factory=list)
    _cache: tuple | None = field(default=None, repr=False)  # (gray, background, factor) of a full-size measure

    def public(self) -> dict:
        return {"paper": self.paper, "ink": self.ink, "uneven": self.uneven, "colour_marks": self.colour_marks,
                "specks": round(self.specks, 3), "steps": self.steps}


def _percentile(hist: list[int], q: float) -> int:
    total = sum(hist)
    acc, target = 0, q * total
    for i, c in enumerate(hist):
        acc += c
        if acc >= target:
            return i
    return 255


def _colour_marks(im) -> bool:
    """Saturated, not dark pixels on more than 0.1% of the page (a stamp, a signature in ink)."""
    from PIL import ImageChops

    small = im.reduce(8) if min(im.size) > 800 else im
    hsv = small.convert("HSV")
    s, v = hsv.getchannel("S"), hsv.getchannel("V")
    mask = ImageChops.multiply(s.point(lambda x: 255 if x > 90 else 0), v.point(lambda x: 255 if x > 90 else 0))
    return mask.histogram()[255] > 0.001 * small.width * small.height


def _gray(im, colour_marks: bool):
    from PIL import ImageChops

    if im.mode == "RGB" and colour_marks:
        r, g, b = im.split()
        return ImageChops.lighter(r, ImageChops.lighter(g, b))
    return im.convert("L") if im.mode != "L" else im


def _background(gray, dpi: int):
    """The paper's light: a max filter over a grid of ~1.4 mm cells (wider than any stroke), smoothed."""
    from PIL import ImageFilter

    f = max(1, round(dpi / 18))
    small = gray.reduce(f)
    return small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(1.5)), f


def measure(im, dpi: int, *, reduced: int = 1) -> Measure:
    """Contrast, background unevenness and colour marks of one page (on reduced copies: a few ms).

    ``reduced``: ``im`` is a preview that much smaller than the page (its ``dpi`` is the page's)."""
    dpi = max(1, dpi // reduced)
    colour = im.mode == "RGB" and _colour_marks(im)
    gray = _gray(im, colour)
    bg, f = _background(gray, dpi)
    h = bg.histogram()
    paper = _percentile(h, 0.5)
    uneven = _percentile(h, 0.95) - _percentile(h, 0.05)
    ink = _percentile((gray.reduce(2) if reduced == 1 else gray).histogram(), 0.004)
    m = Measure(paper=paper, ink=ink, uneven=uneven, colour_marks=colour)
    if reduced == 1:
        m._cache = (gray, bg, f)
    if colour:
        m.steps.append("colour")
    if uneven > UNEVEN:
        m.steps.append("background")
    if paper - ink < LOW_CONTRAST or "background" in m.steps or colour:
        m.steps.append("contrast")
    return m


def _stretch(gray, bg, f: int, m: Measure):
    """Paper to white, ink to black across the page: (background - pixel), scaled by the ink depth."""
    from PIL import Image, ImageChops

    if "background" in m.steps:
        full = bg.resize(gray.size, Image.BILINEAR)
        dark = ImageChops.subtract(full, gray)  # 0 on paper, ink depth on ink, whatever the light
    else:
        dark = gray.point(lambda v: max(0, m.paper - v))
    depth = max(24, m.paper - m.ink)  # measured already (a histogram of the full page costs ~15 ms)
    white = max(6, round(WHITE * depth))           # paper grain and JPEG ringing stay white
    black = max(white + 8, round((1 - STRETCH_KNEE) * depth))
    return dark.point(lambda d: 255 if d <= white else 0 if d >= black else round(255 * (black - d) / (black - white)))


def speck_share(page) -> float:
    """Share of the ink that sits in dots too small for a 3×3 majority (measured on the middle band)."""
    from PIL import ImageFilter

    w, h = page.size
    band = page.crop((0, h * 2 // 5, w, h * 3 // 5))
    ink = band.point(lambda v: 255 if v < 128 else 0)
    n = ink.histogram()[255]
    if not n:
        return 0.0
    kept = ink.filter(ImageFilter.BoxBlur(1)).point(lambda v: 255 if v > 141 else 0)
    from PIL import ImageChops

    lost = ImageChops.subtract(ink, kept).histogram()[255]
    return lost / n


def despeck(page, dpi: int):
    """Remove dark dots that a 3×3 window does not keep (toner specks; strokes and tone marks stay).

    At ≥ 250 dpi the specks are 1-2 px and a majority of the 3×3 box (one cheap box blur) removes
    them; at 200 dpi a stroke is 2-3 px and JPEG blurs the specks into gray blots: a true 3×3 median
    (slower, but on a page of half the pixels) keeps the strokes and removes the blots."""
    from PIL import ImageChops, ImageFilter

    if dpi < 250:
        return page.filter(ImageFilter.MedianFilter(3))

    light = page.filter(ImageFilter.Kernel((3, 3), [1] * 9, 9)).point(lambda v: 255 if v > 141 else 0)
    return ImageChops.lighter(page, light)


def prepare(im, dpi: int, m: Measure | None = None) -> tuple[object | None, Measure]:
    """The OCR copy of ``im`` (mode L), or None when the page is clean enough as it is.

    ``m`` is the page's measure when it was taken already (on a reduced preview)."""
    m = m or measure(im, dpi)
    if not m.steps:
        return None, m
    m.steps = [s for s in m.steps if s != "specks"]
    gray, bg, f = m._cache or (lambda g: (g, *_background(g, dpi)))(_gray(im, m.colour_marks))
    m._cache = None
    page = _stretch(gray, bg, f, m)
    m.specks = speck_share(page)
    if m.specks > SPECKS:
        m.steps.append("specks")
        page = despeck(page, dpi)
    return page, m

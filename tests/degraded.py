"""Degraded test pages with ground truth: the copies a counter really receives.

Every page is an administrative document (agency, số ký hiệu, place and date, title, body lines from
``pages.py``) rendered clean and then degraded as one of:

- ``photocopy``: ink around gray 100 on paper around gray 200, light falling off across the page,
  half-eroded strokes and toner specks (many next to the letters, where diacritics sit);
- ``carbon``: a faint, blurred, bluish carbon-like copy;
- ``stamp``: a red round stamp and a blue signature across the text (a colour scan);
- ``office-jpeg``: a 200-dpi office-scanner JPEG of a worn photocopy (quality 50).

``page(variant, seed)`` returns ``DegradedPage`` (image, expected text, expected number/date/issuer).
``python tests/degraded.py FOLDER`` writes a few of each for a look.
"""

from __future__ import annotations

import io
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import FONT, FONT_BOLD, LINES, MM, SAMPLES, render  # noqa: E402

VARIANTS = ("photocopy", "carbon", "stamp", "office-jpeg")
BODY = LINES[2:] + [l for ls in SAMPLES.values() for l in ls]

# (agency line, issuer abbreviation, place): the issuers of the documents citizens bring
ISSUERS = [
    ("BỘ KHOA HỌC VÀ CÔNG NGHỆ", "BKHCN", "Hà Nội"),
    ("BỘ THÔNG TIN VÀ TRUYỀN THÔNG", "BTTTT", "Hà Nội"),
    ("CHÍNH PHỦ", "CP", "Hà Nội"),
    ("BỘ TÀI CHÍNH", "BTC", "Hà Nội"),
    ("BỘ NỘI VỤ", "BNV", "Hà Nội"),
    ("ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN", "UBND", "Hưng Yên"),
]
TITLES = {"QĐ": "QUYẾT ĐỊNH", "NĐ": "NGHỊ ĐỊNH", "TT": "THÔNG TƯ", "KH": "KẾ HOẠCH", "TB": "THÔNG BÁO",
          "GP": "GIẤY PHÉP", "": "CÔNG VĂN"}


@dataclass
class DegradedPage:
    image: Image.Image
    text: str            # the ground truth, line by line
    number: str          # số ký hiệu as printed, e.g. 1205/QĐ-BKHCN
    date: str            # ISO date of the document
    issuer: str          # the issuer's abbreviation


def document(seed: int, body: int = 24) -> tuple[list[str], str, str, str]:
    """The lines of one administrative document and its number, ISO date and issuer."""
    rnd = random.Random(seed)
    agency, issuer, place = ISSUERS[seed % len(ISSUERS)]
    year = rnd.choice((2019, 2021, 2023, 2024)) if issuer == "BTTTT" else rnd.choice((2021, 2023, 2025, 2026))
    day, month = rnd.randint(1, 28), rnd.randint(1, 12)
    n = rnd.choice((rnd.randint(1, 99), rnd.randint(100, 3999)))
    if issuer == "CP":
        kind = "NĐ"
        number = f"{n}/{year}/NĐ-CP"
    elif seed % 3 == 0:
        kind = ""  # công văn: issuer and drafting unit, no type abbreviation
        number = f"{n}/{issuer}-{rnd.choice(('KSTT', 'VP', 'PC', 'KHTC', 'TCCB'))}"
    else:
        kind = rnd.choice(("QĐ", "QĐ", "TT", "KH", "TB", "GP"))
        number = f"{n}/{year}/TT-{issuer}" if kind == "TT" else f"{n}/{kind}-{issuer}"
    lines = [agency, f"Số: {number}", f"{place}, ngày {day:02d} tháng {month:02d} năm {year}", TITLES[kind]]
    lines += [rnd.choice(BODY) for _ in range(body)]  # 24: a full A4 page of 12-pt text
    return lines, number, f"{year}-{month:02d}-{day:02d}", issuer


def _field(size: tuple[int, int], rnd: random.Random, cells: int = 6) -> Image.Image:
    """A smooth random field 0-255 (blurred coarse noise): where strokes wear and light falls."""
    small = Image.new("L", (cells, max(2, round(cells * size[1] / size[0]))))
    small.putdata([rnd.randint(0, 255) for _ in range(small.width * small.height)])
    return small.resize(size, Image.BICUBIC)


def _tone(im: Image.Image, ink: int, paper: int) -> Image.Image:
    return im.point(lambda v: round(ink + (paper - ink) * v / 255))


def _light(size: tuple[int, int], rnd: random.Random, low: float) -> Image.Image:
    """Illumination falling from 1.0 to ``low`` across the page (a lid not closed, a curved binding)."""
    w, h = size
    ang = rnd.uniform(0, 2 * math.pi)
    cx, cy = math.cos(ang), math.sin(ang)
    small = Image.new("L", (64, 64))
    vals = []
    for y in range(64):
        for x in range(64):
            t = min(1.0, max(0.0, 0.5 + 0.7 * ((x / 63 - .5) * cx + (y / 63 - .5) * cy)))
            vals.append(round(255 * (1 - (1 - low) * t)))
    small.putdata(vals)
    return small.resize(size, Image.BICUBIC)


def _erode(g: Image.Image, rnd: random.Random, share: float) -> Image.Image:
    """Thin the strokes (lighten their edges) over about ``share`` of the page, in patches."""
    thin = Image.blend(g, g.filter(ImageFilter.MaxFilter(3)), 0.6)  # worn, not gone: the toner is thinner
    mask = _field(g.size, rnd, 12).point(lambda v: 255 if v > 255 * (1 - share) else 0)
    return Image.composite(thin, g, mask.filter(ImageFilter.GaussianBlur(4)))


def _specks(im: Image.Image, rnd: random.Random, dpi: int, count: int, grey: int) -> None:
    """Toner specks, 1-2 px at 300 dpi; a third land right next to text (above or below a letter)."""
    d = ImageDraw.Draw(im)
    w, h = im.size
    s = dpi / 300
    ink_rows = [y for y in range(0, h, 4) if im.crop((0, y, w, y + 1)).getextrema()[0] < 140]
    for i in range(count):
        r = rnd.choice((0.5, 0.7, 0.9, 1.1)) * s
        if i % 3 == 0 and ink_rows:
            y = rnd.choice(ink_rows) + rnd.choice((-1, 1)) * rnd.uniform(8, 16) * s
            x = rnd.uniform(0.08, 0.7) * w
        else:
            x, y = rnd.uniform(0, w), rnd.uniform(0, h)
        d.ellipse((x - r, y - r, x + r, y + r), fill=grey)


def _scanned(im: Image.Image, dpi: int) -> Image.Image:
    im.info["dpi"] = (dpi, dpi)
    return im


def photocopy(g: Image.Image, rnd: random.Random, dpi: int) -> Image.Image:
    g = _erode(g.filter(ImageFilter.GaussianBlur(0.5 * dpi / 300)), rnd, 0.5)
    g = _tone(g, rnd.randint(90, 110), rnd.randint(195, 210))
    _specks(g, rnd, dpi, 700, 90)
    g = ImageChops.multiply(g, _light(g.size, rnd, 0.72))
    g = Image.blend(g, Image.effect_noise(g.size, 40), 0.06)
    return _scanned(g, dpi)


def carbon(g: Image.Image, rnd: random.Random, dpi: int) -> Image.Image:
    g = _erode(g.filter(ImageFilter.GaussianBlur(0.9 * dpi / 300)), rnd, 0.3)
    ink = (rnd.randint(120, 140), rnd.randint(120, 140), rnd.randint(175, 195))
    paper = (236, 234, 226)
    rgb = Image.merge("RGB", [_tone(g, i, p) for i, p in zip(ink, paper)])
    light = _light(g.size, rnd, 0.85)
    rgb = Image.merge("RGB", [ImageChops.multiply(c, light) for c in rgb.split()])
    return _scanned(rgb, dpi)


def stamp(g: Image.Image, rnd: random.Random, dpi: int) -> Image.Image:
    rgb = Image.merge("RGB", [_tone(g, 25, 248)] * 3)
    marks = Image.new("RGB", rgb.size, "white")  # stamp ink over toner: multiplied, the text shows through
    d = ImageDraw.Draw(marks)
    w, h = rgb.size
    red = (205, 35, 45)
    r = round(20 * MM * dpi)
    cx, cy = round(w * rnd.uniform(0.3, 0.4)), round(h * rnd.uniform(0.12, 0.2))  # over the number and title
    lw = max(2, dpi // 60)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=lw)
    d.ellipse((cx - r + 4 * lw, cy - r + 4 * lw, cx + r - 4 * lw, cy + r - 4 * lw), outline=red, width=lw)
    f = ImageFont.truetype(FONT_BOLD, round(9 * dpi / 72))
    for i, ch in enumerate("BỘ KHOA HỌC VÀ CÔNG NGHỆ * "):
        a = math.pi * (1.1 + 1.6 * i / 26)
        d.text((cx + 0.78 * r * math.cos(a), cy + 0.78 * r * math.sin(a)), ch, font=f, fill=red, anchor="mm")
    star = [(cx + (0.3 if k % 2 == 0 else 0.12) * r * math.cos(math.pi * k / 5 - math.pi / 2),
             cy + (0.3 if k % 2 == 0 else 0.12) * r * math.sin(math.pi * k / 5 - math.pi / 2)) for k in range(10)]
    d.polygon(star, fill=red)
    # a signature in blue ballpoint across a body line
    sy = round(h * rnd.uniform(0.35, 0.5))
    pts = [(round(w * 0.25 + t * w * 0.004), round(sy + 30 * dpi / 300 * math.sin(t / 7) + 12 * math.sin(t / 2.3)))
           for t in range(0, 120)]
    d.line(pts, fill=(30, 50, 170), width=max(2, dpi // 100))
    rgb = ImageChops.multiply(rgb, marks).filter(ImageFilter.GaussianBlur(0.5 * dpi / 300))
    return _scanned(rgb, dpi)


def office_jpeg(g: Image.Image, rnd: random.Random, dpi: int) -> Image.Image:
    g = _erode(g.filter(ImageFilter.GaussianBlur(0.6)), rnd, 0.3)
    g = _tone(g, rnd.randint(80, 100), rnd.randint(200, 215))
    _specks(g, rnd, dpi, 500, 90)
    g = ImageChops.multiply(g, _light(g.size, rnd, 0.8))
    b = io.BytesIO()
    g.save(b, "JPEG", quality=50, dpi=(dpi, dpi))
    out = Image.open(io.BytesIO(b.getvalue()))
    out.load()
    return _scanned(out, dpi)


_MAKERS = {"photocopy": photocopy, "carbon": carbon, "stamp": stamp, "office-jpeg": office_jpeg}


def page(variant: str, seed: int, *, size_mm=(210, 297), pt: float = 12, body: int = 24) -> DegradedPage:
    """One degraded document page with its ground truth (``body`` lines under the heading must fit the page)."""
    dpi = 200 if variant == "office-jpeg" else 300
    lines, number, date, issuer = document(seed, body)
    clean = render(lines, dpi=dpi, size_mm=size_mm, pt=pt, margin_mm=18).convert("L")
    im = _MAKERS[variant](clean, random.Random(seed * 7 + len(variant)), dpi)
    return DegradedPage(im, "\n".join(lines), number, date, issuer)


def save(p: DegradedPage, path: Path) -> Path:
    """PNG, or JPEG for the office scanner variant (its bytes as the scanner wrote them)."""
    dpi = p.image.info.get("dpi") or (300, 300)
    if p.image.format == "JPEG" or path.suffix.lower() in (".jpg", ".jpeg"):
        path = path.with_suffix(".jpg")
        p.image.save(path, "JPEG", quality=50, dpi=dpi)
    else:
        p.image.save(path.with_suffix(".png"), dpi=dpi)
        path = path.with_suffix(".png")
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "degraded")
    out.mkdir(parents=True, exist_ok=True)
    for v in VARIANTS:
        for s in range(2):
            print(save(page(v, s), out / f"{v}-{s}"))

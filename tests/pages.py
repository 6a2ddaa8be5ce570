"""Vietnamese test pages rendered with Pillow and DejaVu, and the sample scans in ``scans/``.

``python tests/pages.py`` regenerates ``scans/`` (small A4 pages, < 300 KB each).
The tests import ``render`` and the variants to feed the real tesseract.
"""

from __future__ import annotations

import io
import random
import sys
import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
FONT_SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
MM = 1 / 25.4

LINES = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "ĐƠN ĐỀ NGHỊ ĐĂNG KÝ HOẠT ĐỘNG",
    "Kính gửi: Sở Khoa học và Công nghệ tỉnh Hưng Yên",
    "Họ và tên người đề nghị: Nguyễn Văn An",
    "Số định danh cá nhân: 001085012345",
    "Địa chỉ: Số 12 phố Hàng Bạc, phường Hoàn Kiếm",
    "Đề nghị cấp giấy chứng nhận đăng ký hoạt động",
    "cho tổ chức khoa học và công nghệ trực thuộc.",
    "Tôi xin cam đoan những nội dung trên là đúng sự thật.",
]

SAMPLES = {
    # file name: (title lines, body lines) — the demo scans these into its dossiers
    "01-don-de-nghi-trang-1.jpg": LINES,
    "02-don-de-nghi-trang-2.jpg": [
        "Danh sách thành viên sáng lập",
        "1. Trần Thị Bích Ngọc - Giám đốc",
        "2. Lê Đức Thắng - Phó Giám đốc",
        "3. Phạm Thị Hoa - Kế toán trưởng",
        "Lĩnh vực hoạt động: nghiên cứu khoa học tự nhiên,",
        "phát triển công nghệ thông tin và chuyển giao công nghệ.",
        "Trụ sở: Khu công nghiệp Phố Nối A, Văn Lâm, Hưng Yên",
        "Hưng Yên, ngày 20 tháng 11 năm 2026",
        "Người đề nghị (ký, ghi rõ họ tên)",
    ],
    "03-dieu-le-to-chuc.png": [
        "ĐIỀU LỆ TỔ CHỨC VÀ HOẠT ĐỘNG",
        "Chương I. Những quy định chung",
        "Điều 1. Tên gọi: Viện Nghiên cứu Ứng dụng Ánh Dương",
        "Điều 2. Trụ sở chính đặt tại thành phố Hưng Yên",
        "Điều 3. Chức năng: nghiên cứu, thử nghiệm, đào tạo",
        "Điều 4. Nhiệm vụ và quyền hạn theo quy định của pháp luật",
        "Điều 5. Đăng ký hoạt động khoa học và công nghệ",
    ],
}


def render(lines: list[str] = LINES, *, dpi: int = 200, size_mm=(148, 105), pt: float = 12,
           margin_mm: float = 12, font: str = FONT, colour_stamp: bool = False) -> Image.Image:
    """A white page (default A6 landscape) with ``lines`` in black, grayscale ("L") unless a red stamp is asked."""
    w, h = round(size_mm[0] * MM * dpi), round(size_mm[1] * MM * dpi)
    im = Image.new("RGB" if colour_stamp else "L", (w, h), "white")
    d = ImageDraw.Draw(im)
    f = ImageFont.truetype(font, round(pt * dpi / 72))
    y = round(margin_mm * MM * dpi)
    x = y
    step = round(pt * 1.9 * dpi / 72)
    for line in lines:
        d.text((x, y), unicodedata.normalize("NFC", line), font=f, fill="black")
        y += step
        if y > h - step:
            break
    if colour_stamp:
        r = round(12 * MM * dpi)
        cx, cy = w - 3 * r, h - 2 * r
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(200, 20, 30), width=max(2, dpi // 50))
    im.info["dpi"] = (dpi, dpi)
    return im


def rotate(im: Image.Image, degrees: float) -> Image.Image:
    """Turn the page counter-clockwise (a page fed sideways is ``rotate(im, 90)``)."""
    out = im.rotate(degrees, expand=True, fillcolor="white", resample=Image.BICUBIC)
    out.info["dpi"] = im.info.get("dpi")
    return out


def noisy(im: Image.Image, sigma: float = 40, seed: int = 3) -> Image.Image:
    """Gaussian noise plus a little blur, like a worn photocopy."""
    random.seed(seed)
    g = im.convert("L")
    noise = Image.effect_noise(g.size, sigma)
    out = Image.blend(g, noise, 0.18).filter(ImageFilter.GaussianBlur(0.6))
    out = out.point(lambda v: 255 if v > 200 else v)
    out.info["dpi"] = im.info.get("dpi")
    return out


def jpeg_bytes(im: Image.Image, quality: int = 60) -> bytes:
    b = io.BytesIO()
    im.save(b, "JPEG", quality=quality, dpi=im.info.get("dpi") or (200, 200))
    return b.getvalue()


def save(im: Image.Image, path: Path, **kw) -> Path:
    path = Path(path)
    dpi = im.info.get("dpi") or (200, 200)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        im.save(path, "JPEG", quality=kw.get("quality", 75), dpi=dpi, optimize=True)
    elif path.suffix.lower() in (".tif", ".tiff"):
        im.save(path, "TIFF", dpi=dpi, compression="tiff_deflate")
    else:
        im.save(path, dpi=dpi, optimize=True)
    return path


def cer(expected: str, got: str) -> float:
    """Character error rate: Levenshtein distance over the expected length, ignoring white space layout."""
    a = " ".join(unicodedata.normalize("NFC", expected).split())
    b = " ".join(unicodedata.normalize("NFC", got).split())
    if not a:
        return 0.0 if not b else 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / len(a)


def numbered(n: int, *, dpi: int = 200) -> Image.Image:
    """A small page whose first line says which page it is ("Trang số N"), to check page order."""
    return render([f"Trang số {n} của hồ sơ", "Đăng ký hoạt động khoa học", "Nguyễn Văn An - Hưng Yên"], dpi=dpi,
                  size_mm=(105, 74), pt=12, margin_mm=8)


def new_dossier(db, cfg, pages: dict[int, int] | None = None, name: str = "Nguyễn Văn An") -> str:
    """A received dossier of procedure 1.003604 (three components); returns its code."""
    from onestop.intake import dossiers

    req = dossiers.ReceiveRequest(procedure_code="1.003604", applicant=dossiers.Applicant(
        name=name, id_number="001085012345"), components=None, pages=pages or {})
    return dossiers.receive(db, cfg, req, render=False)["code"]


def make_samples(folder: Path) -> list[Path]:
    """The sample scans for the demo: A4 at 200 dpi, slightly skewed or sideways like real ones."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, (name, lines) in enumerate(SAMPLES.items()):
        im = render(lines, dpi=200, size_mm=(210, 297), pt=13, margin_mm=20, colour_stamp=(i == 0))
        if i == 0:
            im = rotate(im, 1.5)
        elif i == 1:
            im = rotate(im, -90)  # fed sideways
        else:
            im = im.convert("L").convert("1").convert("L")  # a black-and-white scan
        im.info["dpi"] = (200, 200)
        out.append(save(im, folder / name, quality=70))
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "scans"
    for p in make_samples(target):
        print(p, p.stat().st_size)

"""The DejaVu fonts the forms are set in: where the files are, registering them once per
process, and measuring text (memoised; layout measures word by word)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from onestop.common.errors import ConfigError

# Logical font roles -> (reportlab name, file). Serif plays the part italic plays on the
# official forms (date line, "(Ký và ghi rõ họ tên)", copy labels).
REGULAR, BOLD, SERIF = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif"
_FONT_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    SERIF: "DejaVuSerif.ttf",
}
_FONT_DIRS = (
    Path(__file__).parents[2] / "data",  # onestop/data (this file is onestop/intake/forms/fonts.py)
    Path("/usr/share/fonts/truetype/dejavu"),
)
_fonts_ready = False


def font_path(filename: str) -> Path:
    """The first existing copy of a DejaVu font file: ``onestop/data/`` then the system."""
    for folder in _FONT_DIRS:
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    where = ", ".join(str(d) for d in _FONT_DIRS)
    raise ConfigError(
        f"Không tìm thấy phông chữ {filename} (đã tìm trong {where}). "
        "Cài gói Debian fonts-dejavu-core: sudo apt-get install fonts-dejavu-core",
        f"Font {filename} not found (looked in {where}). "
        "Install the Debian package fonts-dejavu-core: sudo apt-get install fonts-dejavu-core",
    )


def ensure_fonts() -> None:
    """Parse and register the TrueType fonts once per process (reportlab subsets on save)."""
    global _fonts_ready
    if _fonts_ready:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, filename in _FONT_FILES.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(font_path(filename))))
    _fonts_ready = True


@lru_cache(maxsize=4096)
def _width(text: str, font: str, size: float) -> float:
    # Memoised: wrapping measures word by word, and the receipt's two copies repeat every word.
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, font, size)

"""Printed forms of the counter (TT 01/2018/TT-VPCP Mẫu 01-04; DOMAIN.md §2), as A5 PDFs.

- Mẫu 01 ``render_receipt``: Giấy tiếp nhận hồ sơ và hẹn trả kết quả, two copies, QR top-left.
- Mẫu 02 ``render_request_papers``: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (one copy).
- Mẫu 03 ``render_refusal``: Phiếu từ chối tiếp nhận giải quyết hồ sơ (one copy).
- Mẫu 04 ``render_reschedule``: Phiếu xin lỗi và hẹn lại ngày trả kết quả (one copy, signed for the agency).
- Mẫu 05 ``render_control_slip``: Phiếu kiểm soát quá trình giải quyết hồ sơ (one row per hand-over).

Notices are dated by the time of the action they record (``issued_at``, passed in), never the wall clock.

The receipt is printed while the citizen waits, so this module imports nothing heavy at
import time: reportlab and the QR encoder are loaded on the first render, fonts are parsed
once per process, and the layout is a small hand-written flow over the reportlab canvas
(platypus would cost more to import than the whole render).

Layout is done in two steps: text is measured and placed into per-page lists of drawing
operations (so a copy knows its page count before anything is drawn), then the operations
are played onto the canvas. Coordinates in the layout run top-down from the page top.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from onestop.common.errors import ConfigError
from onestop.common.text import nfc

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

# Vietnam has had no daylight saving time since 1975: a fixed offset is exact.
VN_TZ = timezone(timedelta(hours=7))

RECEIPT_TITLE = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
RECEIPT_DOC_NAME = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
REQUEST_TITLE = "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"
REFUSAL_TITLE = "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"
RESCHEDULE_TITLE = "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
COPY_LABELS = ("Liên 1: Lưu", "Liên 2: Giao người nộp")
SIGN_HINT = "(Ký và ghi rõ họ tên)"

LIMIT_UNITS = {
    "working_days": "ngày làm việc",
    "days": "ngày",
    "hours": "giờ",
    "months": "tháng",
}
# After "Đăng ký nhận kết quả tại:" (so no leading "Tại").
DELIVERY = {
    "0": "Bộ phận tiếp nhận và trả kết quả",
    "1": "Địa chỉ của người nộp, qua dịch vụ bưu chính công ích",
}
_DOTS = "……"


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


# --------------------------------------------------------------------------- fonts

# Logical font roles -> (reportlab name, file). Serif plays the part italic plays on the
# official forms (date line, "(Ký và ghi rõ họ tên)", copy labels).
REGULAR, BOLD, SERIF = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif"
_FONT_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    SERIF: "DejaVuSerif.ttf",
}
_FONT_DIRS = (
    Path(__file__).parents[1] / "data",
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


def warm_up() -> None:
    """Load the PDF engine, the fonts and the QR encoder (see onestop/intake/prerender.py)."""
    import reportlab.pdfgen.canvas  # noqa: F401

    ensure_fonts()
    _qr_matrix("warm-up")


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


# --------------------------------------------------------------------------- QR code

_qr_encode: Callable[..., Any] | None = None


def _qr_encoder() -> Callable[..., Any]:
    """segno's encoder function, loaded without ``segno/__init__``.

    ``import segno`` pulls in its writers, whose ``xml.sax.saxutils`` import drags in
    ``urllib.request`` and ``http.client`` (~12 ms, about a tenth of the receipt's time
    budget). The encoder module alone needs none of it, so we load the package's modules
    under a private name. Any surprise (another segno layout) falls back to ``import segno``.
    """
    global _qr_encode
    if _qr_encode is not None:
        return _qr_encode
    if "segno" in sys.modules:
        _qr_encode = sys.modules["segno"].encoder.encode
        return _qr_encode
    try:
        import importlib
        import importlib.util

        private = "_onestop_segno"
        if private not in sys.modules:
            spec = importlib.util.find_spec("segno")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("segno")
            pkg = importlib.util.module_from_spec(
                importlib.util.spec_from_loader(private, loader=None, is_package=True)
            )
            pkg.__path__ = list(spec.submodule_search_locations)
            sys.modules[private] = pkg
        _qr_encode = importlib.import_module(private + ".encoder").encode
    except Exception:  # noqa: BLE001 - any failure of the shortcut: use the public API
        sys.modules.pop("_onestop_segno", None)
        import segno

        _qr_encode = segno.encoder.encode
    return _qr_encode


def _qr_matrix(payload: str) -> tuple:
    # Error correction M as the brief requires; boost_error off so the level is exactly M.
    # A fixed mask skips segno's evaluation of the 8 masks (~10 ms in pure Python); every
    # mask is valid QR and decodes the same, the choice only tunes contrast patterns.
    encode = _qr_encoder()
    code = encode(payload, error="m", micro=False, boost_error=False, mask=2)
    return code.matrix


# --------------------------------------------------------------------------- values


def _s(d: dict, key: str) -> str:
    value = d.get(key)
    if value is None:
        return ""
    return nfc(str(value))


def _parse_dt(value: Any) -> datetime | None:
    """An ISO 8601 time as Vietnam local time; naive times are taken as local already."""
    if isinstance(value, datetime):
        dt = value
    elif not value:
        return None
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=VN_TZ)
    return dt.astimezone(VN_TZ)


def _fmt_time_day(value: Any) -> str:
    """``09 giờ 15 phút, ngày 23/11/2026`` (dots to fill by hand if the time is unknown)."""
    dt = _parse_dt(value)
    if dt is None:
        return f"{_DOTS} giờ {_DOTS} phút, ngày {_DOTS}/{_DOTS}/{_DOTS}"
    return f"{dt:%H} giờ {dt:%M} phút, ngày {dt:%d/%m/%Y}"


def _fmt_place_date(place: str, value: Any) -> str:
    """``Hà Nội, ngày 23 tháng 11 năm 2026``."""
    dt = _parse_dt(value)
    if dt is None:
        date = f"ngày {_DOTS} tháng {_DOTS} năm {_DOTS}"
    else:
        date = f"ngày {dt:%d} tháng {dt:%m} năm {dt:%Y}"
    place = nfc(place)
    return f"{place}, {date}" if place else date[0].upper() + date[1:]


def _compact_time(value: Any) -> str:
    dt = _parse_dt(value)
    return f"{dt:%Y%m%d%H%M%S}" if dt else ""


def _fmt_number(value: Any) -> str:
    """Vietnamese number: ``1.500.000``, ``0,5``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return nfc(str(value)) if value not in (None, "") else ""
    if number == int(number):
        return f"{int(number):,}".replace(",", ".")
    whole, frac = f"{number:.2f}".rstrip("0").split(".")
    return f"{int(whole):,}".replace(",", ".") + "," + frac


def _fmt_limit(dossier: dict) -> str:
    value = dossier.get("limit_value")
    if value in (None, ""):
        return _DOTS
    unit = str(dossier.get("limit_unit") or "working_days")
    if float(value or 0) == 0:  # same day: the catalog's words ("Trong ngày làm việc"), never "0 ngày"
        from onestop.common.output import zero_limit_text

        return zero_limit_text(unit, _s(dossier, "limit_description"), lang="vi")
    return f"{_fmt_number(value)} {LIMIT_UNITS.get(unit, nfc(unit))}"


def _fmt_fees(fees: Any) -> str:
    """``Lệ phí: 1.500.000 đồng; Phí thẩm định: 200.000 đồng/hồ sơ`` or ``Không``."""
    parts = []
    for fee in fees or []:
        try:
            amount = float(fee.get("amount") or 0)
        except (TypeError, ValueError):
            amount = 0
        if amount <= 0:
            continue
        text = f"{_fmt_number(amount)} đồng"
        unit = _s(fee, "unit")
        if unit and unit.lower() not in ("vnd", "vnđ", "đồng", "đ"):
            text += f"/{unit}"
        name = _s(fee, "name")
        parts.append(f"{name}: {text}" if name else text)
    return "; ".join(parts) if parts else "Không"


def _agency_label(dossier: dict, ctx: FormContext) -> str:
    # dossier["agency"] may hold the agency's electronic code (no spaces) rather than its name.
    agency = _s(dossier, "agency")
    return agency if " " in agency else nfc(ctx.agency_name)


def _procedure_text(dossier: dict) -> str:
    name = _s(dossier, "procedure_name") or _DOTS
    code = _s(dossier, "procedure_code")
    text = f"{name} (Mã TTHC: {code})" if code else name
    case = _s(dossier, "case_name")  # set only when the procedure has several cases (TRUONGHOP)
    return f"{text} — {case}" if case else text


def _issued_at(dossier: dict, issued_at: Any = None) -> Any:
    """Date of a notice (Mẫu 02-05): the time of the action it records, passed in by the caller
    (never the wall clock: a move entered with ``--at`` prints that day). None prints dots."""
    return issued_at or dossier.get("issued_at")


def receipt_qr_payload(dossier: dict, ctx: FormContext) -> str:
    """The exact string encoded in the receipt's QR (TT 01/2023 Art. 26 fields)."""
    payload = {
        "MaHoSo": _s(dossier, "code"),
        "MaTTHC": _s(dossier, "procedure_code"),
        "SoDinhDanh": _s(dossier, "id_number"),
        "TenGiayTo": RECEIPT_DOC_NAME,
        "HeThong": nfc(ctx.system_name),
        "ThoiGianCap": _compact_time(dossier.get("received_at")),
        "NgayHenTra": _compact_time(dossier.get("due_at")),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- layout

PAGE_W, PAGE_H = 419.53, 595.28  # A5 portrait, points (reportlab.lib.pagesizes.A5)
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 34.0, 28.0, 24.0, 30.0
CONTENT_W = PAGE_W - MARGIN_L - MARGIN_R
BODY = 8.5  # body font size; DejaVu Sans is wide, 8.5 pt reads like 10 pt Times
LEAD = 11.5
QR_MIN_MODULE = 1.35  # pt: 2.8 px at 150 dpi, comfortably above what decoders need
QR_TARGET = 78.0  # pt: preferred side of the symbol itself (quiet zone is page margin)

Run = tuple[str, str]  # (text, font)


def wrap_runs(
    runs: list[Run], size: float, width: float, rest_width: float | None = None
) -> list[list[Run]]:
    """Greedy word wrap of mixed-font text into lines no wider than ``width``.

    Lines after the first may be narrower (``rest_width``, for a hanging indent). Words
    longer than a line are cut between characters so nothing runs off the page.
    """
    first_width = width
    rest_width = width if rest_width is None else rest_width
    words: list[tuple[str, str, bool]] = []  # (word, font, space before)
    space_pending = False
    for text, font in runs:
        pieces = text.split(" ")
        for i, piece in enumerate(pieces):
            if i > 0:
                space_pending = True
            if piece:
                words.append((piece, font, space_pending))
                space_pending = False
    lines: list[list[Run]] = []
    line: list[Run] = []
    used = 0.0
    for word, font, space in words:
        width = rest_width if lines else first_width
        gap = _width(" ", font, size) if (space and line) else 0.0
        w = _width(word, font, size)
        if line and used + gap + w > width:
            lines.append(line)
            line, used, gap = [], 0.0, 0.0
        if not line and w > width:
            # An unbreakable token wider than the line: cut it.
            chunk = ""
            for ch in word:
                if chunk and _width(chunk + ch, font, size) > width:
                    lines.append([(chunk, font)])
                    chunk, width = "", rest_width
                chunk += ch
            word, w = chunk, _width(chunk, font, size)
        text = (" " if gap else "") + word
        if line and line[-1][1] == font:
            line[-1] = (line[-1][0] + text, font)
        else:
            line.append((text, font))
        used += gap + w
    if line or not lines:
        lines.append(line)
    return lines


def _line_width(line: list[Run], size: float) -> float:
    return sum(_width(text, font, size) for text, font in line)


def wrap_balanced(text: str, font: str, size: float, width: float) -> list[list[Run]]:
    """Wrap into as few lines as ``wrap_runs`` but of even length (no orphan last word),
    as agency names are set in official headers."""
    lines = wrap_runs([(text, font)], size, width)
    if len(lines) < 2:
        return lines
    lo, hi = width / len(lines), width
    for _ in range(8):
        mid = (lo + hi) / 2
        if len(wrap_runs([(text, font)], size, mid)) > len(lines):
            lo = mid
        else:
            hi = mid
    return wrap_runs([(text, font)], size, hi)


@dataclass(frozen=True)
class _Density:
    """Type sizes and spacing of a layout; the receipt takes the first that fits one page."""

    body: float = BODY
    lead: float = LEAD
    table_size: float = 7.8
    table_lead: float = 10.0
    table_pad: float = 3.0
    sign_space: float = 38.0  # room left for a handwritten signature


DENSITIES = (
    _Density(),
    _Density(lead=10.4, table_size=7.5, table_lead=9.2, table_pad=1.8, sign_space=30.0),
    _Density(body=8.0, lead=9.6, table_size=7.2, table_lead=8.6, table_pad=1.2, sign_space=26.0),
)


class _Flow:
    """Places content top-down onto pages; ``pages`` holds drawing ops per page.

    ``on_new_page(flow, continued)`` draws the page header and leaves ``y`` below it.
    """

    def __init__(self, on_new_page: Callable[["_Flow", bool], None], density: "_Density | None" = None):
        self.d = density or DENSITIES[0]
        self.pages: list[list[tuple]] = []
        self.y = 0.0
        self.bottom = PAGE_H - MARGIN_B
        self._on_new_page = on_new_page
        self.new_page(continued=False)

    @property
    def ops(self) -> list[tuple]:
        return self.pages[-1]

    def new_page(self, continued: bool = True) -> None:
        self.pages.append([])
        self.y = MARGIN_T
        self._on_new_page(self, continued)

    def room(self) -> float:
        return self.bottom - self.y

    def ensure(self, height: float) -> None:
        if self.y + height > self.bottom:
            self.new_page()

    def text_at(self, x: float, y: float, line: list[Run], size: float) -> None:
        """Draw one line; ``y`` is the baseline measured from the top."""
        for text, font in line:
            self.ops.append(("text", x, y, font, size, text))
            x += _width(text, font, size)

    def para(
        self,
        runs: list[Run] | str,
        *,
        size: float | None = None,
        lead: float | None = None,
        x: float = MARGIN_L,
        width: float = CONTENT_W,
        indent: float = 0.0,
        align: str = "left",
        space_after: float = 0.0,
    ) -> None:
        """A wrapped paragraph; continuation lines are indented by ``indent``."""
        if isinstance(runs, str):
            runs = [(runs, REGULAR)]
        size = self.d.body if size is None else size
        lead = self.d.lead if lead is None else lead
        lines = wrap_runs(runs, size, width, width - indent)
        for i, line in enumerate(lines):
            self.ensure(lead)
            self.y += lead
            lx = x + (indent if i else 0.0)
            lw = width - (indent if i else 0.0)
            if align == "center":
                lx += (lw - _line_width(line, size)) / 2
            elif align == "right":
                lx += lw - _line_width(line, size)
            self.text_at(lx, self.y - lead * 0.25, line, size)
        self.y += space_after

    def field(self, label: str, value: str, *, bold: bool = False, **kw: Any) -> None:
        """``Label: value`` with a hanging indent; value in bold when asked."""
        self.para([(label + " ", REGULAR), (value or _DOTS, BOLD if bold else REGULAR)], **kw)

    def gap(self, height: float) -> None:
        self.y += height


def _draw_header(flow: _Flow, ctx: FormContext, *, left_x: float, right_label: str = "") -> float:
    """Agency block (left) and national motto (right); returns the y below the header."""
    y0 = flow.y
    right_w = _width(NATION, BOLD, 7.5) + 6.0
    right_x = PAGE_W - MARGIN_R - right_w
    left_w = right_x - 6.0 - left_x
    size = 7.5
    lead = 9.5
    if right_label:
        w = _width(right_label, SERIF, 7)
        flow.text_at(PAGE_W - MARGIN_R - w, y0 + 6.0, [(right_label, SERIF)], 7)
        y0 += 9.0
    y = y0
    blocks = []
    if ctx.parent_name:
        blocks.append((nfc(ctx.parent_name).upper(), REGULAR))
    blocks.append((nfc(ctx.agency_name).upper(), BOLD))
    if ctx.unit_name:
        blocks.append((nfc(ctx.unit_name).upper(), BOLD))
    for text, font in blocks:
        for line in wrap_balanced(text, font, size, left_w):
            y += lead
            lx = left_x + (left_w - _line_width(line, size)) / 2
            flow.text_at(lx, y - 2, line, size)
    # A short rule under the agency block, as on official documents.
    flow.ops.append(("line", left_x + left_w * 0.3, y + 2.5, left_x + left_w * 0.7, y + 2.5, 0.6))
    left_bottom = y + 4.0
    y = y0
    for text, font, fs in ((NATION, BOLD, 7.5), (MOTTO, BOLD, 8.0)):
        y += lead
        w = _width(text, font, fs)
        flow.text_at(right_x + (right_w - w) / 2, y - 2, [(text, font)], fs)
    mw = _width(MOTTO, BOLD, 8.0)
    mx = right_x + (right_w - mw) / 2
    flow.ops.append(("line", mx, y + 2.0, mx + mw, y + 2.0, 0.6))
    return max(left_bottom, y + 4.0)


def _title(flow: _Flow, text: str) -> None:
    flow.gap(4)
    flow.para([(text, BOLD)], size=10.5, lead=14, align="center", space_after=4)


def _signatures(flow: _Flow, blocks: list[tuple[str, str, str]]) -> None:
    """Signature blocks side by side: (title, hint, name); kept together on one page."""
    d = flow.d
    n = len(blocks)
    col_w = CONTENT_W / n
    w = CONTENT_W / 2 if n == 1 else col_w
    # Titles may hold line breaks ("TM. CƠ QUAN\nGIÁM ĐỐC"); measure every block first.
    texts = [
        [(part, font) for text, font in ((title, BOLD), (hint, SERIF)) for part in text.split("\n")]
        for title, hint, _ in blocks
    ]
    n_lines = max(sum(len(wrap_runs([p], 7.5, w - 4)) for p in block) for block in texts)
    height = 8 + n_lines * (d.lead - 1) + d.sign_space + 2 * d.lead
    flow.ensure(height)
    flow.gap(8)
    top = flow.y
    for i, (title, hint, name) in enumerate(blocks):
        # A single block sits on the right, where the issuer signs.
        x = MARGIN_L + (CONTENT_W / 2 if n == 1 else i * col_w)
        w = CONTENT_W / 2 if n == 1 else col_w
        y = top
        for text, font in texts[i]:
            for line in wrap_runs([(text, font)], 7.5, w - 4):
                y += d.lead - 1
                flow.text_at(x + (w - _line_width(line, 7.5)) / 2, y - 2, line, 7.5)
        if name:
            y += d.sign_space
            line = wrap_runs([(name, BOLD)], d.body, w - 4)[0]
            flow.text_at(x + (w - _line_width(line, d.body)) / 2, y, line, d.body)
    flow.y = top + height - 8


def _table(flow: _Flow, components: list[dict]) -> None:
    """Components received: STT | Tên giấy tờ | Bản chính | Bản sao; flows across pages."""
    size, lead, pad = flow.d.table_size, flow.d.table_lead, flow.d.table_pad
    cols = [max(24.0, _width("STT", BOLD, size) + 2 * pad + 2), 0.0, 34.0, 30.0]  # "STT" on one line
    cols[1] = CONTENT_W - sum(cols)
    xs = [MARGIN_L]
    for w in cols:
        xs.append(xs[-1] + w)
    headers = ["STT", "Tên giấy tờ", "Bản chính", "Bản sao"]

    def cell_lines(texts: list[str], font: str) -> list[list[list[Run]]]:
        return [wrap_runs([(t, font)], size, cols[i] - 2 * pad) for i, t in enumerate(texts)]

    header_cells = cell_lines(headers, BOLD)
    header_h = max(len(c) for c in header_cells) * lead + 2 * pad

    def draw_row(cells: list[list[list[Run]]], height: float, font_align: list[str]) -> None:
        top = flow.y
        rows = max(len(c) for c in cells)
        for i, lines in enumerate(cells):
            y = top + pad
            if font_align[i] == "middle":  # header cells: centred both ways
                y += (rows - len(lines)) * lead / 2
            for line in lines:
                y += lead
                w = _line_width(line, size)
                if font_align[i] in ("center", "middle"):
                    lx = xs[i] + (cols[i] - w) / 2
                else:
                    lx = xs[i] + pad
                flow.text_at(lx, y - 2.5, line, size)
        flow.ops.append(("rowbox", xs, top, top + height))
        flow.y = top + height

    def header() -> None:
        draw_row(header_cells, header_h, ["middle"] * 4)

    flow.ensure(header_h + lead + 2 * pad)
    header()
    if not components:
        components = [{"n": "", "name": "(Không có giấy tờ)", "originals": "", "copies": ""}]
    for idx, comp in enumerate(components, start=1):
        texts = [
            # Rows numbered 1, 2, 3 as printed: a paper that does not apply (or another case's
            # papers) must not leave a gap; the catalog's number is not the citizen's.
            str(idx) if comp.get("n") not in (None, "") else "",
            nfc(str(comp.get("name") or "")),
            _fmt_number(comp.get("originals", 0)),
            _fmt_number(comp.get("copies", 0)),
        ]
        cells = cell_lines(texts, REGULAR)
        aligns = ["center", "left", "center", "center"]
        while True:
            height = max(len(c) for c in cells) * lead + 2 * pad
            if flow.y + height <= flow.bottom:
                draw_row(cells, height, aligns)
                break
            # Room a continuation page offers a row (its header line and the table header).
            capacity = flow.bottom - MARGIN_T - 2 * flow.d.lead - header_h
            fit = int((flow.room() - 2 * pad) // lead)
            if height > capacity and fit >= 1:
                # Longer than any page: print what fits here, the rest on the next page.
                draw_row([c[:fit] for c in cells], fit * lead + 2 * pad, aligns)
                cells = [c[fit:] or [[]] for c in cells]
            flow.new_page()
            header()


# --------------------------------------------------------------------------- output


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


def _draw_qr(c: Any, x: float, top: float, module: float, matrix: tuple) -> None:
    """Dark modules as one filled vector path: no raster image, no seams between modules.

    Horizontal runs become one ``re`` each, written in module units under a ``cm`` that
    scales them, as literal operators: going through reportlab's path object costs ~13 ms
    per symbol in its pure-Python number formatting.
    """
    ops = []
    for r, row in enumerate(matrix):
        col, n = 0, len(row)
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                ops.append(f"{start} {r} {col - start} 1 re")
            else:
                col += 1
    c.saveState()
    c.setFillGray(0)
    c.addLiteral(f"{module:.4f} 0 0 {-module:.4f} {x:.3f} {top:.3f} cm\n" + "\n".join(ops) + "\nf")
    c.restoreState()


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


# --------------------------------------------------------------------------- applicant


def _applicant_lines(flow: _Flow, dossier: dict, name_label: str) -> None:
    flow.field(name_label, _s(dossier, "applicant_name"), bold=True, indent=12)
    authorised = _s(dossier, "authorised_name")
    if authorised:
        flow.field("Người được ủy quyền nộp hồ sơ:", authorised, indent=12)
    flow.field("Số định danh cá nhân/Mã số doanh nghiệp:", _s(dossier, "id_number"), indent=12)
    flow.field("Địa chỉ:", _s(dossier, "address"), indent=12)
    phone = _s(dossier, "phone") or _DOTS
    email = _s(dossier, "email")
    # No email given: no empty "Email: ......" to fill in (few citizens have one to give at the counter).
    flow.para(f"Số điện thoại: {phone}" + (f"    Email: {email}" if email else ""), indent=12)


def _simple_header(ctx: FormContext, code: str, date_value: Any) -> Callable[[_Flow, bool], None]:
    """Page header of the one-copy notices (Mẫu 02-04)."""

    def on_new_page(flow: _Flow, continued: bool) -> None:
        if continued:
            flow.para([("(tiếp theo)", SERIF)], size=7, align="right")
            return
        flow.y = _draw_header(flow, ctx, left_x=MARGIN_L)
        flow.gap(2)
        top = flow.y
        if code:
            flow.field("Mã hồ sơ:", code, bold=True)
        flow.y = top
        flow.para([(_fmt_place_date(ctx.place, date_value), SERIF)], align="right")

    return on_new_page


# --------------------------------------------------------------------------- Mẫu 01


def render_receipt(dossier: dict, ctx: FormContext, path: Path) -> Path:
    """Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả: A5, two copies, QR top-left."""
    ensure_fonts()
    code = _s(dossier, "code")
    matrix = _qr_matrix(receipt_qr_payload(dossier, ctx))
    n = len(matrix)
    module = max(QR_MIN_MODULE, QR_TARGET / n)
    qr_side = n * module
    received = dossier.get("received_at")
    components = [c for c in dossier.get("components") or [] if c.get("received", True)]

    def copy_flow(label: str, density: _Density) -> _Flow:
        def on_new_page(flow: _Flow, continued: bool) -> None:
            if continued:
                flow.para(
                    [("Mã hồ sơ: ", REGULAR), (code or _DOTS, BOLD), (f"   {label} (tiếp theo)", SERIF)],
                    size=7.5,
                    space_after=4,
                )
                return
            # The agency block and the national motto take the full width, as on every official
            # paper; the QR sits below them on the left, the code and the date beside it.
            flow.y = _draw_header(flow, ctx, left_x=MARGIN_L, right_label=label)
            flow.gap(4)
            top = flow.y
            flow.ops.append(("qr", MARGIN_L, top, module, matrix))
            beside_x = MARGIN_L + qr_side + 10
            beside_w = PAGE_W - MARGIN_R - beside_x
            flow.y = top + max(0.0, (qr_side - 3 * flow.d.lead) / 2)
            flow.para([(_fmt_place_date(ctx.place, received), SERIF)], align="right", x=beside_x, width=beside_w,
                      space_after=4)
            flow.field("Mã hồ sơ:", code, bold=True, x=beside_x, width=beside_w)
            flow.y = max(flow.y, top + qr_side)

        flow = _Flow(on_new_page, density)
        _title(flow, RECEIPT_TITLE)
        flow.field("Bộ phận tiếp nhận và trả kết quả:", _agency_label(dossier, ctx), indent=12)
        _applicant_lines(flow, dossier, "Tiếp nhận hồ sơ của:")
        flow.field("Nội dung yêu cầu giải quyết:", _procedure_text(dossier), bold=True, indent=12)
        if _s(dossier, "field_name"):
            flow.field("Lĩnh vực:", _s(dossier, "field_name"), indent=12)
        flow.para("1. Thành phần hồ sơ nộp gồm:", space_after=2)
        _table(flow, components)
        flow.gap(3)
        sets = dossier.get("sets") or 1
        flow.field("2. Số lượng hồ sơ:", f"{_fmt_number(sets)} (bộ)", indent=12)
        flow.field("3. Thời gian giải quyết hồ sơ theo quy định:", _fmt_limit(dossier), indent=12)
        flow.field("4. Thời gian nhận hồ sơ:", _fmt_time_day(received), indent=12)
        flow.field(
            "5. Thời gian trả kết quả giải quyết hồ sơ:",
            _fmt_time_day(dossier.get("due_at")),
            bold=True,
            indent=12,
        )
        delivery = str(dossier.get("delivery", "0") or "0")
        flow.field("6. Đăng ký nhận kết quả tại:", DELIVERY.get(delivery, nfc(delivery)), indent=12)
        flow.field("7. Phí, lệ phí:", _fmt_fees(dossier.get("fees")), indent=12)
        year = dossier.get("book_year")
        book_no = dossier.get("book_no")
        flow.para(
            "Vào Sổ theo dõi hồ sơ, Quyển số: "
            + (str(year) if year not in (None, "") else _DOTS)
            + ", Số thứ tự: "
            + (f"{int(book_no):02d}" if isinstance(book_no, int) else (_s(dossier, "book_no") or _DOTS)),
            indent=12,
        )
        submitter = _s(dossier, "authorised_name") or _s(dossier, "applicant_name")
        _signatures(
            flow,
            [
                ("NGƯỜI NỘP HỒ SƠ", SIGN_HINT, submitter),
                ("NGƯỜI TIẾP NHẬN HỒ SƠ", SIGN_HINT, _s(dossier, "officer")),
            ],
        )
        return flow

    # The first density at which a copy fits one A5 page; a very long list still flows on.
    for density in DENSITIES:
        flows = [(copy_flow(label, density), label) for label in COPY_LABELS]
        if all(len(f.pages) == 1 for f, _ in flows):
            break
    title = f"{RECEIPT_DOC_NAME} - {code}" if code else RECEIPT_DOC_NAME
    return _emit(path, _paginate(flows), title, ctx)


# --------------------------------------------------------------------------- Mẫu 02-04


def _opening(
    dossier: dict, ctx: FormContext, title: str, applicant_label: str, issued_at: Any = None
) -> "_Flow":
    """Header, title, agency, applicant and procedure: the opening lines Mẫu 02 and 03 share."""
    ensure_fonts()
    flow = _Flow(_simple_header(ctx, _s(dossier, "code"), _issued_at(dossier, issued_at)))
    _title(flow, title)
    flow.field("Bộ phận tiếp nhận và trả kết quả:", _agency_label(dossier, ctx), indent=12)
    _applicant_lines(flow, dossier, applicant_label)
    flow.field("Nội dung yêu cầu giải quyết:", _procedure_text(dossier), bold=True, indent=12)
    flow.gap(3)
    return flow


def render_request_papers(
    dossier: dict,
    missing: list[dict],
    ctx: FormContext,
    path: Path,
    *,
    note: str = "",
    officer: str = "",
    issued_at: Any = None,
) -> Path:
    """Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (A5, one copy), dated ``issued_at``."""
    flow = _opening(dossier, ctx, REQUEST_TITLE, "Hồ sơ của:", issued_at)
    flow.para([("Yêu cầu bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:", BOLD)], space_after=1)
    for i, item in enumerate(missing or [], start=1):
        flow.para(f"{i}. {_s(item, 'name') or _DOTS}", indent=12, x=MARGIN_L + 6, width=CONTENT_W - 6)
        reason = _s(item, "reason")
        if reason:
            flow.field("Lý do:", reason, x=MARGIN_L + 18, width=CONTENT_W - 18, indent=0)
    if note:
        flow.gap(2)
        flow.field("Ghi chú:", nfc(note), indent=12)
    flow.gap(3)
    contact = nfc(officer) or _s(dossier, "officer")
    flow.para(
        "Trong quá trình hoàn thiện hồ sơ nếu có vướng mắc, ông/bà liên hệ với "
        + (f"cán bộ {contact}" if contact else _DOTS)
        + ", Bộ phận tiếp nhận và trả kết quả để được hướng dẫn."
    )
    _signatures(flow, [("NGƯỜI HƯỚNG DẪN", SIGN_HINT, contact)])
    return _emit(path, _paginate([(flow, "")]), REQUEST_TITLE.capitalize(), ctx)


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


def render_reschedule(
    dossier: dict,
    new_due_at: str,
    reason: str,
    ctx: FormContext,
    path: Path,
    *,
    previous_due_at: Any = None,
    issued_at: Any = None,
    officer: str = "",
) -> Path:
    """Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả (A5, one copy), dated ``issued_at``.

    The appointment being moved is ``previous_due_at`` (the dossier's ``due_at`` before the
    change; pass it: after the change the dossier row holds the new date). The form is signed
    for the agency by its head (``ctx.head_title``); ``officer`` is not printed.
    """
    ensure_fonts()
    code = _s(dossier, "code")
    agency = _agency_label(dossier, ctx)
    received = _parse_dt(dossier.get("received_at"))
    old_due = previous_due_at or dossier.get("original_due_at") or dossier.get("due_at")
    name = _s(dossier, "applicant_name") or _DOTS
    flow = _Flow(_simple_header(ctx, code, _issued_at(dossier, issued_at)))
    _title(flow, RESCHEDULE_TITLE)
    flow.field("Kính gửi:", name, bold=True, indent=12)
    flow.gap(2)
    when = f"Ngày {received:%d/%m/%Y}" if received else f"Ngày {_DOTS}"
    flow.para(f"{when}, {agency} tiếp nhận giải quyết hồ sơ của ông/bà {name}.")
    flow.field("Mã hồ sơ:", code, bold=True, indent=12)
    flow.field("Số định danh cá nhân/Mã số doanh nghiệp:", _s(dossier, "id_number"), indent=12)
    flow.field("Địa chỉ:", _s(dossier, "address"), indent=12)
    flow.field("Nội dung yêu cầu giải quyết:", _procedure_text(dossier), bold=True, indent=12)
    flow.field("Ngày hẹn trả kết quả:", _fmt_time_day(old_due), indent=12)
    flow.para(f"Tuy nhiên đến nay, {agency} chưa trả kết quả giải quyết hồ sơ của ông/bà.")
    flow.field("Lý do:", nfc(reason), bold=True, indent=12)
    flow.gap(2)
    flow.para(
        [
            (
                f"Sự chậm trễ này đã gây phiền hà cho ông/bà. Nay, {agency} xin lỗi ông/bà "
                "và hẹn lại ngày trả kết quả vào ",
                REGULAR,
            ),
            (_fmt_time_day(new_due_at), BOLD),
            (".", REGULAR),
        ]
    )
    flow.field("Ngày hẹn trả kết quả mới:", _fmt_time_day(new_due_at), bold=True, indent=12)
    flow.para("Xin trân trọng cảm ơn!")
    head = nfc(ctx.head_title or "THỦ TRƯỞNG CƠ QUAN").upper()
    _signatures(flow, [(f"TM. {nfc(ctx.agency_name).upper()}\n{head}" if ctx.agency_name else head,
                        "(Ký, ghi rõ họ tên và đóng dấu)", nfc(ctx.head_name))])
    return _emit(path, _paginate([(flow, "")]), RESCHEDULE_TITLE.capitalize(), ctx)


# --------------------------------------------------------------------------- Mẫu 05

CONTROL_TITLE = "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"
TIMELINESS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}


def render_control_slip(
    dossier: dict,
    handovers: list[dict],
    ctx: FormContext,
    path: Path,
    *,
    issued_at: Any = None,
    processing_unit: str = "",
) -> Path:
    """Mẫu 05 — Phiếu kiểm soát quá trình giải quyết hồ sơ (A5, one copy, travels with the papers).

    One row per hand-over: ``{"from": unit, "to": unit, "at": ISO time,
    "giver": name, "receiver": name, "timeliness": "early"|"on_time"|"late"|"", "note": text}``.
    Rows not yet done are left blank for the next units to fill by hand.
    """
    ensure_fonts()
    code = _s(dossier, "code")
    flow = _Flow(_simple_header(ctx, code, _issued_at(dossier, issued_at)))
    _title(flow, CONTROL_TITLE)
    flow.para(
        [("(Kèm theo hồ sơ của: ", SERIF), (_s(dossier, "applicant_name") or _DOTS, BOLD), (")", SERIF)],
        align="center",
    )
    flow.field("Nội dung yêu cầu giải quyết:", _procedure_text(dossier), indent=12)
    flow.field("Ngày hẹn trả kết quả:", _fmt_time_day(dossier.get("due_at")), bold=True, indent=12)
    flow.field("Cơ quan (bộ phận) giải quyết hồ sơ:", nfc(processing_unit) or _DOTS, indent=12)
    flow.gap(3)
    rows = []
    for i, h in enumerate(handovers, start=1):
        dt = _parse_dt(h.get("at"))
        when = f"{dt:%H} giờ {dt:%M} phút, ngày {dt:%d/%m/%Y}" if dt else f"{_DOTS} giờ {_DOTS}, ngày {_DOTS}"
        who = "; ".join(x for x in (
            f"Người giao: {nfc(h['giver'])}" if h.get("giver") else "",
            f"Người nhận: {nfc(h['receiver'])}" if h.get("receiver") else "") if x)
        rows.append([
            f"{i}. Giao: {_s(h, 'from') or _DOTS}\nNhận: {_s(h, 'to') or _DOTS}",
            when + (f"\n{who}" if who else ""),
            TIMELINESS.get(str(h.get("timeliness") or ""), ""),
            _s(h, "note"),
        ])
    _grid(flow, ["TÊN CƠ QUAN", "THỜI GIAN GIAO, NHẬN HỒ SƠ",
                 "KẾT QUẢ GIẢI QUYẾT HỒ SƠ (Trước hạn/ đúng hạn/ quá hạn)", "GHI CHÚ"],
          rows, [0.30, 0.34, 0.18, 0.18])
    return _emit(path, _paginate([(flow, "")]), CONTROL_TITLE.capitalize(), ctx)


def _grid(flow: _Flow, headers: list[str], rows: list[list[str]], fractions: list[float]) -> None:
    """A plain bordered table (a cell's line breaks are kept); rows are kept whole on one page."""
    size, lead, pad = flow.d.table_size, flow.d.table_lead, flow.d.table_pad
    cols = [CONTENT_W * f for f in fractions]
    xs = [MARGIN_L]
    for w in cols:
        xs.append(xs[-1] + w)

    def cells(texts: list[str], font: str) -> list[list[list[Run]]]:
        out = []
        for i, t in enumerate(texts):
            lines: list[list[Run]] = []
            for part in (t or "").split("\n"):
                lines += wrap_runs([(part, font)], size, cols[i] - 2 * pad)
            out.append(lines)
        return out

    def draw(cs: list[list[list[Run]]], center: bool) -> None:
        height = max(len(c) for c in cs) * lead + 2 * pad
        flow.ensure(height)
        top = flow.y
        for i, lines in enumerate(cs):
            y = top + pad
            for line in lines:
                y += lead
                w = _line_width(line, size)
                lx = xs[i] + (cols[i] - w) / 2 if center else xs[i] + pad
                flow.text_at(lx, y - 2.5, line, size)
        flow.ops.append(("rowbox", xs, top, top + height))
        flow.y = top + height

    head = cells(headers, BOLD)
    draw(head, True)
    for r in rows:
        draw(cells(r, REGULAR), False)

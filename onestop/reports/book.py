"""The tracking book (Sổ theo dõi hồ sơ, Mẫu 06, TT 01/2018): rows from ``store/book.py``, an A4 PDF.

One row per dossier in book order (``book_year``, ``book_no``: numbered per year from 01).
ID and phone numbers are masked unless asked for (DOMAIN.md §9).
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

from onestop.store.sqlite import Database

from onestop.common.config import Config

BOOK_COLUMNS = ["stt", "code", "procedure_name", "sets", "applicant_name", "address_phone", "agency",
                "received_at", "due_at", "handed_over_at", "result_at", "returned_at", "note"]
BOOK_HEADERS = {
    "stt": "STT", "code": "Mã hồ sơ", "procedure_name": "Tên TTHC", "sets": "Số lượng hồ sơ (bộ)",
    "applicant_name": "Tên người nộp hồ sơ", "address_phone": "Địa chỉ, số điện thoại",
    "agency": "Cơ quan chủ trì giải quyết", "received_at": "Nhận hồ sơ (giờ, ngày)",
    "due_at": "Hẹn trả kết quả", "handed_over_at": "Chuyển hồ sơ đến cơ quan giải quyết",
    "result_at": "Ngày có kết quả", "returned_at": "Trả kết quả", "note": "Ghi chú",
}


def _hm(iso: str | None) -> str:
    """'2026-11-02T09:30:00+07:00' → '09:30 02/11/2026'."""
    if not iso:
        return ""
    return f"{iso[11:16]} {iso[8:10]}/{iso[5:7]}/{iso[:4]}"


CELL_PAD = 2.5  # pt, left and right of each cell
# Share of the width left after every column got room for its longest word (free text wraps).
_FREE_TEXT = {"procedure_name": 3, "applicant_name": 2, "address_phone": 3, "agency": 2, "note": 2}


def column_widths(rows: list[dict], regular: str, bold: str, size: float, total: float, pad: float) -> list[float]:
    """Column widths (pt) so that no word, date or code is broken inside a cell.

    Each column is at least as wide as its longest word (header words in bold, cell words in
    regular: a date "02/11/2026" or a dossier code has no space to break at); what is left of
    ``total`` goes to the free-text columns. reportlab would otherwise cut long words mid-way
    ("30/1|1/2026", "Số lư|ợng").
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    need = []
    for c in BOOK_COLUMNS:
        w = max(stringWidth(word, bold, size) for word in BOOK_HEADERS[c].split())
        for r in rows:
            for word in str(r.get(c) if r.get(c) is not None else "").split():
                w = max(w, stringWidth(word, regular, size))
        need.append(w + 2 * pad + 1.0)
    spare = total - sum(need)
    if spare <= 0:  # pathological words: shrink proportionally (still better than cutting)
        return [w * total / sum(need) for w in need]
    weights = [_FREE_TEXT.get(c, 0) for c in BOOK_COLUMNS]
    return [w + spare * k / sum(weights) for w, k in zip(need, weights)]


def book_rows(db: Database, cfg: Config, *, year: int | None = None, first: date | None = None,
              last: date | None = None, show_personal: bool = False) -> list[dict]:
    """The book's rows for a year and/or a range of receipt dates, in book order."""
    from onestop.domain.masking import mask_phone
    from onestop.domain.states import status_name
    from onestop.store.book import book_entries

    agency = cfg.get("agency.name", "")
    out = []
    for r in book_entries(db, year=year, received_from=first.isoformat() if first else None,
                          received_before=(last + timedelta(days=1)).isoformat() if last else None):
        st, due, odue, fin = r["status"], r["due_at"], r["original_due_at"], r["finished_at"]
        preq = r["papers_requests"]
        notes = []
        if st in ("3", "5", "6", "7", "8"):
            notes.append(status_name(st))
        if preq:
            notes.append(f"Yêu cầu bổ sung {preq} lần")
        if r["rescheduled"] or due != odue:
            notes.append(f"Hẹn ban đầu {_hm(odue)}")
        phone = r["phone"] if show_personal else mask_phone(r["phone"])
        out.append({
            "stt": f"{r['book_no']:02d}", "code": r["code"], "procedure_name": r["procedure_name"], "sets": r["sets"],
            "applicant_name": r["applicant_name"], "address_phone": ", ".join(x for x in (r["address"], phone) if x),
            "agency": agency, "received_at": _hm(r["received_at"]), "due_at": _hm(due),
            "handed_over_at": _hm(r["handed_over_at"]),
            "result_at": _hm(r["result_at"] or (fin if st in ("9", "10") else None)),
            "returned_at": _hm(r["returned_at"]),
            "note": "; ".join(notes),
        })
    return out


def render_book(rows: list[dict], cfg: Config, path: str | Path, *, year: int | None = None,
                first: date | None = None, last: date | None = None) -> Path:
    """Write the book as an A4 landscape PDF (a table repeated header on every page); returns the path."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from onestop.common.errors import StorageError
    from onestop.common.files import write_atomic

    from onestop.intake import forms

    forms.ensure_fonts()  # the shipped Vietnamese subsets, or a clear error naming the package
    regular, bold = forms.REGULAR, forms.BOLD
    path = Path(path)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=7, leading=8.5)
    head = ParagraphStyle("head", fontName=bold, fontSize=7, leading=8.5, alignment=1)
    center = ParagraphStyle("center", fontName=regular, fontSize=10, leading=13, alignment=1)
    title_st = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, alignment=1)
    period = (f"Năm {year}" if year else "") + (
        f" — từ ngày {first:%d/%m/%Y}" if first else "") + (f" đến ngày {last:%d/%m/%Y}" if last else "")
    story = [
        Table([[Paragraph(f"{cfg.get('agency.parent', '')}<br/><b>{cfg.get('agency.name', '')}</b><br/>"
                          f"{cfg.get('agency.unit_title', 'BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ')}", center),
                Paragraph("<b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br/><u>Độc lập - Tự do - Hạnh phúc</u>", center)]],
              colWidths=[120 * mm, 150 * mm]),
        Spacer(1, 4 * mm),
        Paragraph("SỔ THEO DÕI HỒ SƠ", title_st),
        Paragraph(f"(Mẫu 06) {period}", center),
        Spacer(1, 4 * mm),
    ]
    # The frame keeps 6 pt of padding on each side inside the page margins.
    widths = column_widths(rows, regular, bold, 7, landscape(A4)[0] - 20 * mm - 12, CELL_PAD)
    data = [[Paragraph(BOOK_HEADERS[c], head) for c in BOOK_COLUMNS],
            [Paragraph(f"({i})", head) for i in range(1, len(BOOK_COLUMNS) + 1)]]
    for r in rows:
        data.append([Paragraph(str(r[c]).replace("&", "&amp;").replace("<", "&lt;"), cell) for c in BOOK_COLUMNS])
    tb = Table(data, colWidths=widths, repeatRows=2)
    tb.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD), ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
                            ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#eeeeee"))]))
    story.append(tb)

    def footer(canvas, doc):
        canvas.setFont(regular, 7)
        canvas.drawRightString(landscape(A4)[0] - 10 * mm, 7 * mm, f"Trang {doc.page}")

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=10 * mm, bottomMargin=12 * mm, title="Sổ theo dõi hồ sơ (Mẫu 06)",
                            author=cfg.get("agency.name", "onestop"))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, buf.getvalue())
    except OSError as e:
        raise StorageError(f"Không ghi được sổ theo dõi {path}: {e}. Kiểm tra thư mục và dung lượng đĩa.",
                           f"Cannot write the tracking book {path}: {e}. Check the folder and free disk space.") from e
    return path

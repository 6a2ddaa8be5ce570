"""Shared set-up for the online-dossier tests: PDFs a citizen attaches, a portal with dossiers waiting."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from ministry_server import MinistryServer
from sync_helpers import point_at, write_sync_config

P2 = "1.003604"  # one required paper (GT01); GT03 attached too: two PDFs
P4 = "1.005082"  # four required papers; 12 working days online, 15 at the counter

@pytest.fixture
def srv(home, monkeypatch):
    """The test ministry server with its portal (tests/portal.py), the home configured to sync to it."""
    with MinistryServer() as s:
        write_sync_config(home)
        point_at(monkeypatch, s.url)
        yield s


APPLICANTS = [("Nguyễn Văn An", "001085012345"), ("Trần Thị Bích Ngọc", "033190004567"),
              ("Lê Đức Thắng", "079092003210"), ("Phạm Thị Hoa", "036185009876")]


def text_pdf(text: str, pages: int = 1) -> bytes:
    """A born-digital PDF with a text layer (DejaVu embedded), as a citizen's PDF from a portal."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for p in range(pages):
        c.setFont("DejaVu", 12)
        c.drawString(60, 760, text)
        c.drawString(60, 740, f"Trang {p + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def seed(portal, n: int, *, start: int = 1, procedure: str = P2, day: int = 1) -> list[str]:
    """``n`` online dossiers waiting on ``portal``, two PDFs each (P2: GT01 and GT03)."""
    out = []
    for i in range(start, start + n):
        dvc = f"DVC-2026-{i:06d}"
        name, idn = APPLICANTS[i % len(APPLICANTS)]
        if procedure == P2:
            files = [(f"don-de-nghi-{i}.pdf", f"{P2}-GT01", text_pdf(f"Đơn đề nghị cấp lại giấy chứng nhận số {i}")),
                     (f"xac-nhan-{i}.pdf", f"{P2}-GT03", text_pdf(f"Văn bản xác nhận mất giấy chứng nhận {i}"))]
        else:
            files = [(f"gt{k}-{i}.pdf", f"{P4}-GT0{k}", text_pdf(f"Giấy tờ {k} chuyển giao công nghệ {i}"))
                     for k in (1, 2, 3, 4)]
        portal.add(dvc, procedure, name=name, id_number=idn, submitted=datetime(2026, 12, day, 8, i % 60),
                   files=files, fees=[{"TenPhiLePhi": "Lệ phí cấp lại", "MaPhiLePhi": "LP01", "SoTien": "100000"}],
                   paid=i % 2 == 1)
        out.append(dvc)
    return out

"""The printed forms' layout, read back from the PDF as a reader sees it: the words' boxes
(poppler's ``pdftotext -bbox``) and the QR symbol's square, rendered to PNG (``pdftoppm``) as a
smoke check that the page draws. Boxes, not pixels: nothing here depends on anti-aliasing."""

from __future__ import annotations

import html
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pytest


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


@dataclass(frozen=True)
class Box:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: "Box", slack: float = 0.3) -> bool:
        return (self.x0 < other.x1 - slack and other.x0 < self.x1 - slack
                and self.y0 < other.y1 - slack and other.y0 < self.y1 - slack)


def words(pdf: Path, page: int = 1) -> list[Box]:
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [Box(html.unescape(m[5]), float(m[1]), float(m[2]), float(m[3]), float(m[4])) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', out)]


def qr_box(pdf: Path, page: int = 0) -> Box:
    """The QR symbol's square, from the one ``cm`` that scales its module grid (forms._draw_qr)."""
    reader = pypdf.PdfReader(pdf)
    data = reader.pages[page].get_contents().get_data().decode("latin-1")
    m = re.search(r"([\d.]+) 0 0 -([\d.]+) ([\d.]+) ([\d.]+) cm\n((?:\d+ \d+ \d+ 1 re\n)+)f", data)
    assert m, "no QR symbol on the page"
    module, x, top = float(m[1]), float(m[3]), float(m[4])
    cells = [tuple(map(int, r.split()[:3])) for r in m[5].strip().splitlines()]
    n = max(max(c + w for c, _r, w in cells), max(r for _c, r, _w in cells) + 1)
    height = float(reader.pages[page].mediabox.height)
    return Box("QR", x, height - top, x + n * module, height - top + n * module)


def lines(boxes: list[Box]) -> list[list[Box]]:
    """Words grouped into lines: the same row (yMin), split where a wide gap separates two blocks
    (the agency block and the national motto share rows), left to right."""
    rows: dict[float, list[Box]] = {}
    for b in boxes:
        rows.setdefault(round(b.y0, 1), []).append(b)
    out = []
    for _y, row in sorted(rows.items()):
        row.sort(key=lambda b: b.x0)
        current = [row[0]]
        for b in row[1:]:
            if b.x0 - current[-1].x1 > 12:
                out.append(current)
                current = []
            current.append(b)
        out.append(current)
    return out


def line_of(boxes: list[Box], phrase: str) -> list[Box]:
    for row in lines(boxes):
        text = " ".join(b.text for b in row)
        if phrase in text:
            return row
    raise AssertionError(f"{phrase!r} is on no single line: {[' '.join(b.text for b in r) for r in lines(boxes)]}")


def receive(run, *args) -> dict:
    r = run("receive", "--name", "Công ty TNHH Ánh Dương", "--id", "0100233488", "--phone", "0912345678",
            "--address", "Hà Nội", *args, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_receipt_header_is_not_squeezed_beside_the_qr_and_nothing_overlaps(run, tmp_path):
    pdf = Path(receive(run, "-p", "1.003584", "--all-components")["receipt"])
    boxes = words(pdf)
    qr = qr_box(pdf)
    # Each part of the agency block is one line, as the agency writes it, not wrapped into six.
    for phrase in ("ỦY BAN NHÂN DÂN TỈNH MẪU", "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"):
        line_of(boxes, phrase)
    agency = line_of(boxes, "SỞ KHOA HỌC VÀ CÔNG NGHỆ")
    nation = line_of(boxes, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    # The agency block on the top left, above the QR; the motto on the top right, level with it.
    assert agency[0].x0 < nation[0].x0 and agency[-1].x1 < nation[0].x0
    assert all(b.y1 <= qr.y0 for b in line_of(boxes, "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"))
    assert abs(line_of(boxes, "ỦY BAN NHÂN DÂN")[0].y0 - nation[0].y0) < 1
    # No word overlaps another, nor the QR symbol; everything stays on the page.
    for i, a in enumerate(boxes):
        assert not a.overlaps(qr), a
        assert 0 <= a.x0 and a.x1 <= 419.6 and 0 <= a.y0 and a.y1 <= 595.3, a
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
    # The code and the date beside the QR, the title below it.
    code = line_of(boxes, "Mã hồ sơ:")
    assert code[0].x0 > qr.x1 and qr.y0 <= code[0].y0 <= qr.y1
    assert line_of(boxes, "GIẤY TIẾP NHẬN HỒ SƠ")[0].y0 > qr.y1
    # And poppler draws the page (a PNG of the first copy).
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    assert (tmp_path / "p-1.png").stat().st_size > 1000


def test_receipt_table_rows_are_numbered_as_printed_and_stt_does_not_wrap(run):
    # Case 2 of 1.005082 holds the catalog's papers 6, 7, 8: on paper they are rows 1, 2, 3.
    pdf = Path(receive(run, "-p", "1.005082", "--case", "2", "--all-components")["receipt"])
    boxes = words(pdf)
    name = line_of(boxes, "Tên giấy tờ")[0]
    stt = [b for b in boxes if b.x1 < name.x0 and abs(b.y0 - name.y0) < 1]
    assert [b.text for b in stt] == ["STT"]             # one word on the header's line, not "ST" / "T"
    stt = stt[0]
    column = [b.text for b in boxes if b.x1 <= stt.x1 + 2 and b.y0 > stt.y1 and b.text.isdigit()
              and b.x0 >= stt.x0 - 4]
    assert column == ["1", "2", "3"]


def test_receipt_prints_no_empty_email_line(run):
    pdf = Path(receive(run, "-p", "1.003584", "--all-components")["receipt"])
    text = " ".join(b.text for b in words(pdf))
    assert "Số điện thoại: 0912345678" in text and "Email" not in text
    pdf = Path(receive(run, "-p", "1.003584", "--all-components", "--email", "an@example.vn")["receipt"])
    assert "Email: an@example.vn" in " ".join(b.text for b in words(pdf))


def test_notices_have_no_overlapping_words_and_stay_on_the_page(run):
    code = receive(run, "-p", "1.003584", "--all-components", "--authorised", "Lê Văn Nam",
                   "--email", "an@example.vn")["code"]
    forms = []
    for args in (["move", code, "5", "--missing", "Bản sao điều lệ: chưa chứng thực"], ["move", code, "4"],
                 ["reschedule", code, "--to", "28/12/2026 16:00", "--reason", "Cần xác minh thực tế", "--yes"]):
        r = run(*args, "--json")
        assert r.exit_code == 0, r.stderr
        forms.append(Path(json.loads(r.stdout)["form"]))
    assert [f.name[-10:] for f in forms] == ["_Mau02.pdf", "_Mau05.pdf", "_Mau04.pdf"]
    for pdf in forms:
        boxes = words(pdf)
        assert boxes, pdf
        for phrase in ("SỞ KHOA HỌC VÀ CÔNG NGHỆ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"):
            line_of(boxes, phrase)
        for i, a in enumerate(boxes):
            assert 0 <= a.x0 and a.x1 <= 419.6 and 0 <= a.y0 and a.y1 <= 595.3, (pdf.name, a)
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), (pdf.name, a, b)

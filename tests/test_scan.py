"""`onestop scan` end to end with the real tesseract: the JSON contract, the stored PDF and rows,
every kind of bad input (exit code, message naming the file, nothing stored, inbox untouched)."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from pages import cer, jpeg_bytes, new_dossier, numbered, render, save


@pytest.fixture
def code(db, cfg):
    return new_dossier(db, cfg, pages={1: 3, 2: 2})


@pytest.fixture
def three(tmp_path):
    return [save(numbered(i), tmp_path / f"trang-{i}.png") for i in (1, 2, 3)]


def stored(db) -> int:
    return db.execute("SELECT count(*) FROM archive_files").fetchone()[0]


def archive_files(cfg) -> list[Path]:
    return [p for p in cfg.archive_dir.rglob("*") if p.is_file()] if cfg.archive_dir.exists() else []


def test_scan_json_contract_pdf_and_rows(run, db, cfg, code, three):
    r = run("scan", code, "--component", 1, *three, "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["code"] == code and out["component"] == 1
    assert [p["n"] for p in out["pages"]] == [1, 2, 3]
    for i, p in enumerate(out["pages"], 1):
        assert set(p) >= {"n", "text", "confidence", "rotated", "dpi"}
        assert f"Trang số {i}" in p["text"] and p["dpi"] == 200 and p["rotated"] == 0
    pdf = Path(out["pdf"])
    assert pdf.name == f"{code}_1.003604-GT01_{pdf.name.rsplit('_', 1)[1]}" and pdf.parent.name == code
    data = pdf.read_bytes()
    assert hashlib.sha256(data).hexdigest() == out["sha256"]
    reader = PdfReader(pdf)
    assert len(reader.pages) == 3
    for i, page in enumerate(reader.pages, 1):  # the invisible text layer, in page order
        assert f"Trang số {i}" in page.extract_text()
    f = db.execute("SELECT * FROM archive_files").fetchall()
    assert len(f) == 1
    row = dict(zip([c[0] for c in db.execute("SELECT * FROM archive_files").description], f[0]))
    assert row["sha256"] == out["sha256"] and row["size"] == len(data) and row["pages"] == 3 and row["dpi"] == 200
    assert row["path"] == str(pdf) and row["officer"] == "Trần Thị Cán Bộ" and row["component_n"] == 1
    assert db.execute("SELECT digitized, pages FROM dossier_components WHERE n = 1").fetchone() == (1, 3)
    assert db.execute("SELECT kind, ref_id FROM outbox WHERE kind = 'file'").fetchall() == [("file", row["id"])]
    assert db.execute("SELECT count(*) FROM archive_pages WHERE file_id = ?", [row["id"]]).fetchone()[0] == 3
    shown = json.loads(run("show", code, "--json").stdout)
    assert shown["components"][0]["digitized"] == 1
    assert three[0].exists()  # files given on the command line are not moved


def test_inbox_files_move_to_done_after_commit(run, db, cfg, home, code, tmp_path):
    (home / "onestop.toml").write_text("[scan]\nsettle_seconds = 0\n")
    box = home / "inbox"
    box.mkdir()
    for i in (1, 2):
        save(numbered(i), box / f"scan-{i}.jpg")
    r = run("scan", code, "--component", 2, "--inbox", "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (box / "done").iterdir()) == ["scan-1.jpg", "scan-2.jpg"]
    assert not list(box.glob("*.jpg"))
    out = json.loads(r.stdout)
    assert [("Trang số 1" in out["pages"][0]["text"]), ("Trang số 2" in out["pages"][1]["text"])] == [True, True]


def test_scanner_jpeg_kept_without_reencoding(run, db, cfg, code, tmp_path):
    files = []
    for i in (1, 2):
        p = tmp_path / f"p{i}.jpg"
        p.write_bytes(jpeg_bytes(numbered(i), 70))
        files.append(p)
    r = run("scan", code, "--component", 2, *files, "--yes", "--json")
    assert r.exit_code == 0, r.output
    reader = PdfReader(json.loads(r.stdout)["pdf"])
    for page, f in zip(reader.pages, files):
        xo = page["/Resources"]["/XObject"]
        img = [x.get_object() for x in xo.values()][0]
        if img["/Filter"] == "/DCTDecode":
            assert img._data == f.read_bytes()
        else:  # deflated on top, losslessly
            assert list(img["/Filter"]) == ["/FlateDecode", "/DCTDecode"] and zlib.decompress(img._data) == f.read_bytes()


def test_multipage_tiff_and_scanned_pdf(run, db, cfg, code, tmp_path):
    a, b, c = numbered(1), numbered(2), numbered(3)
    tif = tmp_path / "two.tif"
    a.save(tif, save_all=True, append_images=[b], dpi=(200, 200), compression="tiff_deflate")
    pdf = tmp_path / "one.pdf"
    c.save(pdf, "PDF", resolution=200)
    r = run("scan", code, "--component", 1, tif, pdf, "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [p["n"] for p in out["pages"]] == [1, 2, 3]
    assert all(f"Trang số {i}" in p["text"] for i, p in enumerate(out["pages"], 1))
    assert out["pages"][2]["dpi"] == 200


def _text_pdf(path: Path) -> Path:
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    c = canvas.Canvas(str(path), pagesize=A5)
    c.setFont("DejaVu", 12)
    c.drawString(40, 500, "Giấy chứng nhận đăng ký hoạt động khoa học và công nghệ")
    c.showPage()
    c.save()
    return path


def test_pdf_with_text_is_kept_unless_force_ocr(run, db, cfg, tmp_path):
    code = new_dossier(db, cfg)
    src = _text_pdf(tmp_path / "dientu.pdf")
    r = run("scan", code, "--component", 1, src, "--yes", "--json")
    assert r.exit_code == 0, r.output
    [p] = json.loads(r.stdout)["pages"]
    assert p["confidence"] is None and "đăng ký hoạt động" in p["text"]
    assert db.execute("SELECT ocr FROM archive_files").fetchone()[0] == "embedded"
    r = run("scan", code, "--component", 2, src, "--yes", "--json", "--force-ocr")
    assert r.exit_code == 0, r.output
    [p] = json.loads(r.stdout)["pages"]
    assert p["confidence"] is not None and cer("Giấy chứng nhận đăng ký hoạt động khoa học và công nghệ", p["text"]) < 0.05


def test_rescan_needs_replace(run, db, cfg, code, three):
    assert run("scan", code, "--component", 1, *three, "--yes", "--json").exit_code == 0
    r = run("scan", code, "--component", 1, *three, "--yes", "--json")
    assert r.exit_code == 15 and "--replace" in r.output and "--add" in r.output  # SCAN_CONFLICT
    assert stored(db) == 1
    r = run("scan", code, "--component", 1, *three, "--yes", "--json", "--replace")
    assert r.exit_code == 0, r.output
    assert db.execute("SELECT state FROM archive_files ORDER BY id").fetchall() == [("replaced",), ("current",)]
    old, new = [Path(p) for (p,) in db.execute("SELECT path FROM archive_files ORDER BY id")]
    assert old != new and old.exists() and new.exists()  # write-once: the rescan has its own name
    hits = json.loads(run("search", "Trang số 1", "--json").stdout)
    assert len([h for h in hits if h["kind"] == "page"]) == 1
    assert run("check").exit_code == 0


def test_add_stores_a_second_current_file(run, db, cfg, code, three):
    assert run("scan", code, "--component", 3, three[0], "--yes").exit_code == 0
    r = run("scan", code, "--component", 3, *three[1:], "--yes", "--json", "--add")
    assert r.exit_code == 0, r.output
    assert db.execute("SELECT state, part, pages FROM archive_files ORDER BY id").fetchall() == [
        ("current", 1, 1), ("current", 2, 2)]
    assert db.execute("SELECT digitized, pages FROM dossier_components WHERE n = 3").fetchone() == (1, 3)
    assert run("scan", code, "--component", 3, three[0], "--yes", "--add", "--replace").exit_code == 4
    r = run("scan", code, "--component", 3, *three, "--yes", "--replace")  # replaces both parts
    assert r.exit_code == 0, r.output
    assert db.execute("SELECT state, part FROM archive_files ORDER BY id").fetchall() == [
        ("replaced", 1), ("replaced", 2), ("current", 1)]
    assert run("check").exit_code == 0


# ---------------------------------------------------------------- bad inputs

def _encrypted(p: Path) -> Path:
    w = PdfWriter()
    w.add_blank_page(420, 595)
    w.encrypt("mat-khau", algorithm="RC4-128")
    w.write(p)
    return p


def _bomb(p: Path) -> Path:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 1, 0, 0, 0, 0)
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    return p


def _truncated(p: Path) -> Path:
    data = jpeg_bytes(numbered(1), 75)
    p.write_bytes(data[: len(data) // 2])
    return p


BAD = {
    "encrypted.pdf": (_encrypted, 9, "mã hóa"),
    "cut.jpg": (_truncated, 9, "hỏng"),
    "empty.jpg": (lambda p: (p.write_bytes(b""), p)[1], 9, "rỗng"),
    "note.jpg": (lambda p: (p.write_text("Đây là ghi chú, không phải ảnh\n", "utf-8"), p)[1], 9, "văn bản"),
    "bomb.png": (_bomb, 9, "decompression bomb"),
    "lowres.png": (lambda p: save(render(dpi=100), p), 21, "dpi"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_stores_nothing_and_leaves_inbox(run, db, cfg, home, code, name, tmp_path):
    (home / "onestop.toml").write_text("[scan]\nsettle_seconds = 0\n")
    box = home / "inbox"
    box.mkdir()
    make, exit_code, words = BAD[name]
    bad = make(box / name)
    r = run("scan", code, "--component", 3, "--inbox", "--yes", "--json")  # 3 declares no page count
    assert r.exit_code == exit_code, r.output
    assert name in r.stderr and words in r.stderr
    assert "onestop: lỗi:" in r.stderr and not r.stdout.strip()
    assert stored(db) == 0 and archive_files(cfg) == []
    assert bad.exists() and not (box / "done").exists()
    assert db.execute("SELECT digitized FROM dossier_components WHERE n = 3").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'file'").fetchone() == (0,)


def test_low_dpi_allowed_with_warning(run, db, cfg, code, tmp_path):
    p = save(render(dpi=150), tmp_path / "fax.png")
    r = run("scan", code, "--component", 3, p, "--yes", "--json", "--allow-low-dpi")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["pages"][0]["dpi"] == 150 and "150 dpi" in out["warnings"][0]


def test_wrong_page_count_refused_in_yes_mode(run, db, cfg, code, three):
    r = run("scan", code, "--component", 2, *three, "--yes", "--json")  # component 2 declares 2 pages
    assert r.exit_code == 22, r.output
    assert "khai 2 trang nhưng có 3 trang" in r.stderr
    assert stored(db) == 0 and archive_files(cfg) == []


def test_unknown_dossier_and_component(run, code, three):
    assert run("scan", "000.00.12.H26-990101-0001", "--component", 1, *three, "--yes").exit_code == 3
    assert run("scan", code, "--component", 9, *three, "--yes").exit_code == 3


@pytest.mark.skipif(shutil.which("scanimage") is not None, reason="a SANE scanimage is installed here")
def test_device_without_sane_says_so(run, code):
    r = run("scan", code, "--component", 1, "--device", "auto", "--yes")
    assert r.exit_code == 24 and "scanimage" in r.stderr and "sane-utils" in r.stderr


def test_ocr_timeout_fails_cleanly(run, db, cfg, home, code, three):
    (home / "onestop.toml").write_text("[scan]\nocr_timeout = 0.01\n")
    r = run("scan", code, "--component", 1, *three, "--yes", "--json")
    assert r.exit_code == 23, r.output
    assert "quá 0 giây" in r.stderr or "ocr_timeout" in r.stderr
    assert stored(db) == 0 and archive_files(cfg) == []


def test_pdf_page_rotate_is_honoured(run, db, cfg, tmp_path):
    """A scanner PDF that shows its sideways JPEG upright with /Rotate: OCRed upright, JPEG kept."""
    from pages import rotate

    code = new_dossier(db, cfg)
    src = tmp_path / "raw.pdf"
    rotate(numbered(1), 90).save(src, "PDF", resolution=200)  # pixels turned counter-clockwise
    w = PdfWriter(clone_from=src)
    w.pages[0].rotate(90)  # the viewer turns it back clockwise
    fixed = tmp_path / "rotated.pdf"
    w.write(fixed)
    r = run("scan", code, "--component", 1, fixed, "--yes", "--json")
    assert r.exit_code == 0, r.output
    [p] = json.loads(r.stdout)["pages"]
    assert p["rotated"] == 90 and "Trang số 1" in p["text"]
    page = PdfReader(json.loads(r.stdout)["pdf"]).pages[0]
    assert "Trang số 1" in page.extract_text() and float(page.mediabox.width) > float(page.mediabox.height)


def _processes_of(home: Path) -> list[int]:
    """Live processes whose environment names this test's data home (the scan's engines inherit it)."""
    mark = f"ONESTOP_HOME={home}\0".encode()
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != __import__("os").getpid():
            try:
                if mark in (d / "environ").read_bytes() and b"ocr_worker" in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
            except OSError:
                pass
    return found


def test_scan_leaves_no_engine_running(db, cfg, home, code, three):
    """The loaded engines (ocr/ocr_worker.py) end with the command, after a good scan and a failed one."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "onestop", "scan", code, "--component", "1", *map(str, three),
                         "--yes", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert [p["text"] for p in json.loads(ok.stdout)["pages"]][0]
    (home / "onestop.toml").write_text("[scan]\nocr_timeout = 0.01\n")
    bad = subprocess.run([sys.executable, "-m", "onestop", "scan", code, "--component", "2", *map(str, three[:2]),
                          "--yes"], capture_output=True, text=True)
    assert bad.returncode == 23, bad.stderr
    assert _processes_of(home) == []

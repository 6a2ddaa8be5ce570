"""Archive PDFs are PDF/A-2b (checked requirement by requirement, tests/pdfa_check.py: no validator is
installable here), and a digitally signed PDF is archived unchanged with an OCR copy beside it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

import pdfa_check
from onestop.common import errors
from pages import jpeg_bytes, new_dossier, numbered, render, save


@pytest.fixture
def code(db, cfg):
    return new_dossier(db, cfg, pages={1: 3, 2: 1})


def _text_pdf(path: Path, *, embedded: bool = True, lines=("Giấy chứng nhận đăng ký hoạt động khoa học và công nghệ",)):
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A5)
    if embedded:
        pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
        c.setFont("DejaVu", 12)
    else:
        c.setFont("Helvetica", 12)  # one of the standard 14: never embedded by reportlab
    for i, line in enumerate(lines):
        c.drawString(40, 500 - 20 * i, line)
    c.showPage()
    c.save()
    return path


def test_scanned_pages_make_a_pdfa_2b_file(run, db, cfg, code, tmp_path):
    gray = save(numbered(1), tmp_path / "p1.png")
    colour = tmp_path / "p2.jpg"  # a scanner's colour JPEG with a red stamp (DeviceRGB kept)
    colour.write_bytes(jpeg_bytes(render(["Trang số 2 có dấu đỏ", "Hưng Yên"], dpi=200, size_mm=(105, 74),
                                         colour_stamp=True), 80))
    bw = tmp_path / "p3.png"
    numbered(3).convert("1").save(bw, dpi=(200, 200))  # black and white: 1 bit per pixel
    r = run("scan", code, "--component", 1, gray, colour, bw, "--yes", "--json")
    assert r.exit_code == 0, r.output
    pdf = Path(json.loads(r.stdout)["pdf"])
    assert pdfa_check.problems(pdf) == []
    reader = PdfReader(pdf)
    info = reader.metadata
    assert info.title.startswith(code) and info.author == "Trần Thị Cán Bộ"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert code in xmp and "Trần Thị Cán Bộ" in xmp
    icc = reader.trailer["/Root"]["/OutputIntents"][0].get_object()["/DestOutputProfile"].get_object().get_data()
    assert icc[16:20] == b"RGB " and b"sRGB" in icc
    # The text layer's font is embedded, and its text still extracts in page order.
    assert [f"Trang số {i}" in p.extract_text() for i, p in enumerate(reader.pages, 1)] == [True, True, True]


def test_same_scan_gives_the_same_bytes(db, cfg, tmp_path):
    """The document ID comes from the content, not the clock: a scan re-run after a crash
    (archive._place) finds the same bytes."""
    from onestop.archive import pages as archive, imaging

    src = imaging.probe([save(numbered(1), tmp_path / "p.png")])
    a = archive.process_pages(src, timeout=60, rotate_threshold=2, workdir=tmp_path)
    b = archive.process_pages(imaging.probe([tmp_path / "p.png"]), timeout=60, rotate_threshold=2, workdir=tmp_path)
    one, two = archive.build_pdf(a, title="T", author="A"), archive.build_pdf(b, title="T", author="A")
    assert one == two
    other = archive.build_pdf(a, title="T2", author="A")
    assert PdfReader(__import__("io").BytesIO(one)).trailer["/ID"] != PdfReader(__import__("io").BytesIO(other)).trailer["/ID"]


def test_electronic_pdf_pages_copied_only_when_they_stay_pdfa(run, db, cfg, code, tmp_path):
    good = _text_pdf(tmp_path / "nhung-font.pdf")
    r = run("scan", code, "--component", 2, good, "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["pages"][0]["confidence"] is None  # copied as is, its own text
    assert pdfa_check.problems(out["pdf"]) == []
    # A font that is not embedded cannot go into a PDF/A file: the page is rendered and OCRed instead.
    bad = _text_pdf(tmp_path / "khong-nhung.pdf", embedded=False,
                    lines=("Giay chung nhan dang ky hoat dong khoa hoc", "va cong nghe so 1205"))
    assert pdfa_check.problems(bad)  # the checker sees the unembedded font
    r = run("scan", code, "--component", 3, bad, "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["pages"][0]["confidence"] is not None and "dang ky hoat dong" in out["pages"][0]["text"]
    assert any("PDF/A" in w for w in out["warnings"])
    assert pdfa_check.problems(out["pdf"]) == []


def test_scanned_and_electronic_pages_in_one_file_keep_their_order(run, db, cfg, code, tmp_path):
    """Paper pages around a page of the citizen's electronic PDF: one PDF/A file, in the order given,
    the scanned pages under their text layer (one shared font), the electronic page as it was."""
    first, third = save(numbered(1), tmp_path / "p1.png"), save(numbered(3), tmp_path / "p3.png")
    good = _text_pdf(tmp_path / "nhung-font.pdf")
    r = run("scan", code, "--component", 1, first, good, third, "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [p["confidence"] is None for p in out["pages"]] == [False, True, False]
    assert pdfa_check.problems(out["pdf"]) == []
    reader = PdfReader(out["pdf"])
    texts = [p.extract_text() for p in reader.pages]
    assert "Trang số 1" in texts[0] and "Giấy chứng nhận đăng ký" in texts[1] and "Trang số 3" in texts[2], texts
    fonts = {reader.pages[i]["/Resources"]["/Font"].raw_get("/f-0-0").idnum for i in (0, 2)}
    assert len(fonts) == 1  # the glyph-less font is stored once


def test_checker_finds_each_missing_requirement(tmp_path):
    """The checker itself can fail: a plain PDF (Pillow's) lacks XMP, the output intent and the ID."""
    plain = tmp_path / "plain.pdf"
    numbered(1).save(plain, "PDF", resolution=200)
    found = " | ".join(pdfa_check.problems(plain))
    for what in ("no XMP metadata", "no /GTS_PDFA1 output intent", "no /ID"):
        assert what in found


# ---------------------------------------------------------------- signed PDFs

def _signer(tmp_path: Path):
    """A self-signed certificate and key (PEM files) and pyHanko's signer for them."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from pyhanko.sign import signers

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nguyễn Văn An"),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    kp, cp = tmp_path / "key.pem", tmp_path / "cert.pem"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return signers.SimpleSigner.load(str(kp), str(cp)), cp


def _signed_pdf(tmp_path: Path) -> tuple[Path, Path]:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    src = _text_pdf(tmp_path / "quyet-dinh.pdf", lines=(
        "QUYẾT ĐỊNH số 1205/QĐ-BKHCN", "Về việc cấp giấy chứng nhận đăng ký hoạt động", "khoa học và công nghệ"))
    signer, cert = _signer(tmp_path)
    out = tmp_path / "quyet-dinh-ky-so.pdf"
    with open(src, "rb") as f:
        signed = signers.sign_pdf(IncrementalPdfFileWriter(f), signers.PdfSignatureMetadata(field_name="ChuKySo"),
                                  signer=signer)
    out.write_bytes(signed.getvalue())
    return out, cert


def _signature_ok(path: Path, cert_pem: Path) -> bool:
    from asn1crypto import pem, x509 as asn1x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _, _, der = pem.unarmor(cert_pem.read_bytes())
    with open(path, "rb") as f:
        [sig] = PdfFileReader(f).embedded_signatures
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=[asn1x509.Certificate.load(der)]))
    return status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"


def test_signed_pdf_archived_unchanged_with_an_ocr_copy(run, db, cfg, code, tmp_path):
    signed, cert = _signed_pdf(tmp_path)
    assert _signature_ok(signed, cert)
    r = run("scan", code, "--component", 2, signed, "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    archived, copy = Path(out["pdf"]), Path(out["ocr_copy"])
    assert out["signed"] == ["ChuKySo"]
    # Byte for byte, and the signature still verifies on the archived file.
    assert archived.read_bytes() == signed.read_bytes()
    assert out["sha256"] == hashlib.sha256(signed.read_bytes()).hexdigest()
    assert _signature_ok(archived, cert)
    # The text layer lives in the OCR copy beside it, a PDF/A-2b file; the text is searchable.
    assert copy.parent == archived.parent and copy.name == archived.stem + ".ocr.pdf"
    assert pdfa_check.problems(copy) == []
    assert "1205" in PdfReader(copy).pages[0].extract_text()
    row = db.execute("SELECT path, ocr_copy, ocr_copy_sha256 FROM archive_files").fetchone()
    assert row == (str(archived), str(copy), hashlib.sha256(copy.read_bytes()).hexdigest())
    hits = json.loads(run("search", "dang ky hoat dong", "--json").stdout)
    assert any(h["code"] == code for h in hits)
    assert run("check").exit_code == 0  # the copy is known, not an orphan
    copy.chmod(0o600)
    copy.write_bytes(copy.read_bytes() + b"\n%")  # changed after the fact: check says so
    r = run("check", "--json")
    assert r.exit_code != 0
    assert any(p["kind"] == "checksum" and p["path"] == str(copy) for p in json.loads(r.stdout)["problems"])


def test_signed_pdf_is_never_merged_with_other_files(run, db, cfg, code, tmp_path):
    signed, _ = _signed_pdf(tmp_path)
    page = save(numbered(1), tmp_path / "p1.png")
    r = run("scan", code, "--component", 1, signed, page, "--yes", "--json")
    assert r.exit_code == errors.SCAN_REJECTED, r.output
    assert "chữ ký số" in r.stderr and "--add" in r.stderr
    assert db.execute("SELECT count(*) FROM archive_files").fetchone()[0] == 0

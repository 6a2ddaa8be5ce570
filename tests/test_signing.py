"""The agency's digital signature on archive PDFs (issue 22) with a PKCS#12 file from a test CA made
here (tests/ca.py: root → intermediate → signer, an expired and a revoked one, a CRL): a scan is
signed, stays PDF/A-2b, validates with pyHanko's validator against the test root, and carries the
visible stamp at the top right of page 1; check verifies every signature; sign signs old files as new
versions; a result must be signed before it is returned where configured; bad keys stop a scan
with exit 27 before any page is read."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

import pdfa_check
from ca import P12_PASSWORD, make_ca
from pages import new_dossier, render, save

from onestop.common import errors

AGENCY = "UBND phường Hưng Yên"  # config/onestop.toml's [agency] name is read from the config; see _agency


@pytest.fixture(scope="session")
def ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def code(db, cfg):
    return new_dossier(db, cfg, pages={1: 1, 2: 1})


def a5_page(tmp_path: Path, name: str = "giay.jpg", margin_mm: float = 20) -> Path:
    """An A5 page of a Vietnamese paper, text from the top-left margin (the top right is free)."""
    im = render(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "GIẤY XÁC NHẬN",
                 "Ông Nguyễn Văn An, sinh năm 1990"], size_mm=(148, 210), margin_mm=margin_mm, pt=12)
    return save(im, tmp_path / name)


def configure(home: Path, monkeypatch, ca, who: str = "signer", **extra) -> None:
    lines = ["[signing]", f'pkcs12 = "{ca.p12(who)}"']
    for k, v in extra.items():
        lines.append(f"{k} = {json.dumps(v, ensure_ascii=False)}")
    (home / "onestop.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("ONESTOP_SIGN_PASSWORD", P12_PASSWORD)


def roots(ca) -> dict:
    return {"trust_roots": [str(ca.root.paths["cert"])]}


def validate(path: Path, ca):
    """pyHanko's own validator, against the test root only (no network)."""
    from asn1crypto import x509 as asn1x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from cryptography.hazmat.primitives import serialization

    der = lambda c: asn1x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
    with open(path, "rb") as f:
        [sig] = PdfFileReader(f).embedded_signatures
        return validate_pdf_signature(sig, ValidationContext(
            trust_roots=[der(ca.root.cert)], other_certs=[der(ca.intermediate.cert)], allow_fetching=False))


def stamp_of(path: Path) -> tuple[list[float], str, list[float]]:
    """(the signature widget's Rect, the stamp's text, page 1's MediaBox) of the archived PDF."""
    from pypdf.generic import ContentStream

    reader = PdfReader(path)
    page = reader.pages[0]
    [annot] = [a.get_object() for a in page["/Annots"]]
    assert annot["/Subtype"] == "/Widget" and annot["/FT"] == "/Sig"
    texts = []

    def walk(xobj):
        for operands, op in ContentStream(xobj, reader).operations:
            if op == b"BDC" and len(operands) > 1 and hasattr(operands[1], "get") and "/ActualText" in operands[1]:
                texts.append(str(operands[1]["/ActualText"]))
        for x in (xobj.get("/Resources", {}).get("/XObject") or {}).values():
            walk(x.get_object())

    walk(annot["/AP"]["/N"].get_object())
    return [float(v) for v in annot["/Rect"]], "\n".join(texts), [float(v) for v in page.mediabox]


def page_words(path: Path) -> list[tuple]:
    from onestop.archive import stamp

    page = PdfReader(path).pages[0]
    return stamp.word_boxes(page.get_contents().get_data())


def test_scan_is_signed_pdfa_valid_against_the_test_root_with_the_stamp_top_right(
        run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    configure(home, monkeypatch, ca, **roots(ca))
    r = run("scan", code, "--component", 1, a5_page(tmp_path), "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    pdf = Path(out["pdf"])
    sig = out["signature"]["signatures"]
    assert out["signature"]["signed"] and [s["kind"] for s in sig] == ["agency"]
    assert sig[0]["signer"] == "Trần Thị Cán Bộ" and sig[0]["cert_serial"] == ca.signers["signer"].serial_hex
    assert sig[0]["timestamp"] == 0 and sig[0]["signed_at"].endswith("+07:00")
    # pyHanko's validator, against the test root: intact, valid, trusted, the whole file covered.
    st = validate(pdf, ca)
    assert st.intact and st.valid and st.trusted and st.coverage.name == "ENTIRE_FILE"
    assert st.signing_cert.serial_number == ca.signers["signer"].cert.serial_number
    # Still PDF/A-2b, the text layer still there.
    assert pdfa_check.problems(pdf) == []
    assert "GIẤY XÁC NHẬN" in PdfReader(pdf).pages[0].extract_text()
    # The visible stamp: page 1, top right, Vietnamese with diacritics, the time in +07:00; no word under it.
    rect, text, (x0, y0, x1, y1) = stamp_of(pdf)
    assert rect[2] > x1 - 20 and rect[3] > y1 - 20 and rect[0] > (x0 + x1) / 2, (rect, (x1, y1))
    assert "Người ký: Trần Thị Cán Bộ" in text and "Ký số:" in text
    assert re.search(r"Thời gian: \d\d/\d\d/\d{4} \d\d:\d\d:\d\d \+07:00", text), text
    agency = cfg.agency_name
    assert agency and agency in text.replace("\n", " ") or agency[:40] in text
    words = page_words(pdf)
    assert words and not any(w[0] < rect[2] and rect[0] < w[2] and w[1] < rect[3] and rect[1] < w[3] for w in words)
    # Stored: signer, serial, time, no timestamp; shown by show and show --json per component file.
    row = db.execute("SELECT kind, signer, cert_serial, timestamp, status, source FROM file_signatures").fetchall()
    assert row == [("agency", "Trần Thị Cán Bộ", ca.signers["signer"].serial_hex, 0, "valid", "pkcs12")]
    shown = json.loads(run("show", code, "--json").stdout)
    [f] = shown["components"][0]["files"]
    assert f["path"] == str(pdf) and f["signature"]["signed"] is True
    assert f["signature"]["signatures"][0]["signer"] == "Trần Thị Cán Bộ"
    assert shown["components"][1]["files"] == []
    assert "ký số (cơ quan) bởi Trần Thị Cán Bộ" in run("show", code).stdout
    r = run("check", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["signatures"] == {"signed": 1, "unsigned": 0, "configured": True}


def test_stamp_moves_down_off_text_written_to_the_top_edge(run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    configure(home, monkeypatch, ca)
    im = render(["Số: 123/GXN-UBND" + " " * 0, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM ĐỘC LẬP TỰ DO",
                 "Nội dung giấy xác nhận"], size_mm=(148, 210), margin_mm=6, pt=12)
    r = run("scan", code, "--component", 1, save(im, tmp_path / "sat-mep.jpg"), "--yes", "--json")
    assert r.exit_code == 0, r.output
    pdf = Path(json.loads(r.stdout)["pdf"])
    rect, _text, (_x0, _y0, _x1, y1) = stamp_of(pdf)
    words = page_words(pdf)
    assert rect[3] < y1 - 6 - 1  # moved down from the corner
    assert not any(w[0] < rect[2] and rect[0] < w[2] and w[1] < rect[3] and rect[1] < w[3] for w in words)
    assert pdfa_check.problems(pdf) == []


def test_a_byte_changed_after_signing_is_reported_by_check(run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    configure(home, monkeypatch, ca, **roots(ca))
    out = json.loads(run("scan", code, "--component", 1, a5_page(tmp_path), "--yes", "--json").stdout)
    pdf = Path(out["pdf"])
    data = bytearray(pdf.read_bytes())
    i = len(data) // 3  # inside the signed byte range (the page image)
    data[i] ^= 0x01
    pdf.chmod(0o600)
    pdf.write_bytes(bytes(data))
    r = run("check", "--json")
    assert r.exit_code == errors.CHECK_FAILED
    probs = json.loads(r.stdout)["problems"]
    [s] = [p for p in probs if p["kind"] == "signature"]
    assert s["code"] == code and s["component"] == 1 and s["status"] == "broken" and s["signer"] == "Trần Thị Cán Bộ"
    # Even with the database's checksum changed to match (someone who edits both), the signature says so.
    from onestop.store.sqlite import transaction

    with transaction(db):
        db.execute("UPDATE archive_files SET sha256 = ?", [hashlib.sha256(bytes(data)).hexdigest()])
    r = run("check")
    assert r.exit_code == errors.CHECK_FAILED
    assert "[signature]" in r.stderr and code in r.stderr and "thành phần 1" in r.stderr
    assert "checksum" not in r.stderr


def test_without_signing_it_works_as_before_and_says_unsigned(run, db, cfg, code, tmp_path):
    r = run("scan", code, "--component", 1, a5_page(tmp_path), "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["signature"] == {"signed": False, "signatures": []}
    assert "/Annots" not in PdfReader(out["pdf"]).pages[0]
    assert "TP 1: tệp chưa ký số" in run("show", code).stdout
    [f] = json.loads(run("show", code, "--json").stdout)["components"][0]["files"]
    assert f["signature"] == {"signed": False, "signatures": []}
    r = run("check", "--json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["signatures"] == {"signed": 0, "unsigned": 1, "configured": False}
    r = run("check")
    assert "1 tệp chưa ký (chưa cấu hình [signing])" in r.stderr
    r = run("sign", code)  # nothing to sign with: a configuration matter (exit 8), nothing changed
    assert r.exit_code == errors.CONFIG and "docs/signing.md" in r.stderr
    assert json.loads(run("show", code, "--json").stdout)["components"][0]["files"] == [f]


def test_sign_signs_old_files_as_new_versions(run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    r = run("scan", code, "--component", 1, a5_page(tmp_path), "--yes", "--json")
    old = Path(json.loads(r.stdout)["pdf"])
    before = old.read_bytes()
    configure(home, monkeypatch, ca, **roots(ca))
    r = run("check", "--json")  # signing set up: an unsigned current file is a missing signature
    assert r.exit_code == errors.CHECK_FAILED
    [p] = json.loads(r.stdout)["problems"]
    assert p["kind"] == "unsigned" and p["code"] == code and p["component"] == 1 and "onestop sign" in p["message"]
    r = run("sign", code, "--json")
    assert r.exit_code == 0, r.output
    [s] = json.loads(r.stdout)["signed"]
    new = Path(s["new_path"])
    assert new != old and new.parent == old.parent and new.name == old.stem + "_2.pdf"
    assert old.read_bytes() == before  # write-once: the old version untouched
    assert new.read_bytes()[:len(before)] == before  # an incremental update of the same PDF
    assert validate(new, ca).intact and validate(new, ca).trusted
    assert pdfa_check.problems(new) == []
    rows = db.execute("SELECT path, state FROM archive_files ORDER BY id").fetchall()
    assert rows == [(str(old), "replaced"), (str(new), "current")]
    new_id = db.execute("SELECT id FROM archive_files WHERE state = 'current'").fetchone()[0]
    assert db.execute("SELECT count(*) FROM archive_pages WHERE file_id = ?", [new_id]).fetchone()[0] == 1
    assert db.execute("SELECT kind, ref_id FROM outbox WHERE kind = 'file' ORDER BY id DESC").fetchone() == ("file", new_id)
    assert any(h["code"] == code for h in json.loads(run("search", "giấy xác nhận", "--json").stdout))
    assert run("check").exit_code == 0
    r = run("sign", "--all-unsigned", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["signed"] == []
    assert run("sign", code, "--all-unsigned").exit_code == errors.INVALID_INPUT


@pytest.mark.parametrize("case", ["expired", "wrong_password", "open_password_file", "no_password"])
def test_unusable_key_stops_the_scan_before_any_page_is_read(run, db, cfg, home, monkeypatch, code, ca, tmp_path,
                                                            case):
    if case == "expired":
        configure(home, monkeypatch, ca, "expired")
    elif case == "wrong_password":
        configure(home, monkeypatch, ca)
        monkeypatch.setenv("ONESTOP_SIGN_PASSWORD", "sai")
    else:
        pw = tmp_path / "mat-khau"
        pw.write_text(P12_PASSWORD + "\n")
        pw.chmod(0o644 if case == "open_password_file" else 0o600)
        configure(home, monkeypatch, ca, password_file=str(pw))
        monkeypatch.delenv("ONESTOP_SIGN_PASSWORD")
        if case == "no_password":
            (home / "onestop.toml").write_text(f'[signing]\npkcs12 = "{ca.p12()}"\n')
    broken = tmp_path / "hong.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a whole jpeg")  # read first, it would fail with exit 9
    r = run("scan", code, "--component", 1, broken, "--yes")
    assert r.exit_code == errors.SIGNING_UNAVAILABLE, r.output
    assert "Chưa đọc trang nào" in r.stderr
    assert {"expired": "hết hạn", "wrong_password": "sai mật khẩu", "open_password_file": "chmod 600",
            "no_password": "ONESTOP_SIGN_PASSWORD"}[case] in r.stderr
    assert P12_PASSWORD not in r.stderr
    assert db.execute("SELECT count(*) FROM archive_files").fetchone()[0] == 0
    assert not cfg.archive_dir.exists() or not any(p.is_file() for p in cfg.archive_dir.rglob("*"))


def test_a_password_file_readable_only_by_the_officer_works(run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    pw = tmp_path / "mat-khau"
    pw.write_text(P12_PASSWORD + "\n")
    pw.chmod(0o600)
    configure(home, monkeypatch, ca, password_file=str(pw))
    monkeypatch.delenv("ONESTOP_SIGN_PASSWORD")
    r = run("scan", code, "--component", 1, a5_page(tmp_path), "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["signature"]["signed"]


def test_revoked_certificate_found_by_check_in_the_crl_and_refused_for_new_scans(
        run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    configure(home, monkeypatch, ca, "revoked", **roots(ca))  # no CRL known yet: it signs
    r = run("scan", code, "--component", 1, a5_page(tmp_path), "--yes", "--json")
    assert r.exit_code == 0, r.output
    configure(home, monkeypatch, ca, "revoked", crls=[str(ca.crl)], **roots(ca))
    r = run("check", "--json")
    assert r.exit_code == errors.CHECK_FAILED
    [p] = [p for p in json.loads(r.stdout)["problems"] if p["kind"] == "signature"]
    assert p["status"] == "revoked" and p["signer"] == "Lê Văn Thu Hồi" and p["code"] == code
    r = run("scan", code, "--component", 2, a5_page(tmp_path, "p2.jpg"), "--yes")
    assert r.exit_code == errors.SIGNING_UNAVAILABLE and "thu hồi" in r.stderr


def test_untrusted_chain_is_reported(run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    configure(home, monkeypatch, ca)
    assert run("scan", code, "--component", 1, a5_page(tmp_path), "--yes").exit_code == 0
    other = make_ca(tmp_path / "other-ca")
    configure(home, monkeypatch, ca, trust_roots=[str(other.root.paths["cert"])])
    r = run("check", "--json")
    assert r.exit_code == errors.CHECK_FAILED
    assert [p["status"] for p in json.loads(r.stdout)["problems"]] == ["untrusted"]
    # The real command: one line per problem, no library log or traceback on the officer's screen.
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "onestop", "check"], capture_output=True, text=True, env=os.environ)
    assert p.returncode == errors.CHECK_FAILED
    assert "[signature]" in p.stderr and "không thuộc tổ chức cấp tin cậy" in p.stderr
    assert "Traceback" not in p.stderr and "Failed to build" not in p.stderr and "DSA" not in p.stderr


def test_a_citizens_signed_pdf_is_kept_and_its_signatures_recorded(run, db, cfg, home, monkeypatch, code, ca,
                                                                  tmp_path):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    configure(home, monkeypatch, ca, **roots(ca))
    src = Path(json.loads(run("scan", code, "--component", 2, a5_page(tmp_path), "--yes", "--json").stdout)["pdf"])
    # The citizen's own PDF signed by another holder of the test CA, then handed in.
    citizen = signers.SimpleSigner.load_pkcs12(str(ca.p12("other")), passphrase=P12_PASSWORD.encode())
    unsigned = tmp_path / "don.pdf"
    unsigned.write_bytes(_plain_pdf())
    signed = tmp_path / "don-ky-so.pdf"
    with open(unsigned, "rb") as f:
        signed.write_bytes(signers.sign_pdf(IncrementalPdfFileWriter(f), signers.PdfSignatureMetadata(
            field_name="CongDan"), signer=citizen).getvalue())
    r = run("scan", code, "--component", 1, signed, "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert Path(out["pdf"]).read_bytes() == signed.read_bytes()  # byte for byte
    [s] = out["signature"]["signatures"]
    assert s["kind"] == "citizen" and s["signer"] == "Phạm Thị Bàn Hai" and s["status"] == "valid"
    assert src.exists()
    r = run("check", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["signatures"]["signed"] == 2


def _plain_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    from onestop.archive import stamp

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVuSig", str(stamp.FONT)))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("DejaVuSig", 14)
    c.drawString(72, 760, "Đơn đề nghị cấp giấy chứng nhận")
    c.save()
    return buf.getvalue()


def test_signed_required_result_must_be_signed_before_it_is_returned(run, db, cfg, home, monkeypatch, code, ca,
                                                                     tmp_path):
    from onestop.intake import dossiers

    (home / "onestop.toml").write_text('[results]\nsigned_required = ["1.003604"]\n')
    dossiers.move(db, cfg, code, "4", render=False)
    dossiers.move(db, cfg, code, "9", render=False)
    assert run("scan", code, "--result", a5_page(tmp_path), "--yes").exit_code == 0  # no signing yet
    r = run("move", code, "10", "--yes")
    assert r.exit_code == errors.SIGNATURE_REQUIRED, r.output
    assert "ký số" in r.stderr and f"onestop sign {code}" in r.stderr
    assert db.execute("SELECT status FROM dossiers").fetchone()[0] == "9"
    configure(home, monkeypatch, ca)
    with open(home / "onestop.toml", "a") as f:
        f.write('[results]\nsigned_required = ["1.003604"]\n')
    r = run("sign", code, "--json")
    assert r.exit_code == 0, r.output
    r = run("move", code, "10", "--yes")
    assert r.exit_code == 0, r.output
    assert db.execute("SELECT status FROM dossiers").fetchone()[0] == "10"
    shown = json.loads(run("show", code, "--json").stdout)
    assert [x["signature"]["signed"] for x in shown["results"]] == [False, True]  # the old version, the new


def test_signing_settings_are_checked(run, home):
    (home / "onestop.toml").write_text('[signing]\ntrust_roots = "/etc/ssl/one.pem"\n')
    r = run("list")
    assert r.exit_code == errors.CONFIG and "trust_roots" in r.stderr


def test_a_timestamp_server_makes_it_pades_b_t(run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    from ca import serve_tsa

    url, srv = serve_tsa(ca)
    try:
        configure(home, monkeypatch, ca, tsa_url=url, **roots(ca))
        r = run("scan", code, "--component", 1, a5_page(tmp_path), "--yes", "--json")
    finally:
        srv.shutdown()
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    [s] = out["signature"]["signatures"]
    assert s["timestamp"] == 1
    st = validate(Path(out["pdf"]), ca)
    assert st.timestamp_validity is not None and st.timestamp_validity.intact and st.timestamp_validity.valid
    assert pdfa_check.problems(Path(out["pdf"])) == []
    assert db.execute("SELECT timestamp FROM file_signatures").fetchone()[0] == 1
    assert run("check").exit_code == 0
    # The server gone: the scan stops with exit 27 and stores nothing.
    r = run("scan", code, "--component", 2, a5_page(tmp_path, "p2.jpg"), "--yes")
    assert r.exit_code == errors.SIGNING_UNAVAILABLE and "tsa_url" in r.stderr
    assert db.execute("SELECT count(*) FROM archive_files").fetchone()[0] == 1


def test_a_citizens_unsigned_pdf_is_made_pdfa_and_signed(run, db, cfg, home, monkeypatch, code, ca, tmp_path):
    configure(home, monkeypatch, ca, **roots(ca))
    src = tmp_path / "don.pdf"
    src.write_bytes(_plain_pdf())
    r = run("scan", code, "--component", 1, src, "--yes", "--json")
    assert r.exit_code == 0, r.output
    pdf = Path(json.loads(r.stdout)["pdf"])
    assert validate(pdf, ca).trusted and pdfa_check.problems(pdf) == []
    assert "Đơn đề nghị" in PdfReader(pdf).pages[0].extract_text()
    assert stamp_of(pdf)[0][3] > 800  # top right of the A4 page


def test_pyhanko_is_not_loaded_by_the_counter_commands_modules():
    """P1: the counter's commands (and scan/check/show without signed files) never import pyHanko."""
    import subprocess
    import sys

    code = ("import sys, onestop.cli.intake, onestop.cli.dossiers, onestop.cli.archive, onestop.cli.signing, "
            "onestop.archive.scan, onestop.archive.check, onestop.archive.resign, onestop.intake.lookup; "
            "print(sorted(m for m in sys.modules if m.startswith(('pyhanko', 'pkcs11', 'fontTools'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.postgresql_only
def test_office_desks_sign_with_their_own_keys_and_the_signer_is_recorded(pg_url, home, monkeypatch, run, ca,
                                                                         tmp_path):
    """Two desks on one office database, each with its own [signing] in its own data home: each file
    records whoever signed it; `check` on either desk verifies both."""
    from onestop import store

    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    monkeypatch.setattr(store, "COMMANDS_ON_POSTGRESQL", True)
    r = run("receive", "-p", "1.003604", "--name", "Lê Văn Tám", "--id", "001085012345", "--all-components",
            "--json")
    assert r.exit_code == 0, r.stderr
    code = json.loads(r.stdout)["code"]
    configure(home, monkeypatch, ca, **roots(ca))
    assert run("scan", code, "--component", 1, a5_page(tmp_path), "--yes").exit_code == 0
    second = tmp_path / "desk2"
    second.mkdir()
    monkeypatch.setenv("ONESTOP_HOME", str(second))
    monkeypatch.setenv("ONESTOP_OFFICER", "Phạm Thị Bàn Hai")
    configure(second, monkeypatch, ca, "other", **roots(ca))
    r = run("scan", code, "--component", 2, a5_page(tmp_path, "p2.jpg"), "--yes")
    assert r.exit_code == 0, r.output
    shown = json.loads(run("show", code, "--json").stdout)
    signers = [c["files"][0]["signature"]["signatures"][0]["signer"] for c in shown["components"][:2]]
    assert signers == ["Trần Thị Cán Bộ", "Phạm Thị Bàn Hai"]
    r = run("check", "--json")
    assert json.loads(r.stdout)["signatures"]["signed"] == 2

"""P14 (online accept within 1.5× a paper receive): what the speed-ups must not change, with real
processes. The archive helper of ``online accept`` (sync/portal_early.py) loads pypdf without its
``cryptography`` provider, and the portal login runs on a thread of the command (sync/portal.py
``EarlyLogin``); behaviour stays that of ``scan`` and of the portal contract."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys


from online_helpers import P2, srv, text_pdf  # noqa: F401 - srv: a fixture


def onestop(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "onestop", *args], env=dict(os.environ), capture_output=True,
                          text=True, timeout=300)


def _aes256(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    for page in PdfReader(io.BytesIO(data)).pages:
        w.add_page(page)
    w.encrypt("mat-khau", algorithm="AES-256")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_encrypted_citizen_pdf_is_refused_as_at_scan(db, srv, rows):
    """An AES-256 PDF needs pypdf's cryptography provider, which the helper does not load: the command
    stores the files itself and the archive refuses the PDF as ``scan`` does (exit 9, "mã hóa"); the
    take stands, the portal is not told; with the file fixed at the portal the take is finished."""
    dvc = "DVC-2026-000901"
    good = text_pdf("Đơn đề nghị cấp lại giấy chứng nhận số 901")
    srv.portal.add(dvc, P2, files=[("don.pdf", f"{P2}-GT01", _aes256(good))])
    assert onestop("online", "pull").returncode == 0
    r = onestop("online", "accept", dvc, "--json")
    assert r.returncode == 9, r.stderr
    assert "mã hóa" in r.stderr
    assert rows("SELECT channel FROM dossiers") == [("2",)]
    assert rows("SELECT count(*) FROM archive_files") == [(0,)]
    assert srv.portal.takes == 0 and srv.portal.violations == []


def test_accept_tells_the_portal_after_the_files(db, srv, rows):
    """The login runs on a thread while the helper archives; the acknowledgement still goes once
    both files are stored: the portal is told once, and the strict portal sees no violation."""
    dvc = "DVC-2026-000902"
    srv.portal.add(dvc, P2, files=[("don.pdf", f"{P2}-GT01", text_pdf("Đơn đề nghị số 902")),
                                   ("xn.pdf", f"{P2}-GT03", text_pdf("Giấy xác nhận số 902"))])
    assert onestop("online", "pull").returncode == 0
    r = onestop("online", "accept", dvc, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["portal"]["sent"] == 1 and len(out["files"]) == 2
    assert rows("SELECT count(*) FROM archive_files WHERE state = 'current'") == [(2,)]
    assert srv.portal.taken() == {dvc: out["code"]} and srv.portal.takes == 1
    assert srv.portal.violations == []

"""An online dossier's files at its take, with the agency's signature configured (issues 22 and 23):
a citizen's unsigned PDF is archived as PDF/A signed by the agency, one the citizen signed is kept byte
for byte with its signature recorded; the portal's files are still not uploaded again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import pdfa_check
from ministry_server import MinistryServer
from online_helpers import P2, text_pdf
from sync_helpers import point_at, write_sync_config
from test_signing import ca, validate  # noqa: F401 - the test CA (session)
from ca import P12_PASSWORD


@pytest.fixture
def srv(home, monkeypatch, ca):  # noqa: F811
    with MinistryServer() as s:
        write_sync_config(home)
        with (home / "onestop.toml").open("a", encoding="utf-8") as f:
            f.write(f'\n[signing]\npkcs12 = "{ca.p12("signer")}"\ntrust_roots = ["{ca.root.paths["cert"]}"]\n')
        monkeypatch.setenv("ONESTOP_SIGN_PASSWORD", P12_PASSWORD)
        point_at(monkeypatch, s.url)
        yield s


def _citizen_signed_pdf(ca) -> bytes:  # noqa: F811
    """A PDF the citizen signed electronically (with the CA's other signer), as the portal keeps it."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12(str(ca.p12("other")), passphrase=P12_PASSWORD.encode())
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(text_pdf("Văn bản xác nhận đã ký số"))),
                     signers.PdfSignatureMetadata(field_name="CongDan"), signer=signer, output=out)
    return out.getvalue()


def test_an_online_take_archives_signed_copies(run, db, cfg, srv, rows, ca):  # noqa: F811
    signed_by_citizen = _citizen_signed_pdf(ca)
    srv.portal.add("DVC-SIGN-1", P2, files=[("don.pdf", f"{P2}-GT01", text_pdf("Đơn đề nghị cấp lại giấy chứng nhận")),
                                             ("xac-nhan.pdf", f"{P2}-GT03", signed_by_citizen)])
    assert run("online", "pull").exit_code == 0
    r = run("online", "accept", "DVC-SIGN-1", "--json")
    assert r.exit_code == 0, r.stderr
    code = json.loads(r.stdout)["code"]
    comps = {c["n"]: c for c in json.loads(run("show", code, "--json").stdout)["components"]}
    files = {n: [f for f in c.get("files") or [] if f["state"] == "current"] for n, c in comps.items()}
    [unsigned_one] = next(v for v in files.values() if v and v[0]["signature"]["signatures"][0]["kind"] == "agency")
    [kept] = next(v for v in files.values() if v and v[0]["signature"]["signatures"][0]["kind"] == "citizen")
    path = Path(unsigned_one["path"])
    assert validate(path, ca).bottom_line  # the agency's signature holds against the test root
    assert pdfa_check.problems(path) == []  # still PDF/A-2b
    assert hashlib.sha256(Path(kept["path"]).read_bytes()).digest() == hashlib.sha256(signed_by_citizen).digest()
    assert run("check").exit_code == 0
    assert run("sync").exit_code == 0
    assert srv.portal.violations == [] and sum(srv.state.uploads.values()) == 0  # the portal's files, not re-sent

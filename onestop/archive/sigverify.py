"""Verifying the signatures of an archive PDF (issue 22): ``onestop check``, a citizen's signed PDF
when it is archived, and ``sign`` before it signs a file again.

Each signature is checked for integrity (the signed bytes unchanged, the cryptographic signature
valid), the certificate's validity at the signing time (the timestamp's time when there is one, else
the time the signer claims), and, with ``[signing] trust_roots``, its chain up to one of those roots
and its revocation in the CRLs of ``[signing] crls`` (files; nothing is fetched from the network, so
`check` works offline). ``status`` is one of: valid, broken, expired, revoked, untrusted.
"""

from __future__ import annotations

import io
import logging
import warnings
from datetime import datetime, timezone
from pathlib import Path

from onestop.common.config import Config
from onestop.common.errors import ConfigError

# pyHanko imports cryptography's DSA support, which warns on stderr at every verifying command; and
# it logs a failed chain with its traceback, which Python would print on stderr: onestop reports
# the outcome itself (status untrusted, exit 10), in the officer's language.
warnings.filterwarnings("ignore", message="DSA is deprecated")
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False

STATUS_VI = {"valid": "hợp lệ", "broken": "bị phá vỡ (tệp bị sửa sau khi ký)", "expired": "chứng thư hết hạn lúc ký",
             "revoked": "chứng thư đã bị thu hồi", "untrusted": "chứng thư không thuộc tổ chức cấp tin cậy",
             "modified": "tệp bị thêm nội dung sau khi ký"}


def configured(cfg: Config) -> bool:
    """Whether this desk signs its archive PDFs (``[signing] pkcs12`` or ``pkcs11_lib``)."""
    return bool(cfg.get_local("signing.pkcs12") or cfg.get_local("signing.pkcs11_lib"))


def _files(cfg: Config, key: str) -> list[Path]:
    v = cfg.get_local(f"signing.{key}") or []
    if isinstance(v, str):
        v = [v]
    out = []
    for s in v:
        p = Path(str(s)).expanduser()
        out.append(p if p.is_absolute() else cfg.home / p)
    return out


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ConfigError(f"Không đọc được {path} ([signing] {key}): {e.strerror or e}.",
                          f"Cannot read {path} ([signing] {key}): {e.strerror or e}.") from e


def _pem_or_der(data: bytes) -> list[bytes]:
    from asn1crypto import pem

    if pem.detect(data):
        return [der for _t, _h, der in pem.unarmor(data, multiple=True)]
    return [data]


def trust_roots(cfg: Config) -> list:
    """The certificates of ``[signing] trust_roots`` (PEM or DER files); [] when none is set."""
    from asn1crypto import x509

    return [x509.Certificate.load(der) for p in _files(cfg, "trust_roots") for der in _pem_or_der(_read(p, "trust_roots"))]


def crls(cfg: Config) -> list:
    """The CRLs of ``[signing] crls`` (PEM or DER files)."""
    from asn1crypto import crl

    return [crl.CertificateList.load(der) for p in _files(cfg, "crls") for der in _pem_or_der(_read(p, "crls"))]


def verify(data: bytes, cfg: Config, *, roots: list | None = None, revocations: list | None = None) -> list[dict]:
    """Every signature of the PDF ``data``: field, signer, cert_serial, signed_at, timestamp, status,
    and ``covers_file`` (the last signature: whether it covers the whole file). ``roots``/``revocations``: already loaded ones."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = trust_roots(cfg) if roots is None else roots
    revocations = crls(cfg) if revocations is None else revocations
    try:
        sigs = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception:  # noqa: BLE001 - not a PDF pyHanko can read: every signature is lost
        return [{"field": "", "signer": "", "cert_serial": "", "signed_at": None, "timestamp": 0,
                 "status": "broken", "covers_file": False}]
    out = []
    for i, sig in enumerate(sigs):
        cert = sig.signer_cert
        ts = _timestamp(sig)
        at = ts or sig.self_reported_timestamp or datetime.now(timezone.utc)
        rec = {"field": sig.field_name,
               "signer": str(cert.subject.native.get("common_name") or cert.subject.human_friendly),
               "cert_serial": format(cert.serial_number, "x"), "signed_at": at.isoformat(),
               "timestamp": int(ts is not None)}
        vc = ValidationContext(trust_roots=list(roots), crls=list(revocations), allow_fetching=False, moment=at,
                               revocation_mode="hard-fail" if revocations else "soft-fail",
                               other_certs=list(sig.other_embedded_certs))
        try:
            st = validate_pdf_signature(sig, vc, skip_diff=True)
            intact, valid = st.intact, st.valid
            covers = st.coverage == SignatureCoverageLevel.ENTIRE_FILE
            revoked, trusted = st.revoked, st.trusted
        except Exception:  # noqa: BLE001 - a signature pyHanko cannot even parse is broken
            intact = valid = covers = trusted = False
            revoked = False
        validity = cert["tbs_certificate"]["validity"]
        in_time = validity["not_before"].native <= at <= validity["not_after"].native
        if not (intact and valid):
            status = "broken"
        elif revoked:
            status = "revoked"
        elif not in_time:
            status = "expired"
        elif roots and not trusted:
            status = "untrusted"
        else:
            status = "valid"
        rec.update(status=status, covers_file=covers if i == len(sigs) - 1 else True)
        out.append(rec)
    return out


def _timestamp(sig) -> datetime | None:
    """The time of the signature's timestamp token (PAdES B-T), or None."""
    for attr in sig.signer_info["unsigned_attrs"] or []:
        if attr["type"].native == "signature_time_stamp_token":
            try:
                return attr["values"][0]["content"]["encap_content_info"]["content"].parsed["gen_time"].native
            except Exception:  # noqa: BLE001 - a token that cannot be read: no trusted time
                return None
    return None


def check_files(db, cfg: Config, rows: list[dict], *, verify: bool) -> dict:
    """`onestop check`'s part: every signature recorded for the archive files ``rows`` (files_to_check)
    verified again; a current file without one is a problem once this desk signs ([signing] set).
    Returns {"problems": [...], "signed": n, "unsigned": n, "configured": bool}."""
    from onestop.store import signatures as store

    signs = configured(cfg)
    recorded = store.of_files(db, [r["id"] for r in rows])
    problems, signed, unsigned = [], 0, 0
    roots = revocations = None
    for r in rows:
        if r["state"] == "lost":
            continue
        sigs = recorded.get(r["id"]) or []
        where = f"hồ sơ {r['code']}, " + (f"kết quả {-r['component_n']}" if r["component_n"] < 0
                                          else f"thành phần {r['component_n']}")
        base = {"code": r["code"], "component": r["component_n"], "path": r["path"], "file_id": r["id"]}
        if not sigs:
            if r["state"] == "current":
                unsigned += 1
                if signs:
                    problems.append(dict(base, kind="unsigned", message=(
                        f"Tệp {r['path']} ({where}) chưa được ký số (lưu trước khi cấu hình [signing]). Ký bằng "
                        f"'onestop sign {r['code']}' (hoặc 'onestop sign --all-unsigned'): tệp ký là một phiên bản mới.")))
            continue
        signed += r["state"] == "current"
        p = Path(r["path"])
        if not verify or not p.is_file():
            continue  # a missing file is reported by check itself
        if roots is None:
            roots, revocations = trust_roots(cfg), crls(cfg)
        found = {s["field"]: s for s in verify_pdf_file(p, cfg, roots, revocations)}
        for s in sigs:
            now = found.get(s["field"])
            status = now["status"] if now else "broken"
            if now and s["kind"] == "agency" and not now["covers_file"]:
                status = "modified"
            if status == "valid" or (s["kind"] == "citizen" and status == s["status"]):
                continue  # a citizen's signature is reported once it changes from what was archived
            who = "của cơ quan" if s["kind"] == "agency" else "của công dân"
            problems.append(dict(base, kind="signature", signer=s["signer"], status=status, message=(
                f"Chữ ký số {who} ({s['signer']}, số sê-ri {s['cert_serial']}) trên tệp {r['path']} ({where}): "
                f"{STATUS_VI[status]}. Khôi phục tệp từ bản sao lưu; nếu chứng thư có vấn đề, ký lại bằng chứng "
                f"thư hợp lệ hoặc quét lại với --replace.")))
    return {"problems": problems, "signed": signed, "unsigned": unsigned, "configured": signs}


def verify_pdf_file(path: Path, cfg: Config, roots, revocations) -> list[dict]:
    try:
        data = path.read_bytes()
    except OSError:
        return []
    return verify(data, cfg, roots=roots, revocations=revocations)

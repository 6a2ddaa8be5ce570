"""The agency's digital signature on every archive PDF onestop writes (issue 22, docs/signing.md).

A copy digitized from paper has legal value once the digitizing agency signs it (NĐ 30/2020/NĐ-CP
Art. 25). ``load_signer(cfg)`` opens the desk's signing key once per command, before any page is
read: a PKCS#12 file (``[signing] pkcs12``, its password from ``ONESTOP_SIGN_PASSWORD`` or an
owner-only ``password_file``) or a PKCS#11 token (``pkcs11_lib``, ``token_label``, ``key_label``; the
PIN from ``ONESTOP_SIGN_PIN`` or asked once at the terminal). A key that cannot be used (no token,
wrong PIN or password, expired or revoked certificate) stops the command with exit 27 before
anything is read or stored. ``sign_archive_pdf(pdf, signer)`` is THE function every archive write
calls: it adds a PAdES signature (B-B, or B-T with ``tsa_url``) as an incremental update after the
PDF/A and text layer, with a visible stamp at the top right of page 1 (stamp.py), and returns the
signed bytes with the signature's record (signatures are stored by store/signatures.py).

pyHanko is imported here only, and only when signing is configured (P1: command start-up).
"""

from __future__ import annotations

import warnings
import getpass
import io
import os
import stat
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from onestop.common.config import Config

# pyHanko imports cryptography's DSA support, which warns on stderr at every signing command.
warnings.filterwarnings("ignore", message="DSA is deprecated")
from onestop.archive.sigverify import configured  # noqa: F401  (callers ask signing.configured)
from onestop.common.errors import SigningUnavailable

PASSWORD_ENV = "ONESTOP_SIGN_PASSWORD"
PIN_ENV = "ONESTOP_SIGN_PIN"
FIELD = "OnestopSignature"
VN = timezone(timedelta(hours=7), "+07:00")  # the stamp's time: Vietnam's, whatever the desk's clock zone


@dataclass
class ArchiveSigner:
    """An opened signing key: pyHanko's signer and what is recorded of it."""

    signer: object                       # pyhanko.sign.signers.Signer
    name: str                            # the certificate's subject common name
    serial: str                          # certificate serial, hex
    not_after: datetime
    source: str                          # "pkcs12" or "pkcs11"
    agency: str = ""
    timestamper: object | None = None    # pyhanko HTTPTimeStamper (tsa_url) or None
    session: object | None = field(default=None, repr=False)

    def close(self) -> None:
        """Log out of and close a token session (a PKCS#12 key has nothing to close)."""
        if self.session is not None:
            try:
                self.session.close()
            except Exception:  # noqa: BLE001 - the token may be gone already
                pass
            self.session = None


def _path(cfg: Config, value: str) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else cfg.home / p


def _unavailable(vi: str, en: str) -> SigningUnavailable:
    return SigningUnavailable(vi + " Chưa đọc trang nào, chưa có gì được lưu.",
                              en + " No page was read and nothing was stored.")


def load_signer(cfg: Config) -> ArchiveSigner | None:
    """The desk's signing key, opened and checked (certificate valid now, not in a configured CRL),
    or None when signing is not configured. Exit 27 (SigningUnavailable) when it cannot be used."""
    if not configured(cfg):
        return None
    if cfg.get_local("signing.pkcs12"):
        s = _load_pkcs12(cfg)
    else:
        s = _load_pkcs11(cfg)
    try:
        _check_certificate(cfg, s)
    except BaseException:
        s.close()
        raise
    s.agency = cfg.agency_name or ""
    tsa = cfg.get_local("signing.tsa_url")
    if tsa:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        s.timestamper = HTTPTimeStamper(tsa, timeout=float(cfg.get_local("signing.tsa_timeout", 10)))
    return s


def _password(cfg: Config) -> bytes:
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV].encode()
    pf = cfg.get_local("signing.password_file")
    if not pf:
        raise _unavailable(
            f"Chưa có mật khẩu của tệp PKCS#12: đặt biến môi trường {PASSWORD_ENV} hoặc [signing] password_file "
            f"(tệp chỉ cán bộ đọc được, chmod 600).",
            f"No password for the PKCS#12 file: set {PASSWORD_ENV} or [signing] password_file (a file only the "
            f"officer can read, chmod 600).")
    p = _path(cfg, pf)
    try:
        mode = p.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise _unavailable(
                f"Tệp mật khẩu {p} để người khác đọc được (quyền {stat.S_IMODE(mode):o}): mật khẩu ký số phải chỉ "
                f"cán bộ đọc được. Chạy 'chmod 600 {p}', đổi mật khẩu nếu nghi đã lộ, rồi làm lại.",
                f"The password file {p} is readable by others (mode {stat.S_IMODE(mode):o}): a signing password must "
                f"be readable by the officer only. Run 'chmod 600 {p}', change the password if it may have leaked, "
                f"then do it again.")
        return p.read_bytes().rstrip(b"\r\n")
    except OSError as e:
        raise _unavailable(f"Không đọc được tệp mật khẩu {p}: {e.strerror or e}.",
                           f"Cannot read the password file {p}: {e.strerror or e}.") from e


def _load_pkcs12(cfg: Config) -> ArchiveSigner:
    from pyhanko.sign.signers import SimpleSigner

    path = _path(cfg, cfg.get_local("signing.pkcs12"))
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _unavailable(f"Không đọc được tệp chứng thư số {path} ([signing] pkcs12): {e.strerror or e}.",
                           f"Cannot read the certificate file {path} ([signing] pkcs12): {e.strerror or e}.") from e
    try:
        signer = SimpleSigner.load_pkcs12_data(data, (), passphrase=_password(cfg))
    except ValueError as e:
        raise _unavailable(
            f"Không mở được tệp PKCS#12 {path}: sai mật khẩu hoặc tệp hỏng. Kiểm tra {PASSWORD_ENV} / "
            f"[signing] password_file.",
            f"Cannot open the PKCS#12 file {path}: wrong password or a damaged file. Check {PASSWORD_ENV} / "
            f"[signing] password_file.") from e
    return _wrap(signer, "pkcs12")


def _wrap(signer, source: str, session=None) -> ArchiveSigner:
    cert = signer.signing_cert
    cn = cert.subject.native.get("common_name") or cert.subject.human_friendly
    return ArchiveSigner(signer, str(cn), format(cert.serial_number, "x"),
                         cert["tbs_certificate"]["validity"]["not_after"].native, source, session=session)


def _pin(cfg: Config, label: str) -> str:
    if os.environ.get(PIN_ENV):
        return os.environ[PIN_ENV]
    if sys.stdin.isatty():
        pin = getpass.getpass(f"Mã PIN của thiết bị ký số '{label}' / PIN of token '{label}': ", stream=sys.stderr)
        if pin:
            return pin
    raise _unavailable(
        f"Chưa có mã PIN của thiết bị ký số '{label}': nhập khi được hỏi (chạy ở cửa sổ dòng lệnh), hoặc đặt "
        f"{PIN_ENV} cho việc chạy tự động.",
        f"No PIN for the signing token '{label}': type it when asked (at a terminal), or set {PIN_ENV} for "
        f"unattended runs.")


def _load_pkcs11(cfg: Config) -> ArchiveSigner:
    lib = str(_path(cfg, cfg.get_local("signing.pkcs11_lib")))
    label = str(cfg.get_local("signing.token_label", "") or "")
    key_label = str(cfg.get_local("signing.key_label", "") or "")
    if not Path(lib).is_file():
        raise _unavailable(f"Không có thư viện PKCS#11 {lib} ([signing] pkcs11_lib): cài trình điều khiển của "
                           f"thiết bị ký số (hoặc sửa đường dẫn).",
                           f"The PKCS#11 library {lib} ([signing] pkcs11_lib) is not there: install the token's "
                           f"driver (or fix the path).")
    import pkcs11
    from pyhanko.sign import pkcs11 as p11
    from pyhanko.config.pkcs11 import TokenCriteria

    try:
        plib = p11.p11_lib(lib)
        token = p11.find_token(plib.get_slots(), token_criteria=TokenCriteria(label=label or None))
    except Exception as e:  # noqa: BLE001 - a driver that cannot load or list its slots
        raise _unavailable(f"Không dùng được thư viện PKCS#11 {lib}: {e}.",
                           f"The PKCS#11 library {lib} cannot be used: {e}.") from e
    if token is None:
        raise _unavailable(
            f"Không thấy thiết bị ký số '{label}' ([signing] token_label). Cắm thiết bị vào máy rồi làm lại.",
            f"The signing token '{label}' ([signing] token_label) is not there. Plug it in and do it again.")
    pin = _pin(cfg, label or token.label)
    try:
        session = token.open(user_pin=pin)
    except pkcs11.PinLocked as e:
        raise _unavailable(f"Thiết bị ký số '{label}' đã bị khóa mã PIN (nhập sai quá nhiều lần). Liên hệ nơi cấp "
                           f"chứng thư để mở khóa.",
                           f"The signing token '{label}' is PIN-locked (too many wrong PINs). Ask the certificate's "
                           f"issuer to unlock it.") from e
    except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as e:
        raise _unavailable(f"Sai mã PIN của thiết bị ký số '{label}'. Nhập lại cho đúng (nhập sai nhiều lần "
                           f"thiết bị sẽ khóa).",
                           f"Wrong PIN for the signing token '{label}'. Type it again (too many wrong PINs lock "
                           f"the token).") from e
    except pkcs11.PKCS11Error as e:
        raise _unavailable(f"Không mở được thiết bị ký số '{label}': {type(e).__name__}.",
                           f"Cannot open the signing token '{label}': {type(e).__name__}.") from e
    try:
        # other_certs_to_pull=None: every certificate on the token (its CA chain) goes into the signature,
        # so `check` builds the chain up to [signing] trust_roots.
        signer = p11.PKCS11Signer(session, key_label=key_label or None, cert_label=key_label or None,
                                  other_certs_to_pull=None)
        signer.signing_cert  # noqa: B018 - pulls the certificate now: a missing one fails here, not mid-scan
    except Exception as e:  # noqa: BLE001
        session.close()
        raise _unavailable(
            f"Thiết bị ký số '{label}' không có khóa/chứng thư '{key_label}' ([signing] key_label): {e}.",
            f"The signing token '{label}' has no key/certificate '{key_label}' ([signing] key_label): {e}.") from e
    return _wrap(signer, "pkcs11", session)


def _check_certificate(cfg: Config, s: ArchiveSigner) -> None:
    """Refuse a certificate that is expired now, or revoked in a CRL of ``[signing] crls``."""
    now = datetime.now(timezone.utc)
    if s.not_after < now:
        raise _unavailable(
            f"Chứng thư số của {s.name} (số sê-ri {s.serial}) đã hết hạn ngày {s.not_after:%d/%m/%Y}: chữ ký sẽ "
            f"không có giá trị. Gia hạn chứng thư (hoặc dùng chứng thư khác) rồi làm lại.",
            f"The certificate of {s.name} (serial {s.serial}) expired on {s.not_after:%Y-%m-%d}: a signature "
            f"would not be valid. Renew it (or use another) and do it again.")
    cert = s.signer.signing_cert
    if cert["tbs_certificate"]["validity"]["not_before"].native > now:
        raise _unavailable(f"Chứng thư số của {s.name} chưa có hiệu lực.",
                           f"The certificate of {s.name} is not valid yet.")
    from onestop.archive import sigverify

    for crl in sigverify.crls(cfg):
        if crl["tbs_cert_list"]["issuer"] != cert.issuer:
            continue
        for rc in crl["tbs_cert_list"]["revoked_certificates"] or []:
            if rc["user_certificate"].native == cert.serial_number:
                raise _unavailable(
                    f"Chứng thư số của {s.name} (số sê-ri {s.serial}) đã bị thu hồi (danh sách CRL): không ký "
                    f"bằng nó nữa. Xin cấp chứng thư mới.",
                    f"The certificate of {s.name} (serial {s.serial}) is revoked (CRL): it no longer signs. "
                    f"Get a new certificate.")


def sign_archive_pdf(pdf: bytes, signer: ArchiveSigner, *, text_boxes: list[tuple] | None = None,
                     reason: str = "Số hóa từ bản giấy") -> tuple[bytes, dict]:
    """Sign the archive PDF ``pdf`` (already PDF/A with its text layer) with ``signer``; returns the
    signed bytes (the original bytes followed by an incremental update: still PDF/A-2b) and the
    signature's record (kind, field, signer, cert_serial, signed_at, timestamp, status).

    The visible stamp (agency, signer, time +07:00) goes at the top right of page 1, moved down
    until it covers none of ``text_boxes`` (page 1's words, points; read from onestop's own text
    layer when not given)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from onestop.archive import stamp

    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    # Keep the document's Info and XMP as the PDF/A writer made them: pyHanko would append its name to
    # the Info producer only and rewrite the XMP, and PDF/A wants both to agree (ISO 19005-2 6.6.2.3).
    w._update_meta = lambda: None
    page = w.root["/Pages"]["/Kids"][0].get_object()
    while "/Kids" in page:  # a page tree of several levels
        page = page["/Kids"][0].get_object()
    box = stamp.place(page, text_boxes)
    at = datetime.now(VN).replace(microsecond=0)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, name=signer.name, location=signer.agency or None)
    ps = signers.PdfSigner(meta, signer=signer.signer, timestamper=signer.timestamper,
                           stamp_style=stamp.style(),
                           new_field_spec=fields.SigFieldSpec(FIELD, on_page=0, box=box))
    out = io.BytesIO()
    try:
        ps.sign_pdf(w, output=out, appearance_text_params=stamp.text_params(signer, at))
    except Exception as e:  # noqa: BLE001 - a token pulled out mid-scan, a timestamp server that is down
        raise SigningUnavailable(
            f"Không ký số được tệp lưu trữ ({type(e).__name__}: {e}). Kiểm tra thiết bị ký số"
            + (" và máy chủ dấu thời gian ([signing] tsa_url)" if signer.timestamper else "")
            + " rồi làm lại; chưa có gì được lưu.",
            f"The archive file could not be signed ({type(e).__name__}: {e}). Check the signing token"
            + (" and the timestamp server ([signing] tsa_url)" if signer.timestamper else "")
            + " and do it again; nothing was stored.") from e
    return out.getvalue(), {
        "kind": "agency", "field": FIELD, "signer": signer.name, "cert_serial": signer.serial,
        "signed_at": at.isoformat(), "timestamp": int(signer.timestamper is not None), "status": "valid",
        "source": signer.source}


def citizen_signatures(data: bytes, cfg: Config) -> list[dict]:
    """The signatures of a citizen's signed PDF, verified (sigverify.py), as rows to store."""
    from onestop.archive import sigverify

    return [dict(s, kind="citizen", source=None, desk=None) for s in sigverify.verify(data, cfg)]


def public(sigs: list[dict]) -> dict:
    """A file's signature state for `scan --json` (store.signatures.public: the same as `show`)."""
    from onestop.store import signatures

    return signatures.public(sigs)

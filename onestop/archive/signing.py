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

import getpass
import io
import logging
import os
import stat
import sys
import threading
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

from onestop.archive.sigverify import configured  # noqa: F401  (callers ask signing.configured)
from onestop.common.config import Config
from onestop.common.errors import SigningUnavailable

# pyHanko imports cryptography's DSA support, which warns on stderr at every signing command; and
# it logs a failed chain with its traceback, which Python would print on stderr: onestop reports
# the outcome itself (status untrusted, exit 10), in the officer's language.
warnings.filterwarnings("ignore", message="DSA is deprecated")
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False

PASSWORD_ENV = "ONESTOP_SIGN_PASSWORD"
PIN_ENV = "ONESTOP_SIGN_PIN"
FIELD = "OnestopSignature"
VN = timezone(timedelta(hours=7), "+07:00")  # the stamp's time: Vietnam's, whatever the desk's clock zone


class ArchiveSigner:
    """An opened, checked signing key and what is recorded of it. pyHanko's signer (``signer``) is
    built in a background thread started at once (``_warm``): the scan's OCR runs meanwhile, so the
    library's import (~0.5 s) does not add to the scan's wall time (P13)."""

    def __init__(self, name: str, serial: str, source: str, build, *, session=None, agency: str = "",
                 tsa_url: str = "", tsa_timeout: float = 10.0):
        self.name, self.serial, self.source = name, serial, source  # certificate holder (CN), serial (hex)
        self.agency, self.session = agency, session
        self.tsa_url, self.tsa_timeout = tsa_url, tsa_timeout
        self._build, self._signer, self._error = build, None, None
        self.timestamper = None
        self._thread = threading.Thread(target=self._warm, name="onestop-signer", daemon=True)
        self._thread.start()

    def _warm(self) -> None:
        try:
            self._signer = self._build()
            if self.tsa_url:
                from pyhanko.sign.timestamps import HTTPTimeStamper

                self.timestamper = HTTPTimeStamper(self.tsa_url, timeout=self.tsa_timeout)
            from onestop.archive import stamp

            stamp.style()  # imports the font and layout modules now, not when the first file is signed
            import pyhanko.pdf_utils.incremental_writer  # noqa: F401
        except BaseException as e:  # noqa: BLE001 - reported when the signer is used
            self._error = e

    @property
    def signer(self):
        """pyHanko's signer (waits for the background build; its failure is exit 27)."""
        self._thread.join()
        if self._error is not None:
            e = self._error
            raise SigningUnavailable(f"Không chuẩn bị được khóa ký số ({type(e).__name__}: {e}). Chưa có gì được lưu.",
                                     f"The signing key could not be prepared ({type(e).__name__}: {e}). Nothing was "
                                     f"stored.") from e
        return self._signer

    def close(self) -> None:
        """Close a token session (a PKCS#12 key has nothing to close), once the background build ended."""
        self._thread.join()
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
    or None when signing is not configured. Exit 27 (SigningUnavailable) when it cannot be used.
    Only ``cryptography`` and ``python-pkcs11`` are used here; pyHanko loads in the background."""
    if not configured(cfg):
        return None
    if cfg.get_local("signing.pkcs12"):
        cert, source, build, session = _load_pkcs12(cfg)
    else:
        cert, source, build, session = _load_pkcs11(cfg)
    try:
        _check_certificate(cfg, cert)
    except BaseException:
        if session is not None:
            session.close()
        raise
    from cryptography.x509.oid import NameOID

    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return ArchiveSigner(str(cn[0].value) if cn else cert.subject.rfc4514_string(), format(cert.serial_number, "x"),
                         source, build, session=session, agency=cfg.agency_name or "",
                         tsa_url=cfg.get_local("signing.tsa_url") or "",
                         tsa_timeout=float(cfg.get_local("signing.tsa_timeout", 10)))


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


def _load_pkcs12(cfg: Config):
    """(certificate, "pkcs12", build, None): the file opened with its password now; pyHanko's signer built later."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    path = _path(cfg, cfg.get_local("signing.pkcs12"))
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _unavailable(f"Không đọc được tệp chứng thư số {path} ([signing] pkcs12): {e.strerror or e}.",
                           f"Cannot read the certificate file {path} ([signing] pkcs12): {e.strerror or e}.") from e
    password = _password(cfg)
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, password)
        if key is None or cert is None:
            raise ValueError("no key or certificate")
    except ValueError as e:
        raise _unavailable(
            f"Không mở được tệp PKCS#12 {path}: sai mật khẩu hoặc tệp hỏng. Kiểm tra {PASSWORD_ENV} / "
            f"[signing] password_file.",
            f"Cannot open the PKCS#12 file {path}: wrong password or a damaged file. Check {PASSWORD_ENV} / "
            f"[signing] password_file.") from e

    def build():
        return _simple_signer(key, cert, chain)

    return cert, "pkcs12", build, None


def _simple_signer(key, cert, chain):
    """pyHanko's SimpleSigner for a key already loaded by ``cryptography``, which signs with that key
    object: pyHanko's own loads the key again from DER at every signature, twice per file, and an RSA
    key's load checks the key (~0.13 s each on these machines)."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1 as asn1_cert
    from pyhanko.keys.internal import translate_pyca_cryptography_key_to_asn1 as asn1_key
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class Signer(SimpleSigner):
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mech = self.get_signature_mechanism_for_digest(digest_algorithm)["algorithm"].native
            hash_algo = get_pyca_cryptography_hash(digest_algorithm)
            if mech in ("rsassa_pkcs1v15", "sha256_rsa", "sha384_rsa", "sha512_rsa") and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), hash_algo)
            if mech.endswith("ecdsa") and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(hash_algo))
            return super().sign_raw(data, digest_algorithm)

    store = SimpleCertificateStore()
    store.register_multiple([asn1_cert(c) for c in chain or ()])
    return Signer(signing_key=asn1_key(key), signing_cert=asn1_cert(cert), cert_registry=store)


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


def _load_pkcs11(cfg: Config):
    """(certificate, "pkcs11", build, session): the token found, logged in and its key and certificate
    found now (python-pkcs11); pyHanko's signer built later on the same session."""
    lib = str(_path(cfg, cfg.get_local("signing.pkcs11_lib")))
    label = str(cfg.get_local("signing.token_label", "") or "")
    key_label = str(cfg.get_local("signing.key_label", "") or "")
    if not Path(lib).is_file():
        raise _unavailable(f"Không có thư viện PKCS#11 {lib} ([signing] pkcs11_lib): cài trình điều khiển của "
                           f"thiết bị ký số (hoặc sửa đường dẫn).",
                           f"The PKCS#11 library {lib} ([signing] pkcs11_lib) is not there: install the token's "
                           f"driver (or fix the path).")
    import pkcs11
    from cryptography import x509
    from pkcs11 import Attribute, ObjectClass

    try:
        plib = pkcs11.lib(lib)
        tokens = [s.get_token() for s in plib.get_slots(token_present=True)]
    except Exception as e:  # noqa: BLE001 - a driver that cannot load or list its slots
        raise _unavailable(f"Không dùng được thư viện PKCS#11 {lib}: {e}.",
                           f"The PKCS#11 library {lib} cannot be used: {e}.") from e
    token = next((t for t in tokens if not label or t.label == label), None)
    if token is None:
        raise _unavailable(
            f"Không thấy thiết bị ký số '{label}' ([signing] token_label). Cắm thiết bị vào máy rồi làm lại.",
            f"The signing token '{label}' ([signing] token_label) is not there. Plug it in and do it again.")
    label = label or token.label
    pin = _pin(cfg, label)
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
        session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_label or None)
        found = list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                          **({Attribute.LABEL: key_label} if key_label else {})}))
        if len(found) != 1:
            raise pkcs11.NoSuchKey(f"{len(found)} certificates")
        cert = x509.load_der_x509_certificate(bytes(found[0][Attribute.VALUE]))
    except Exception as e:  # noqa: BLE001 - no such key, several, an unreadable certificate
        session.close()
        raise _unavailable(
            f"Thiết bị ký số '{label}' không có (đúng một) khóa và chứng thư '{key_label}' ([signing] key_label): "
            f"{type(e).__name__} {e}.",
            f"The signing token '{label}' has not (exactly one) key and certificate '{key_label}' ([signing] "
            f"key_label): {type(e).__name__} {e}.") from e

    def build():
        from pyhanko.sign import pkcs11 as p11

        # other_certs_to_pull=None: every certificate on the token (its CA chain) goes into the signature,
        # so `check` builds the chain up to [signing] trust_roots.
        signer = p11.PKCS11Signer(session, key_label=key_label or None, cert_label=key_label or None,
                                  other_certs_to_pull=None)
        signer.signing_cert  # noqa: B018 - pulls the certificates now
        return signer

    return cert, "pkcs11", build, session


def _check_certificate(cfg: Config, cert) -> None:
    """Refuse a certificate (``cryptography``'s) that is expired or not yet valid now, or revoked in a
    CRL of ``[signing] crls``."""
    from cryptography.x509.oid import NameOID

    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name, serial = (cn[0].value if cn else cert.subject.rfc4514_string()), format(cert.serial_number, "x")
    now = datetime.now(timezone.utc)
    if cert.not_valid_after_utc < now:
        raise _unavailable(
            f"Chứng thư số của {name} (số sê-ri {serial}) đã hết hạn ngày {cert.not_valid_after_utc:%d/%m/%Y}: chữ "
            f"ký sẽ không có giá trị. Gia hạn chứng thư (hoặc dùng chứng thư khác) rồi làm lại.",
            f"The certificate of {name} (serial {serial}) expired on {cert.not_valid_after_utc:%Y-%m-%d}: a "
            f"signature would not be valid. Renew it (or use another) and do it again.")
    if cert.not_valid_before_utc > now:
        raise _unavailable(f"Chứng thư số của {name} chưa có hiệu lực.", f"The certificate of {name} is not valid yet.")
    if not cfg.get_local("signing.crls"):
        return
    from onestop.archive import sigverify

    issuer = cert.issuer.public_bytes()
    for crl in sigverify.crls(cfg):
        if crl["tbs_cert_list"]["issuer"].dump() != issuer:
            continue
        for rc in crl["tbs_cert_list"]["revoked_certificates"] or []:
            if rc["user_certificate"].native == cert.serial_number:
                raise _unavailable(
                    f"Chứng thư số của {name} (số sê-ri {serial}) đã bị thu hồi (danh sách CRL): không ký "
                    f"bằng nó nữa. Xin cấp chứng thư mới.",
                    f"The certificate of {name} (serial {serial}) is revoked (CRL): it no longer signs. "
                    f"Get a new certificate.")


def sign_archive_pdf(pdf: bytes, signer: ArchiveSigner, *, text_boxes: list[tuple] | None = None,
                     reason: str = "Số hóa từ bản giấy") -> tuple[bytes, dict]:
    """Sign the archive PDF ``pdf`` (already PDF/A with its text layer) with ``signer``; returns the
    signed bytes (the original bytes followed by an incremental update: still PDF/A-2b) and the
    signature's record (kind, field, signer, cert_serial, signed_at, timestamp, status).

    The visible stamp (agency, signer, time +07:00) goes at the top right of page 1, moved down
    until it covers none of ``text_boxes`` (page 1's words, points; read from onestop's own text
    layer when not given)."""
    pyhanko_signer = signer.signer  # waits for the background build (exit 27 if it failed)
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
    ps = signers.PdfSigner(meta, signer=pyhanko_signer, timestamper=signer.timestamper,
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

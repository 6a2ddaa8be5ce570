"""A test certificate authority made in the tests (issue 22): a root, an intermediate, and signers
issued by the intermediate: ``signer`` (valid), ``expired`` (its validity ended yesterday) and
``revoked`` (listed in the intermediate's CRL). Written with the ``cryptography`` package as files a
desk would get from its CA: PEM certificates, a CRL, a PKCS#12 per signer (key + certificate + chain),
and the DER private key to import into a PKCS#11 token (softhsm.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

P12_PASSWORD = "mật-khẩu-thử"
CRL_URL = "http://ca.test.invalid/intermediate.crl"


@dataclass
class Issued:
    name: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def serial_hex(self) -> str:
        return format(self.cert.serial_number, "x")


@dataclass
class TestCA:
    folder: Path
    root: Issued
    intermediate: Issued
    signers: dict[str, Issued]
    crl: Path

    def p12(self, who: str = "signer") -> Path:
        return self.signers[who].paths["p12"]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND Phường Thử Nghiệm"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(cn: str, key, issuer: Issued | None, *, ca: bool, start: datetime, end: datetime,
          serial: int, tsa: bool = False) -> x509.Certificate:
    b = (x509.CertificateBuilder().subject_name(_name(cn))
         .issuer_name(issuer.cert.subject if issuer else _name(cn))
         .public_key(key.public_key()).serial_number(serial)
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    elif tsa:  # a timestamp authority: time stamping only, critical (RFC 3161 2.3)
        b = (b.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True))
    else:
        # Where the CRL is published, as a real CA's certificates say (checked offline from [signing] crls).
        cdp = x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)
        b = (b.add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
             .add_extension(x509.CRLDistributionPoints([cdp]), critical=False))
    if issuer:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    return b.sign(issuer.key if issuer else key, hashes.SHA256())


def make_ca(folder: Path) -> TestCA:
    """Root → intermediate → signer / expired / revoked, the CRL, PEM and PKCS#12 files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    rk = _key()
    root = Issued("root", _cert("Test Root CA Onestop", rk, None, ca=True, start=now - timedelta(days=3650),
                                end=now + timedelta(days=3650), serial=1), rk)
    ik = _key()
    inter = Issued("intermediate", _cert("Test Intermediate CA Onestop", ik, root, ca=True,
                                         start=now - timedelta(days=1000), end=now + timedelta(days=1000),
                                         serial=2), ik)
    signers = {}
    for i, (who, cn, start, end) in enumerate([
            ("signer", "Trần Thị Cán Bộ", now - timedelta(days=30), now + timedelta(days=365)),
            ("expired", "Nguyễn Văn Hết Hạn", now - timedelta(days=400), now - timedelta(days=1)),
            ("revoked", "Lê Văn Thu Hồi", now - timedelta(days=30), now + timedelta(days=365)),
            ("other", "Phạm Thị Bàn Hai", now - timedelta(days=30), now + timedelta(days=365)),
            ("tsa", "Máy chủ dấu thời gian thử", now - timedelta(days=30), now + timedelta(days=365))], 10):
        k = _key()
        signers[who] = Issued(who, _cert(cn, k, inter, ca=False, start=start, end=end, serial=0x5A000 + i,
                                         tsa=who == "tsa"), k)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(inter.cert.subject)
           .last_update(now - timedelta(hours=1)).next_update(now + timedelta(days=7))
           .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                    .serial_number(signers["revoked"].cert.serial_number)
                                    .revocation_date(now - timedelta(days=2)).build())
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ik.public_key()), critical=False)
           .add_extension(x509.CRLNumber(1), critical=False)
           .sign(ik, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    for who in (root, inter, *signers.values()):
        p = folder / f"{who.name}.pem"
        p.write_bytes(who.cert.public_bytes(pem))
        who.paths["cert"] = p
    for s in signers.values():
        p = folder / f"{s.name}.p12"
        p.write_bytes(pkcs12.serialize_key_and_certificates(
            s.name.encode(), s.key, s.cert, [inter.cert, root.cert],
            serialization.BestAvailableEncryption(P12_PASSWORD.encode())))
        p.chmod(0o600)
        s.paths["p12"] = p
        d = folder / f"{s.name}.key.der"
        d.write_bytes(s.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        s.paths["key_der"] = d
    crl_path = folder / "intermediate.crl"
    crl_path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return TestCA(folder, root, inter, signers, crl_path)


def serve_tsa(ca: TestCA):
    """An RFC 3161 timestamp server on 127.0.0.1 (a real HTTP server; pyHanko's DummyTimeStamper answers
    with the test CA's ``tsa`` certificate). Returns (url, server); ``server.shutdown()`` stops it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from asn1crypto import keys, tsp, x509 as asn1x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    der = serialization.Encoding.DER
    t = ca.signers["tsa"]
    stamper = DummyTimeStamper(
        tsa_cert=asn1x509.Certificate.load(t.cert.public_bytes(der)),
        tsa_key=keys.PrivateKeyInfo.load(t.key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption())),
        certs_to_embed=[asn1x509.Certificate.load(ca.intermediate.cert.public_bytes(der))])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}/tsa", srv

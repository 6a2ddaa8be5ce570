"""The ministry's server over HTTPS (sync/transport.py ``tls_context``): a real TLS server on 127.0.0.1
with a certificate from a CA made here. Trusted through ``[sync] ca_file`` or through the system's
hashed CA folder (``SSL_CERT_DIR``, where ``update-ca-certificates`` puts an office's CA); a server
whose certificate is not trusted gets nothing, at once (exit 8, not five retries), with a message
that says what to install. And a refused login no longer crashes the online commands (exit 1):
``online pull`` exits 8, a take stands and says the portal will be told."""

from __future__ import annotations

import json
import ssl
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ministry_server import MinistryServer
from online_helpers import seed, srv  # noqa: F401 - srv: a fixture
from sync_helpers import make_dossiers, point_at, write_sync_config


def _cert(folder: Path) -> tuple[Path, Path, Path]:
    """(CA PEM, server certificate PEM, server key PEM): a CA and a certificate for 127.0.0.1."""
    now = datetime.now(timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA thử của Bộ")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    import ipaddress

    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.fixture
def tls(tmp_path, home, monkeypatch):
    """(server, CA PEM path): the test ministry server (and portal) behind TLS on 127.0.0.1."""
    folder = tmp_path / "pki"
    folder.mkdir()
    ca, cert, key = _cert(folder)
    s = MinistryServer()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    s.httpd.socket = ctx.wrap_socket(s.httpd.socket, server_side=True)
    s.url = s.url.replace("http://", "https://")
    s.portal.base = s.url
    with s:
        point_at(monkeypatch, s.url)
        yield s, ca


def _store_with(folder: Path, ca: Path | None) -> Path:
    """A system-style CA folder with OpenSSL's hash links (as update-ca-certificates leaves /etc/ssl/certs)."""
    folder.mkdir()
    if ca is not None:
        (folder / "bo-ca.pem").write_bytes(ca.read_bytes())
    subprocess.run(["openssl", "rehash", str(folder)], check=True, capture_output=True)
    return folder


def _sent(s) -> int:
    return s.state.stats()["creates"]


def _dossiers(n: int = 2):
    from onestop.common import config
    from onestop.intake import catalog
    from onestop.store import connect

    cfg = config.load()
    db = connect(cfg)
    catalog.ensure_loaded(db, cfg.catalog_file)
    return make_dossiers(db, cfg, n, moves=False)


def test_sync_over_https_with_the_ca_file_set(tls, home, run):
    s, ca = tls
    write_sync_config(home, ca_file=str(ca))
    codes = _dossiers()
    r = run("sync")
    assert r.exit_code == 0, r.output
    assert set(codes) <= set(s.state.dossiers)


def test_sync_over_https_trusts_the_systems_ca_folder(tls, home, run, tmp_path, monkeypatch):
    s, ca = tls
    write_sync_config(home)
    monkeypatch.setenv("SSL_CERT_DIR", str(_store_with(tmp_path / "certs", ca)))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    codes = _dossiers()
    r = run("sync")
    assert r.exit_code == 0, r.output
    assert set(codes) <= set(s.state.dossiers)


def test_an_untrusted_certificate_sends_nothing_and_says_what_to_install(tls, home, run, tmp_path, monkeypatch, rows):
    s, _ca = tls
    write_sync_config(home, retries=5, backoff=2.0)  # a temporary failure would wait ~1 min: this must not
    monkeypatch.setenv("SSL_CERT_DIR", str(_store_with(tmp_path / "certs", None)))  # the CA is not installed
    codes = _dossiers()
    r = run("--lang", "en", "sync")
    assert r.exit_code == 8, r.output
    assert "not trusted" in r.stderr and "ca_file" in r.stderr and "update-ca-certificates" in r.stderr
    assert _sent(s) == 0 and not set(codes) & set(s.state.dossiers)
    assert rows("SELECT count(*) FROM outbox WHERE state = 'done'")[0][0] == 0  # nothing counted as synced
    r = run("--lang", "en", "online", "pull")
    assert r.exit_code == 8 and "not trusted" in r.stderr, r.output


def test_tls_context_prefers_the_hashed_folder_and_keeps_verifying(tmp_path, monkeypatch):
    from onestop.sync.transport import tls_context

    monkeypatch.setenv("SSL_CERT_DIR", str(_store_with(tmp_path / "certs", None)))
    ctx = tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "missing"))  # no hashed folder: a bundle file instead
    ctx = tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.get_ca_certs()  # the bundle's CAs are loaded


def test_a_refused_login_is_said_not_crashed(srv, home, run, monkeypatch):
    portal = srv
    seed(portal.portal, 2)
    assert run("online", "pull").exit_code == 0
    monkeypatch.setenv("ONESTOP_SYNC_PASSWORD", "sai-mat-khau")
    r = run("--lang", "en", "online", "pull")
    assert r.exit_code == 8 and "refused the login" in r.stderr, r.output
    r = run("--lang", "en", "online", "accept", "DVC-2026-000001", "--json")
    assert r.exit_code == 0, r.output  # taken here: the code is issued and printed
    out = json.loads(r.stdout)
    assert out["code"] and out["portal"]["sent"] == 0 and out["portal"]["login_refused"]
    assert "warning" in r.stderr and "ONESTOP_SYNC_PASSWORD" in r.stderr
    r = run("--lang", "en", "online", "refuse", "DVC-2026-000002", "--reason", "Sai thủ tục")
    assert r.exit_code == 0 and "ONESTOP_SYNC_PASSWORD" in r.stderr, r.output
    assert not portal.portal.taken() and not portal.portal.refused()  # nothing told while the login is refused
    point_at(monkeypatch, portal.url)  # the password fixed
    r = run("online", "pull")  # the password fixed: both owed acknowledgements go
    assert r.exit_code == 0, r.output
    assert set(portal.portal.taken()) == {"DVC-2026-000001"} and set(portal.portal.refused()) == {"DVC-2026-000002"}
    assert portal.portal.violations == []

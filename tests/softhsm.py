"""A real PKCS#11 token for the signing tests (issue 22): SoftHSM2 (the Debian package ``softhsm2``,
which `make test` installs), with its own configuration and token folder in a temporary folder
(``SOFTHSM2_CONF``), a token initialised with ``softhsm2-util`` and a test CA signer's key and
certificate imported through PKCS#11 itself (python-pkcs11), as a CA would deliver a USB token."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

LIBS = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")
SO_PIN = "12345678"


def library() -> str | None:
    """The SoftHSM2 PKCS#11 module, or None when the package is not installed."""
    return next((p for p in LIBS if os.path.isfile(p)), None) if shutil.which("softhsm2-util") else None


def make_token(folder: Path, label: str, pin: str, issued, chain=(), key_label: str = "ky-so") -> dict:
    """A token ``label`` in ``folder`` holding ``issued``'s (tests/ca.py) key and certificate under
    ``key_label``, and the CA certificates ``chain``; sets SOFTHSM2_CONF for this process and returns what [signing] needs."""
    from cryptography.hazmat.primitives import serialization
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.util.rsa import decode_rsa_private_key

    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = dict(os.environ, SOFTHSM2_CONF=str(conf))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin],
                   env=env, check=True, capture_output=True)
    # The library reads SOFTHSM2_CONF once, when this process first loads it (python-pkcs11 and pyHanko
    # keep it loaded): so one token folder per test process, set before any test loads the library.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    lib = pkcs11.lib(library())
    token = lib.get_token(token_label=label)
    with token.open(rw=True, user_pin=pin) as s:
        der = issued.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption())
        attrs = decode_rsa_private_key(der)
        attrs.update({Attribute.LABEL: key_label, Attribute.ID: b"\x01", Attribute.TOKEN: True,
                      Attribute.SIGN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True})
        s.create_object(attrs)
        s.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                         Attribute.LABEL: key_label, Attribute.ID: b"\x01", Attribute.TOKEN: True,
                         Attribute.VALUE: issued.cert.public_bytes(serialization.Encoding.DER),
                         Attribute.SUBJECT: issued.cert.subject.public_bytes()})
        for i, c in enumerate(chain, 2):  # the CA's certificates, as a CA's token carries them (embedded in signatures)
            s.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                             Attribute.LABEL: f"ca-{i}", Attribute.ID: bytes([i]), Attribute.TOKEN: True,
                             Attribute.VALUE: c.public_bytes(serialization.Encoding.DER),
                             Attribute.SUBJECT: c.subject.public_bytes()})
    return {"conf": str(conf), "lib": library(), "label": label, "key_label": key_label, "pin": pin}

"""Signing through a real PKCS#11 token (issue 22): SoftHSM2 set up by the test itself (its own
SOFTHSM2_CONF and token folder in a temporary folder, tests/softhsm.py), holding the key and
certificate of the test CA's signer (tests/ca.py), used the way an officer's USB token is:
``[signing] pkcs11_lib``, ``token_label``, ``key_label`` and the PIN from ``ONESTOP_SIGN_PIN``
(or asked once at a terminal). A token that is absent, PIN-locked (the one fault SoftHSM2 cannot
make: a stand-in driver) or a wrong PIN stops the scan with exit 27
before any page is read. `make test` installs softhsm2 and sets ONESTOP_TEST_NO_SKIP, so there
nothing here is skipped; elsewhere the tests skip only when the package is missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pypdf import PdfReader

import pdfa_check
import softhsm
from ca import make_ca
from pages import new_dossier
from test_signing import a5_page, stamp_of, validate

from onestop.common import errors

PIN = "246810"
LABEL = "onestop-thu"


@pytest.fixture(scope="session")
def token(tmp_path_factory):
    if softhsm.library() is None:
        if os.environ.get("ONESTOP_TEST_NO_SKIP"):
            pytest.fail("softhsm2 is not installed: `make test` installs it (Makefile DEBS)")
        pytest.skip("the Debian package softhsm2 is not installed (make test installs it)")
    folder = tmp_path_factory.mktemp("softhsm")
    ca = make_ca(folder / "ca")
    return ca, softhsm.make_token(folder, LABEL, PIN, ca.signers["signer"], chain=[ca.intermediate.cert])


@pytest.fixture
def code(db, cfg):
    return new_dossier(db, cfg, pages={1: 1, 2: 1})


def configure(home: Path, monkeypatch, tok: dict, ca, *, label: str = LABEL, pin: str | None = PIN) -> None:
    (home / "onestop.toml").write_text(
        f'[signing]\npkcs11_lib = "{tok["lib"]}"\ntoken_label = "{label}"\nkey_label = "{tok["key_label"]}"\n'
        f'trust_roots = ["{ca.root.paths["cert"]}"]\n', encoding="utf-8")
    if pin is None:
        monkeypatch.delenv("ONESTOP_SIGN_PIN", raising=False)
    else:
        monkeypatch.setenv("ONESTOP_SIGN_PIN", pin)


def test_scan_signed_through_a_softhsm_token(run, db, cfg, home, monkeypatch, code, token, tmp_path):
    ca, tok = token
    configure(home, monkeypatch, tok, ca)
    r = run("scan", code, "--component", 1, a5_page(tmp_path), "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    pdf = Path(out["pdf"])
    [s] = out["signature"]["signatures"]
    assert s["signer"] == "Trần Thị Cán Bộ" and s["cert_serial"] == ca.signers["signer"].serial_hex
    st = validate(pdf, ca)
    assert st.intact and st.valid and st.trusted and st.coverage.name == "ENTIRE_FILE"
    assert pdfa_check.problems(pdf) == []
    rect, text, (_x0, _y0, x1, y1) = stamp_of(pdf)
    assert rect[2] > x1 - 20 and rect[3] > y1 - 20 and "Người ký: Trần Thị Cán Bộ" in text
    assert db.execute("SELECT source, signer FROM file_signatures").fetchall() == [("pkcs11", "Trần Thị Cán Bộ")]
    assert run("check").exit_code == 0


@pytest.mark.parametrize("case", ["wrong_pin", "absent_token", "no_pin_no_terminal", "missing_library"])
def test_token_problems_stop_the_scan_before_any_page_is_read(run, db, cfg, home, monkeypatch, code, token,
                                                             tmp_path, case):
    ca, tok = token
    if case == "wrong_pin":
        configure(home, monkeypatch, tok, ca, pin="000000")
    elif case == "absent_token":
        configure(home, monkeypatch, tok, ca, label="khong-cam")
    elif case == "no_pin_no_terminal":
        configure(home, monkeypatch, tok, ca, pin=None)
    else:
        configure(home, monkeypatch, dict(tok, lib=str(tmp_path / "khong-co.so")), ca)
    broken = tmp_path / "hong.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a whole jpeg")  # were it read, the scan would fail with exit 9
    r = run("scan", code, "--component", 1, broken, "--yes")
    assert r.exit_code == errors.SIGNING_UNAVAILABLE, r.output
    assert {"wrong_pin": "Sai mã PIN", "absent_token": "Cắm thiết bị", "no_pin_no_terminal": "ONESTOP_SIGN_PIN",
            "missing_library": "pkcs11_lib"}[case] in r.stderr
    assert "000000" not in r.stderr and PIN not in r.stderr
    assert db.execute("SELECT count(*) FROM archive_files").fetchone()[0] == 0
    assert not cfg.archive_dir.exists() or not any(p.is_file() for p in cfg.archive_dir.rglob("*"))


def test_sign_all_unsigned_through_the_token(run, db, cfg, home, monkeypatch, code, token, tmp_path):
    ca, tok = token
    assert run("scan", code, "--component", 1, a5_page(tmp_path), "--yes").exit_code == 0
    assert run("scan", code, "--component", 2, a5_page(tmp_path, "p2.jpg"), "--yes").exit_code == 0
    configure(home, monkeypatch, tok, ca)
    r = run("sign", "--all-unsigned", "--json")
    assert r.exit_code == 0, r.output
    signed = json.loads(r.stdout)["signed"]
    assert sorted(s["component"] for s in signed) == [1, 2]
    for s in signed:
        assert validate(Path(s["new_path"]), ca).trusted
    assert run("check").exit_code == 0


def test_a_pin_locked_token_stops_the_scan(run, db, cfg, home, monkeypatch, code, token, tmp_path):
    """SoftHSM2 never locks a PIN, so this one fault is made by a stand-in for the token's driver: the
    token answers CKR_PIN_LOCKED (python-pkcs11's PinLocked) when the session is opened."""
    import pkcs11

    ca, tok = token
    configure(home, monkeypatch, tok, ca)

    class Locked:
        label = LABEL

        def open(self, **kw):
            raise pkcs11.PinLocked()

    class Slot:
        def get_token(self):
            return Locked()

    class Lib:
        def get_slots(self, token_present=False):
            return [Slot()]

    monkeypatch.setattr(pkcs11, "lib", lambda path: Lib())
    broken = tmp_path / "hong.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a whole jpeg")
    r = run("scan", code, "--component", 1, broken, "--yes")
    assert r.exit_code == errors.SIGNING_UNAVAILABLE, r.output
    assert "bị khóa mã PIN" in r.stderr and "Chưa đọc trang nào" in r.stderr
    assert db.execute("SELECT count(*) FROM archive_files").fetchone()[0] == 0


def test_the_pin_is_asked_once_per_command_at_a_terminal(run, db, cfg, home, monkeypatch, code, token, tmp_path):
    from terminal import Terminal

    ca, tok = token
    assert run("scan", code, "--component", 1, a5_page(tmp_path), "--yes").exit_code == 0
    assert run("scan", code, "--component", 2, a5_page(tmp_path, "p2.jpg"), "--yes").exit_code == 0
    configure(home, monkeypatch, tok, ca, pin=None)  # no ONESTOP_SIGN_PIN: asked at the terminal
    term = Terminal("sign", "--all-unsigned")
    term.expect(f"Mã PIN của thiết bị ký số '{LABEL}'")
    term.send(PIN)
    assert term.wait() == 0, term.seen
    assert term.seen.count("Mã PIN") == 1  # once for both files
    assert PIN not in term.seen  # not echoed
    assert "Đã ký 2 tệp" in term.seen
    assert db.execute("SELECT count(*) FROM file_signatures WHERE source = 'pkcs11'").fetchone()[0] == 2

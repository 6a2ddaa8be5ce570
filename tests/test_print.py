"""`receive --print` hands the receipt to CUPS `lp` (a stand-in `lp` records the call: no printer here)."""

import json
import os
import stat


def _fake_lp(tmp_path, rc=0):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    lp = bin_ / "lp"
    lp.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/lp.args"\necho "lp: no default destination" >&2\nexit {rc}\n')
    lp.chmod(lp.stat().st_mode | stat.S_IEXEC)
    return bin_


ARGS = ["receive", "-p", "1.003584", "--name", "An", "--id", "001085012345", "--all-components", "--print", "--json"]


def test_print_sends_the_receipt_to_lp(run, tmp_path, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    monkeypatch.setenv("PATH", f"{_fake_lp(tmp_path)}:{os.environ['PATH']}")
    r = run(*ARGS)
    assert r.exit_code == 0
    assert (tmp_path / "lp.args").read_text().strip() == json.loads(r.stdout)["receipt"]


def test_printer_failure_is_a_message_not_a_lost_dossier(run, db, tmp_path, monkeypatch, rows):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    monkeypatch.setenv("PATH", f"{_fake_lp(tmp_path, rc=1)}:{os.environ['PATH']}")
    r = run(*ARGS)
    assert r.exit_code == 0 and "In không thành công" in r.stderr
    assert rows("SELECT count(*) FROM dossiers")[0][0] == 1


def test_no_lp_installed(run, tmp_path, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = run(*ARGS)
    assert r.exit_code == 0 and "lp" in r.stderr

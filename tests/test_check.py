"""`onestop check` and crash safety: a scan killed between the PDF's rename and the database commit
leaves an orphan that `check` reports; nothing is lost, and running the scan again completes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pages import new_dossier, numbered, save


@pytest.fixture
def code(db, cfg):
    return new_dossier(db, cfg)


@pytest.fixture
def pages2(tmp_path):
    return [save(numbered(i), tmp_path / f"p{i}.png") for i in (1, 2)]


def _check(run):
    """(exit code, report without the signature counts of docs/signing.md)."""
    r = run("check", "--json")
    rep = json.loads(r.stdout)
    rep.pop("signatures", None)
    return r.exit_code, rep


def test_clean_archive_passes(run, code, pages2):
    assert run("scan", code, "--component", 1, *pages2, "--yes").exit_code == 0
    rc, rep = _check(run)
    assert rc == 0 and rep == {"ok": True, "files": 1, "problems": [], "rescan": [], "documents": []}
    # no [signing]: the file is counted as unsigned, not a problem (docs/signing.md)
    assert json.loads(run("check", "--json").stdout)["signatures"] == {"signed": 0, "unsigned": 1, "configured": False}
    assert run("check").exit_code == 0


@pytest.mark.slow
def test_crash_between_rename_and_commit(run, db, cfg, home, code, pages2):
    (home / "onestop.toml").write_text("[scan]\nsettle_seconds = 0\n")
    box = home / "inbox"
    box.mkdir()
    for p in pages2:
        p.rename(box / p.name)
    env = dict(os.environ, ONESTOP_FAULT="scan-after-rename")
    p = subprocess.run([sys.executable, "-m", "onestop", "scan", code, "--component", "1", "--inbox", "--yes", "--json"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 70, p.stderr
    pdfs = list(cfg.archive_dir.rglob("*.pdf"))
    assert len(pdfs) == 1  # the file was written and renamed ...
    assert db.execute("SELECT count(*) FROM archive_files").fetchone() == (0,)  # ... but never committed
    # The killed scan's claim still holds the inbox files; nothing was lost.
    [claim] = (box / ".claims").glob("run-*")
    assert sorted(q.name for q in claim.glob("*.png")) == ["p1.png", "p2.png"]
    rc, rep = _check(run)
    assert rc == 10 and [x["kind"] for x in rep["problems"]] == ["orphan", "stale_claim"]
    assert rep["problems"][0]["path"] == str(pdfs[0]) and rep["problems"][1]["files"] == ["p1.png", "p2.png"]
    r = run("check")
    assert r.exit_code == 10 and "onestop scan" in r.stderr
    # Running the same scan again returns the files to the inbox and completes it: the orphan holds
    # exactly the PDF it makes, so it is taken over (never overwritten).
    before = pdfs[0].stat().st_ino
    r = run("scan", code, "--component", 1, "--inbox", "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["pdf"] == str(pdfs[0]) and pdfs[0].stat().st_ino == before
    assert _check(run) == (0, {"ok": True, "files": 1, "problems": [], "rescan": [], "documents": []})
    assert not list((box / ".claims").glob("run-*"))
    assert sorted(q.name for q in (box / "done").iterdir()) == ["p1.png", "p2.png"]


def test_check_finds_each_kind_of_damage(run, db, cfg, code, pages2, tmp_path):
    code2 = new_dossier(db, cfg, name="Lê Đức Thắng")
    for c in (code, code2):
        assert run("scan", c, "--component", 1, *pages2, "--yes").exit_code == 0
    a, b = [Path(r[0]) for r in db.execute("SELECT path FROM archive_files ORDER BY id")]
    a.write_bytes(a.read_bytes()[:-10] + b"0123456789")  # same size, different bytes
    b.unlink()
    (a.parent / f".{a.name}.x1y2.tmp").write_bytes(b"%PDF-1.7 half")
    db.execute("UPDATE dossier_components SET digitized = 1 WHERE n = 2")
    rc, rep = _check(run)
    kinds = sorted(x["kind"] for x in rep["problems"])
    assert rc == 10 and kinds == ["checksum", "missing", "no_file", "no_file", "temp"]
    assert any(x.get("code") == code2 and x["kind"] == "missing" for x in rep["problems"])


def test_unreadable_pdf_is_reported(run, db, cfg, code, pages2):
    import hashlib

    assert run("scan", code, "--component", 1, *pages2, "--yes").exit_code == 0
    (path,) = db.execute("SELECT path FROM archive_files").fetchone()
    junk = b"not a pdf at all"
    Path(path).write_bytes(junk)
    db.execute("UPDATE archive_files SET size = ?, sha256 = ?", [len(junk), hashlib.sha256(junk).hexdigest()])
    rc, rep = _check(run)
    assert rc == 10 and [x["kind"] for x in rep["problems"]] == ["unreadable"]


@pytest.mark.slow
def _engines_of(pid: int) -> list[int]:
    """The OCR engine processes (onestop/archive/ocr_worker.py) started by process ``pid``."""
    from pathlib import Path

    out = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and (d / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid) \
                    and b"ocr_worker" in (d / "cmdline").read_bytes():
                out.append(int(d.name))
        except (OSError, IndexError):
            pass
    return out


def test_ctrl_c_leaves_nothing_half_written(db, cfg, code, tmp_path):
    import signal
    import time

    files = [str(save(numbered(i), tmp_path / f"c{i:02d}.png")) for i in range(1, 41)]
    # Ctrl-C at a terminal: SIGINT to the whole foreground group (the command and its OCR engines),
    # sent once the engines are reading pages.
    p = subprocess.Popen([sys.executable, "-m", "onestop", "scan", code, "--component", "1", *files, "--yes"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
                         start_new_session=True)
    # Sent once pages are being read (a page's files in the scan's work folder), not after a fixed
    # wait: on a loaded machine a fixed wait can land while the command is still starting up.
    deadline = time.monotonic() + 60
    reading = lambda: [w for w in (cfg.home / "work").glob("scan-*")  # noqa: E731
                       if any(w.glob("*.tif")) or any(w.glob("*.tsv")) or any(w.glob("*.txt"))]
    while not reading() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert p.poll() is None, "the scan ended before any page was read"
    engines = _engines_of(p.pid)
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Ctrl-C" in err
    assert not [q for q in cfg.archive_dir.rglob("*") if q.is_file()] if cfg.archive_dir.exists() else True
    assert db.execute("SELECT count(*) FROM archive_files").fetchone() == (0,)
    assert db.execute("SELECT digitized FROM dossier_components WHERE n = 1").fetchone() == (0,)
    assert engines and not [e for e in engines if os.path.exists(f"/proc/{e}")]  # no engine outlives it

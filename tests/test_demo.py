"""`onestop demo` (what `make demo` runs) plays the counter's day end to end."""

import os
import subprocess
import sys

import pypdf


def test_demo_runs_in_a_fresh_home(tmp_path):
    home = tmp_path / "demo"
    env = dict(os.environ, ONESTOP_NOW="2026-11-23 10:30")
    r = subprocess.run([sys.executable, "-m", "onestop", "demo", "--home", str(home)], capture_output=True,
                       text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    receipts = sorted((home / "forms").rglob("*_Mau01.pdf"))
    assert len(receipts) >= 4
    text = "".join(p.extract_text() for p in pypdf.PdfReader(receipts[0]).pages)
    assert "-261123-0001" in text
    assert "Tiếp nhận hồ sơ" in r.stderr or "Tiếp nhận" in r.stderr
    # a second run starts fresh: the same first code again
    r2 = subprocess.run([sys.executable, "-m", "onestop", "demo", "--home", str(home)], capture_output=True,
                        text=True, env=env, timeout=600)
    assert r2.returncode == 0
    assert len(sorted((home / "forms").rglob("*_Mau01.pdf"))) == len(receipts)


def test_demo_never_writes_into_an_office_database(tmp_path):
    """With an office URL set (here a server that does not exist), the demo still plays its day on
    its own SQLite file and says so: sample dossiers must not take the office's real codes."""
    home = tmp_path / "demo"
    env = dict(os.environ, ONESTOP_NOW="2026-11-23 10:30", ONESTOP_LANG="en",
               ONESTOP_DATABASE_URL="postgresql://desk:s3cret@db.office.invalid/onestop")
    r = subprocess.run([sys.executable, "-m", "onestop", "demo", "--home", str(home)], capture_output=True,
                       text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "not to the office database postgresql://desk:***@db.office.invalid" in r.stderr
    assert "s3cret" not in r.stderr + r.stdout and (home / "onestop.db").exists()

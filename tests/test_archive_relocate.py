"""Moving the archive to the office's share (issue 17, docs/office.md section 3): the files are copied
with rsync, `onestop db relocate-archive` points the rows at them, and `onestop check` is clean again.
On both backends; in an office the shared archive.root follows in the same transaction."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import make_samples  # noqa: E402

PROC = "1.003584"


def test_archive_rows_survive_a_move_of_the_archive_folder(home, tmp_path, run, monkeypatch, rows):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    r = run("receive", "-p", PROC, "--name", "Nguyễn Văn An", "--id", "001085012345", "--all-components", "--json")
    assert r.exit_code == 0, r.output
    code = json.loads(r.stdout)["code"]
    page = make_samples(tmp_path / "scans")[2]
    r = run("scan", code, "--component", 1, page, "--yes")
    assert r.exit_code == 0, r.output
    old = (home / "archive").resolve()
    share = tmp_path / "share"

    # Files not copied yet: refused, nothing changed.
    share.mkdir()
    r = run("db", "relocate-archive", share)
    assert r.exit_code == 10, r.output
    assert str(share) in r.stderr
    assert all(p.startswith(str(old)) for (p,) in rows("SELECT path FROM archive_files"))

    # The technician's move: copy, then the old folder is gone.
    shutil.rmtree(share)
    shutil.copytree(old, share)
    shutil.rmtree(old)
    assert run("check").exit_code == 10  # the rows still point at the old folder
    r = run("db", "relocate-archive", share, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["files"] == 1 and out["new"] == str(share.resolve())
    assert all(p.startswith(str(share.resolve()) + "/") for (p,) in rows("SELECT path FROM archive_files"))
    if out["config_to_change"]:  # one desk: its config names the folder
        (home / "onestop.toml").write_text(f'[archive]\nroot = "{share}"\n', encoding="utf-8")
    else:  # an office: the shared setting followed
        shown = {row["key"]: row["value"] for row in json.loads(run("office", "show", "--json").stdout)}
        assert shown["archive.root"] == str(share.resolve())
    r = run("check")
    assert r.exit_code == 0, r.output
    # The next scan goes to the new folder.
    r = run("scan", code, "--component", 2, page, "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert not old.exists()
    assert len(list(share.rglob("*.pdf"))) == 2

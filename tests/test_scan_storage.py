"""A scan that runs out of room (a real file-size limit, RLIMIT_FSIZE, in a real process):
exit 7 with a message saying what to do, nothing stored, the inputs untouched."""

import os
import signal
import subprocess
import sys

import pytest

from pages import new_dossier, numbered, save


def _limited(limit_bytes):
    def pre():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return pre


@pytest.mark.parametrize("limit", [60_000, 300_000])
def test_scan_over_the_file_size_limit_exits_7_and_stores_nothing(home, db, cfg, tmp_path, limit, rows):
    code = new_dossier(db, cfg, pages={1: 2})
    pages = [save(numbered(i), tmp_path / f"p{i}.png") for i in (1, 2)]
    before = [p.read_bytes() for p in pages]
    env = dict(os.environ, ONESTOP_HOME=str(home), TMPDIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "onestop", "scan", code, "-c", "1", *map(str, pages), "--yes"],
                       capture_output=True, text=True, env=env, preexec_fn=_limited(limit))
    assert r.returncode == 7, r.stderr
    assert "onestop: lỗi:" in r.stderr and "đầy" in r.stderr and "không mong đợi" not in r.stderr
    assert rows("SELECT count(*) FROM archive_files")[0][0] == 0
    assert rows("SELECT digitized FROM dossier_components WHERE n = 1")[0][0] == 0
    assert not [p for p in cfg.archive_dir.rglob("*") if p.is_file()] if cfg.archive_dir.exists() else True
    assert [p.read_bytes() for p in pages] == before

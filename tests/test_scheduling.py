"""The nightly sync's scheduling as docs/sync.md writes it (issue 17, item 10): the systemd units pass
``systemd-analyze verify`` as written, no setting carries a trailing comment (systemd would read it as
part of the value), and the cron line, run by a real shell with the documented env file, reaches
the ministry server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_helpers import PASSWORD, make_dossiers, srv  # noqa: E402,F401 - fixture

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "sync.md").read_text(encoding="utf-8")
SCHEDULING = DOC[DOC.index("## Scheduling"):DOC.index("## In the morning")]


def unit(name: str) -> str:
    """The ```ini block that follows the line naming /etc/systemd/system/<name>."""
    at = SCHEDULING.index(f"/etc/systemd/system/{name}")
    return re.search(r"```ini\n(.*?)```", SCHEDULING[at:], re.S).group(1)


def cron_line() -> str:
    lines = [l for l in SCHEDULING.splitlines() if re.match(r"^\d+ \d+ \* \* \* ", l)]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("name", ["onestop-sync.service", "onestop-sync.timer"])
def test_no_setting_has_a_trailing_comment(name):
    for line in unit(name).splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            assert "#" not in line, f"systemd reads this comment as part of the value: {line!r}"


def test_the_documented_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: `make install` installs Debian's systemd package"
    folder = tmp_path / "units"
    folder.mkdir()
    onestop = Path(sys.executable).parent / "onestop"
    for name in ("onestop-sync.service", "onestop-sync.timer"):
        text = unit(name).replace("/opt/onestop/.venv/bin/onestop", str(onestop))
        (folder / name).write_text(text, encoding="utf-8")
    r = subprocess.run([analyze, "verify", str(folder / "onestop-sync.service"), str(folder / "onestop-sync.timer")],
                       capture_output=True, text=True, env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
    # verify prints nothing for units that are right; a setting it refuses or ignores is on stderr.
    problems = [l for l in (r.stdout + r.stderr).splitlines()
                if "onestop-sync" in l and "User=" not in l and "/var/lib/onestop" not in l]
    assert r.returncode == 0 and problems == [], r.stdout + r.stderr


def test_the_documented_cron_line_sends_with_the_env_file(tmp_path, home, srv, cfg, db):
    """The env file as docs/sync.md shows it (NAME=value, no export) and the cron line run by /bin/sh:
    the dossiers reach the ministry server; without `set -a` they would not (exit 8, nothing sent)."""
    make_dossiers(db, cfg, 2, moves=False)
    env_file = tmp_path / "sync.env"
    env_file.write_text(f"ONESTOP_SYNC_URL={srv.url}\nONESTOP_SYNC_USER=canbo\nONESTOP_SYNC_PASSWORD={PASSWORD}\n",
                        encoding="utf-8")
    env_file.chmod(0o600)
    command = cron_line().split(" ", 5)[5]
    command = (command.replace("/etc/onestop/sync.env", str(env_file))
               .replace("/var/lib/onestop", str(home))
               .replace("/opt/onestop/.venv/bin/onestop", str(Path(sys.executable).parent / "onestop")))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONESTOP_SYNC")}
    r = subprocess.run(["/bin/sh", "-c", command + "; exit $?"], capture_output=True, text=True, env=clean,
                       timeout=120)
    assert len(srv.state.dossiers) == 2, r.stderr
    assert "onestop: lỗi" not in r.stderr, r.stderr

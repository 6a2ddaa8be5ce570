"""Online dossiers, nothing lost and nothing twice (issue 23): ``online pull``, ``online accept`` and
``online refuse`` killed with SIGKILL at each of their steps (real processes, the ONESTOP_FAULT hook),
then run again: each dossier stored once, taken once under one code, its files archived once, the
portal told once with no violation. And two desks taking one dossier at the same moment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from online_helpers import seed, srv  # noqa: F401 - srv: a fixture

PULL_STEPS = ["online-pull-listed", "online-pull-file", "online-pull-before-commit", "online-pull-after-commit"]
ACCEPT_STEPS = ["online-accept-after-commit", "scan-after-rename", "online-accept-after-file",
                "online-accept-before-ack"]


def onestop(*args, fault: str | None = None, **env) -> subprocess.CompletedProcess:
    e = dict(os.environ, **env)
    e.pop("ONESTOP_FAULT", None)
    if fault:
        e["ONESTOP_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "onestop", *args], env=e, capture_output=True, text=True,
                          timeout=300)


def _no_process_left(home) -> None:
    """No process of this test's data home is still running (found by ONESTOP_HOME, not by name)."""
    mine = f"ONESTOP_HOME={home}".encode()
    deadline = time.monotonic() + 60
    while True:
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if mine in f.read().split(b"\0") and int(pid) != os.getpid():
                        left.append(pid)
            except OSError:
                continue
        if not left:
            return
        assert time.monotonic() < deadline, f"processes left: {left}"
        time.sleep(0.1)


@pytest.mark.parametrize("where", PULL_STEPS)
def test_pull_killed_at_each_step(db, srv, rows, cfg, where):
    seed(srv.portal, 2)
    killed = onestop("online", "pull", fault=where)
    assert killed.returncode == -9, killed.stderr
    again = onestop("online", "pull", "--json")
    assert again.returncode == 0, again.stderr
    assert rows("SELECT state, count(*) FROM online_dossiers GROUP BY state") == [("waiting", 2)]
    assert rows("SELECT count(*) FROM online_files") == [(4,)]
    for (path, sha) in rows("SELECT path, sha256 FROM online_files"):
        from onestop.archive.files import sha256_file

        assert sha256_file(__import__("pathlib").Path(path)) == sha
    assert not list((cfg.home / "online").rglob("*.part"))


@pytest.mark.parametrize("where", ACCEPT_STEPS)
def test_accept_killed_at_each_step(db, srv, rows, home, where):
    [dvc] = seed(srv.portal, 1)
    assert onestop("online", "pull").returncode == 0
    killed = onestop("online", "accept", dvc, fault=where)
    assert killed.returncode in (-9, 70), killed.stderr  # 70: the scan's own hook exits
    _no_process_left(home)  # the helpers (receipt, portal) leave with the killed command, sending nothing
    assert srv.portal.takes == 0
    again = onestop("online", "accept", dvc, "--json")
    assert again.returncode == 0, again.stderr
    code = json.loads(again.stdout)["code"]
    assert json.loads(again.stdout)["portal"]["sent"] == 1  # told by the helper, after the commit
    assert onestop("sync").returncode == 0
    assert rows("SELECT code, channel FROM dossiers") == [(code, "2")]
    assert rows("SELECT count(*) FROM archive_files WHERE state = 'current'") == [(2,)]
    assert srv.portal.taken() == {dvc: code} and srv.portal.takes == 1
    assert srv.portal.violations == []
    assert sum(srv.state.uploads.values()) == 0 and code in srv.state.dossiers
    assert onestop("online", "accept", dvc).returncode == 30  # done: a second take is refused, named


def test_refuse_killed_after_its_commit(db, srv, rows):
    [dvc] = seed(srv.portal, 1)
    assert onestop("online", "pull").returncode == 0
    killed = onestop("online", "refuse", dvc, "--reason", "Sai thủ tục", fault="online-refuse-after-commit")
    assert killed.returncode == -9
    again = onestop("online", "refuse", dvc, "--reason", "Sai thủ tục", "--json")
    assert again.returncode == 0, again.stderr
    assert os.path.isfile(json.loads(again.stdout)["form"])
    assert srv.portal.refused() == {dvc: "Sai thủ tục"} and srv.portal.violations == []
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]


def test_two_desks_accept_one_dossier_at_once(db, srv, rows, tmp_path, monkeypatch):
    """Both pass the first check, then take together: one wins, the other is told by whom and
    consumes no code (real processes; on PostgreSQL two desks on the office database)."""
    [dvc] = seed(srv.portal, 1)
    assert onestop("online", "pull").returncode == 0
    gate = tmp_path / "gate"
    procs = []
    for officer in ("Nguyễn Thị Một", "Trần Văn Hai"):
        e = dict(os.environ, ONESTOP_FAULT="pause:online-accept-before-receive", ONESTOP_FAULT_GATE=str(gate),
                 ONESTOP_OFFICER=officer)
        procs.append(subprocess.Popen([sys.executable, "-m", "onestop", "online", "accept", dvc, "--json"], env=e,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("gate.*"))) < 2:
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    gate.touch()
    outs = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(o[0] for o in outs)
    assert codes == [0, 30], outs
    winner = next(o for o in outs if o[0] == 0)
    loser = next(o for o in outs if o[0] == 30)
    code = json.loads(winner[1])["code"]
    assert code in loser[2] and ("Nguyễn Thị Một" in loser[2] or "Trần Văn Hai" in loser[2])
    assert rows("SELECT code FROM dossiers") == [(code,)]
    assert code.endswith("-0001")  # the loser consumed no number
    assert onestop("sync").returncode == 0
    assert srv.portal.taken() == {dvc: code} and srv.portal.violations == []

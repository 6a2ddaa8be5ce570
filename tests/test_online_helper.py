"""The warm archive helper of ``online accept`` (sync/portal_early.py), with real processes: the
next accept is served by the helper the previous one left, with that command's own environment;
the helper leaves after its idle time; a killed or busy helper is not waited for; nothing is taken
twice and the strict portal sees no violation.

Each test runs its commands with an empty folder of its own on PYTHONPATH: the helper is matched by
the interpreter's import path and code (``_stamp``), so each test has helpers of its own and never
meets another test's."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from online_helpers import seed, srv  # noqa: F401 - srv: a fixture


@pytest.fixture
def cli(tmp_path):
    pool = tmp_path / "helper-pool"
    pool.mkdir()
    path = os.pathsep.join(p for p in (str(pool), os.environ.get("PYTHONPATH", "")) if p)

    def run(*args, wait=True, **env):
        e = dict(os.environ, PYTHONPATH=path, **{"ONESTOP_HELPER_IDLE": "30", **env})
        argv = [sys.executable, "-m", "onestop", "--lang", "en", "--debug", *args]
        if not wait:
            return subprocess.Popen(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return subprocess.run(argv, env=e, capture_output=True, text=True, timeout=300)

    yield run
    for pid in _helpers(pool):  # the test's own warm helpers leave with it
        os.kill(pid, signal.SIGKILL)


def _helpers(pool: Path) -> list[int]:
    """The processes left by this test's accepts (their command line is the accept's; their
    environment has this test's folder on PYTHONPATH)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
            env = (d / "environ").read_bytes()
        except OSError:
            continue
        if (b"accept" in argv or b"list" in argv or b"show" in argv) and str(pool).encode() in env:
            out.append(int(d.name))
    return out


def _listening(pid: int) -> bool:
    """Does process ``pid`` listen on a Unix socket (the warm helper, ready for a job)?"""
    try:
        inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return False
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 7 and cols[3] == "00010000" and f"socket:[{cols[6]}]" in inodes:  # __SO_ACCEPTCON
            return True
    return False


def stored_by(r) -> str:
    m = re.search(r"files stored by (.+)", r.stderr)
    assert m, r.stderr
    return m.group(1).strip()


def accepted(r) -> dict:
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["files"]) == 2 and out["portal"]["sent"] == 1, out
    return out


def test_one_accept_after_another_is_served_by_the_warm_helper(db, srv, rows, cli):
    dvcs = seed(srv.portal, 3)
    assert cli("online", "pull").returncode == 0
    first = cli("online", "accept", dvcs[0], "--json")
    assert stored_by(first) == "forked helper"
    codes = [accepted(first)["code"]]
    for dvc in dvcs[1:]:
        r = cli("online", "accept", dvc, "--json")
        assert stored_by(r) == "warm helper"  # it also told the portal: this command loaded no HTTP client
        codes.append(accepted(r)["code"])
    assert srv.portal.taken() == dict(zip(dvcs, codes)) and srv.portal.takes == 3
    assert srv.portal.violations == []
    assert rows("SELECT count(*) FROM archive_files WHERE state = 'current'") == [(6,)]


def test_the_warm_helper_works_with_the_commands_environment(db, srv, rows, cli):
    """The clock, the officer and the language are those of the command that hands it the job,
    not those of the command that left the helper."""
    dvcs = seed(srv.portal, 2)
    assert cli("online", "pull").returncode == 0
    accepted(cli("online", "accept", dvcs[0], "--json"))
    r = cli("online", "accept", dvcs[1], "--json", ONESTOP_NOW="2026-12-07 09:15", ONESTOP_OFFICER="Lê Văn Trực")
    assert stored_by(r) == "warm helper"
    code = accepted(r)["code"]
    got = rows("SELECT f.created_at, f.officer FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id "
               "WHERE d.code = ?", (code,))
    assert len(got) == 2 and all(at.startswith("2026-12-07T09:15") and who == "Lê Văn Trực" for at, who in got), got


def test_the_warm_helper_leaves_after_its_idle_time(db, srv, cli, tmp_path):
    dvcs = seed(srv.portal, 2)
    assert cli("online", "pull").returncode == 0
    pool = tmp_path / "helper-pool"
    accepted(cli("online", "accept", dvcs[0], "--json", ONESTOP_HELPER_IDLE="0"))
    assert _helpers(pool) == []  # 0: none stays
    accepted(cli("online", "accept", dvcs[1], "--json", ONESTOP_HELPER_IDLE="1"))
    assert len(_helpers(pool)) == 1
    deadline = time.monotonic() + 20
    while _helpers(pool) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _helpers(pool) == []


def test_a_killed_warm_helper_is_replaced(db, srv, rows, cli, tmp_path):
    dvcs = seed(srv.portal, 2)
    assert cli("online", "pull").returncode == 0
    accepted(cli("online", "accept", dvcs[0], "--json"))
    (pid,) = _helpers(tmp_path / "helper-pool")
    os.kill(pid, signal.SIGKILL)
    r = cli("online", "accept", dvcs[1], "--json")
    assert stored_by(r) == "forked helper"
    accepted(r)
    assert len(srv.portal.taken()) == 2 and srv.portal.violations == []


def test_a_busy_warm_helper_is_not_waited_for(db, srv, rows, cli, tmp_path):
    """Two accepts at once on one desk: the warm helper is busy with the first (held at a gate after
    its first file); the second forks its own helper and is done before the first."""
    dvcs = seed(srv.portal, 3)
    assert cli("online", "pull").returncode == 0
    accepted(cli("online", "accept", dvcs[0], "--json"))
    gate = tmp_path / "gate"
    held = cli("online", "accept", dvcs[1], "--json", wait=False, ONESTOP_FAULT="pause:online-accept-after-file",
               ONESTOP_FAULT_GATE=str(gate))
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("gate.*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob("gate.*")), "the held accept never reached its gate"
    r = cli("online", "accept", dvcs[2], "--json")
    assert stored_by(r) == "forked helper"
    accepted(r)
    assert held.poll() is None  # the first is still held
    gate.touch()
    out, err = held.communicate(timeout=120)
    assert held.returncode == 0, err
    assert "files stored by warm helper" in err
    assert len(json.loads(out)["files"]) == 2
    assert len(srv.portal.taken()) == 3 and srv.portal.takes == 3 and srv.portal.violations == []
    assert rows("SELECT count(*) FROM archive_files WHERE state = 'current'") == [(6,)]


@pytest.mark.parametrize("where", ["online-accept-after-commit", "scan-after-rename", "online-accept-after-file",
                                   "online-accept-before-ack"])
def test_an_accept_killed_while_the_warm_helper_works_is_finished_once(db, srv, rows, cli, where):
    """As tests/test_online_crash.py, with the job in the warm helper: the kill (SIGKILL, or the scan's
    own exit 70) lands in the helper or in the command; the accept run again finishes the take, and
    nothing is stored, taken or told twice."""
    first, dvc = seed(srv.portal, 2)
    assert cli("online", "pull").returncode == 0
    accepted(cli("online", "accept", first, "--json"))  # leaves the warm helper
    killed = cli("online", "accept", dvc, "--json", ONESTOP_FAULT=where)
    assert killed.returncode in (-9, 70), killed.stderr
    assert srv.portal.takes == 1  # only the first
    again = cli("online", "accept", dvc, "--json")
    code = accepted(again)["code"]
    assert rows("SELECT count(*) FROM archive_files WHERE state = 'current'") == [(4,)]
    assert rows("SELECT count(*) FROM dossiers WHERE code = ?", (code,)) == [(1,)]
    assert srv.portal.taken()[dvc] == code and srv.portal.takes == 2 and srv.portal.violations == []
    assert cli("online", "accept", dvc).returncode == 30


def test_looking_at_the_queue_leaves_a_warm_helper_for_the_first_accept(db, srv, rows, cli, tmp_path):
    """The officer lists the queue (or shows a dossier) before taking one: that command leaves the
    archive helper warm (detached: the command's output ends with it), so the first accept is served
    warm too. With helper_idle 0, or for a script (--json), it leaves none."""
    dvcs = seed(srv.portal, 2)
    assert cli("online", "pull").returncode == 0
    pool = tmp_path / "helper-pool"
    assert cli("online", "list", ONESTOP_HELPER_IDLE="0").returncode == 0
    assert cli("online", "list", "--json").returncode == 0  # a script: none either
    assert _helpers(pool) == []
    r = cli("online", "show", dvcs[0])
    assert r.returncode == 0 and dvcs[0] in r.stdout
    deadline = time.monotonic() + 60
    while not any(_listening(p) for p in _helpers(pool)) and time.monotonic() < deadline:
        time.sleep(0.05)
    (pid,) = _helpers(pool)
    assert _listening(pid)
    assert cli("online", "list").returncode == 0  # one is there already: no second one
    assert _helpers(pool) == [pid]
    r = cli("online", "accept", dvcs[0], "--json")
    assert stored_by(r) == "warm helper"
    accepted(r)
    assert srv.portal.violations == []


@pytest.mark.parametrize("value,seconds", [("0", 0.0), ("-5", 0.0), ("abc", 0.0), ("nan", 0.0), ("30", 30.0),
                                           ("inf", 3600.0), ("99999", 3600.0)])
def test_the_idle_time_is_a_number_of_seconds_up_to_an_hour(monkeypatch, value, seconds):
    from onestop.sync.portal_early import _idle

    monkeypatch.setenv("ONESTOP_HELPER_IDLE", value)
    assert _idle({}) == seconds

"""Issue 17 item 3: a desk that drops off the network must not freeze the office.

A real desk process (tests/dead_desk.py) receives a dossier and is frozen with SIGSTOP just after
its numbering statement: its session sits "idle in transaction" holding the day's counter row, as when
its cable is pulled. Another desk's ``receive`` (a real ``python -m onestop`` process) must end within a
bounded time: it says which desk it waits for, and succeeds once the server has ended the dead desk's
session (idle_in_transaction_session_timeout), or exits 6 naming that desk when its own wait is over.
Before: the second desk waited silently until the first one's TCP connection died (about two hours).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onestop.common import errors

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

pytestmark = pytest.mark.postgresql_only


def _home(root: Path, name: str) -> Path:
    h = root / name.replace(" ", "-")
    h.mkdir()
    (h / "onestop.toml").write_text(f'[counter]\ndesk = "{name}"\n', encoding="utf-8")
    return h


@pytest.fixture
def office(tmp_path, pg_url):
    env = dict(os.environ, ONESTOP_DATABASE_URL=pg_url, ONESTOP_NOW="2026-11-23 09:00",
               PYTHONPATH=os.pathsep.join([str(REPO), str(HERE)]))
    return tmp_path, env


def _receive(home: Path, env: dict, **limits) -> tuple[subprocess.CompletedProcess, float]:
    extra = {f"ONESTOP_DB_{k.upper()}": str(v) for k, v in limits.items()}
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "onestop", "--lang", "en", "receive", "-p", "1.003584", "--name",
                        "Lê Văn Tám", "--id", "001085012345", "--all-components", "--json"], capture_output=True,
                       text=True, env=dict(env, ONESTOP_HOME=str(home), **extra), timeout=90)
    return r, time.monotonic() - start


def _freeze_a_desk(root: Path, env: dict, idle_timeout: float) -> subprocess.Popen:
    dead = subprocess.Popen([sys.executable, str(HERE / "dead_desk.py")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(env, ONESTOP_HOME=str(_home(root, "Quầy 1")),
                                     ONESTOP_DB_IDLE_TIMEOUT=str(idle_timeout)))
    line = dead.stdout.readline()
    assert line.startswith("numbered "), (line, dead.stderr.read() if dead.poll() is not None else "")
    return dead


def _end(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGKILL)
    p.wait(30)


def test_a_frozen_desk_holding_the_counter_is_ended_and_the_other_desk_receives(office, rows):
    root, env = office
    desk2 = _home(root, "Quầy 2")
    first, _ = _receive(desk2, env)  # the office's first dossier: 0001
    assert first.returncode == 0, first.stderr
    dead = _freeze_a_desk(root, env, idle_timeout=4)  # it numbered 0002 and froze
    try:
        r, took = _receive(desk2, env, lock_timeout=1, lock_wait=30)
    finally:
        _end(dead)
    assert r.returncode == 0, r.stderr
    assert took < 20, took  # about the dead desk's idle timeout, not hours
    assert "waiting for onestop Quầy 1 pid" in r.stderr and "idle in transaction" in r.stderr
    # The dead desk's half-done receive was rolled back by the server: its number is issued again, once.
    assert json.loads(r.stdout)["code"].endswith("-261123-0002") and json.loads(r.stdout)["book_no"] == 2
    assert rows("SELECT applicant_name FROM dossiers ORDER BY id") == [("Lê Văn Tám",), ("Lê Văn Tám",)]
    assert rows("SELECT last FROM code_sequences") == [(2,)]
    assert rows("SELECT count(*) FROM outbox")[0][0] == 4 and rows("SELECT count(*) FROM events")[0][0] == 2


def test_a_desk_waiting_too_long_stops_naming_the_desk_it_waits_for(office, rows):
    root, env = office
    desk2 = _home(root, "Quầy 2")
    assert _receive(desk2, env)[0].returncode == 0
    dead = _freeze_a_desk(root, env, idle_timeout=0)  # a server that never ends it (idle timeout off)
    try:
        r, took = _receive(desk2, env, lock_timeout=1, lock_wait=3)
    finally:
        _end(dead)
    assert r.returncode == errors.DatabaseBusy.exit_code, r.stderr
    assert took < 20, took
    assert "The office database is held by: onestop Quầy 1 pid" in r.stderr and "Nothing was stored" in r.stderr
    assert "Traceback" not in r.stderr
    assert rows("SELECT count(*) FROM dossiers")[0][0] == 1


def test_every_office_session_carries_the_limits_and_its_desk_name(pg_url, home, monkeypatch):
    """The limits come from [database] (the environment over them), keepalives are on, the session is
    named after the desk; a limit that is not a number of seconds is a config error (exit 8)."""
    from onestop.common import config
    from onestop import store

    (home / "onestop.toml").write_text('[counter]\ndesk = "Quầy 3"\n\n[database]\nidle_timeout = 7\nlock_timeout = 2\n',
                                       encoding="utf-8")
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    monkeypatch.setenv("ONESTOP_DB_LOCK_TIMEOUT", "3")
    db = store.connect(config.load())
    show = lambda name: db.execute(f"SHOW {name}").fetchone()[0]  # noqa: E731
    assert (show("idle_in_transaction_session_timeout"), show("lock_timeout")) == ("7s", "3s")
    assert (show("tcp_keepalives_idle"), show("tcp_keepalives_count")) == ("10", "3")
    assert db.conn.info.get_parameters()["keepalives"] == "1"
    assert show("application_name").startswith("onestop Quay 3 pid ")
    db.close()
    (home / "onestop.toml").write_text('[database]\nidle_timeout = "soon"\n', encoding="utf-8")
    with pytest.raises(errors.ConfigError) as e:
        store.connect(config.load())
    assert e.value.exit_code == 8 and "[database] idle_timeout" in e.value.en

"""Issue 17 item 2: two desks change one dossier at once (real OS processes, both backends).

Each command reads the dossier, then writes in its transaction. A third session holds the dossier
(PostgreSQL: its row, ``FOR UPDATE``; SQLite: the write lock) until both commands have read it and
wait, then lets go: the first to get the row changes the dossier, the second finds it changed and exits
5 naming its current status; nothing of the second is stored. Before: on PostgreSQL both exited 0, the
history said 2>4 and 2>7 (a withdrawn dossier reopened) and two reschedules printed two Mẫu 04.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onestop.common import errors

REPO = Path(__file__).resolve().parent.parent
ID = "001085012345"


@pytest.fixture
def dossier(run, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-23 09:00")
    r = run("receive", "-p", "1.003584", "--name", "Lê Văn Tám", "--id", ID, "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def _start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "onestop", "--lang", "en", *map(str, args)],
                            env=dict(os.environ, PYTHONPATH=str(REPO), ONESTOP_BUSY_TIMEOUT_MS="30000"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has the file ``path`` open (Linux /proc)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path.resolve()):
                return True
        except OSError:
            continue
    return False


def _race(cfg, code: str, *commands) -> list[tuple[int, str, str]]:
    """Run ``commands`` at once while the dossier is held, release it once all of them wait."""
    from onestop import store

    backend = store.backend(cfg)
    if backend == "postgresql":
        holder = store.connect(cfg)
        holder.conn.execute("BEGIN")
        holder.execute("SELECT id FROM dossiers WHERE code = ? FOR UPDATE", [code])
    else:
        holder = sqlite3.connect(cfg.db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    procs = [_start(*c) for c in commands]
    try:
        deadline = time.monotonic() + 60
        if backend == "postgresql":
            watch = store.connect(cfg)
            while watch.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                "AND datname = current_database()").fetchone()[0] < len(procs):
                assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
                time.sleep(0.05)
            watch.close()
        else:
            # Each has the database open (it read the dossier a moment later: WAL readers never wait),
            # then waits for the write lock (busy timeout 30 s).
            while not all(_has_open(p.pid, cfg.db_path) for p in procs):
                assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
                time.sleep(0.05)
            time.sleep(1.5)
            assert all(p.poll() is None for p in procs)
    finally:
        if backend == "postgresql":
            holder.conn.execute("COMMIT")
            holder.close()
        else:
            holder.execute("COMMIT")
            holder.close()
    return [(p.wait(60), *p.communicate()) for p in procs]


def _one_won(results) -> tuple[int, str]:
    codes = sorted(rc for rc, _, _ in results)
    assert codes == [0, errors.TransitionRefused.exit_code], results
    i = [rc for rc, _, _ in results].index(errors.TransitionRefused.exit_code)
    return i, results[i][2]


def test_two_desks_move_one_dossier_at_once(dossier, cfg, rows):
    code = dossier["code"]
    results = _race(cfg, code, ("move", code, "4", "--yes"), ("move", code, "7", "--yes", "--note", "Rút"))
    loser, message = _one_won(results)
    status = "7" if loser == 0 else "4"
    assert f"it is now in status {status}" in message and "stored nothing" in message and "Traceback" not in message
    [(did, now)] = rows("SELECT id, status FROM dossiers WHERE code = ?", [code])
    assert now == status
    moves = rows("SELECT status_from, status_to FROM events WHERE dossier_id = ? AND action LIKE 'status_%' "
                 "ORDER BY id", [did])
    assert moves == [("2", status)]
    steps = rows("SELECT count(*) FROM outbox WHERE dossier_id = ? AND kind = 'step'", [did])[0][0]
    assert steps == 2  # the receive and the one move


def test_two_desks_reschedule_one_dossier_at_once(dossier, cfg, rows, home):
    code = dossier["code"]
    due = dossier["due_at"][:10]
    from datetime import date, timedelta

    later = (date.fromisoformat(due) + timedelta(days=7)).isoformat()
    results = _race(cfg, code, ("reschedule", code, "--to", f"{later} 09:00", "--reason", "Cần xác minh", "--yes"),
                    ("reschedule", code, "--to", f"{later} 10:00", "--reason", "Chờ ý kiến", "--yes"))
    _loser, message = _one_won(results)
    assert "it is now in status 2" in message
    assert len(list(home.rglob("*_Mau04*.pdf"))) == 1  # the apology form is printed once
    [(did,)] = rows("SELECT id FROM dossiers WHERE code = ?", [code])
    assert rows("SELECT count(*) FROM events WHERE dossier_id = ? AND action = 'reschedule'", [did])[0][0] == 1


def test_two_desks_amend_one_dossier_at_once(dossier, cfg, rows):
    """Two corrections of the same applicant at once: the second was decided on the name it read, which
    the first has changed: it stops (exit 5) instead of writing over it with a history that hides it."""
    code = dossier["code"]
    results = _race(cfg, code, ("amend", code, "--name", "Lê Văn Tâm", "--reason", "Sai dấu"),
                    ("amend", code, "--name", "Lê Văn Thắm", "--reason", "Sai tên"))
    _loser, message = _one_won(results)
    assert "it is now in status 2" in message
    [(did, name)] = rows("SELECT id, applicant_name FROM dossiers WHERE code = ?", [code])
    assert name in ("Lê Văn Tâm", "Lê Văn Thắm")
    assert rows("SELECT count(*) FROM events WHERE dossier_id = ? AND action = 'amend'", [did])[0][0] == 1

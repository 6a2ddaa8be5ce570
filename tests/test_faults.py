"""Real faults at the edges: a full disk (file-size limit), a read-only home, Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time


PROC = "1.003584"
RECEIVE = [sys.executable, "-m", "onestop", "receive", "-p", PROC, "--name", "Nguyễn Văn An", "--id",
           "001085012345", "--all-components", "--json"]


def _env(home):
    return dict(os.environ, ONESTOP_HOME=str(home), ONESTOP_NOW="2026-11-30 10:00")


def _limited(limit_bytes):
    def pre():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return pre


def test_disk_full_while_writing_the_receipt_stores_nothing(home, db, rows):
    # warm up: the database exists and holds the catalog; the next file written past 20 kB fails
    first = subprocess.run(RECEIVE, capture_output=True, text=True, env=_env(home))
    assert first.returncode == 0, first.stderr
    size = os.path.getsize(json.loads(first.stdout)["receipt"])
    r = subprocess.run(RECEIVE, capture_output=True, text=True, env=_env(home), preexec_fn=_limited(size // 2))
    assert r.returncode == 7, r.stderr
    assert "onestop: lỗi:" in r.stderr and ("đĩa" in r.stderr or "ổ" in r.stderr)
    assert rows("SELECT count(*) FROM dossiers") == [(1,)]
    assert rows("SELECT max(last) FROM code_sequences") == [(1,)]
    assert not list(home.rglob("*.tmp"))
    ok = subprocess.run(RECEIVE, capture_output=True, text=True, env=_env(home))
    assert json.loads(ok.stdout)["code"].endswith("-0002")  # no gap, nothing lost


def test_ctrl_c_leaves_the_database_consistent(home, db, rows):
    script = (
        "import os\n"
        "from onestop import config, dossiers\n"
        "from onestop.store import connect\n"
        "cfg = config.load(); db = connect(cfg)\n"
        "at = dossiers.parse_when('2026-11-23 09:00', cfg)\n"
        "print('ready', flush=True)\n"
        "for i in range(100000):\n"
        "    dossiers.receive(db, cfg, dossiers.ReceiveRequest('1.003584', dossiers.Applicant('A', '001085012345'), at=at), render=False)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=_env(home))
    assert p.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)
    (n,), = rows("SELECT count(*) FROM dossiers")
    assert n > 0
    # every stored dossier has its event and both outbox rows, and the sequence matches the rows
    assert rows("SELECT count(*) FROM events") == [(n,)]
    assert rows("SELECT count(*) FROM outbox") == [(2 * n,)]
    assert rows("SELECT last FROM code_sequences") == [(n,)]


def test_cli_ctrl_c_exit_code(run, monkeypatch):
    from onestop import dossiers

    def boom(*a, **k):
        raise KeyboardInterrupt

    # Ctrl-C cannot be typed into an in-process runner: raise it where the officer would press it.
    monkeypatch.setattr(dossiers, "list_dossiers", boom)
    r = run("list")
    assert r.exit_code == 130 and "Ctrl-C" in r.stderr

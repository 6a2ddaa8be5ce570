"""Kill `onestop sync` with SIGKILL at random moments, many times, then let it finish:
the server holds every dossier, step and file exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from ministry_server import MinistryServer
from sync_helpers import (add_file, assert_exactly_once, fake_pdf, files_table, make_dossiers, point_at,
                          write_sync_config)

N_DOSSIERS = 300
KILLS = 15


def _pending(db) -> int:
    return db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]


@pytest.mark.slow
def test_sigkill_at_random_moments(home, monkeypatch, rows):
    from onestop.intake import catalog
    from onestop.common import config
    from onestop.store import connect

    rnd = random.Random(int(os.environ.get("ONESTOP_CRASH_SEED", "4")))
    with MinistryServer() as srv:
        write_sync_config(home, batch_size=8, timeout=2.0, retries=2, backoff=0.05)
        point_at(monkeypatch, srv.url)
        cfg = config.load()
        db = connect(cfg)
        catalog.ensure_loaded(db, cfg.catalog_file)
        codes = make_dossiers(db, cfg, N_DOSSIERS)
        with_files = files_table(db) is not None
        if with_files:
            for i, code in enumerate(codes[::3]):
                add_file(db, cfg, code, 1, fake_pdf(i, 20000))
        srv.state.delay = 0.015  # each request takes a moment, so kills land mid-run
        env = dict(os.environ)
        kills = 0
        for i in range(3 * KILLS):
            if kills >= KILLS or _pending(db) == 0:
                break
            if rnd.random() < 0.3:
                srv.fault(rnd.choice(["drop", "500", "timeout"]), times=1, delay=2.5,
                          service=rnd.choice([None, "CapNhatTienDoHoSoMC", "DongBoHoSoMC"]))
            p = subprocess.Popen([sys.executable, "-m", "onestop", "sync"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.3, 1.0))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
        srv.state.faults.clear()
        for _ in range(3):
            p = subprocess.run([sys.executable, "-m", "onestop", "sync"], env=env, capture_output=True, text=True,
                               timeout=120)
            if p.returncode == 0:
                break
        assert p.returncode == 0, p.stderr
        assert kills >= 5, "the runs ended before they could be killed: make the workload bigger"
        db = connect(cfg)
        assert rows("SELECT count(*) FROM outbox WHERE state != 'done'")[0][0] == 0
        assert_exactly_once(srv, db)
        if with_files:
            assert len(srv.state.files) == len(codes[::3])

"""Issue 9, the office: three counter desks, a nightly-sync machine and a supervisor on one PostgreSQL
database and one shared archive folder, as real OS processes at the same time.

Each desk process (tests/desk.py counter) has its own data home; two of them scan real pages with
tesseract between receipts; meanwhile a fourth machine runs `onestop sync` again and again against
the test ministry server. Afterwards: every code number of the day issued once, none missing; every
archive file present and checksummed (`onestop check`); every dossier, step and file on the server
exactly once; the supervisor's home sees every dossier in `onestop backlog --json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ministry_server import MinistryServer
from pages import LINES, render, save
from sync_helpers import assert_exactly_once, point_at, write_sync_config

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DESKS = 3
PER_DESK = 200
SCAN_EVERY = 40  # the two scanning desks scan component 1 of every 40th dossier: 5 scans each
NOW = "2026-11-30 10:00"  # a Monday: every code of the test has the same day

pytestmark = pytest.mark.postgresql_only


def _home(root: Path, name: str, archive: Path, extra: str = "") -> Path:
    h = root / name
    h.mkdir()
    (h / "onestop.toml").write_text(f'[archive]\nroot = "{archive}"\n\n[counter]\ndesk = "{name}"\n{extra}',
                                    encoding="utf-8")
    return h


def _onestop(env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "onestop", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=300)


def _desks(office: Path, archive: Path, base: dict, n: int, scan_every: int = 0, page: Path | None = None):
    """Start the desk processes, wait until each is connected, then let them all go at once."""
    homes = [_home(office, f"quay-{k}", archive) for k in range(1, DESKS + 1)]
    procs = [subprocess.Popen(
        [sys.executable, str(HERE / "desk.py"), "counter", str(n), str(scan_every if k < 2 else 0), str(page or "")],
        env=dict(base, ONESTOP_HOME=str(h)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for k, h in enumerate(homes)]
    for p in procs:
        line = p.stdout.readline().strip()
        if line != "ready":  # it ended (or printed something else): show why
            for q in procs:
                q.kill() if q is not p else None
            out, err = p.communicate(timeout=60)
            pytest.fail(f"a desk did not start: {line}{out} {err}")
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    return homes, procs


def test_desks_started_together_on_a_new_office_database(tmp_path, pg_url, rows):
    """The first morning: three desks open a new, empty office database at the same moment. Each
    loads the catalog and adopts the office's identity without tripping over the others (before:
    a unique violation on the catalog, or exit 14 "another data home" for all but one desk)."""
    office = tmp_path / "office"
    office.mkdir()
    base = dict(os.environ, ONESTOP_DATABASE_URL=pg_url, ONESTOP_NOW=NOW,
                PYTHONPATH=os.pathsep.join([str(REPO), str(HERE)]))
    (office / "archive").mkdir()
    homes, procs = _desks(office, office / "archive", base, 20)
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "Traceback" not in err, err
    printed = [c for out, _ in outs for c in json.loads(out.strip().splitlines()[-1])["codes"]]
    assert sorted(int(c.rsplit("-", 1)[1]) for c in printed) == list(range(1, 3 * 20 + 1))
    [(office_id,)] = rows("SELECT value FROM office WHERE key = 'home_id'")
    for h in homes:  # every desk's high-water file is bound to the one office identity
        assert json.loads((h / "codes-issued.json").read_text())["home_id"] == office_id
    assert rows("SELECT count(*) FROM procedures")[0][0] > 0


def test_three_desks_a_sync_and_a_supervisor_share_one_office(tmp_path, pg_url, monkeypatch, rows):
    from onestop.common import config
    from onestop.store import connect

    office = tmp_path / "office"
    office.mkdir()
    archive = office / "archive"  # the shared folder every desk and the nightly job mount
    archive.mkdir()
    page = save(render(LINES[:5], dpi=200, size_mm=(105, 74)), tmp_path / "trang.png")
    with MinistryServer() as srv:
        point_at(monkeypatch, srv.url)
        base = dict(os.environ, ONESTOP_DATABASE_URL=pg_url, ONESTOP_NOW=NOW,
                    PYTHONPATH=os.pathsep.join([str(REPO), str(HERE)]))
        nightly = _home(office, "dong-bo", archive)
        write_sync_config(nightly, batch_size=25)
        with open(nightly / "onestop.toml", "a", encoding="utf-8") as f:
            f.write(f'\n[archive]\nroot = "{archive}"\n\n[counter]\ndesk = "dong-bo"\n')
        supervisor = _home(office, "giam-sat", archive)
        desks, procs = _desks(office, archive, base, PER_DESK, SCAN_EVERY, page)
        try:
            # The nightly machine syncs again and again while the desks work.
            sync_env = dict(base, ONESTOP_HOME=str(nightly))
            syncs = []
            while any(p.poll() is None for p in procs) or not syncs:
                syncs.append(_onestop(sync_env, "sync"))
            outs = [p.communicate(timeout=300) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, err
            assert "Traceback" not in err, err
        assert [s.returncode for s in syncs] == [0] * len(syncs), [s.stderr for s in syncs if s.returncode]
        final = _onestop(sync_env, "sync", "--json")
        assert final.returncode == 0, final.stderr

        results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
        printed = [c for r in results for c in r["codes"]]
        scanned = [c for r in results for c in r["scanned"]]
        assert len(scanned) == 2 * (PER_DESK // SCAN_EVERY)

        # One code sequence for the office: 1..600 for the day, each number once, as printed by the desks.
        assert len(printed) == DESKS * PER_DESK == len(set(printed))
        assert sorted(int(c.rsplit("-", 1)[1]) for c in printed) == list(range(1, DESKS * PER_DESK + 1))
        assert {c[:-4] for c in printed} == {printed[0][:-4]}  # one agency, one day
        assert sorted(c for (c,) in rows("SELECT code FROM dossiers")) == sorted(printed)
        assert sorted(b for (b,) in rows("SELECT book_no FROM dossiers")) == list(range(1, DESKS * PER_DESK + 1))

        # The shared archive: one file per scan, every one present and checksummed, no orphan, from any desk.
        stored = rows("SELECT d.code, f.path FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id")
        assert sorted(c for c, _ in stored) == sorted(scanned)
        assert all(Path(p).parent.parent == archive.resolve() for _, p in stored)
        for h in (desks[2], supervisor):
            chk = _onestop(dict(base, ONESTOP_HOME=str(h)), "check", "--json")
            assert chk.returncode == 0, chk.stdout + chk.stderr
            report = json.loads(chk.stdout)
            assert (report["ok"], report["files"], report["problems"]) == (True, len(scanned), [])

        # The ministry holds every dossier, step and file once; nothing is left to send.
        assert rows("SELECT count(*) FROM outbox WHERE state != 'done'") == [(0,)]
        cfg = config.load()
        db = connect(cfg)
        try:
            assert_exactly_once(srv, db)
        finally:
            db.close()
        assert len(srv.state.dossiers) == DESKS * PER_DESK and len(srv.state.files) == len(scanned)

    # The supervisor's PC, a home of its own, sees the whole office's backlog.
    b = _onestop(dict(base, ONESTOP_HOME=str(supervisor)), "backlog", "--json")
    assert b.returncode == 0, b.stderr
    backlog = json.loads(b.stdout)
    assert backlog["total"] == DESKS * PER_DESK
    counts = {s["status"]: s["count"] for s in backlog["by_status"]}
    moved = sum(1 for i in range(PER_DESK) if i % 3 == 0) * DESKS
    assert (counts["2"], counts["4"]) == (DESKS * PER_DESK - moved, moved)

"""P9 and P10 of PERFORMANCE.md: sync throughput and file uploads, against a server on 127.0.0.1.

P9: 100,000 dossiers with one step each. ``onestop sync`` (its own process, peak RSS measured there)
vs a client that only POSTs the same pre-built batches (written by ``--dry-run``) to the same server.
P10: 500 scanned PDFs: ``onestop sync`` vs a plain httpx loop uploading the same files.
Each measurement gets a fresh server process (``tests/ministry_server.py --light``).
Prints ``RESULT|P9|…`` lines (tests/bench/run.py). ``BENCH_SYNC_N`` changes the P9 size.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SERVER = REPO / "tests" / "ministry_server.py"
N = int(os.environ.get("BENCH_SYNC_N", "100000"))
N_FILES = int(os.environ.get("BENCH_SYNC_FILES", "500"))
FILE_SIZE = 400_000
USER, PASSWORD = "canbo", "mat-khau-thu"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Server:
    def __enter__(self):
        self.p = subprocess.Popen([sys.executable, str(SERVER), "--light"], stdout=subprocess.PIPE, text=True)
        port = int(self.p.stdout.readline().split()[1])
        self.url = f"http://127.0.0.1:{port}/api"
        return self

    def stats(self) -> dict:
        import httpx

        return httpx.get(self.url.rsplit("/", 1)[0] + "/_stats").json()

    def __exit__(self, *exc):
        self.p.terminate()
        self.p.wait()


def make_home(root: Path, n: int, *, files: int = 0) -> tuple[Path, dict]:
    """A data home with ``n`` dossiers (create + one step pending), inserted in bulk."""
    home = root / f"home{n}_{files}"
    home.mkdir()
    (home / "onestop.toml").write_text("[sync]\nbatch_size = 50\ntimeout = 30\n")
    os.environ["ONESTOP_HOME"] = str(home)
    from onestop.intake import catalog, dossiers
    from onestop.common import config
    from onestop.store.sqlite import connect

    cfg = config.load(officer="Cán bộ Bench")
    db = connect(cfg.db_path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    proc = catalog.search(db, "", limit=1)[0]["code"]
    at = dossiers.now(cfg) - timedelta(days=1)
    r = dossiers.receive(db, cfg, dossiers.ReceiveRequest(
        procedure_code=proc, applicant=dossiers.Applicant(name="Nguyễn Văn An", id_number="001085012345"),
        at=at), render=False)
    cols = [c[1] for c in db.conn.execute("PRAGMA table_info(dossiers)")]
    tpl = dict(zip(cols, db.conn.execute("SELECT * FROM dossiers WHERE code = ?", [r["code"]]).fetchone()))
    comps = db.conn.execute("SELECT n, code, name, originals, copies, pages, received FROM dossier_components "
                            "WHERE dossier_id = ?", [tpl["id"]]).fetchall()
    ev = db.conn.execute("SELECT at, officer, unit, action, note, status_from, status_to, data FROM events "
                         "WHERE dossier_id = ?", [tpl["id"]]).fetchone()
    stamp = tpl["created_at"]
    agency = tpl["agency"]
    db.conn.execute("BEGIN")
    db.conn.execute("DELETE FROM outbox")
    base_id = tpl["id"]
    dcols = [c for c in cols if c != "id"]
    rows, crow, erow, orow = [], [], [], []
    for i in range(1, n):
        did = base_id + i
        day = (datetime(2026, 1, 1) + timedelta(days=i // 9000)).strftime("%y%m%d")
        d = dict(tpl, code=f"{agency}-{day}-{i % 9000 + 1:04d}", book_no=i + 1)
        rows.append([did] + [d[c] for c in dcols])
        crow.extend((did, *c) for c in comps)
        erow.append((did, did, *ev))
    db.conn.executemany(f"INSERT INTO dossiers (id, {', '.join(dcols)}) VALUES ({', '.join('?' * (len(dcols) + 1))})", rows)
    db.conn.executemany("INSERT INTO dossier_components (dossier_id, n, code, name, originals, copies, pages, received) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", crow)
    max_ev = db.conn.execute("SELECT max(id) FROM events").fetchone()[0]
    db.conn.executemany("INSERT INTO events (id, dossier_id, at, officer, unit, action, note, status_from, status_to, data) "
                        "VALUES (? + ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [(max_ev, *e) for e in erow])
    for did, eid in db.conn.execute("SELECT dossier_id, id FROM events ORDER BY dossier_id").fetchall():
        orow.append((did, "create", None, stamp))
        orow.append((did, "step", eid, stamp))
    db.conn.executemany("INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES (?, ?, ?, ?)", orow)
    info = {"dossiers": n}
    if files:
        import hashlib

        folder = cfg.archive_dir / "bench"
        folder.mkdir(parents=True)
        rnd = random.Random(7)
        paths = []
        db.conn.execute("UPDATE outbox SET state = 'done' WHERE kind = 'step'")
        frows = []
        for i in range(files):
            data = b"%PDF-1.4\n" + rnd.randbytes(FILE_SIZE) + b"\n%%EOF\n"
            p = folder / f"scan_{i:04d}.pdf"
            p.write_bytes(data)
            paths.append((str(p), hashlib.sha256(data).hexdigest()))
            frows.append((base_id + i, 1, str(p), paths[-1][1], len(data), 1, 300, stamp))
        db.conn.executemany("INSERT INTO archive_files (dossier_id, component_n, path, sha256, size, pages, dpi, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", frows)
        # the scans come before the record that points to them: queue them first
        fids = db.conn.execute("SELECT id, dossier_id FROM archive_files ORDER BY id").fetchall()
        db.conn.execute("DELETE FROM outbox WHERE kind = 'create'")
        db.conn.executemany("INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES (?, 'file', ?, ?)",
                            [(d, f, stamp) for f, d in fids])
        db.conn.executemany("INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES (?, 'create', NULL, ?)",
                            [(d, stamp) for _, d in fids])
        db.conn.execute("UPDATE outbox SET state = 'done' WHERE kind = 'step'")
        info["files"] = paths
    db.conn.execute("COMMIT")
    db.conn.close()
    return home, info


SYNC_CHILD = r"""
import json, os, resource, sys, time
from onestop.common import config
from onestop.sync import run_sync
cfg = config.load()
t0 = time.perf_counter()
res = run_sync(cfg, dry_run=sys.argv[1] if len(sys.argv) > 1 else None)
dt = time.perf_counter() - t0
# VmHWM: this process's own peak (ru_maxrss would carry over the parent's peak across fork/exec)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(json.dumps({"seconds": dt, "rss_mb": int(hwm) / 1024,
                  "exit": res.exit_code, "stats": {k: v for k, v in res.stats.items() if k != "failures"}}))
"""


def run_sync_child(home: Path, url: str | None, dry: Path | None = None) -> dict:
    env = dict(os.environ, ONESTOP_HOME=str(home), ONESTOP_SYNC_USER=USER, ONESTOP_SYNC_PASSWORD=PASSWORD)
    if url:
        env["ONESTOP_SYNC_URL"] = url
    args = [sys.executable, "-c", SYNC_CHILD] + ([str(dry)] if dry else [])
    p = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def baseline_batches(url: str, folder: Path) -> float:
    """POST the pre-built batches as they are (a session added), nothing else."""
    import httpx

    bodies = []
    for p in sorted(folder.glob("*.json")):
        b = json.loads(p.read_text("utf-8"))
        bodies.append(b)
    with httpx.Client(timeout=30) as c:
        session = c.post(f"{url}/login", json={"username": USER, "password": PASSWORD}).json()["session"]
        payloads = [json.dumps(dict(b, session=session), ensure_ascii=False).encode() for b in bodies]
        t0 = time.perf_counter()
        for data in payloads:
            r = c.post(f"{url}/service", content=data, headers={"Content-Type": "application/json"})
            assert r.json()["error_code"] == 0
        return time.perf_counter() - t0


def baseline_uploads(url: str, files: list[tuple[str, str]]) -> float:
    import httpx

    with httpx.Client(timeout=60) as c:
        session = c.post(f"{url}/login", json={"username": USER, "password": PASSWORD}).json()["session"]
        t0 = time.perf_counter()
        for path, sha in files:
            with open(path, "rb") as f:
                r = c.post(f"{url}/upload", files={"file": (Path(path).name, f, "application/pdf")},
                           data={"sha256": sha, "MaHoSo": "x", "session": session})
            assert r.json()["error_code"] == 0
        return time.perf_counter() - t0


def main() -> int:
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        log(f"P9: building {N} dossiers…")
        t0 = time.perf_counter()
        home, _ = make_home(root, N)
        log(f"    built in {time.perf_counter() - t0:.1f}s; dry run for the baseline's batches…")
        dry = root / "dry"
        run_sync_child(home, None, dry)
        with Server() as srv:
            base = baseline_batches(srv.url, dry)
        with Server() as srv:
            ours = run_sync_child(home, srv.url)
            st = srv.stats()
        ok_state = st["dossiers"] == N and st["steps"] == N and ours["exit"] == 0
        rate, base_rate = N / ours["seconds"], N / base
        log(f"    onestop sync {ours['seconds']:.1f}s ({rate:.0f}/s), RSS {ours['rss_mb']:.0f} MB; "
            f"baseline {base:.1f}s ({base_rate:.0f}/s); server {st['dossiers']} dossiers, {st['steps']} steps")
        verdict = "PASS" if rate >= 2000 and ok_state else "FAIL"
        print(f"RESULT|P9|sync {N} dossiers + 1 step each (dossiers/s)|{rate:.0f}|{base_rate:.0f}|"
              f"{rate / base_rate:.2f}|≥ 2000/s|{verdict}")
        print(f"RESULT|P9|sync peak RSS (MB)|{ours['rss_mb']:.0f}|—|—|≤ 200 MB|"
              f"{'PASS' if ours['rss_mb'] <= 200 else 'FAIL'}")

        log(f"P10: {N_FILES} scanned PDFs of {FILE_SIZE // 1000} kB…")
        home2, info = make_home(root, N_FILES, files=N_FILES)
        with Server() as srv:
            base = baseline_uploads(srv.url, info["files"])
        with Server() as srv:
            ours = run_sync_child(home2, srv.url)
            st = srv.stats()
        ok_state = st["files"] == N_FILES and st["uploads"] == N_FILES and ours["exit"] == 0
        ratio = base / ours["seconds"]
        log(f"    onestop sync {ours['seconds']:.1f}s (files + their records); plain upload loop {base:.1f}s; "
            f"server {st['files']} files, {st['dossiers']} dossiers")
        print(f"RESULT|P10|sync {N_FILES} scanned PDFs (files/s)|{N_FILES / ours['seconds']:.1f}|"
              f"{N_FILES / base:.1f}|{ratio:.2f}|≥ 0.8×|{'PASS' if ratio >= 0.8 and ok_state else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

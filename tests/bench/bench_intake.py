"""P1 (counter command latency on 100,000 dossiers) and P6 (bulk intake through the library API)."""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import VENV_BIN, interleaved, result  # noqa: E402

N_DB = 100_000
N_BULK = 10_000
os.environ["ONESTOP_NOW"] = "2026-12-30 10:00"  # the generated receipts lie in the past
os.environ.setdefault("ONESTOP_OFFICER", "Cán bộ đo hiệu năng")  # forms refuse to print without an officer name


def build_home(home: Path, n: int) -> str:
    """A data home with ``n`` dossiers received over the year (bulk API, one transaction)."""
    from onestop.intake import catalog, dossiers
    from onestop.common import config
    from onestop.store.sqlite import connect

    os.environ["ONESTOP_HOME"] = str(home)
    cfg = config.load(officer="Cán bộ Bench")
    db = connect(cfg.db_path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    codes = [r["code"] for r in catalog.search(db, "", limit=0) if catalog.get(db, r["code"]).limit_for("1")[0] > 0]
    rnd = random.Random(1)
    reqs = []
    for i in range(n):
        day = dossiers.parse_when(f"2026-{1 + i * 11 // n:02d}-{1 + rnd.randrange(27):02d} {7 + rnd.randrange(9):02d}:{rnd.randrange(60):02d}", cfg)
        reqs.append(dossiers.ReceiveRequest(rnd.choice(codes), dossiers.Applicant(f"Người số {i}", "001085012345"), at=day))
    for k in range(0, n, 20_000):
        dossiers.receive_many(db, cfg, reqs[k:k + 20_000])
    return db.conn.execute("SELECT code FROM dossiers ORDER BY id DESC LIMIT 1").fetchone()[0]


def p1(tmp: Path) -> None:
    home = tmp / "p1"
    t0 = time.perf_counter()
    last = build_home(home, N_DB)
    print(f"built {N_DB:,} dossiers in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    env = dict(os.environ, ONESTOP_HOME=str(home), ONESTOP_NOW="2026-12-30 10:00")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    onestop = str(VENV_BIN / "onestop")
    cmds = {
        "baseline": [str(VENV_BIN / "sqlite-utils"), "--help"],
        "help": [onestop, "--help"],
        "receive": [onestop, "receive", "-p", "1.003584", "--name", "Nguyễn Văn An", "--id", "001085012345",
                    "--all-components", "--json"],
        "show": [onestop, "show", last, "--json"],
    }
    for c in cmds.values():  # warm caches, write bytecode
        import subprocess

        subprocess.run(c, stdout=subprocess.DEVNULL, env=env, check=True)
    med = interleaved(cmds, env=env, runs=21)
    for k, what in (("help", "onestop --help"), ("receive", "onestop receive --json (with receipt PDF)"),
                    ("show", "onestop show CODE --json")):
        result("P1", f"{what}, {N_DB:,} dossiers", med[k], med["baseline"], 1.2, target_text="≤ 1.2× (goal 1.0×)")


def p6(tmp: Path) -> None:
    import sqlite_utils

    from onestop.intake import catalog, dossiers
    from onestop.common import config
    from onestop.store.sqlite import connect

    home = tmp / "p6"
    os.environ["ONESTOP_HOME"] = str(home)
    cfg = config.load(officer="Cán bộ Bench")
    db = connect(cfg.db_path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    at = dossiers.parse_when("2026-11-23 09:00", cfg)
    reqs = [dossiers.ReceiveRequest("1.003584", dossiers.Applicant(f"Người số {i}", "001085012345",
                                                                   address="Số 1 phố Huế, Hà Nội"), at=at)
            for i in range(N_BULK)]
    dossiers.calendar_for(db, cfg, range(2026, 2028))  # the calendar is built once per process; not intake work
    t0 = time.perf_counter()
    out = dossiers.receive_many(db, cfg, reqs)
    ours = time.perf_counter() - t0
    assert len(out) == N_BULK
    # Baseline: the same rows (dossier, its components, its event, its two outbox rows) with insert_all.
    rows = list(db.query("SELECT * FROM dossiers"))
    comps = list(db.query("SELECT * FROM dossier_components"))
    evs = list(db.query("SELECT * FROM events"))
    obx = list(db.query("SELECT * FROM outbox"))
    base_path = tmp / "baseline.db"
    shutil.copy(cfg.db_path, base_path)
    bdb = sqlite_utils.Database(str(base_path))
    bdb.execute("PRAGMA journal_mode=WAL")
    for t in ("outbox", "events", "dossier_components", "dossiers"):
        bdb.execute(f"DELETE FROM {t}")
    bdb.conn.commit()
    for r in rows:
        r.pop("id")
    t0 = time.perf_counter()
    with bdb.conn:
        bdb["dossiers"].insert_all(rows, batch_size=1000)
        bdb["dossier_components"].insert_all(comps, batch_size=1000)
        bdb["events"].insert_all([dict(e, id=None) for e in evs], batch_size=1000)
        bdb["outbox"].insert_all([dict(o, id=None) for o in obx], batch_size=1000)
    base = time.perf_counter() - t0
    result("P6", f"{N_BULK:,} registrations (library API, one transaction)", ours, base, 3.0, target_text="≤ 3×")


def receipt(tmp: Path) -> None:
    """One receipt (Mẫu 01) rendered in a warm process: the part of `receive` the helper overlaps.
    (Moved here from tests/test_forms.py: a time is a benchmark figure, not a pass/fail test.)"""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_forms import CTX, make_dossier

    from onestop.intake.forms import render_receipt

    dossier = make_dossier()
    render_receipt(dossier, CTX, tmp / "warm.pdf")  # imports and font parsing
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        render_receipt(dossier, CTX, tmp / "r.pdf")
        best = min(best, time.perf_counter() - t0)
    result("P1", "receipt PDF render, warm (best of 5)", best, 0.05, 1.0, target_text="≤ 50 ms")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="onestop-bench-"))
    try:
        which = sys.argv[1:] or ["receipt", "p1", "p6"]
        if "receipt" in which:
            receipt(tmp)
        if "p6" in which:
            p6(tmp)
        if "p1" in which:
            p1(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

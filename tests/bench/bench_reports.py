"""P7: `onestop backlog --json` and the month report on 1,000,000 dossiers / 5,000,000 events.

Targets (PERFORMANCE.md): backlog ≤ 0.5 s, report ≤ 2 s, each ≤ 2× the baseline: the same aggregate
SQL run directly by the `sqlite3` shell on the same file. Both are whole processes timed by wall
clock, median of several runs. The generated database is cached in /tmp (ONESTOP_P7_DIR), so
reruns skip the ~2 minutes of generation.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("ONESTOP_P7_DIR", "/tmp/onestop_p7"))
DB = HOME / "onestop.db"
N_DOSSIERS, N_EVENTS = 1_000_000, 5_000_000
AS_OF, PERIOD, LO, HI = "2026-11-30", "2026-11", "2026-11-01", "2026-12-01"
RUNS = int(os.environ.get("P7_RUNS", "7"))
ONESTOP = str(Path(sys.executable).parent / "onestop")

# The figures onestop computes, as plain SQL (what a DBA would type into sqlite3).
BACKLOG_SQL = f"""
SELECT status, procedure_code, substr(due_at, 1, 10), count(*) FROM dossiers
 WHERE status IN ('2','4','5','6') AND received_at < '2026-12-01' GROUP BY 1, 2, 3;
SELECT code, procedure_code, applicant_name, id_number, phone, status, received_at, due_at, officer FROM dossiers
 WHERE status IN ('2','4') AND due_at < '{AS_OF}' AND received_at < '2026-12-01' ORDER BY due_at, id;
"""
REPORT_SQL = f"""
SELECT (SELECT count(*) FROM dossiers WHERE received_at < '{LO}') - (SELECT count(*) FROM dossiers WHERE finished_at < '{LO}');
SELECT channel, procedure_code, count(*),
  sum(EXISTS (SELECT 1 FROM outbox o WHERE o.dossier_id = d.id AND o.kind = 'create' AND o.state = 'done'))
  FROM dossiers d WHERE received_at >= '{LO}' AND received_at < '{HI}' GROUP BY 1, 2;
SELECT status, procedure_code, substr(received_at, 1, 10), substr(finished_at, 1, 10),
  CASE WHEN papers_requests > 1 OR rescheduled = 1 OR finished_at > due_at THEN 'late'
       WHEN substr(finished_at, 1, 10) < substr(due_at, 1, 10) THEN 'early' ELSE 'on_time' END,
  EXISTS (SELECT 1 FROM dossier_components c WHERE c.dossier_id = d.id AND c.digitized > 0), count(*)
  FROM dossiers d WHERE finished_at >= '{LO}' AND finished_at < '{HI}' GROUP BY 1, 2, 3, 4, 5, 6;
SELECT procedure_code, (SELECT e.status_to FROM events e WHERE e.dossier_id = d.id AND e.at < '{HI}'
  AND e.status_to IS NOT NULL ORDER BY e.id DESC LIMIT 1), due_at < '{HI}', count(*) FROM dossiers d
  WHERE status IN ('2','4','5','6') AND received_at < '{HI}' GROUP BY 1, 2, 3;
SELECT procedure_code, (SELECT e.status_to FROM events e WHERE e.dossier_id = d.id AND e.at < '{HI}'
  AND e.status_to IS NOT NULL ORDER BY e.id DESC LIMIT 1), due_at < '{HI}', count(*) FROM dossiers d
  WHERE finished_at >= '{HI}' AND received_at < '{HI}' GROUP BY 1, 2, 3;
"""


def env() -> dict:
    e = dict(os.environ, ONESTOP_HOME=str(HOME), ONESTOP_CONFIG_DIR=str(REPO / "config"))
    e.pop("ONESTOP_LANG", None)
    return e


def ensure_db() -> None:
    if DB.exists():
        n = subprocess.run(["sqlite3", str(DB), "SELECT count(*) FROM dossiers"], capture_output=True, text=True).stdout.strip()
        if n == str(N_DOSSIERS):
            return
    HOME.mkdir(parents=True, exist_ok=True)
    tmp = HOME / "generating.db"
    print(f"generating {N_DOSSIERS:,} dossiers / {N_EVENTS:,} events into {DB} …", file=sys.stderr, flush=True)
    subprocess.run([ONESTOP, "generate", str(tmp), "--dossiers", str(N_DOSSIERS), "--events", str(N_EVENTS)],
                   env=env(), check=True)
    tmp.replace(DB)


def wall(cmd: list[str], stdin: str | None = None) -> float:
    t = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env())
    dt = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"{cmd} failed: {p.stderr}")
    return dt


def median(cmd, stdin=None) -> float:
    wall(cmd, stdin)  # warm the page cache
    return statistics.median(wall(cmd, stdin) for _ in range(RUNS))


def main() -> int:
    if not shutil.which("sqlite3"):
        print("bench_reports: the sqlite3 shell is needed for the baseline (apt-get install sqlite3)", file=sys.stderr)
        return 1
    ensure_db()
    ok = True
    for what, cmd, sql, target in (
        ("backlog --json, 1M dossiers (s)", [ONESTOP, "backlog", "--as-of", AS_OF, "--json"], BACKLOG_SQL, 0.5),
        ("month report --json, 1M dossiers/5M events (s)", [ONESTOP, "report", "--period", PERIOD, "--json"], REPORT_SQL, 2.0),
    ):
        ours = median(cmd)
        base = median(["sqlite3", str(DB)], sql)
        ratio = ours / base
        passed = ours <= target and ratio <= 2.0
        ok &= passed
        print(f"RESULT|P7|{what}|{ours:.3f}|{base:.3f}|{ratio:.2f}|≤{target} s and ≤2×|{'PASS' if passed else 'FAIL'}", flush=True)
    # The same two figures in-process: the library call vs the same SQL through Python's sqlite3
    # (what the query layer costs, without the interpreter and CLI start-up the shell baseline lacks).
    os.environ.update(env())
    import sqlite3
    from datetime import date

    from onestop.common import config
    from onestop.reports import figures as reports
    from onestop.store.sqlite import connect

    cfg = config.load()
    db = connect(DB)
    first, last = reports.parse_period(PERIOD, None, None)
    for what, fn, sql in (
        ("backlog in-process (s)", lambda: reports.backlog(db, cfg, date.fromisoformat(AS_OF)), BACKLOG_SQL),
        ("month report in-process (s)", lambda: reports.period_report(db, cfg, first, last), REPORT_SQL),
    ):
        raw = sqlite3.connect(DB)

        def base():
            for stmt in sql.split(";"):
                if stmt.strip():
                    raw.execute(stmt).fetchall()

        ours = _best(fn)
        b = _best(base)
        print(f"RESULT|P7|{what}|{ours:.3f}|{b:.3f}|{ours / b:.2f}|≤2× (info)|{'PASS' if ours <= 2 * b else 'FAIL'}",
              flush=True)
    return 0  # a missed target is a FAIL row in the table, not a crashed bench


def _best(fn) -> float:
    fn()
    out = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


if __name__ == "__main__":
    sys.exit(main())

"""``make bench``: run every tests/bench/bench_*.py and print their figures.

Each bench script prints lines of the form
``RESULT|<id>|<what>|<value>|<baseline>|<ratio>|<target>|<verdict>``; this runner collects them
into one Markdown table (stdout), ready to paste into BENCHMARKS.md with the date.
Scripts may take names on the command line: ``python tests/bench/run.py p1 ocr``.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    rows, failed = [], []
    for s in scripts:
        print(f"== {s.name}", file=sys.stderr, flush=True)
        p = subprocess.run([sys.executable, str(s)], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        for line in p.stdout.splitlines():
            if line.startswith("RESULT|"):
                rows.append(line.split("|")[1:])
            else:
                print(line, file=sys.stderr)
        if p.returncode != 0:
            failed.append(s.name)
    print(f"\n### {datetime.date.today().isoformat()} — `make bench` on {os.cpu_count()} cores\n")
    print("| # | what | value | baseline | ratio | target | verdict |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if failed:
        print(f"\nbench scripts that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

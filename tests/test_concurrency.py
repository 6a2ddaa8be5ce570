"""Two counters (two OS processes) on one database never get the same code, and leave no gap."""

import os
import subprocess
import sys

SCRIPT = r"""
import os, sys
from onestop.intake import catalog, dossiers; from onestop.common import config
from onestop.store import connect
cfg = config.load()
db = connect(cfg)
out = []
for i in range(int(sys.argv[1])):
    r = dossiers.receive(db, cfg, dossiers.ReceiveRequest(
        procedure_code="1.003584", applicant=dossiers.Applicant(name=f"Người {i}", id_number="001085012345"),
        at=dossiers.parse_when("2026-11-23 09:00", cfg)), render=(i % 10 == 0))
    out.append(r["code"])
print("\n".join(out))
"""


def test_two_processes_get_unique_contiguous_codes(cfg, db, home, rows):
    env = dict(os.environ, ONESTOP_NOW="2026-11-30 16:00")
    n = 60
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(n)], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    codes = outs[0] + outs[1]
    assert len(codes) == 2 * n and len(set(codes)) == 2 * n
    seqs = sorted(int(c.rsplit("-", 1)[1]) for c in codes)
    assert seqs == list(range(1, 2 * n + 1))
    books = sorted(r[0] for r in rows("SELECT book_no FROM dossiers"))
    assert books == list(range(1, 2 * n + 1))

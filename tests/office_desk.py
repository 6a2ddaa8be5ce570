"""One counter desk of the office test (tests/test_office.py): a real OS process on its own data home.

    python tests/office_desk.py N SCAN_EVERY [PAGE.png]

Reads its data home, database URL and clock from the environment like the CLI (ONESTOP_HOME,
ONESTOP_DATABASE_URL, ONESTOP_NOW), prints "ready" once connected, waits for a line on stdin so the
test can start every desk together, then receives N dossiers through the library the counter
commands use (every third moved on to processing, every 25th with its receipt PDF rendered) and,
with SCAN_EVERY > 0, scans PAGE.png (real tesseract) into component 1 of every SCAN_EVERY-th dossier.
Prints one JSON line at the end: {"codes": [...], "scanned": [...]}. An error exits with onestop's
exit code and message, like the CLI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from onestop.archive import scan as archive
from onestop.intake import catalog, dossiers
from onestop.common import config
from onestop.common.errors import OnestopError
from onestop.store import connect

APPLICANTS = [("Nguyễn Văn An", "001085012345"), ("Trần Thị Bích Ngọc", "033190004567"),
              ("Lê Đức Thắng", "079092003210"), ("Phạm Thị Hoa", "036185009876")]
PROCEDURE = "1.003604"  # three components; component 1 is the one scanned


def main(argv: list[str]) -> int:
    n, scan_every = int(argv[0]), int(argv[1])
    page = Path(argv[2]) if len(argv) > 2 and argv[2] else None
    cfg = config.load()
    db = connect(cfg)
    catalog.ensure_loaded(db, cfg.catalog_file)
    print("ready", flush=True)
    sys.stdin.readline()
    codes, scanned = [], []
    for i in range(n):
        name, idn = APPLICANTS[i % len(APPLICANTS)]
        r = dossiers.receive(db, cfg, dossiers.ReceiveRequest(
            procedure_code=PROCEDURE, applicant=dossiers.Applicant(name=f"{name} {i}", id_number=idn)),
            render=(i % 25 == 0))
        codes.append(r["code"])
        if i % 3 == 0:
            dossiers.move(db, cfg, r["code"], "4", note="Chuyển phòng chuyên môn", render=False)
        if scan_every and page is not None and i % scan_every == scan_every // 2:
            archive.scan(db, cfg, r["code"], [page], component=1, yes=True)
            scanned.append(r["code"])
    print(json.dumps({"codes": codes, "scanned": scanned}), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OnestopError as e:
        print(f"onestop: {e}", file=sys.stderr)
        sys.exit(e.exit_code)

"""A counter desk as a real OS process, for the office tests and the P11 bench (one helper, four modes).

    python tests/desk.py counter N SCAN_EVERY [PAGE.png]      # tests/test_office.py, bench P11
    python tests/desk.py receive URL N FAIL_EVERY DESK        # N dossiers; every FAIL_EVERY-th rolls back
    python tests/desk.py hold URL                             # number a dossier, then hang in the transaction
    python tests/desk.py sync-lock URL DESK                   # hold the office sync lock until stdin closes

``counter`` reads its data home, database URL and clock from the environment like the CLI (ONESTOP_HOME,
ONESTOP_DATABASE_URL, ONESTOP_NOW) and receives N dossiers through the library the counter commands use
(every third moved on to processing, every 25th with its receipt PDF rendered); with SCAN_EVERY > 0 it
scans PAGE.png (real tesseract) into component 1 of every SCAN_EVERY-th dossier, and prints one JSON line
at the end: {"codes": [...], "scanned": [...]}. ``receive`` and ``hold`` write through the store
functions directly on the database at URL (``insert_numbered``), ``receive`` printing its codes.

Every mode prints "ready" (``sync-lock``: "held") once connected and waits for a line on stdin so that
the test can start the desks together. Failures exit with onestop's exit code and message, like the CLI.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

from onestop.common.errors import OnestopError

# ---------------------------------------------------------------- counter: the library the CLI uses

APPLICANTS = [("Nguyễn Văn An", "001085012345"), ("Trần Thị Bích Ngọc", "033190004567"),
              ("Lê Đức Thắng", "079092003210"), ("Phạm Thị Hoa", "036185009876")]
PROCEDURE = "1.003604"  # three components; component 1 is the one scanned


def counter(argv: list[str]) -> int:
    from onestop.archive import scan as archive
    from onestop.common import config
    from onestop.intake import catalog, dossiers
    from onestop.store import connect

    n, scan_every = int(argv[0]), int(argv[1])
    page = Path(argv[2]) if len(argv) > 2 and argv[2] else None
    cfg = config.load()
    db = connect(cfg)
    catalog.ensure_loaded(db, cfg.catalog_file)
    wait_go()
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


# ---------------------------------------------------------------- receive / hold: the store functions

DAYS = (date(2026, 11, 23), date(2026, 11, 24))
AGENCY = "000.00.01.H56"


class Rollback(Exception):
    pass


def dossier(desk: str, i: int) -> dict:
    return dict(agency=AGENCY, code_rule="tt01-2018", procedure_code="1.001", procedure_name="Đăng ký hoạt động",
                applicant_name=f"Người nộp {desk} {i}", status="2", received_at=f"2026-11-23T08:{i % 60:02d}:00+07:00",
                due_at="2026-11-30T17:00:00+07:00", original_due_at="2026-11-30T17:00:00+07:00", limit_value=5,
                limit_unit="working_days", officer=desk, created_at="2026-11-23T08:00:00+07:00",
                updated_at="2026-11-23T08:00:00+07:00")


def wait_go() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


def insert_numbered(store, desk: str, i: int, day: date) -> dict:
    """One dossier written the way an office ``receive`` writes it (onestop/intake/dossiers.py ``_insert``,
    the same store functions in the same order): rows first with provisional numbers, numbered last.
    Call inside ``store.transaction()``."""
    from onestop.domain import codes
    from onestop.store import codes as code_store
    from onestop.store import dossiers as dossier_store

    code, book = code_store.provisional_numbers(store)
    stamp = "2026-11-23T08:00:00+07:00"
    did = dossier_store.insert_dossier(store, dict(dossier(desk, i), code=code, book_year=day.year, book_no=book))
    dossier_store.insert_components(store, did, [{"n": 1, "code": "", "name": "Đơn", "originals": 1, "copies": 0,
                                                  "pages": 0, "received": 1, "applies": None}])
    ev = dossier_store.add_event(store, did, stamp, desk, "", "receive", "Tiếp nhận hồ sơ", None, "2")
    dossier_store.queue_outbox_rows(store, did, [("create", None), ("step", ev)], stamp)
    seq, book, code = code_store.number_dossier(store, did, AGENCY, day.strftime("%y%m%d"), day.year,
                                                codes.code_prefix(AGENCY, day))
    return {"id": did, "seq": seq, "book_no": book, "code": code}


def office(mode: str, argv: list[str]) -> int:
    from onestop.store import postgres

    url = argv[0]
    if mode == "sync-lock":
        with postgres.sync_lock(url, desk=argv[1]):
            print("held", flush=True)
            sys.stdin.read()  # until the test closes stdin (or kills us)
        return 0
    store = postgres.connect(url)
    if mode == "hold":
        wait_go()
        with store.transaction():
            r = insert_numbered(store, "holder", 0, DAYS[0])
            print(f"allocated {r['seq']} {r['book_no']}", flush=True)
            time.sleep(3600)  # killed by the test while the counter row is locked
        return 0
    n, fail_every, desk = int(argv[1]), int(argv[2]), argv[3]
    wait_go()
    done = []
    for i in range(1, n + 1):
        day = DAYS[i % 2]
        try:
            with store.transaction():
                r = insert_numbered(store, desk, i, day)
                if i % fail_every == 0:
                    raise Rollback  # numbered, then the transaction failed: the number must be reused
                done.append(r["code"])
        except Rollback:
            pass
    print("\n".join(done), flush=True)
    return 0


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "counter":
        return counter(argv[1:])
    if mode in ("receive", "hold", "sync-lock"):
        return office(mode, argv[1:])
    raise SystemExit(f"desk.py: unknown mode {mode!r} (counter, receive, hold, sync-lock)")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OnestopError as e:
        print(f"onestop: lỗi: {e.vi}", file=sys.stderr)  # the CLI's default language
        sys.exit(e.exit_code)

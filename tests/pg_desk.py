"""A desk process for the office tests: real OS processes against the real PostgreSQL server.

    python tests/pg_desk.py receive URL N FAIL_EVERY DESK   # N dossiers; every FAIL_EVERY-th rolls back
    python tests/pg_desk.py hold URL                        # number a dossier, then hang inside the transaction
    python tests/pg_desk.py sync-lock URL DESK              # hold the office sync lock until stdin closes

Each prints "ready" once connected and waits for a line on stdin ("go") so that the test can start
them together. Failures exit with onestop's exit code and message, like the CLI.
"""

from __future__ import annotations

import sys
import time
from datetime import date

from onestop.domain import codes
from onestop.common.errors import OnestopError
from onestop.store import codes as code_store
from onestop.store import dossiers as dossier_store
from onestop.store import postgres

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


def main(argv: list[str]) -> int:
    mode, url = argv[0], argv[1]
    if mode == "sync-lock":
        with postgres.sync_lock(url, desk=argv[2]):
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
    n, fail_every, desk = int(argv[2]), int(argv[3]), argv[4]
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


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OnestopError as e:
        print(f"onestop: lỗi: {e.vi}", file=sys.stderr)
        sys.exit(e.exit_code)

"""Issue 9: which data-access approach for the PostgreSQL side — psycopg 3 plain SQL, SQLAlchemy Core
or aiosql — measured on what a counter pays: the import at every command, and the per-transaction
overhead of a receive-like transaction (gapless code + book number by upsert … RETURNING, the dossier,
its event, two outbox rows) against a real server on 127.0.0.1 (tests/pg.py). Plain psycopg is the
baseline; the same transaction on SQLite (Python's sqlite3, WAL, synchronous=NORMAL) is shown for scale.

Needs the `bench` extra (SQLAlchemy, aiosql); `make bench` installs it.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from common import REPO, interleaved, result  # noqa: E402
from pg import PgServer  # noqa: E402

ROUNDS, PER_ROUND = 8, 60
AGENCY = "000.00.01.H56"
DOSSIER = dict(agency=AGENCY, code_rule="tt01-2018", procedure_code="1.001", procedure_name="Đăng ký hoạt động",
               applicant_name="Nguyễn Văn An", id_number="001085012345", status="2",
               received_at="2026-11-23T08:00:00+07:00", due_at="2026-11-30T17:00:00+07:00",
               original_due_at="2026-11-30T17:00:00+07:00", limit_value=5, limit_unit="working_days",
               book_year=2026, officer="Trần Thị Cán Bộ", created_at="2026-11-23T08:00:00+07:00",
               updated_at="2026-11-23T08:00:00+07:00")
STAMP = "2026-11-23T08:00:00+07:00"


def import_costs() -> dict[str, float]:
    py = sys.executable
    cmds = {
        "none": [py, "-c", "pass"],
        "psycopg": [py, "-c", "import psycopg"],
        "sqlalchemy": [py, "-c", "import sqlalchemy; import sqlalchemy.dialects.postgresql.psycopg"],
        "aiosql": [py, "-c", "import aiosql, psycopg"],
        "onestop.store (no URL)": [py, "-c", "import onestop.store"],
    }
    t = interleaved(cmds, runs=15)
    return {k: v - t["none"] for k, v in t.items() if k != "none"}


# ---------------------------------------------------------------- the three approaches

def psycopg_txn(url):
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    cols = ", ".join(list(DOSSIER) + ["code", "book_no"])
    ins = f"INSERT INTO dossiers ({cols}) VALUES ({', '.join(['%s'] * (len(DOSSIER) + 2))}) RETURNING id"

    def txn(i: int) -> None:
        with conn.transaction():
            seq = conn.execute("INSERT INTO code_sequences AS s (agency, day, last) VALUES (%s, %s, 1) ON CONFLICT "
                               "(agency, day) DO UPDATE SET last = s.last + 1 RETURNING last",
                               [AGENCY, "261123"]).fetchone()[0]
            book = conn.execute("INSERT INTO book_sequences AS s (agency, year, last) VALUES (%s, %s, 1) ON CONFLICT "
                                "(agency, year) DO UPDATE SET last = s.last + 1 RETURNING last",
                                [AGENCY, 2026]).fetchone()[0]
            did = conn.execute(ins, [*DOSSIER.values(), f"{AGENCY}-261123-{seq:04d}", book]).fetchone()[0]
            ev = conn.execute("INSERT INTO events (dossier_id, at, action, status_to) VALUES (%s, %s, 'receive', '2') "
                              "RETURNING id", [did, STAMP]).fetchone()[0]
            conn.execute("INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES (%s, 'create', NULL, %s), "
                         "(%s, 'step', %s, %s)", [did, STAMP, did, ev, STAMP])
    return txn


def sqlalchemy_txn(url):
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), pool_size=1)
    md = sa.MetaData()
    t = {n: sa.Table(n, md, autoload_with=engine) for n in
         ("code_sequences", "book_sequences", "dossiers", "events", "outbox")}

    def upsert(table, key: dict):
        stmt = pg_insert(table).values(**key, last=1)
        return stmt.on_conflict_do_update(index_elements=list(key), set_={"last": table.c.last + 1}) \
            .returning(table.c.last)

    code_stmt = upsert(t["code_sequences"], {"agency": AGENCY, "day": "261123"})
    book_stmt = upsert(t["book_sequences"], {"agency": AGENCY, "year": 2026})

    def txn(i: int) -> None:
        with engine.begin() as c:
            seq = c.execute(code_stmt).scalar_one()
            book = c.execute(book_stmt).scalar_one()
            did = c.execute(sa.insert(t["dossiers"]).returning(t["dossiers"].c.id),
                            dict(DOSSIER, code=f"{AGENCY}-261123-{seq:04d}", book_no=book)).scalar_one()
            ev = c.execute(sa.insert(t["events"]).returning(t["events"].c.id),
                           dict(dossier_id=did, at=STAMP, action="receive", status_to="2")).scalar_one()
            c.execute(sa.insert(t["outbox"]), [dict(dossier_id=did, kind="create", ref_id=None, created_at=STAMP),
                                               dict(dossier_id=did, kind="step", ref_id=ev, created_at=STAMP)])
    return txn


AIOSQL = f"""
-- name: next_code$
INSERT INTO code_sequences AS s (agency, day, last) VALUES (:agency, :day, 1)
ON CONFLICT (agency, day) DO UPDATE SET last = s.last + 1 RETURNING last;

-- name: next_book$
INSERT INTO book_sequences AS s (agency, year, last) VALUES (:agency, :year, 1)
ON CONFLICT (agency, year) DO UPDATE SET last = s.last + 1 RETURNING last;

-- name: insert_dossier$
INSERT INTO dossiers ({', '.join(list(DOSSIER) + ['code', 'book_no'])})
VALUES ({', '.join(':' + k for k in list(DOSSIER) + ['code', 'book_no'])}) RETURNING id;

-- name: insert_event$
INSERT INTO events (dossier_id, at, action, status_to) VALUES (:dossier_id, :at, 'receive', '2') RETURNING id;

-- name: insert_outbox!
INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES (:did, 'create', NULL, :stamp),
(:did, 'step', :ev, :stamp);
"""


def aiosql_txn(url):
    import aiosql
    import psycopg

    q = aiosql.from_str(AIOSQL, "psycopg", mandatory_parameters=False)
    conn = psycopg.connect(url, autocommit=True)

    def txn(i: int) -> None:
        with conn.transaction():
            seq = q.next_code(conn, agency=AGENCY, day="261123")
            book = q.next_book(conn, agency=AGENCY, year=2026)
            did = q.insert_dossier(conn, **DOSSIER, code=f"{AGENCY}-261123-{seq:04d}", book_no=book)
            ev = q.insert_event(conn, dossier_id=did, at=STAMP)
            q.insert_outbox(conn, did=did, ev=ev, stamp=STAMP)
    return txn


def sqlite_txn(path: Path):
    from onestop.store.sqlite import connect

    db = connect(path)
    conn = db.conn
    cols = ", ".join(list(DOSSIER) + ["code", "book_no"])
    ins = f"INSERT INTO dossiers ({cols}) VALUES ({', '.join('?' * (len(DOSSIER) + 2))})"

    def txn(i: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        seq = conn.execute("INSERT INTO code_sequences (agency, day, last) VALUES (?, ?, 1) ON CONFLICT(agency, day) "
                           "DO UPDATE SET last = last + 1 RETURNING last", [AGENCY, "261123"]).fetchone()[0]
        book = conn.execute("INSERT INTO book_sequences (agency, year, last) VALUES (?, ?, 1) ON CONFLICT(agency, year) "
                            "DO UPDATE SET last = last + 1 RETURNING last", [AGENCY, 2026]).fetchone()[0]
        did = conn.execute(ins, [*DOSSIER.values(), f"{AGENCY}-261123-{seq:04d}", book]).lastrowid
        ev = conn.execute("INSERT INTO events (dossier_id, at, action, status_to) VALUES (?, ?, 'receive', '2')",
                          [did, STAMP]).lastrowid
        conn.execute("INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES (?, 'create', NULL, ?), "
                     "(?, 'step', ?, ?)", [did, STAMP, did, ev, STAMP])
        conn.execute("COMMIT")
    return txn


def main() -> int:
    imp = import_costs()
    base_imp = imp["psycopg"]
    for name in ("psycopg", "sqlalchemy", "aiosql"):
        result("S1", f"import cost: {name} (over bare `python -c pass`)", imp[name], base_imp, None,
               target_text="lower is better; counter commands pay it")
    result("S1", "import cost: onestop.store with no URL (SQLite desks)", imp["onestop.store (no URL)"], base_imp,
           None, target_text="≈ 0: no driver import")

    server = PgServer()
    # This benchmark measures the client side: keep the server's durability as a real office has it
    # (fsync on) would measure the disk instead; the tests' fast settings are used for both.
    server.start()
    try:
        from onestop.store import postgres

        txns = {}
        for name, make in (("psycopg", psycopg_txn), ("sqlalchemy", sqlalchemy_txn), ("aiosql", aiosql_txn)):
            server.sql(f"CREATE DATABASE b_{name}")
            postgres.connect(server.url(f"b_{name}"))
            txns[name] = make(server.url(f"b_{name}"))
        tmp = Path(tempfile.mkdtemp(prefix="onestop-bench-"))
        txns["sqlite"] = sqlite_txn(tmp / "onestop.db")
        for f in txns.values():  # warm-up: connections, prepared statements, SQLAlchemy's compiled cache
            for i in range(20):
                f(i)
        times: dict[str, list[float]] = {k: [] for k in txns}
        for r in range(ROUNDS):  # interleaved rounds: drift on the shared machine hits all alike
            for name, f in txns.items():
                for i in range(PER_ROUND):
                    t0 = time.perf_counter()
                    f(i)
                    times[name].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        base = med["psycopg"]
        for name in ("psycopg", "sqlalchemy", "aiosql"):
            result("S2", f"receive-like transaction, {name} (median of {ROUNDS * PER_ROUND})", med[name] * 1e6,
                   base * 1e6, None, unit="µs", target_text="lower is better")
        result("S2", "the same transaction on SQLite (sqlite3, WAL), for scale", med["sqlite"] * 1e6, base * 1e6,
               None, unit="µs", target_text="info")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

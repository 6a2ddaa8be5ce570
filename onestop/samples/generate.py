"""A generator of large test databases for the P7 bench (1,000,000 dossiers, 5,000,000 events).

Rows are built here in Python and bulk-loaded by ``onestop/store/generate.py`` (big transactions,
secondary indexes dropped during the load and rebuilt once at the end). The mix is realistic for a
provincial department: dossiers received on working days over ``months`` months up to ``end``; most resolved
(early > on time > late), a few withdrawn or stopped, recent ones still open in 2/4/5/6; one or two
requests for papers, some reschedules; a 'create' outbox row per dossier (done when synced) and one
component per dossier (digitized or not). Not for production data: applicants are made up.
"""

from __future__ import annotations

import random
import time as _time
from datetime import date, datetime, timedelta
from pathlib import Path

from onestop.common.config import Config

OFFICERS = ["Nguyễn Thị Lan", "Trần Văn Hùng", "Lê Thị Mai", "Phạm Đức Long"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường", "Phạm Thu Dung", "Hoàng Minh Đức",
         "Công ty TNHH Ánh Dương", "Vũ Thị Hạnh", "Đặng Quốc Khánh"]


def generate(path: str | Path, cfg: Config, *, dossiers: int = 1_000_000, events: int = 5_000_000,
             end: date = date(2026, 11, 30), months: int = 24, seed: int = 7, progress=None) -> dict:
    """Write a new database at ``path`` (replaced if present), or into the new, empty PostgreSQL
    database ``path`` names as a ``postgresql://`` URL; returns counts and seconds."""
    from onestop.intake import catalog
    from onestop import store as stores
    from onestop.intake.dossiers import calendar_for
    from onestop.store import generate as store

    t0 = _time.monotonic()
    say = progress or (lambda m: None)
    if str(path).lower().startswith(("postgresql://", "postgres://")):
        from onestop.common.errors import InvalidInput
        from onestop.store import postgres
        from onestop.store.redact import redact_url

        db = postgres.connect(stores.check_url(str(path)))
        if not store.is_empty(db):
            raise InvalidInput(f"CSDL {redact_url(str(path))} đã có hồ sơ: chỉ sinh dữ liệu vào một CSDL mới, trống.",
                               f"The database {redact_url(str(path))} already holds dossiers: generate into a new, "
                               "empty database only.")
        path = redact_url(str(path))
    else:
        from onestop.store.sqlite import connect

        path = Path(path)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        db = connect(path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    start = date(end.year - (months // 12), end.month, 1) - timedelta(days=31 * (months % 12))
    cal = calendar_for(db, cfg, range(start.year, end.year + 2))
    procs = [(r["code"], r["name"], r["field_code"], r["field_name"], _limit(r["limits"]))
             for r in store.procedures(db)]
    index_sql = store.begin_bulk_load(db)

    workdays = []
    d = start
    while d <= end + timedelta(days=400):
        if cal.is_working_day(d):
            workdays.append(d)
        d += timedelta(days=1)
    wd_index = {d: i for i, d in enumerate(workdays)}
    recv_days = [d for d in workdays if d <= end]
    end_moment = datetime.combine(end, datetime.min.time()).replace(hour=17)
    rnd = random.Random(seed)
    agency, unit = cfg.agency_code, cfg.unit
    per_day = dossiers / len(recv_days)
    target_ev = events / dossiers
    n_ev = 0
    did = 0
    book = {}
    seq_day: dict[date, int] = {}
    # rows as tuples in the order of store.generate's DOSSIER/EVENT/OUTBOX/COMPONENT_COLUMNS
    chunk_d, chunk_e, chunk_o, chunk_c = [], [], [], []

    def iso(day: date, minutes: int) -> str:
        return f"{day.isoformat()}T{minutes // 60:02d}:{minutes % 60:02d}:00+07:00"

    def flush():
        store.insert_batch(db, chunk_d, chunk_e, chunk_o, chunk_c)
        for c in (chunk_d, chunk_e, chunk_o, chunk_c):
            c.clear()

    carry = 0.0
    for day in recv_days:
        carry += per_day
        k = int(carry)
        carry -= k
        k = dossiers - did if day == recv_days[-1] else min(k, dossiers - did)
        wi = wd_index[day]
        mins = sorted(rnd.randrange(7 * 60, 17 * 60) for _ in range(k))
        for m in mins:
            did += 1
            seq_day[day] = seq = seq_day.get(day, 0) + 1
            book[day.year] = bno = book.get(day.year, 0) + 1
            code, pname, fcode, fname, limit = procs[rnd.randrange(len(procs))]
            due_wi = wi + limit
            due = iso(workdays[due_wi], m)
            odue = due
            rec = iso(day, m)
            officer = OFFICERS[did % len(OFFICERS)]
            u = rnd.random()
            preq = 2 if u < 0.02 else 1 if u < 0.10 else 0
            resched = 1 if rnd.random() < 0.01 else 0
            evs = [(did, rec, officer, unit, "receive", "Tiếp nhận hồ sơ", None, "2")]
            fate = rnd.random()
            if fate < 0.02:
                fin_wi, final = wi + rnd.randint(1, 3), "7"
            elif fate < 0.04:
                fin_wi, final = wi + rnd.randint(1, max(limit, 1)), "8"
            else:
                g = rnd.random()
                delta = -rnd.randint(1, max(1, limit // 2)) if g < 0.6 else 0 if g < 0.85 else rnd.randint(1, 5)
                fin_wi, final = max(wi, due_wi + delta), ("10" if rnd.random() < 0.85 else "9")
            fin_day = workdays[fin_wi]
            fm = min(m, 16 * 60) if fin_wi == due_wi else rnd.randrange(7 * 60, 17 * 60)
            if fin_wi == wi:
                fm = max(fm, m + 1)
            fin = iso(fin_day, min(fm, 23 * 60))
            if fin_day > end or datetime.fromisoformat(fin[:19]) > end_moment:  # still open at the end
                o = rnd.random()
                status = "4" if o < 0.7 else "2" if o < 0.85 else "5" if o < 0.95 else "6"
                if status != "2":
                    evs.append((did, iso(day, min(m + 30, 23 * 60)), officer, unit, f"status_{status}", "", "2", status))
                finished = returned = None
                preq = max(preq, 1) if status == "5" else min(preq, 1)
                resched = 0
            else:
                status = final
                prev = "2"
                if final in ("9", "10"):
                    evs.append((did, iso(day, min(m + 30, 23 * 60)), officer, unit, "status_4", "", "2", "4"))
                    prev = "4"
                    for _ in range(preq):
                        evs.append((did, iso(day, min(m + 40, 23 * 60)), officer, unit, "status_5", "", "4", "5"))
                        evs.append((did, iso(day, min(m + 50, 23 * 60)), officer, unit, "status_4", "", "5", "4"))
                    evs.append((did, fin, officer, unit, "status_9", "", "4", "9"))
                    prev = "9"
                    if final == "10":
                        evs.append((did, fin, officer, unit, "status_10", "", "9", "10"))
                else:
                    evs.append((did, fin, officer, unit, f"status_{final}", "", prev, final))
                finished = fin
                returned = fin if final == "10" else None
            if resched:
                due = iso(workdays[due_wi + 3], m)
            while n_ev + len(evs) < did * target_ev:  # notes bring the log to the target size
                evs.append((did, rec, officer, unit, "note", "Ghi chú xử lý", None, None))
            n_ev += len(evs)
            chunk_e.extend(evs)
            phone = f"09{did % 100000000:08d}"
            chunk_d.append((did, f"{agency}-{day:%y%m%d}-{seq:04d}", agency, "tt01-2018", code, pname, fcode, fname,
                            "1" if u < 0.6 else "2" if u < 0.95 else "3", NAMES[did % len(NAMES)], "cccd",
                            f"001{did % 1000000000:09d}", phone, "Hưng Yên", status, rec, due, odue, limit,
                            "working_days", day.year, bno, officer, unit, preq, resched, finished, returned, rec, rec))
            synced = day < end - timedelta(days=2) and rnd.random() < 0.93
            chunk_o.append((did, rec, "done" if synced else "pending", rec if synced else None))
            chunk_c.append((did, 1 if rnd.random() < 0.85 else 0))
            if len(chunk_d) >= 50_000:
                flush()
                say(f"  {did:,} / {dossiers:,} hồ sơ, {n_ev:,} sự kiện")
        if did >= dossiers:
            break
    flush()
    store.set_book_counters(db, agency, book)
    say("  tạo lại chỉ mục (indexes)…")
    store.end_bulk_load(db, index_sql)
    return {"dossiers": did, "events": n_ev, "seconds": _time.monotonic() - t0, "path": str(path)}


def _limit(limits_json: str) -> int:
    import json

    try:
        lim = json.loads(limits_json).get("1") or next(iter(json.loads(limits_json).values()))
        v = int(float(lim.get("value", 5)))
        return v if lim.get("unit") == "working_days" and v > 0 else 5
    except Exception:
        return 5

"""Move a one-desk SQLite office into an empty PostgreSQL database (``onestop db migrate-to``).

The SQLite file is opened read-only (``mode=ro``: its bytes never change) and read in one snapshot;
every table is copied with COPY into the office schema in ONE PostgreSQL transaction, so the office
database holds either the whole desk or nothing. The tables are read from ``sqlite_master`` and
``PRAGMA table_info``, not from a list: a table or column another migration adds is carried too,
and one without a PostgreSQL counterpart stops the move (exit 19) instead of being left behind.

What makes the office continue where the desk stopped:
- the counter rows (``code_sequences``, ``book_sequences``) are copied, so the next code and book
  number follow the last ones issued, and raised to the home's high-water mark
  (``codes-issued.json``, onestop/store/home.py) where a restored database is behind the codes printed;
- ids are copied as they are and every identity column is set past the highest id (and past
  SQLite's AUTOINCREMENT high-water mark, if a table has one);
- outbox rows keep their state, attempts and remote ids: what was sent stays sent, what was pending
  stays pending;
- the FTS5 index (``search_fts``) becomes ``search_docs`` row for row, and ``search_state`` comes
  along, so search finds the same things without re-reading every page.
Counts per table are checked against the source inside the transaction (plus the outbox per state
and the counter rows value for value); any difference rolls everything back.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from onestop.common.errors import (DatabaseBusy, HomeMismatch, InvalidInput, NotFound, OnestopError, SchemaMismatch,
                            StorageError)

# SQLite tables that are not copied as rows. Virtual tables map to a PostgreSQL table of their own
# (their shadow tables, "<name>_data" etc., are SQLite internals); the rest are bookkeeping.
VIRTUAL = {"search_fts": "search_docs"}
_SHADOW = ("data", "idx", "content", "docsize", "config")  # FTS5's own tables behind a virtual table
SKIPPED = {"_sqlite_migrations": "sqlite-utils' migration log; PostgreSQL has onestop_schema"}
# PostgreSQL tables that may hold rows before the copy: the schema log, the desk that connects, and the
# office settings a connecting desk published (the moved desk's replace them: onestop/store/settings.py).
PG_OWN = {"onestop_schema", "desks", "office_settings"}
# Tables a new PostgreSQL database fills by itself whose rows the desk's replace: the catalog the
# owner's first run loaded (docs/office.md section 1.2) is replaced by the desk's own; in ``office``, the
# spool identity (the acknowledgements of the desk's spool folders must still match after the move).
REPLACED = {"procedures", "procedure_components"}
REPLACED_ROWS = {"office": "key IN ('office_id', 'office_created_at', 'spool_secret')"}
# Tables whose every row is compared, not only counted: the next code and book number come from them.
COMPARED = ("code_sequences", "book_sequences")
BATCH = 5000


def open_readonly(path: Path) -> sqlite3.Connection:
    """The desk's SQLite file, read-only: nothing can write to it through this connection."""
    if not path.is_file():
        raise NotFound(
            f"Không có cơ sở dữ liệu SQLite tại {path}: không có gì để chuyển. Kiểm tra ONESTOP_HOME (thư mục "
            "dữ liệu của quầy).",
            f"No SQLite database at {path}: nothing to move. Check ONESTOP_HOME (the desk's data home).")
    old = os.umask(0o077)  # the -wal/-shm files SQLite may create beside it stay private
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, isolation_level=None)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        raise _damaged(path, e) from None
    finally:
        os.umask(old)
    return conn


def _damaged(path: Path, e: Exception) -> OnestopError:
    """A damaged file (13, as everywhere), or another read failure such as permissions (7)."""
    from onestop.store.sqlite import damaged_error, is_damage

    if is_damage(e):
        return damaged_error(path, "chưa chuyển gì sang CSDL văn phòng", "nothing was moved to the office database")
    return StorageError(
        f"Không đọc được cơ sở dữ liệu {path} ({e}). Kiểm tra quyền đọc tệp; chưa có gì được ghi vào CSDL văn phòng.",
        f"Cannot read the database {path} ({e}). Check the file's permissions; nothing was written to the office "
        "database.")


def plan(src: sqlite3.Connection, pg) -> list[dict]:
    """What to copy: one entry per SQLite table with its columns and PostgreSQL table, in an order
    that respects the PostgreSQL foreign keys. Raises SchemaMismatch naming any table or column the
    office schema lacks."""
    master = src.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    virtual = {n for n, sql in master if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")}
    shadow = {f"{v}_{s}" for v in virtual for s in _SHADOW}
    pg_cols = {}
    for t, c, nullable, default, identity, generated in pg.execute(
            "SELECT table_name, column_name, is_nullable = 'YES', column_default IS NOT NULL, is_identity = 'YES', "
            "is_generated = 'ALWAYS' FROM information_schema.columns WHERE table_schema = current_schema() "
            "ORDER BY table_name, ordinal_position"):
        pg_cols.setdefault(t, {})[c] = {"optional": nullable or default or identity, "generated": generated}
    entries, missing = [], []
    for name, _sql in master:
        if name.startswith("sqlite_") or name in SKIPPED or name in shadow:
            continue
        if name in virtual:
            if name not in VIRTUAL:
                missing.append(f"{name} (virtual)")
            continue
        cols = [r[1] for r in src.execute(f'PRAGMA table_info("{name}")')]
        target = pg_cols.get(name)
        if target is None:
            missing.append(name)
            continue
        absent = [c for c in cols if c not in target or target[c]["generated"]]
        required = [c for c, m in target.items() if c not in cols and not m["optional"]]
        if absent or required:
            missing.append(f"{name}({', '.join(absent + required)})")
            continue
        entries.append({"table": name, "source_table": name, "columns": cols})
    for v in sorted(virtual & set(VIRTUAL)):
        entries.append({"table": VIRTUAL[v], "source_table": v, "columns": ["rowid", "kind", "dossier_id", "body"],
                        "virtual": True})
    if missing:
        raise SchemaMismatch(
            f"CSDL văn phòng (lược đồ PostgreSQL của bản onestop này) chưa có chỗ cho: {', '.join(missing)}. "
            "Không chuyển gì để khỏi bỏ sót dữ liệu; cập nhật onestop (bản có lược đồ PostgreSQL tương ứng) rồi "
            "chạy lại.",
            f"The office database (this onestop's PostgreSQL schema) has no place for: {', '.join(missing)}. "
            "Nothing was moved, so that nothing is left behind; update onestop (a version whose PostgreSQL schema "
            "has them) and run again.")
    return _fk_order(entries, pg)


def _fk_order(entries: list[dict], pg) -> list[dict]:
    """Parents before children (PostgreSQL checks foreign keys row by row)."""
    deps: dict[str, set[str]] = {}
    for child, parent in pg.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"):
        if child != parent:
            deps.setdefault(child, set()).add(parent)
    ordered, pending = [], sorted(entries, key=lambda e: e["table"])
    while pending:
        waiting = {e["table"] for e in pending}
        ready = [e for e in pending if not (deps.get(e["table"], set()) & waiting)] or pending[:1]  # [:1]: a cycle
        ordered += ready
        pending = [e for e in pending if e not in ready]
    return ordered


def _nonempty(pg) -> dict[str, int]:
    """The onestop tables of the target that already hold rows (besides the schema log and desks)."""
    out = {}
    for (t,) in pg.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"):
        if t in PG_OWN or t in REPLACED:
            continue
        where = f"WHERE NOT ({REPLACED_ROWS[t]})" if t in REPLACED_ROWS else ""
        n = pg.execute(f'SELECT count(*) FROM "{t}" {where}').fetchone()[0]
        if n:
            out[t] = n
    return out


def _copy(src: sqlite3.Connection, pg, entry: dict) -> int:
    """COPY one table's rows; returns how many were written."""
    from onestop.store import pg_search

    t, cols = entry["table"], entry["columns"]
    if entry.get("virtual"):
        cur = src.execute(f'SELECT rowid, kind, dossier_id, body FROM "{entry["source_table"]}" ORDER BY rowid')
        target_cols = ["id", "kind", "dossier_id", "body"]
        fix = lambda r: (r[0], r[1], r[2], pg_search.body(r[3]))  # noqa: E731  words as pg_search indexes them
    else:
        cur = src.execute(f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{t}"')
        target_cols, fix = cols, None
    n = 0
    with pg.conn.cursor() as pcur:
        with pcur.copy(f'COPY "{t}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in target_cols)}) FROM STDIN') as cp:
            while rows := cur.fetchmany(BATCH):
                for r in rows:
                    cp.write_row(fix(r) if fix else r)
                n += len(rows)
    return n


def _identities(src: sqlite3.Connection, pg) -> dict[str, int]:
    """Set every identity column past the highest id (and SQLite's AUTOINCREMENT mark); returns the
    next value per table."""
    marks = {}
    if src.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        marks = dict(src.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    out = {}
    for t, c in pg.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY 1").fetchall():
        top = max(pg.execute(f'SELECT coalesce(max("{c}"), 0) FROM "{t}"').fetchone()[0], marks.get(t, 0) or 0)
        seq = pg.execute("SELECT pg_get_serial_sequence(?, ?)", [f'"{t}"', c]).fetchone()[0]
        if top:
            pg.execute("SELECT setval(?, ?, true)", [seq, top])
        else:
            pg.execute("SELECT setval(?, 1, false)", [seq])
        out[t] = top + 1
    return out


def _check(src: sqlite3.Connection, pg, results: list[dict]) -> None:
    """Counts per table, the outbox per state, the counter rows value for value."""
    bad = [f"{r['table']}: {r['source']} → {r['copied']}" for r in results if r["source"] != r["copied"]]
    for r in results:
        n = pg.execute(f'SELECT count(*) FROM "{r["table"]}"').fetchone()[0]
        if n != r["source"]:
            bad.append(f"{r['table']}: {r['source']} → {n}")
    lite_states = dict(src.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    pg_states = dict(pg.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    if lite_states != pg_states:
        bad.append(f"outbox: {lite_states} → {pg_states}")
    for t in COMPARED:
        cols = [r[1] for r in src.execute(f"PRAGMA table_info({t})")]
        order = ", ".join(cols)
        a = [tuple(r) for r in src.execute(f"SELECT {order} FROM {t} ORDER BY {order}")]
        b = [tuple(r) for r in pg.execute(f"SELECT {order} FROM {t} ORDER BY {order}")]
        if a != b:
            bad.append(f"{t}: rows differ")
    if bad:
        raise StorageError(
            "Số liệu sau khi chép không khớp nguồn (" + "; ".join(bad) + "). Đã hủy toàn bộ, CSDL văn phòng vẫn "
            "trống. Báo lỗi này cho người phát triển.",
            "The copied data does not match the source (" + "; ".join(bad) + "). Everything was rolled back; the "
            "office database is still empty. Report this as a bug.")


def migrate_to(db_path: Path, url: str, *, cfg=None, desk: str | None = None, officer: str = "",
               progress: Callable[[str, int], None] | None = None) -> dict:
    """Copy the SQLite office at ``db_path`` into the empty PostgreSQL database at ``url``.

    ``progress(table, rows)`` is called after each table (the CLI shows it; tests use it to write to
    the source mid-move). ``cfg``: the desk's config, whose data home's code high-water mark raises
    the counters (none: the database's counters alone). Returns the report: source, target (no
    password), schema version, per table the rows in the source and those copied, the outbox per
    state, the next id per table, and the counters raised to the high-water mark.
    """
    from onestop.store.sqlite_schema import migrations
    from onestop.store import postgres

    src = open_readonly(db_path)
    try:
        v = src.execute("PRAGMA user_version").fetchone()[0]
        target_v = len(migrations._migrations)
        if v != target_v:
            raise SchemaMismatch(
                f"Cơ sở dữ liệu {db_path} có lược đồ phiên bản {v}, bản onestop này dùng {target_v}. "
                + ("Chạy `onestop db status` một lần trên quầy này để cập nhật, rồi chuyển." if v < target_v else
                   "Cập nhật onestop trên máy này rồi chuyển."),
                f"The database {db_path} has schema version {v}; this onestop uses {target_v}. "
                + ("Run `onestop db status` once on this desk to bring it up to date, then move." if v < target_v
                   else "Update onestop on this machine, then move."))
        before = src.execute("PRAGMA data_version").fetchone()[0]
        hw = _high_water(src, cfg, db_path) if cfg is not None else None
        # One long transaction that reads the desk's file between statements: no idle limit for it.
        pg = postgres.connect(url, desk=desk, officer=officer, limits=dict(postgres.env_limits(), idle_timeout=0))
        try:
            return _move(src, pg, db_path, before, progress, hw, cfg)
        finally:
            pg.close()
    except sqlite3.DatabaseError as e:
        raise _damaged(db_path, e) from None
    finally:
        src.close()


def _high_water(src, cfg, db_path: Path):
    """The home's code high-water mark for this database (onestop/store/home.py), or None."""
    from onestop.store import home

    office = {}
    if src.execute("SELECT 1 FROM sqlite_master WHERE name = 'office'").fetchone():
        office = dict(src.execute("SELECT key, value FROM office").fetchall())
    hw = home.HighWater.load(cfg.home)
    if hw is not None and office.get("home_id") and hw.home_id != office["home_id"]:
        raise HomeMismatch(
            f"Cơ sở dữ liệu {db_path} là của một thư mục dữ liệu khác (không khớp {hw.path}): chuyển nó có thể "
            "cấp lại mã đã in. Khôi phục bản sao lưu của chính thư mục này (onestop db restore) rồi chuyển.",
            f"The database {db_path} comes from another data home (it does not match {hw.path}): moving it could "
            "issue codes already printed again. Restore a backup of this home (onestop db restore), then move.")
    if hw is None and office.get("home_id"):
        hw = home.scan_disk(cfg, office["home_id"])
    return hw


def _raise_to_high_water(pg, hw) -> list[dict]:
    """Counters below the home's high-water mark go up to it (a restored database is behind the
    receipts already printed); returns what was raised."""
    raised = []
    for kind, table, col in (("seq", "code_sequences", "day"), ("book", "book_sequences", "year")):
        for k, mark in sorted(getattr(hw, kind).items()):
            agency, _, key = k.partition("|")
            key = int(key) if kind == "book" else key
            row = pg.execute(f"SELECT last FROM {table} WHERE agency = ? AND {col} = ?", [agency, key]).fetchone()
            if row is None or row[0] < mark:
                pg.execute(f"INSERT INTO {table} AS s (agency, {col}, last) VALUES (?, ?, ?) "
                           f"ON CONFLICT (agency, {col}) DO UPDATE SET last = excluded.last", [agency, key, mark])
                raised.append({"table": table, "agency": agency, "key": key, "from": row[0] if row else 0,
                               "to": mark})
    return raised


def _move(src, pg, db_path: Path, before: int, progress, hw=None, cfg=None) -> dict:
    import psycopg

    from onestop.store import postgres

    if not pg.execute("SELECT pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), "
                      "'MEMBER')").fetchone()[0]:
        from onestop.common.errors import DatabaseAuth

        raise DatabaseAuth(
            f"`db migrate-to` ghi toàn bộ dữ liệu và bộ đếm của văn phòng: chạy với người sở hữu CSDL (onestop_owner, "
            f"docs/office.md mục 1), không phải với vai trò của quầy ({pg.url}). Không có gì được ghi.",
            f"`db migrate-to` writes the whole office, its counters included: run it as the database owner "
            f"(onestop_owner, docs/office.md section 1), not as a desk role ({pg.url}). Nothing was written.")
    with pg.transaction():
        # Two moves into the same database at once: the second waits here, then finds it not empty.
        postgres.wait_without_timeout(pg)
        pg.execute("SELECT pg_advisory_xact_lock(?, ?)", [postgres._NS, postgres._LOCK_MIGRATE])
        full = _nonempty(pg)
        if full:
            first = sorted(full, key=lambda t: (t != "dossiers", t))[:6]  # the dossiers tell the most
            listed = ", ".join(f"{t} ({full[t]})" for t in first) + (", …" if len(full) > 6 else "")
            raise SchemaMismatch(
                f"CSDL văn phòng {pg.url} không trống: {listed}. `db migrate-to` chỉ chép vào một CSDL mới tạo "
                "(createdb, xem docs/office.md), để không trộn hai sổ theo dõi; không có gì được ghi.",
                f"The office database {pg.url} is not empty: {listed}. `db migrate-to` only copies into a newly "
                "created database (createdb, see docs/office.md), so that two tracking books never mix; nothing "
                "was written.")
        src.execute("BEGIN")  # one snapshot of the desk for every table
        try:
            entries = plan(src, pg)
            results = []
            for e in entries:
                src_n = src.execute(f'SELECT count(*) FROM "{e["source_table"]}"').fetchone()[0]
                if e["table"] in REPLACED or e["table"] in REPLACED_ROWS:
                    pg.execute(f'DELETE FROM "{e["table"]}" WHERE {REPLACED_ROWS.get(e["table"], "true")}')
                try:
                    n = _copy(src, pg, e)
                except psycopg.DataError as err:
                    raise _bad_value(e, err) from None
                except psycopg.IntegrityError as err:
                    raise _bad_value(e, err) from None
                results.append({"table": e["table"], "source_table": e["source_table"], "source": src_n,
                                "copied": n})
                if progress:
                    progress(e["table"], n)
            identities = _identities(src, pg)
            _check(src, pg, results)
            raised = _raise_to_high_water(pg, hw) if hw is not None else []
            if cfg is not None:  # the moved desk's agency, code rule, calendar and archive become the office's
                from onestop.store.settings import publish

                settings = sorted(publish(cfg, pg))
            else:
                settings = []
            outbox = dict(pg.execute("SELECT state, count(*) FROM outbox GROUP BY state ORDER BY 1").fetchall())
        finally:
            src.execute("COMMIT")
        if src.execute("PRAGMA data_version").fetchone()[0] != before:
            raise DatabaseBusy(
                f"Trong lúc chuyển, quầy này đã ghi thêm vào {db_path}. Đã hủy, CSDL văn phòng vẫn trống. Dừng onestop "
                "trên quầy (cả lịch đồng bộ ban đêm) rồi chạy lại.",
                f"This desk wrote to {db_path} during the move. Everything was rolled back; the office database is "
                "still empty. Stop onestop on this desk (and the nightly sync timer), then run again.")
        schema = postgres.schema_version(pg)
        pg.execute("ANALYZE")  # fresh planner statistics for the bulk-loaded tables
    return {"source": str(db_path), "target": pg.url, "schema_version": schema,
            "tables": sorted(results, key=lambda r: r["table"]),
            "outbox": outbox, "next_ids": identities, "raised_to_high_water": raised, "office_settings": settings}


def _bad_value(entry: dict, err: Exception) -> OnestopError:
    # The primary message only: the detail line of a constraint error quotes row values (personal data).
    diag = getattr(err, "diag", None)
    msg = (getattr(diag, "message_primary", None) or str(err).splitlines()[0])[:300]
    return InvalidInput(
        f"Bảng {entry['source_table']} có dữ liệu PostgreSQL không nhận ({msg}). Đã hủy, CSDL văn phòng vẫn trống; "
        "chạy `onestop check` trên quầy này và báo lỗi cho người phát triển.",
        f"Table {entry['source_table']} holds data PostgreSQL refuses ({msg}). Everything was rolled back; the "
        "office database is still empty. Run `onestop check` on this desk and report it.")

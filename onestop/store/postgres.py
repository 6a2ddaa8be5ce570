"""The office store on PostgreSQL (psycopg 3, plain SQL): connection, errors, migrations, the
gapless code allocation, and the cross-machine sync lock.

Credentials come from the URL, the libpq environment (PGPASSWORD, PGUSER…) or ``~/.pgpass`` (libpq
reads it when the URL has no password); the password never enters a message or a log line
(``redact_url``). Imported only when an office URL is set: psycopg costs ~40 ms to import.
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from datetime import date

import psycopg
from psycopg.rows import dict_row

from onestop import codes
from onestop.errors import DatabaseAuth, DatabaseUnreachable, SchemaMismatch, SyncLocked
from onestop.store.pg_schema import MIGRATIONS
from onestop.store.redact import redact_url, scrub

__all__ = ["PgStore", "connect", "redact_url", "sync_lock", "insert_dossier", "schema_version"]

CONNECT_TIMEOUT_S = int(os.environ.get("ONESTOP_DB_CONNECT_TIMEOUT", "5"))
# Advisory-lock keys (two int4s): a namespace for onestop, then what is locked.
_NS = 0x0E5709
_LOCK_MIGRATE = 1
_LOCK_SYNC = 2

_CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)


class PgStore:
    """One autocommit connection; ``transaction()`` for the writes that must commit together."""

    backend = "postgresql"

    def __init__(self, conn: psycopg.Connection, url: str):
        self.conn = conn
        self.url = redact_url(url)
        self._password = _password_of(url)

    def execute(self, sql: str, params=None):
        try:
            return self.conn.execute(sql, params)
        except _CONNECTION_ERRORS as e:
            raise self.lost(e) from None

    def query(self, sql: str, params=None):
        """Rows as dicts."""
        try:
            with self.conn.cursor(row_factory=dict_row) as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        except _CONNECTION_ERRORS as e:
            raise self.lost(e) from None

    @contextmanager
    def transaction(self):
        """All or nothing. A connection lost inside leaves nothing stored (the server rolls back an
        uncommitted transaction) and raises DatabaseUnreachable."""
        try:
            with self.conn.transaction():
                yield self
        except _CONNECTION_ERRORS as e:
            raise self.lost(e) from None

    def lost(self, e: Exception) -> DatabaseUnreachable:
        msg = scrub(str(e), self._password)
        return DatabaseUnreachable(
            f"Mất kết nối tới cơ sở dữ liệu văn phòng {self.url} ({msg}). Thao tác chưa được lưu; kiểm tra mạng "
            "rồi làm lại.",
            f"Lost the connection to the office database {self.url} ({msg}). Nothing was stored; check the network "
            "and do it again.",
        )

    @property
    def server_version(self) -> str:
        return self.conn.execute("SHOW server_version").fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def _password_of(url: str) -> str | None:
    try:
        return psycopg.conninfo.conninfo_to_dict(url).get("password") or os.environ.get("PGPASSWORD")
    except psycopg.ProgrammingError:
        return os.environ.get("PGPASSWORD")


def _translate(e: Exception, url: str) -> Exception:
    """A connection failure as DatabaseAuth / DatabaseUnreachable with what to do, no password."""
    safe = redact_url(url)
    msg = scrub(str(e), _password_of(url)).replace("connection failed: ", "")
    low = msg.lower()
    if "does not exist" in low and "database" in low:
        return DatabaseUnreachable(
            f"Máy chủ trả lời nhưng không có cơ sở dữ liệu trong địa chỉ {safe}. Kiểm tra tên CSDL trong "
            "ONESTOP_DATABASE_URL, hoặc nhờ quản trị tạo nó (createdb, xem docs/office.md).",
            f"The server answered but has no database named in {safe}. Check the database name in "
            "ONESTOP_DATABASE_URL, or ask the admin to create it (createdb, see docs/office.md).",
        )
    if ("password" in low or "authentication" in low or "pg_hba.conf" in low
            or ("role" in low and "does not exist" in low)):
        return DatabaseAuth(
            f"Máy chủ cơ sở dữ liệu từ chối đăng nhập ({safe}): {msg}. Kiểm tra người dùng và mật khẩu trong "
            "~/.pgpass (quyền 0600) hoặc trong địa chỉ, và pg_hba.conf cho máy này; hỏi quản trị văn phòng.",
            f"The database server refused the login ({safe}): {msg}. Check the user and password in ~/.pgpass "
            "(mode 0600) or in the URL, and pg_hba.conf for this desk; ask the office admin.",
        )
    return DatabaseUnreachable(
        f"Không kết nối được tới máy chủ cơ sở dữ liệu văn phòng ({safe}): {msg}. Kiểm tra máy chủ đang chạy, "
        "mạng, địa chỉ và cổng; chưa có gì được lưu. Thử lại sau.",
        f"Cannot reach the office database server ({safe}): {msg}. Check that the server runs, the network, "
        "the host and the port; nothing was stored. Try again later.",
    )


def _open(url: str, application_name: str = "onestop") -> psycopg.Connection:
    kw = {"autocommit": True}
    params = psycopg.conninfo.conninfo_to_dict(url)
    if "connect_timeout" not in params:
        kw["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in params:
        kw["application_name"] = application_name
    try:
        return psycopg.connect(url, **kw)
    except _CONNECTION_ERRORS as e:
        raise _translate(e, url) from None


def connect(url: str, *, migrate: bool = True, desk: str | None = None, officer: str = "",
            register: bool = True) -> PgStore:
    """Open the office database; apply pending migrations (``migrate``) or check the schema version;
    record this desk as seen (``register``; ``onestop db status`` lists the desks)."""
    store = PgStore(_open(url), url)
    ensure_current(store, migrate=migrate)
    if register:
        register_desk(store, desk, officer)
    return store


def register_desk(store: PgStore, desk: str | None = None, officer: str = "") -> None:
    """Upsert this desk's row (name, host, officer, onestop version, last seen).

    Written at most once a minute per desk unless the officer or version changed, so a busy counter
    does not rewrite its row at every command. Best effort: a role without write access to ``desks``
    still works (the list is informative, nothing depends on it).
    """
    from onestop import __version__

    host = socket.gethostname()
    try:
        store.conn.execute(
            "INSERT INTO desks AS d (name, host, officer, version, last_seen) VALUES (%s, %s, %s, %s, now()) "
            "ON CONFLICT (name) DO UPDATE SET host = excluded.host, officer = excluded.officer, "
            "version = excluded.version, last_seen = excluded.last_seen "
            "WHERE d.last_seen < now() - interval '1 minute' OR d.officer IS DISTINCT FROM excluded.officer "
            "OR d.version IS DISTINCT FROM excluded.version OR d.host IS DISTINCT FROM excluded.host",
            [desk or host, host, officer or "", __version__])
    except _CONNECTION_ERRORS as e:
        raise store.lost(e) from None
    except psycopg.DatabaseError:
        pass  # e.g. no INSERT/UPDATE grant on desks: not a reason to stop the counter


def desks(store: PgStore, days: int = 30) -> list[dict]:
    """The desks seen in the last ``days`` days, most recent first."""
    return store.query("SELECT name, host, officer, version, last_seen FROM desks "
                       "WHERE last_seen > now() - make_interval(days => %s) ORDER BY last_seen DESC, name", [days])


# ---------------------------------------------------------------- schema

def schema_version(store: PgStore) -> int | None:
    """The applied schema version, or None for a database onestop has never touched."""
    # to_regclass first: inside a transaction an UndefinedTable error would abort it.
    if store.execute("SELECT to_regclass('onestop_schema') IS NULL").fetchone()[0]:
        return None
    return store.execute("SELECT coalesce(max(version), 0) FROM onestop_schema").fetchone()[0]


def ensure_current(store: PgStore, *, migrate: bool = True) -> int:
    """Bring the schema to this program's version; one desk migrates, the others wait on the lock.

    Too new (a desk running an older onestop) or not onestop's database: SchemaMismatch.
    """
    target = len(MIGRATIONS)
    v = schema_version(store)
    if v == target:
        return v  # the common case: one query
    _check_version(store, v, target, migrate)
    with store.transaction():
        store.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_NS, _LOCK_MIGRATE])
        v = schema_version(store)
        if v is None:
            if store.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()[0]:
                _check_version(store, -1, target, migrate)
            store.execute("CREATE TABLE onestop_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                          "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            v = 0
        _check_version(store, v, target, migrate)
        for n, (name, sql) in enumerate(MIGRATIONS[v:], v + 1):
            store.execute(sql)
            store.execute("INSERT INTO onestop_schema (version, name) VALUES (%s, %s)", [n, name])
    return target


def _check_version(store: PgStore, v: int | None, target: int, migrate: bool) -> None:
    if v is not None and v > target:
        raise SchemaMismatch(
            f"Cơ sở dữ liệu {store.url} có lược đồ phiên bản {v}, mới hơn phiên bản {target} mà bản onestop này "
            "hiểu. Cập nhật onestop trên máy này (các máy khác đã cập nhật).",
            f"The database {store.url} has schema version {v}, newer than the {target} this onestop knows. "
            "Update onestop on this desk (other desks already did).",
        )
    if v == -1:
        raise SchemaMismatch(
            f"Cơ sở dữ liệu {store.url} đã có bảng nhưng không phải của onestop. Dùng một CSDL riêng cho onestop "
            "(xem docs/office.md).",
            f"The database {store.url} has tables that are not onestop's. Use a database of its own for onestop "
            "(see docs/office.md).",
        )
    if v is not None and v < target and not migrate:
        raise SchemaMismatch(
            f"Cơ sở dữ liệu {store.url} có lược đồ phiên bản {v}, cũ hơn {target}. Chạy một lệnh onestop có "
            "quyền nâng cấp (người sở hữu CSDL) để cập nhật lược đồ.",
            f"The database {store.url} has schema version {v}, older than {target}. Run onestop once as the "
            "database owner to upgrade the schema.",
        )


# ---------------------------------------------------------------- dossier codes

def allocate(store: PgStore, agency: str, day: date) -> tuple[int, int]:
    """The next code sequence of ``agency`` on ``day`` and the next book number of its year.

    Call inside ``store.transaction()`` with the dossier insert. Gapless and unique across desks
    without a SEQUENCE: the upsert takes the counter row's lock, so a second desk waits until the
    first commits (and then reads its value) or rolls back (and then reuses the number).
    """
    seq = store.execute(
        "INSERT INTO code_sequences AS s (agency, day, last) VALUES (%s, %s, 1) "
        "ON CONFLICT (agency, day) DO UPDATE SET last = s.last + 1 RETURNING last",
        [agency, day.strftime("%y%m%d")]).fetchone()[0]
    book_no = store.execute(
        "INSERT INTO book_sequences AS s (agency, year, last) VALUES (%s, %s, 1) "
        "ON CONFLICT (agency, year) DO UPDATE SET last = s.last + 1 RETURNING last",
        [agency, day.year]).fetchone()[0]
    return seq, book_no


def insert_dossier(store: PgStore, dossier: dict, components: list[dict], event: dict, stamp: str, *,
                   day: date, owner: str = "") -> dict:
    """Allocate the code and book number and write the dossier, its components, its first event and
    its outbox rows (create, step) in ONE transaction: the PostgreSQL side of ``dossiers._insert``.

    ``dossier`` holds the columns except code, book_year and book_no; returns id, code, book_no.
    """
    with store.transaction():
        seq, book_no = allocate(store, dossier["agency"], day)
        code = codes.format_code(dossier["agency"], day, seq, dossier["code_rule"], owner)
        row = dict(dossier, code=code, book_year=day.year, book_no=book_no)
        did = store.execute(
            f"INSERT INTO dossiers ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))}) RETURNING id",
            list(row.values())).fetchone()[0]
        if components:
            with store.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO dossier_components (dossier_id, n, code, name, originals, copies, pages, received) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [(did, c["n"], c.get("code", ""), c["name"], c.get("originals", 1), c.get("copies", 0),
                      c.get("pages", 0), int(c.get("received", 1))) for c in components])
        ev = store.execute(
            "INSERT INTO events (dossier_id, at, officer, unit, action, note, status_from, status_to, data) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            [did, event["at"], event.get("officer", ""), event.get("unit", ""), event["action"],
             event.get("note", ""), event.get("status_from"), event.get("status_to"), event.get("data", "{}")]
        ).fetchone()[0]
        store.execute("INSERT INTO outbox (dossier_id, kind, ref_id, created_at) VALUES (%s, 'create', NULL, %s), "
                      "(%s, 'step', %s, %s)", [did, stamp, did, ev, stamp])
    return {"id": did, "code": code, "book_no": book_no, "book_year": day.year, "seq": seq}


# ---------------------------------------------------------------- one nightly sync per office

@contextmanager
def sync_lock(url: str, desk: str | None = None):
    """Hold the office-wide sync lock for the duration (a session advisory lock on its own connection).

    The server drops it when the holder's connection ends, even if its process is killed, so a
    crashed run never blocks the next one. Another desk's run raises SyncLocked (exit 12) at once,
    naming the holder.
    """
    desk = desk or socket.gethostname()
    conn = _open(url, application_name=f"onestop sync {desk} pid {os.getpid()}"[:63])
    try:
        got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [_NS, _LOCK_SYNC]).fetchone()[0]
        if not got:
            row = conn.execute(
                "SELECT a.application_name, a.client_addr::text FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s "
                "AND l.granted LIMIT 1", [_NS, _LOCK_SYNC]).fetchone()
            holder = " ".join(x for x in (row or ()) if x) or "?"
            raise SyncLocked(
                f"Một phiên đồng bộ khác đang chạy trong văn phòng ({holder}). Chờ phiên đó xong rồi chạy lại.",
                f"Another sync is running in the office ({holder}). Wait for it to finish, then run again.",
            )
        yield conn
    finally:
        conn.close()  # ends the session: the server releases the lock

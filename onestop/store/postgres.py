"""The office store on PostgreSQL (psycopg 3, plain SQL): connection, errors, migrations, the
gapless code allocation, and the cross-machine sync lock.

Credentials come from the URL, the libpq environment (PGPASSWORD, PGUSER…) or ``~/.pgpass`` (libpq
reads it when the URL has no password); the password never enters a message or a log line
(``redact_url``). Imported only when an office URL is set: psycopg costs ~50 ms to import (onestop/store/pgdriver.py).
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager

from onestop.common.errors import DatabaseAuth, DatabaseBusy, DatabaseUnreachable, SchemaMismatch, SyncLocked
from onestop.store import pgdriver
from onestop.store.paramstyle import qmark_to_format
from onestop.store.pg_schema import MIGRATIONS
from onestop.store.redact import redact_url, scrub

psycopg = pgdriver.load()  # `import psycopg`, without two costs an office command does not need
from psycopg.rows import dict_row  # noqa: E402 - after the cheaper import above

__all__ = ["PgStore", "connect", "redact_url", "sync_lock", "schema_version"]

CONNECT_TIMEOUT_S = int(os.environ.get("ONESTOP_DB_CONNECT_TIMEOUT", "5"))
# A desk that drops off the network (cable pulled, power cut, process frozen) must not hold the office's
# counter row for hours (issue 17). Per session, sent as connection options (no extra round trip):
# - idle_in_transaction_session_timeout: the server ends a session idle inside a transaction this long
#   (its transaction rolls back: nothing half-stored), which is what a frozen or cut-off desk looks like;
# - lock_timeout: a statement waits this long for a lock, then fails; the waiting desk says which desk
#   holds it (``busy``) and ``receive`` waits again, up to ``wait`` in all (onestop/store/home.py ``issuing``);
# - TCP keepalives on both ends and a TCP user timeout: a peer that vanished is noticed in ~30 s,
#   not the kernel's two hours.
# Seconds; 0 turns one off. ``[database] idle_timeout / lock_timeout / lock_wait`` or the environment
# (ONESTOP_DB_IDLE_TIMEOUT, ONESTOP_DB_LOCK_TIMEOUT, ONESTOP_DB_LOCK_WAIT); see onestop.store.session_limits.
LIMITS = {"idle_timeout": 30.0, "lock_timeout": 5.0, "lock_wait": 60.0}
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
             "tcp_user_timeout": 30000}


def session_options(limits: dict) -> str:
    """The ``-c`` options every office session starts with (``LIMITS``)."""
    ms = lambda key: int(float(limits.get(key, LIMITS[key])) * 1000)  # noqa: E731
    return (f"-c idle_in_transaction_session_timeout={ms('idle_timeout')} -c lock_timeout={ms('lock_timeout')} "
            f"-c tcp_keepalives_idle={KEEPALIVE['keepalives_idle']} "
            f"-c tcp_keepalives_interval={KEEPALIVE['keepalives_interval']} "
            f"-c tcp_keepalives_count={KEEPALIVE['keepalives_count']} -c tcp_user_timeout={KEEPALIVE['tcp_user_timeout']}")


def env_limits(config: dict | None = None) -> dict:
    """``LIMITS``, then ``config``'s values (``[database]`` keys), then the environment's
    (ONESTOP_DB_IDLE_TIMEOUT…); ConfigError naming the setting when one is not a number of seconds."""
    out = dict(LIMITS)
    for key in LIMITS:
        if config and config.get(key) is not None:
            out[key] = _seconds(config[key], f"[database] {key}")
        raw = os.environ.get("ONESTOP_DB_" + key.upper())
        if raw is not None and raw.strip():
            out[key] = _seconds(raw, "ONESTOP_DB_" + key.upper())
    return out


def _seconds(raw, where: str) -> float:
    from onestop.common.errors import ConfigError

    try:
        value = float(raw) if not isinstance(raw, bool) else -1.0
    except (TypeError, ValueError):
        value = -1.0
    if not 0 <= value <= 86400:
        raise ConfigError(f"{where} = '{raw}' không hợp lệ: cần số giây từ 0 đến 86400 (0: tắt).",
                          f"{where} = '{raw}' is invalid: give seconds from 0 to 86400 (0: off).")
    return value
# Advisory-lock keys (two int4s): a namespace for onestop, then what is locked.
_NS = 0x0E5709
_LOCK_MIGRATE = 1
_LOCK_SYNC = 2
_LOCK_CATALOG = 3  # a catalog import: desks started together on an empty office database

# LockNotAvailable (a lock timeout) is an OperationalError too: the handlers catch it before these.
_CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)


_INT64 = range(-2**63, 2**63)


def _params(params):
    """``params`` for psycopg, refusing an int that SQLite could not store either.

    sqlite3 raises OverflowError for an int beyond 64 bits (a typed ``--year 99999999999999999999``);
    psycopg would send it as ``numeric`` and the query would quietly find nothing. The same
    OverflowError keeps the behaviour (and the CLI's "number too large", exit 4) identical.
    """
    if params is None:
        return ()
    for v in params if isinstance(params, (list, tuple)) else ():
        if type(v) is int and v not in _INT64:
            raise OverflowError("Python int too large to convert to a 64-bit integer")
    return params


class PgCursor(psycopg.Cursor):
    """psycopg's cursor plus ``lastrowid``, so store code reads a result the same way on both backends."""

    _lastrowid = None

    @property
    def lastrowid(self):
        """The id generated by the last INSERT of this cursor (PostgreSQL's ``lastval()``), or None.

        Valid for an INSERT into a table whose identity id the INSERT generated (not supplied), read
        before the session takes another identity value; ``INSERT … RETURNING id`` (both backends
        accept it) says the same in one round trip and is the better choice in new store code.
        """
        if self._lastrowid is None and (self.statusmessage or "").startswith("INSERT") and self.rowcount > 0:
            self._lastrowid = self.connection.execute("SELECT lastval()").fetchone()[0]
        return self._lastrowid


class PgStore:
    """One autocommit connection with the API of ``onestop.store.sqlite.Database``: ``execute``/``query``/
    ``executemany`` take SQL with ``?`` placeholders (adapted by ``paramstyle.qmark_to_format``);
    ``transaction()`` (or ``onestop.store.sqlite.transaction(store)``) for the writes that must commit together.

    PostgreSQL-only code that wants psycopg's own ``%s`` style uses ``store.conn`` directly.
    """

    backend = dialect = "postgresql"
    # PEP 249's optional connection attributes, so store code catches a constraint violation the
    # same way on both backends (``except db.IntegrityError``).
    Error = psycopg.Error
    IntegrityError = psycopg.IntegrityError
    OperationalError = psycopg.OperationalError

    def __init__(self, conn: psycopg.Connection, url: str, limits: dict | None = None):
        conn.cursor_factory = PgCursor
        self.conn = conn
        self.url = redact_url(url)
        self._password = _password_of(url)
        self.limits = dict(limits or LIMITS)

    def execute(self, sql: str, params=()) -> PgCursor:
        """Run one statement; the cursor (fetchone/fetchall/rowcount/description/lastrowid)."""
        try:
            # Parameters always go along (even none), so psycopg reads '%%' back as '%'.
            return self.conn.execute(qmark_to_format(sql), _params(params))
        except psycopg.errors.LockNotAvailable:
            raise self._busy_now() from None
        except _CONNECTION_ERRORS as e:
            raise self.lost(e) from None

    def executemany(self, sql: str, seq_of_params) -> None:
        """Run one statement once per parameter row."""
        try:
            with self.conn.cursor() as cur:
                cur.executemany(qmark_to_format(sql), [_params(p) for p in seq_of_params])
        except psycopg.errors.LockNotAvailable:
            raise self._busy_now() from None
        except _CONNECTION_ERRORS as e:
            raise self.lost(e) from None

    def query(self, sql: str, params=()):
        """Rows as dicts (an iterator, like ``Database.query``; the rows are fetched at once)."""
        try:
            with self.conn.cursor(row_factory=dict_row) as cur:
                cur.execute(qmark_to_format(sql), _params(params))
                rows = cur.fetchall() if cur.description is not None else []
        except psycopg.errors.LockNotAvailable:
            raise self._busy_now() from None
        except _CONNECTION_ERRORS as e:
            raise self.lost(e) from None
        return iter(rows)

    @contextmanager
    def transaction(self, *, immediate: bool = True):
        """All or nothing (nested: a savepoint). A connection lost inside leaves nothing stored (the server
        rolls back an uncommitted transaction) and raises DatabaseUnreachable. ``immediate`` is accepted
        for ``onestop.store.sqlite.transaction``'s sake: row locks, not a database-wide write lock, serialise desks."""
        try:
            with self.conn.transaction():
                yield self
        except psycopg.errors.LockNotAvailable:
            raise self.busy() from None  # rolled back (to the savepoint): the session can ask who holds it
        except _CONNECTION_ERRORS as e:
            raise self.lost(e) from None

    def _busy_now(self):
        """A lock timeout of a statement: outside a transaction, say who holds the lock now; inside one, let
        ``transaction()`` say it once the transaction is rolled back."""
        if self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            return self.busy()
        return psycopg.errors.LockNotAvailable("lock timeout")

    def holders(self) -> list[dict]:
        """The other sessions of the office database inside a transaction for longer than the lock
        timeout (those a desk waits for), oldest first: desk (application name), address, state, seconds."""
        try:
            rows = list(self.query(
                "SELECT application_name AS desk, coalesce(client_addr::text, '') AS address, state, "
                "extract(epoch FROM now() - xact_start)::int AS seconds FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                "AND xact_start < now() - make_interval(secs => ?) ORDER BY xact_start LIMIT 3",
                [max(0.0, float(self.limits.get("lock_timeout", 0)) - 0.5)]))
            names = {_ascii(r["name"]): r["name"] for r in self.query("SELECT name FROM desks")} if rows else {}
        except (psycopg.Error, DatabaseUnreachable):
            return []
        for r in rows:  # "onestop Quay 2 pid 41" -> "onestop Quầy 2 pid 41"
            head, sep, pid = (r["desk"] or "").rpartition(" pid ")
            if sep and head.startswith("onestop ") and head[8:] in names:
                r["desk"] = f"onestop {names[head[8:]]} pid {pid}"
        return rows

    def busy(self) -> DatabaseBusy:
        """DatabaseBusy (exit 6) naming the desks this one waited for (``holders``), with ``holders`` set."""
        held = self.holders()
        who = "; ".join(f"{h['desk'] or '?'}{' ' + h['address'] if h['address'] else ''} ({h['state']}, "
                        f"{h['seconds']} s)" for h in held) or "?"
        idle = float(self.limits.get("idle_timeout", 0))
        then_vi = (f" Máy đó mất mạng hay bị treo thì máy chủ tự đóng phiên của nó sau {idle:g} s (không lưu gì của nó)."
                   if idle else "")
        then_en = (f" If that desk dropped off the network or hangs, the server ends its session after {idle:g} s "
                   "(nothing of it is stored)." if idle else "")
        err = DatabaseBusy(
            f"Cơ sở dữ liệu văn phòng đang bị giữ bởi: {who}. Chưa lưu gì.{then_vi} Thử lại sau ít giây.",
            f"The office database is held by: {who}. Nothing was stored.{then_en} Try again in a few seconds.")
        err.holders = held
        err.who = who
        return err

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


def _open(url: str, application_name: str = "onestop", limits: dict | None = None) -> psycopg.Connection:
    kw = {"autocommit": True}
    params = psycopg.conninfo.conninfo_to_dict(url)
    if "connect_timeout" not in params:
        kw["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in params:
        kw["application_name"] = application_name
    for key, value in KEEPALIVE.items():  # libpq's own TCP keepalives (ignored on a unix socket)
        if key not in params:
            kw[key] = value
    # The URL's own options first: a later -c of ours wins, so the office's limits always apply.
    kw["options"] = " ".join(filter(None, [params.get("options", ""), session_options(limits or env_limits())]))
    try:
        return psycopg.connect(url, **kw)
    except _CONNECTION_ERRORS as e:
        raise _translate(e, url) from None


def session_name(desk: str, pid: int | None = None) -> str:
    """The session's application name, ``onestop <desk> pid <pid>``: the server keeps only ASCII there
    (``Quầy 2`` would read ``Qu???y 2``), so the desk is written without diacritics; ``holders`` maps it
    back to the desk's own name."""
    return f"onestop {_ascii(desk)} pid {os.getpid() if pid is None else pid}"[:63]


def _ascii(text: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in s if not unicodedata.combining(c)).encode("ascii", "replace").decode()


def connect(url: str, *, migrate: bool = True, desk: str | None = None, officer: str = "",
            register: bool = True, limits: dict | None = None) -> PgStore:
    """Open the office database; apply pending migrations (``migrate``) or check the schema version;
    record this desk as seen (``register``; ``onestop db status`` lists the desks). The session is
    named after the desk and process (another desk waiting on it names it) and carries ``limits``."""
    limits = limits or env_limits()
    name = session_name(desk or socket.gethostname())
    store = PgStore(_open(url, application_name=name, limits=limits), url, limits)
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
    return list(store.query("SELECT name, host, officer, version, last_seen FROM desks "
                            "WHERE last_seen > now() - make_interval(days => ?) ORDER BY last_seen DESC, name",
                            [days]))


# ---------------------------------------------------------------- schema

def schema_version(store: PgStore) -> int | None:
    """The applied schema version, or None for a database onestop has never touched."""
    # to_regclass first: inside a transaction an UndefinedTable error would abort it.
    if store.execute("SELECT to_regclass('onestop_schema') IS NULL").fetchone()[0]:
        return None
    return store.execute("SELECT coalesce(max(version), 0) FROM onestop_schema").fetchone()[0]


def _schema_version_at_connect(store: PgStore) -> int | None:
    """``schema_version`` in one round trip instead of two (every office command asks, P11): outside a
    transaction a missing table costs nothing but the error."""
    if store.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return schema_version(store)
    try:
        return store.execute("SELECT coalesce(max(version), 0) FROM onestop_schema").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return None


def ensure_current(store: PgStore, *, migrate: bool = True) -> int:
    """Bring the schema to this program's version; one desk migrates, the others wait on the lock.

    Too new (a desk running an older onestop) or not onestop's database: SchemaMismatch.
    """
    target = len(MIGRATIONS)
    v = _schema_version_at_connect(store)
    if v == target:
        return v  # the common case: one query
    _check_version(store, v, target, migrate)
    try:
        _migrate(store, target, migrate)
    except psycopg.errors.InsufficientPrivilege:
        # A desk role (docs/office.md section 1.3) may not create or change tables: only the owner migrates.
        raise _owner_must_run(store, schema_version(store), target) from None
    return target


def _owner_must_run(store: PgStore, v: int | None, target: int) -> SchemaMismatch:
    if not v:
        return SchemaMismatch(
            f"Cơ sở dữ liệu {store.url} chưa có lược đồ của onestop và người dùng này không có quyền tạo. Chạy onestop "
            "một lần với người sở hữu CSDL (onestop_owner, docs/office.md mục 1.2), cấp quyền (mục 1.3), rồi chạy lại "
            "trên quầy này.",
            f"The database {store.url} has no onestop schema yet and this user may not create it. Run onestop once as "
            "the database owner (onestop_owner, docs/office.md section 1.2), run the grants (section 1.3), then run "
            "this desk again.")
    return SchemaMismatch(
        f"Cơ sở dữ liệu {store.url} có lược đồ phiên bản {v}, cũ hơn phiên bản {target} mà bản onestop này cần, và người "
        "dùng này không có quyền nâng cấp. Người sở hữu CSDL chạy bản onestop mới một lần (docs/office.md, nâng cấp "
        "từng quầy); đến lúc đó dùng bản onestop cũ trên máy này.",
        f"The database {store.url} has schema version {v}, older than the {target} this onestop needs, and this user "
        "may not upgrade it. The database owner runs the new onestop once (docs/office.md, upgrading desk by desk); "
        "until then use the previous onestop on this machine.")


def _migrate(store: PgStore, target: int, migrate: bool) -> None:
    with store.transaction():
        wait_without_timeout(store)  # another desk's migration may take longer than a lock timeout
        store.execute("SELECT pg_advisory_xact_lock(?, ?)", [_NS, _LOCK_MIGRATE])
        v = schema_version(store)
        if v is None:
            if store.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()[0]:
                _check_version(store, -1, target, migrate)
            store.execute("CREATE TABLE onestop_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                          "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            v = 0
        _check_version(store, v, target, migrate)
        for n, (name, sql) in enumerate(MIGRATIONS[v:], v + 1):
            store.conn.execute(sql)  # PostgreSQL's own DDL, sent as written (no placeholders)
            store.execute("INSERT INTO onestop_schema (version, name) VALUES (?, ?)", [n, name])


def wait_without_timeout(store) -> None:
    """Inside a transaction: its lock waits have no lock timeout (work that may legitimately hold a lock
    longer: a migration, a catalog import, the first search index; a dead holder's session still ends
    at its idle timeout)."""
    store.execute("SET LOCAL lock_timeout = 0")


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


# ---------------------------------------------------------------- one nightly sync per office

_HOLDER = "onestop sync pid "


def _holder_name(desk: str) -> str:
    """The sync session's application name: pid and desk name. PostgreSQL keeps only printable ASCII
    there (every other byte becomes '?': "Máy đồng bộ" was shown "M??y ?????ng b???") and at most 63
    bytes, so the desk name is percent-encoded, shortened a whole character at a time to fit."""
    from urllib.parse import quote

    head = f"{_HOLDER}{os.getpid()} "
    for end in range(len(desk), -1, -1):
        name = head + quote(desk[:end], safe=" -_.,()")
        if len(name) <= 63:
            return name
    return head.rstrip()


def _holder_shown(app: str) -> str:
    """The lock holder as people read it: the desk's name decoded, and its pid."""
    from urllib.parse import unquote

    if not app.startswith(_HOLDER):
        return app  # an older onestop's session name, as it is
    pid, _, desk = app[len(_HOLDER):].partition(" ")
    return f"{unquote(desk)} (pid {pid})" if desk else f"pid {pid}"

@contextmanager
def sync_lock(target, desk: str | None = None):
    """Hold the office-wide sync lock for the duration (a session advisory lock).

    ``target``: the run's ``PgStore`` (the lock is held by its session and released at the end, so
    the lock and the run's work share one connection: if it is lost, the run stops with it) or the
    office URL (the lock gets a connection of its own). The server drops the lock when the holding
    session ends, even if its process is killed, so a crashed run never blocks the next one. Another
    desk's run raises SyncLocked (exit 12) at once, naming the holder (desk and pid, carried in the
    session's application name).
    """
    desk = desk or socket.gethostname()
    name = _holder_name(desk)
    store = target if isinstance(target, PgStore) else None
    if store is None:
        conn = _open(target, application_name=name)
        restore = None
    else:
        conn = store.conn
        try:
            restore = conn.execute("SELECT current_setting('application_name')").fetchone()[0]
            conn.execute("SELECT set_config('application_name', %s, false)", [name])
        except _CONNECTION_ERRORS as e:
            raise store.lost(e) from None
    try:
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [_NS, _LOCK_SYNC]).fetchone()[0]
            row = None if got else conn.execute(
                "SELECT a.application_name, a.client_addr::text FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s "
                "AND l.granted LIMIT 1", [_NS, _LOCK_SYNC]).fetchone()
        except _CONNECTION_ERRORS as e:
            raise (store.lost(e) if store is not None else _translate(e, target)) from None
        if not got:
            holder = " ".join(x for x in (_holder_shown(row[0]) if row else None, row[1] if row else None) if x) or "?"
            raise SyncLocked(
                f"Một phiên đồng bộ khác đang chạy trong văn phòng ({holder}). Chờ phiên đó xong rồi chạy lại.",
                f"Another sync is running in the office ({holder}). Wait for it to finish, then run again.",
            )
        try:
            yield conn
        finally:
            if store is not None:
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", [_NS, _LOCK_SYNC])
                except psycopg.Error:
                    pass  # the session is gone, and its lock with it
    finally:
        if store is None:
            conn.close()  # ends the session: the server releases the lock
        else:
            try:
                conn.execute("SELECT set_config('application_name', %s, false)", [restore])
            except psycopg.Error:
                pass

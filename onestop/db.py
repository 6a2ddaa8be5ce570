"""The SQLite store: connection settings, migrations, transactions.

One file in the data home, readable only by its owner, in WAL mode with a busy timeout so
several counters and the nightly job can share it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from onestop.errors import DatabaseBusy, StorageError

# Env override lets tests prove the "database locked" path without waiting 5 s.
BUSY_TIMEOUT_MS = int(os.environ.get("ONESTOP_BUSY_TIMEOUT_MS", "5000"))


def ensure_private_dir(path: Path) -> Path:
    """Create a folder readable only by its owner (citizens' data lives below it)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


class Database:
    """A thin connection wrapper for the hot path.

    Counter commands need only ``conn``, ``execute`` and ``query``; importing and initialising
    sqlite-utils costs ~50 ms (it scans plugin entry points), so the full ``sqlite_utils.Database``
    is built on first use of anything else (``db["table"].insert_all``, ``db.table_names()``…).
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._su = None

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def query(self, sql: str, params=()):
        """Rows as dicts."""
        cur = self.conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(cols, row))

    @property
    def su(self):
        """The full sqlite-utils Database over the same connection."""
        if self._su is None:
            import sqlite_utils

            self._su = sqlite_utils.Database(self.conn)
        return self._su

    def __getitem__(self, name):
        return self.su[name]

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.su, name)


def connect(path: Path, *, migrate: bool = True) -> Database:
    """Open (and create/migrate) the database at ``path``."""
    os.umask(0o077)
    try:
        ensure_private_dir(path.parent)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.OperationalError as e:
        raise _translate(e, path) from e
    db = Database(conn)
    if migrate:
        from onestop.migrations import ensure_current

        try:
            ensure_current(db)
        except sqlite3.OperationalError as e:
            raise _translate(e, path) from e
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists() and p.stat().st_mode & 0o077:
            p.chmod(0o600)
    return db


def _translate(e: sqlite3.OperationalError, path: Path) -> Exception:
    msg = str(e).lower()
    if "locked" in msg or "busy" in msg:
        return DatabaseBusy(
            f"Cơ sở dữ liệu {path} đang bị khóa bởi tiến trình khác. Chờ vài giây rồi thử lại.",
            f"The database {path} is locked by another process. Wait a few seconds and try again.",
        )
    if "disk" in msg and "full" in msg:
        return StorageError(
            f"Ổ đĩa chứa {path} đã đầy. Giải phóng dung lượng rồi thử lại; dữ liệu đã lưu không bị mất.",
            f"The disk holding {path} is full. Free some space and try again; stored data is safe.",
        )
    return StorageError(
        f"Không mở được cơ sở dữ liệu {path}: {e}. Kiểm tra quyền thư mục và dung lượng đĩa.",
        f"Cannot open the database {path}: {e}. Check folder permissions and free disk space.",
    )


@contextmanager
def transaction(db: Database, *, immediate: bool = True):
    """A write transaction. IMMEDIATE takes the write lock up front, so two counters
    allocating a sequence number serialise here instead of failing at commit."""
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    except sqlite3.OperationalError as e:
        raise _translate(e, _db_file(db)) from e
    try:
        yield db
    except sqlite3.OperationalError as e:
        _rollback(conn)
        raise _translate(e, _db_file(db)) from e
    except BaseException:
        _rollback(conn)
        raise
    else:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as e:
            _rollback(conn)
            raise _translate(e, _db_file(db)) from e


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back (e.g. SQLITE_FULL); a second ROLLBACK would mask the cause.
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _db_file(db) -> Path:
    return Path(db.conn.execute("PRAGMA database_list").fetchone()[2])

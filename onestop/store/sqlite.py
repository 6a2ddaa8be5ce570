"""The SQLite store: connection settings, migrations, transactions.

One file in the data home, readable only by its owner, in WAL mode with a busy timeout so
several counters and the nightly job can share it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from onestop.common.errors import DatabaseBusy, DatabaseDamaged, HomeMismatch, StorageError
from onestop.common.files import ensure_private_dir  # noqa: F401  (here for the modules that import it from db)

# Env override lets tests prove the "database locked" path without waiting 5 s.
BUSY_TIMEOUT_MS = int(os.environ.get("ONESTOP_BUSY_TIMEOUT_MS", "5000"))




class Database:
    """A thin connection wrapper for the hot path.

    Counter commands need only ``conn``, ``execute`` and ``query``; importing and initialising
    sqlite-utils costs ~50 ms (it scans plugin entry points), so the full ``sqlite_utils.Database``
    is built on first use of anything else (``db["table"].insert_all``, ``db.table_names()``…).

    ``onestop.store.postgres.PgStore`` has the same API (``execute``/``executemany``/``query``, the
    ``backend``/``dialect`` name and the exception classes) for the office database.
    """

    backend = dialect = "sqlite"
    # PEP 249's optional connection attributes: ``except db.IntegrityError`` works on both backends.
    Error = sqlite3.Error
    IntegrityError = sqlite3.IntegrityError
    OperationalError = sqlite3.OperationalError

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._su = None

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, seq_of_params) -> None:
        self.conn.executemany(sql, seq_of_params)

    def query(self, sql: str, params=()):
        """Rows as dicts."""
        cur = self.conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(cols, row))

    def transaction(self, *, immediate: bool = True):
        """A write transaction (``with db.transaction():``), as ``PgStore.transaction``: IMMEDIATE takes
        the write lock up front, so two counters allocating a sequence number serialise here instead of
        failing at commit."""
        return _sqlite_transaction(self, immediate=immediate)

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
    """Open (and create/migrate) the database at ``path``.

    A missing or empty database is created only in a home that holds no papers yet (HomeMismatch
    otherwise: a new database would issue codes already printed); a truncated or overwritten one
    raises DatabaseDamaged before any command runs on it.
    """
    os.umask(0o077)
    check_file(path)
    try:
        ensure_private_dir(path.parent)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        check_size(conn, path)
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as e:
        raise _translate(e, path) from e
    db = Database(conn)
    if migrate:
        from onestop.store.sqlite_schema import ensure_current

        try:
            ensure_current(db)
        except sqlite3.DatabaseError as e:
            raise _translate(e, path) from e
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists() and p.stat().st_mode & 0o077:
            p.chmod(0o600)
    return db


# What the home holds once codes have been issued from it (receipts, archive, the high-water mark).
_PAPERS = ("forms", "archive")


def check_file(path: Path) -> None:
    """Refuse a missing or empty database in a home that already issued codes (HomeMismatch).

    Only stats the file: opening and closing it here would drop the POSIX locks that SQLite
    connections of this process hold on it (fcntl locks belong to the process and go with any
    close), and another process could then delete the WAL under them.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    if st is None or st.st_size == 0:
        if home_holds_papers(path.parent):
            raise missing_error(path, empty=st is not None)


def check_size(conn: sqlite3.Connection, path: Path) -> None:
    """Raise DatabaseDamaged for a truncated file, read through the connection (no second descriptor).

    SQLite itself would only notice on reaching a missing page. The header's page count is what
    ``PRAGMA page_count`` reports while no WAL is pending; pages still in the WAL are not in the
    main file yet, so a file with a pending WAL is left to SQLite's own checks.
    """
    if _wal_pending(path):
        return
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    size = path.stat().st_size
    if pages and size < pages * page_size:
        raise damaged_error(path, f"bị cắt cụt: {size} byte, phần đầu tệp ghi {pages * page_size} byte",
                            f"truncated: {size} bytes, its header counts {pages * page_size}")


def _wal_pending(path: Path) -> bool:
    try:
        return Path(str(path) + "-wal").stat().st_size > 0
    except FileNotFoundError:
        return False


def home_holds_papers(home: Path) -> bool:
    """True when the home holds a receipt, an archive file or the code high-water mark."""
    from onestop.store.home import HWM_NAME

    if (home / HWM_NAME).exists():
        return True
    for sub in _PAPERS:
        stack = [home / sub]
        while stack:
            try:
                with os.scandir(stack.pop()) as it:
                    for e in it:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        elif e.is_file(follow_symlinks=False) and not e.name.startswith("."):
                            return True
            except (FileNotFoundError, NotADirectoryError):
                continue
    return False


def missing_error(path: Path, *, empty: bool) -> HomeMismatch:
    what_vi, what_en = ("trống (0 byte)", "empty (0 bytes)") if empty else ("không có", "missing")
    return HomeMismatch(
        f"Cơ sở dữ liệu {path} {what_vi} nhưng thư mục dữ liệu {path.parent} đã có giấy tiếp nhận / hồ sơ số hóa: "
        "tạo cơ sở dữ liệu mới sẽ cấp lại các mã đã in. Khôi phục bản sao lưu: 'onestop db restore TỆP_SAO_LƯU' "
        "(hoặc đặt ONESTOP_HOME về đúng thư mục dữ liệu).",
        f"The database {path} is {what_en} but the data home {path.parent} already holds receipts / archive files: "
        "a new database would issue codes already printed. Restore a backup: 'onestop db restore BACKUP_FILE' "
        "(or point ONESTOP_HOME at the right data home).",
    )


def damaged_error(path: Path | None, detail_vi: str = "", detail_en: str = "") -> DatabaseDamaged:
    where = f" {path}" if path else ""
    why_vi = f" ({detail_vi})" if detail_vi else ""
    why = f" ({detail_en})" if detail_en else ""
    return DatabaseDamaged(
        f"Cơ sở dữ liệu{where} bị hỏng{why_vi}. Không ghi thêm gì vào đó. Khôi phục bản sao lưu gần nhất: "
        "'onestop db restore TỆP_SAO_LƯU' (tệp hỏng được giữ lại bên cạnh), rồi chạy 'onestop check'.",
        f"The database{where} is damaged{why}. Nothing more is written to it. Restore the latest backup: "
        "'onestop db restore BACKUP_FILE' (the damaged file is kept aside), then run 'onestop check'.",
    )


def is_damage(e: BaseException) -> bool:
    """A sqlite3 error that means the file itself is damaged (not locked, not full)."""
    if not isinstance(e, sqlite3.DatabaseError):
        return False
    msg = str(e).lower()
    return "malformed" in msg or "not a database" in msg or "corrupt" in msg


def translate_error(e: BaseException, path: Path | None = None) -> Exception | None:
    """The OnestopError for a sqlite3 error that escaped a command (damaged, locked, disk full),
    or None. The one mapping, used by the CLI's top-level handler; ``connect`` and ``transaction``
    translate their own errors the same way."""
    if is_damage(e):
        return damaged_error(path)
    if isinstance(e, sqlite3.OperationalError):
        msg = str(e).lower()
        if "locked" in msg or "busy" in msg or ("disk" in msg and "full" in msg):
            return _translate(e, path or Path("onestop.db"))
    return None


def _translate(e: sqlite3.DatabaseError, path: Path) -> Exception:
    msg = str(e).lower()
    if is_damage(e):
        return damaged_error(path)
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


def transaction(db, *, immediate: bool = True):
    """A write transaction on either backend (``with transaction(db):``); see ``onestop.store.transaction``."""
    return db.transaction(immediate=immediate)


@contextmanager
def _sqlite_transaction(db: Database, *, immediate: bool):
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    except sqlite3.DatabaseError as e:
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


# ---------------------------------------------------------------- backup and restore

def backup(db: Database, dest: Path) -> Path:
    """Online backup of ``db`` to ``dest`` (SQLite backup API), written under a temp name and
    renamed: mode 0600 even over an existing file, and never a half-written backup."""
    import tempfile

    from onestop.common.files import fsync_dir

    dest = Path(dest)
    tmp = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)  # mode 0600
        os.close(fd)
        out = sqlite3.connect(tmp)
        try:
            db.conn.backup(out)
            out.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            out.close()
        os.chmod(tmp, 0o600)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except (OSError, sqlite3.Error) as e:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, sqlite3.DatabaseError) and is_damage(e):
            raise damaged_error(_db_file(db)) from e
        raise StorageError(f"Không sao lưu được tới {dest}: {e}.", f"Backup to {dest} failed: {e}.") from e
    return dest


def check_backup(path: Path) -> int:
    """Open a backup read-only and check it (PRAGMA integrity_check); its number of dossiers."""
    from onestop.common.errors import InvalidInput, NotFound

    path = Path(path)
    if not path.is_file():
        raise NotFound(f"Không có tệp sao lưu {path}.", f"No backup file {path}.")
    bad = InvalidInput(
        f"Tệp sao lưu {path} bị hỏng hoặc không phải cơ sở dữ liệu onestop; chưa khôi phục gì. Dùng một bản sao lưu khác.",
        f"The backup {path} is damaged or not an onestop database; nothing was restored. Use another backup.")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check_size(con, path)
            result = [r[0] for r in con.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise bad
            return con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
        finally:
            con.close()
    except (sqlite3.DatabaseError, DatabaseDamaged):
        raise bad from None


def restore(cfg, backup_path: Path) -> dict:
    """Replace the home's database with a checked copy of ``backup_path``.

    The current files (damaged or not; also -wal and -shm) are renamed aside with a timestamp,
    never deleted. The code high-water mark is merged with the codes found on disk, so the next
    code issued is above every code printed since the backup was made.
    """
    import shutil
    import time

    from onestop.common.files import fsync_dir
    from onestop.store import home

    backup_path = Path(backup_path)
    n = check_backup(backup_path)
    office = home.office_of(backup_path)
    if office.get("agency") and office["agency"] != cfg.agency_code:
        raise HomeMismatch(
            f"Bản sao lưu {backup_path} là của cơ quan '{office['agency']}', không phải '{cfg.agency_code}'; chưa khôi phục gì.",
            f"The backup {backup_path} belongs to agency '{office['agency']}', not '{cfg.agency_code}'; nothing was restored.")
    hw = home.HighWater.load(cfg.home)
    if hw is not None and office.get("home_id") and office["home_id"] != hw.home_id:
        raise HomeMismatch(
            f"Bản sao lưu {backup_path} là của một thư mục dữ liệu khác, không phải {cfg.home}; chưa khôi phục gì.",
            f"The backup {backup_path} is of another data home, not {cfg.home}; nothing was restored.")
    target = cfg.db_path
    ensure_private_dir(target.parent)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    tmp = target.with_name(f".{target.name}.restore-{os.getpid()}.tmp")
    kept = []
    try:
        old = os.umask(0o077)
        try:
            shutil.copyfile(backup_path, tmp)
        finally:
            os.umask(old)
        os.chmod(tmp, 0o600)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(target) + suffix)
            if p.exists():
                aside = target.with_name(f"{target.name}.before-restore-{stamp}{suffix}")
                os.replace(p, aside)
                kept.append(str(aside))
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"Không khôi phục được {target} từ {backup_path}: {e}.",
                           f"Cannot restore {target} from {backup_path}: {e}.") from e
    # Counters: whatever the backup says, stay above the codes this home has already issued. The
    # restored file's counter rows are lifted now (and said), the marks kept for every later receive.
    home_id = office.get("home_id") or (hw.home_id if hw else None)
    lifted = []
    if home_id:
        disk = home.scan_disk(cfg, home_id)
        if hw is not None and hw.home_id == home_id:
            disk.merge(hw)
        disk.save()
        restored = connect(target)
        try:
            with transaction(restored):
                lifted = home.lift(restored, office.get("agency") or cfg.agency_code, disk,
                                   "codes-issued.json, forms, archive, logs, spool")
        finally:
            restored.conn.close()
    return {"database": str(target), "backup": str(backup_path), "dossiers": n, "kept_aside": kept,
            "lifted": lifted}

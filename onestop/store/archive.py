"""The archive's rows: stored PDFs (``archive_files``), their pages (``archive_pages``), the
components they digitize, and what ``onestop check`` compares with the disk.

The files themselves are written by ``onestop.archive`` before any of these rows is committed
(write-once, temp file + fsync + rename); a unique index allows one current file per component part.
"""

from __future__ import annotations


def scan_components(db, dossier_id: int) -> list[dict]:
    """A dossier's components as a scan picks them (n, code, name, pages, received, digitized), in order."""
    return list(db.query("SELECT n, code, name, pages, received, digitized FROM dossier_components "
                         "WHERE dossier_id = ? ORDER BY n", [dossier_id]))


def current_files(db, dossier_id: int, n: int) -> list[dict]:
    """The current stored files of component ``n`` (id, path, sha256, size, part), oldest first."""
    return list(db.query("SELECT id, path, sha256, size, part FROM archive_files WHERE dossier_id = ? AND "
                         "component_n = ? AND state = 'current' ORDER BY id", [dossier_id, n]))


def path_in_use(db, path: str) -> bool:
    """Whether an archive row (in any state) points to ``path``."""
    return db.execute("SELECT 1 FROM archive_files WHERE path = ?", [path]).fetchone() is not None


def page_ids_of_files(db, file_ids: list[int]) -> list[int]:
    """The page rows of the given archive files."""
    if not file_ids:
        return []
    return [r[0] for r in db.execute(
        f"SELECT id FROM archive_pages WHERE file_id IN ({', '.join('?' * len(file_ids))})", list(file_ids))]


def set_file_state(db, file_id: int, state: str) -> None:
    """Mark a stored file 'replaced' or 'lost' (a rescan with --replace)."""
    db.execute("UPDATE archive_files SET state = ? WHERE id = ?", [state, file_id])


def insert_file(db, row: dict) -> int:
    """Record a stored PDF (its columns as a dict); returns its id. A second current file for the
    same component part violates the unique index (see ``is_conflict``)."""
    return db.execute(f"INSERT INTO archive_files ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
                      "RETURNING id", list(row.values())).fetchall()[0][0]


def insert_page(db, row: dict) -> int:
    """Record one page of a stored PDF (its columns as a dict: file_id, n, text, confidence…); returns its id."""
    return db.execute(f"INSERT INTO archive_pages ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
                      "RETURNING id", list(row.values())).fetchall()[0][0]


def mark_digitized(db, dossier_id: int, n: int) -> None:
    """Component ``n`` is digitized; its page count becomes that of its current files."""
    db.execute("UPDATE dossier_components SET digitized = 1, pages = (SELECT sum(pages) FROM archive_files "
               "WHERE dossier_id = ? AND component_n = ? AND state = 'current') WHERE dossier_id = ? AND n = ?",
               [dossier_id, n, dossier_id, n])


def is_conflict(db, e: BaseException) -> bool:
    """Whether ``e`` is a unique index refusing a row (two scans of one component part, one path)."""
    if not isinstance(e, db.IntegrityError):
        return False
    if db.dialect == "postgresql":
        # PostgreSQL: an IntegrityError is any constraint; 23505 is unique_violation. (A second scan's
        # INSERT waits on the first one's uncommitted row and gets this once the first commits.)
        return getattr(e, "sqlstate", None) == "23505"
    return True  # SQLite: the constraints a scan's rows can break are the unique indexes


def lock_path(db, path: str) -> None:
    """Serialise, until the end of the caller's transaction, every transaction that commits or
    discards the archive file ``path``: "is a committed row pointing to it?" then stays true
    until the file is removed, and a commit cannot slip in between.

    SQLite: nothing to do, the IMMEDIATE transaction holds the database's write lock. PostgreSQL:
    a transaction advisory lock on the path (a hash collision only makes two scans wait for each other).
    """
    if db.dialect == "postgresql":
        db.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", [_LOCK_NS, path])


_LOCK_NS = 0x0E570A  # advisory-lock namespace of archive paths (store.postgres uses 0x0E5709)


def files_to_check(db) -> list[dict]:
    """Every archive row with its dossier code (id, path, sha256, size, pages, component_n, state, code)."""
    return list(db.query("SELECT f.id, f.path, f.sha256, f.size, f.pages, f.component_n, f.state, d.code "
                         "FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id ORDER BY f.id"))


def digitized_without_file(db) -> list[dict]:
    """Components marked digitized that have no current file (code, n)."""
    return list(db.query(
        "SELECT d.code, c.n FROM dossier_components c JOIN dossiers d ON d.id = c.dossier_id "
        "WHERE c.digitized = 1 AND NOT EXISTS (SELECT 1 FROM archive_files f WHERE f.dossier_id = c.dossier_id "
        "AND f.component_n = c.n AND f.state = 'current')"))


def files_under(db, prefix: str) -> list[dict]:
    """The archive rows whose file (or signed PDF's OCR copy) lies under ``prefix`` (a folder path
    ending in '/'): id, path, size, ocr_copy."""
    n = len(prefix)
    return list(db.query("SELECT id, path, size, ocr_copy FROM archive_files WHERE substr(path, 1, ?) = ? "
                         "OR substr(coalesce(ocr_copy, ''), 1, ?) = ? ORDER BY id", [n, prefix, n, prefix]))


def relocate(db, old: str, new: str) -> int:
    """Point every archive row under the folder ``old`` to the same file under ``new`` (both ending in
    '/'); the caller holds the transaction. Returns the rows changed."""
    n = len(old)
    changed = db.execute("UPDATE archive_files SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
                         [new, n + 1, n, old]).rowcount
    db.execute("UPDATE archive_files SET ocr_copy = ? || substr(ocr_copy, ?) WHERE substr(ocr_copy, 1, ?) = ?",
               [new, n + 1, n, old])
    return changed

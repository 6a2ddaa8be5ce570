"""The archive's files: write-once PDFs under names that say whose they are, and the commit of a
file with its rows.

A component's file is ``<archive>/<code>/<code>_<component>_<yyyymmdd>.pdf`` (``_2``, ``_3``… when
the name is taken: ``place``), in the office's shared folder when there is one (``shared_root``).
Archive files are write-once: a new scan never overwrites an existing file (``common.files.write_new``).
The PDF is written, fsynced and renamed first; only then ``commit`` stores the file's row, its pages,
the search index, the component digitized, the event and the outbox "file" entry in one transaction.
A crash between rename and commit leaves an orphan PDF that ``check`` reports and that re-running the
same scan takes over (same bytes: the OCR and the PDF writer are deterministic).

Races (issue 8): the database allows one current file per component part (a unique index), and
``commit`` re-reads the component under a lock (SQLite: the write lock; PostgreSQL: a lock on the
file's path, ``store.archive.lock_path``; where the paths differ the unique index refuses the
second row), so of two scans of one component exactly one commits; the other fails with
ScanConflict and removes only its own uncommitted PDF (``discard``), never one a committed row
points to. A connection to the office database lost during the commit stores no row; the PDF stays
(``check`` calls it an orphan, the same scan run again takes it over).

``relocate`` points every row at the archive's new folder after the files were copied there.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from onestop.common.config import Config
from onestop.common.errors import CheckFailed, InvalidInput, ScanConflict, StorageError
from onestop.store import archive as store
from onestop.store.sqlite import Database, ensure_private_dir, transaction


def sha256_file(path: Path) -> str:
    """The file's SHA-256 (hex), read in 1 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "x"


def component_code(comp: dict) -> str:
    return _safe(comp.get("code") or "") if comp.get("code") else f"TP{int(comp['n']):02d}"


def archive_path(cfg: Config, code: str, comp: dict, stamp) -> Path:
    """Where a scan of component (or result) ``comp`` of dossier ``code`` on ``stamp``'s day is stored
    (``place`` adds ``_2``, ``_3``… when that name is taken)."""
    return shared_root(cfg) / _safe(code) / f"{_safe(code)}_{component_code(comp)}_{stamp:%Y%m%d}.pdf"


def shared_root(cfg: Config) -> Path:
    """The archive folder, resolved. In an office it is the shared folder (``[archive] root`` of the
    office settings) and, outside this desk's data home, must already be there: an unmounted share is not
    silently replaced by a local folder that no other desk and no nightly sync would see."""
    root = cfg.archive_dir.resolve()
    home = cfg.home.resolve()
    if cfg.in_office and not root.is_dir() and home != root and home not in root.parents:
        raise StorageError(
            f"Không thấy thư mục lưu trữ chung của văn phòng {root} trên máy này. Gắn (mount) thư mục chung "
            f"đúng đường dẫn đó (docs/office.md, mục 3) rồi làm lại; chưa có gì được lưu.",
            f"The office's shared archive folder {root} is not there on this desk. Mount the shared folder "
            f"at that path (docs/office.md, section 3) and do it again; nothing was stored.")
    if root.exists() and not root.is_dir():
        raise StorageError(
            f"Thư mục lưu trữ {root} ([archive] root) là một tệp, không phải thư mục. Sửa [archive] root (hoặc "
            "'onestop office set archive.root' trong văn phòng) hoặc dời tệp đó đi; chưa có gì được lưu.",
            f"The archive folder {root} ([archive] root) is a file, not a folder. Fix [archive] root (or "
            "'onestop office set archive.root' in an office) or move that file away; nothing was stored.")
    return root


def _write_new(path: Path, data: bytes) -> None:
    """Write a new archive PDF crash-safely, never over an existing file (FileExistsError then);
    any other failure is a StorageError that says nothing was stored."""
    from onestop.common.files import write_new

    ensure_private_dir(path.parent)
    try:
        write_new(path, data)
    except FileExistsError:
        raise
    except OSError as e:
        raise StorageError(
            f"Không ghi được tệp lưu trữ {path}: {e.strerror or e}. Kiểm tra dung lượng/quyền thư mục rồi quét lại; "
            f"chưa có gì được lưu, tệp trong hộp thư quét vẫn giữ nguyên.",
            f"Cannot write the archive file {path}: {e}. Check disk space and permissions, then scan again; "
            f"nothing was stored and inbox files are untouched.") from e


def current(db: Database, dossier_id: int, n: int) -> list[dict]:
    """The current files of component ``n`` of the dossier (one per part)."""
    return store.current_files(db, dossier_id, n)


def intact(row: dict) -> bool:
    """Whether the file of ``row`` is there with its size and SHA-256."""
    p = Path(row["path"])
    try:
        return p.is_file() and p.stat().st_size == row["size"] and sha256_file(p) == row["sha256"]
    except OSError:
        return False


def place(db: Database, path: Path, pdf: bytes, sha: str) -> tuple[Path, bool]:
    """Store ``pdf`` at ``path`` or the first free ``_2``, ``_3``… variant; returns (path, created).

    Archive files are write-once: a name a row uses, or that exists on disk, is never written
    again. The one exception is not a write: a file no row points to that holds exactly this PDF
    (a scan killed between writing and committing, run again) is taken over as it is."""
    i = 1
    while True:
        cand = path if i == 1 else path.with_name(f"{path.stem}_{i}{path.suffix}")
        i += 1
        if store.path_in_use(db, str(cand)):
            continue
        try:
            _write_new(cand, pdf)
            return cand, True
        except FileExistsError:
            if not cand.is_symlink() and cand.is_file() and cand.stat().st_size == len(pdf) and sha256_file(cand) == sha:
                return cand, False


def discard(db: Database, path: Path, *, copy: bool = False) -> None:
    """Remove a PDF this scan wrote and did not commit, unless a committed row points to it
    (checked under the lock of ``store.lock_path``, so no other scan can commit it meanwhile). When in doubt the
    file stays: `check` reports an orphan, which loses nothing. ``copy``: an OCR copy of a signed PDF."""
    from onestop.store import results as results_store

    try:
        with transaction(db):
            store.lock_path(db, str(path))
            if copy:
                if not results_store.ocr_copy_used(db, str(path)):
                    path.unlink(missing_ok=True)
            elif not store.path_in_use(db, str(path)):
                path.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - the scan's own error is the one to report
        pass


def commit(db: Database, cfg: Config, d: dict, comp: dict, row: dict, results: list, review, *,
           before: list[dict], replace: bool, add: bool, written: list[tuple[Path, bool]],
           signatures: list[dict] = ()) -> int:
    """Store the file ``row`` (its PDF, and OCR copy if any, already placed), its ``results`` pages,
    the search index, the digitization ``review``, the component digitized, the event and the outbox
    entry in one transaction; returns the file's id.

    ``before`` is the component's current files when the scan began: if another scan committed
    meanwhile this one stores nothing (ScanConflict). With ``replace`` they become ``replaced`` (or
    ``lost`` when already missing or damaged); with ``add`` the new file is one more part. On any
    failure the files of ``written`` ((path, is OCR copy) this scan wrote) are discarded. ``signatures``:
    the file's digital signatures (archive/signing.py), stored with it."""
    from onestop.archive import digitization, search
    from onestop.intake import dossiers

    code = d["code"]
    paths = [Path(row["path"])] + ([Path(row["ocr_copy"])] if row.get("ocr_copy") else [])
    # A replaced file that is already missing or damaged is marked 'lost', so that `check` (which
    # advised this rescan) stops reporting it; an intact one stays checked as 'replaced'.
    old_state = {r["id"]: ("replaced" if intact(r) else "lost") for r in before} if replace else {}
    what = f"kết quả {comp['result']}" if comp.get("result") else f"thành phần {comp['n']}"
    try:
        with transaction(db):
            # No other scan commits or discards these files until this transaction ends (SQLite: the
            # write lock; PostgreSQL: a lock per path). One that discarded a file taken over here
            # before that leaves nothing to point to: then this scan stores nothing.
            for p in paths:
                store.lock_path(db, str(p))
                if not p.is_file():
                    raise ScanConflict(
                        f"Tệp lưu trữ {p} vừa bị một lần quét khác chạy cùng lúc gỡ bỏ. Lần quét này không lưu "
                        f"gì; tệp trong hộp thư quét (nếu có) đã được trả lại. Quét lại thành phần {comp['n']} "
                        f"của hồ sơ {code}.",
                        f"The archive file {p} was just removed by another scan running at the same time. This "
                        f"scan stored nothing; its inbox files (if any) were returned. Scan component "
                        f"{comp['n']} of dossier {code} again.")
            locked = dossiers.lock_for_change(db, d, ())  # two desks changing one dossier take turns
            if comp.get("result"):
                from onestop.archive import results as result_rules

                result_rules.part(db, cfg, locked, comp["result"])  # still a result status (exit 5 otherwise)
            # Checked again under the lock: another scan of this component may have committed
            # while this one was reading its pages. Then this one stores nothing.
            now = current(db, d["id"], comp["n"])
            if [r["id"] for r in now] != [r["id"] for r in before]:
                won = ", ".join(r["path"] for r in now) or "?"
                raise ScanConflict(
                    f"Trong lúc quét, một lần quét khác đã lưu thành phần {comp['n']} của hồ sơ {code} ({won}). "
                    f"Lần quét này không lưu gì; tệp trong hộp thư quét (nếu có) đã được trả lại. Xem 'onestop show "
                    f"{code}'; nếu vẫn cần quét lại, dùng --replace.",
                    f"While this scan ran, another scan stored component {comp['n']} of dossier {code} ({won}). "
                    f"This scan stored nothing; its inbox files (if any) were returned. See 'onestop show {code}'; "
                    f"to rescan anyway, use --replace.")
            if replace and before:
                search.unindex_pages(db, store.page_ids_of_files(db, [r["id"] for r in before]))
                for fid_old, st in old_state.items():
                    store.set_file_state(db, fid_old, st)
            row["part"] = 1 + max((r["part"] for r in now), default=0) if add else 1
            fid = store.insert_file(db, row)
            if signatures:
                from onestop.store import signatures as signature_store

                signature_store.record(db, fid, signatures)
            for r in results:
                pid = store.insert_page(db, {
                    "file_id": fid, "n": r.n, "text": r.text, "confidence": r.confidence, "rotated": r.rotated,
                    "deskew": r.deskew, "dpi": r.dpi, "colour": int(r.colour), "width": r.width, "height": r.height,
                    "source": r.source})
                search.index_page(db, pid, d["id"], r.text)
            digitization.record(db, fid, d["id"], comp["n"], review)
            store.mark_digitized(db, d["id"], comp["n"])
            dossiers._event(db, d["id"], row["created_at"], row["officer"], cfg.unit, "digitize",
                            f"Số hóa {what}: {len(results)} trang"
                            + (" (thêm tệp)" if add and before else ""),
                            None, None, {**({"result": comp["result"]} if comp.get("result") else
                                            {"component": comp["n"]}), "file_id": fid, "sha256": row["sha256"],
                                         **({"replaced": old_state} if old_state else {})})
            dossiers._outbox(db, d["id"], "file", fid, row["created_at"])
    except BaseException as e:
        for path, copy in written:
            discard(db, path, copy=copy)
        if store.is_conflict(db, e):
            # The unique indexes (one current file per component part, one row per path) caught a
            # race the check above could not see.
            raise ScanConflict(
                f"Một lần quét khác vừa lưu thành phần {comp['n']} của hồ sơ {code}. Lần quét này không lưu gì. "
                f"Xem 'onestop show {code}'; nếu vẫn cần quét lại, dùng --replace.",
                f"Another scan just stored component {comp['n']} of dossier {code}. This scan stored nothing. "
                f"See 'onestop show {code}'; to rescan anyway, use --replace.") from e
        raise
    return fid


def relocate(db, cfg: Config, new_root: Path, old_root: Path | None = None) -> dict:
    """The archive folder was moved (copied to the office's share, a new disk): point every archive row
    from ``old_root`` (default: the archive folder in use) to the same file under ``new_root``.

    Every file must already be at its new place with its size (nothing is copied or deleted here: the
    move is ``rsync``'s, the rows are onestop's); one missing file and nothing changes (exit 10,
    listed). In an office the shared ``archive.root`` setting changes with the rows, in the same
    transaction (owner or supervisor role); on one desk the config's ``[archive] root`` is the
    officer's to change, and the result says so. Returns old, new, files, setting."""
    old = (old_root or cfg.archive_dir).expanduser().resolve()
    new = new_root.expanduser().resolve()
    if not new.is_dir():
        raise StorageError(f"Thư mục mới {new} không tồn tại (hoặc không phải thư mục): chép kho lưu trữ sang đó trước "
                           "(rsync -a CŨ/ MỚI/), rồi chạy lại.",
                           f"The new folder {new} does not exist (or is not a folder): copy the archive there first "
                           "(rsync -a OLD/ NEW/), then run again.")
    if new == old:
        raise InvalidInput(f"Kho lưu trữ đã ở {new}.", f"The archive is already at {new}.")
    prefix, target = str(old) + os.sep, str(new) + os.sep
    rows = store.files_under(db, prefix)
    missing = []
    for r in rows:
        for p in filter(None, (r["path"], r["ocr_copy"])):
            if not p.startswith(prefix):
                continue
            moved = Path(target + p[len(prefix):])
            if not moved.is_file() or (p == r["path"] and moved.stat().st_size != r["size"]):
                missing.append(str(moved))
    if missing:
        shown = ", ".join(missing[:5]) + (f" (+{len(missing) - 5})" if len(missing) > 5 else "")
        raise CheckFailed(
            f"{len(missing)} tệp chưa có (hoặc khác kích thước) ở thư mục mới: {shown}. Chép đủ (rsync -a {old}/ "
            f"{new}/) rồi chạy lại; chưa đổi gì.",
            f"{len(missing)} files are not (or not whole) in the new folder: {shown}. Copy them all (rsync -a "
            f"{old}/ {new}/) and run again; nothing was changed.")
    setting = None
    with transaction(db):
        n = store.relocate(db, prefix, target)
        if cfg.in_office:
            from onestop.intake import office

            setting = office.set_value(cfg, db, "archive.root", str(new))
    return {"old": str(old), "new": str(new), "files": n, "office_setting": setting,
            "config_to_change": None if cfg.in_office else "[archive] root"}

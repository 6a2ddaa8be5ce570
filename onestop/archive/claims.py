"""The scan inbox, the claims scans take on its files, and the scans' work folders.

A network scanner drops pages in the inbox (``inbox_dir``, ``inbox_files``). A scan claims the inbox
files it reads by renaming them into its own claim folder (``claim``), so two scans never store the
same file; they go back to the inbox when the scan fails and to ``done/`` after its commit. Page
images and OCR text of a running scan live in a private work folder of the data home (``work_folder``).

A scan's own folders are locked (flock on ``.lock``) for as long as the scan runs. A scan that was
killed (kill -9, power cut) leaves its folder unlocked: the next scan cleans it up (``recover``)
and ``check`` reports it meanwhile (``stale``). Folders are born as ``.new-*`` and renamed once
locked, so a folder with a run's name always has a lock.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from onestop.archive import imaging
from onestop.common.config import Config
from onestop.common.errors import ScanConflict, ScanRejected, StorageError
from onestop.store.sqlite import ensure_private_dir

LOCK = ".lock"
CLAIMS = ".claims"   # in the inbox: one ``run-*`` folder per scan holding the inbox files it took


def inbox_dir(cfg: Config) -> Path:
    p = cfg.get("scan.inbox") or ""
    return (Path(os.path.expanduser(p)) if p else cfg.home / "inbox").resolve()


def work_root(cfg: Config) -> Path:
    """Where scans keep page images and OCR text while they run (personal data: the data home, 0700)."""
    return cfg.home / "work"


def inbox_files(cfg: Config, *, settle: float | None = None) -> list[Path]:
    """Entries a network scanner dropped in the inbox, oldest first, once they have stopped growing.

    Links and other non-regular entries are listed too (never followed): ``scan`` refuses them."""
    box = inbox_dir(cfg)
    if not box.is_dir():
        return []
    settle = float(cfg.get("scan.settle_seconds", 1.0) if settle is None else settle)

    def listing():
        out = {}
        for e in os.scandir(box):
            if e.name.startswith(".") or Path(e.name).suffix.lower() not in imaging.ALLOWED_SUFFIXES:
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    continue
                st = e.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # taken by another scan meanwhile
            out[Path(e.path)] = (st.st_size, st.st_mtime)
        return out

    before = listing()
    for _ in range(30):
        if not settle:
            break
        time.sleep(settle)
        after = listing()
        if after == before:
            break
        before = after
    return sorted(before, key=lambda p: (before[p][1], p.name))


@contextlib.contextmanager
def _run_folder(parent: Path, prefix: str, *, remove_contents: bool):
    """A new private folder ``parent/<prefix>…``, locked while the block runs, then removed
    (with what it holds only when ``remove_contents``: a claim folder is removed only once empty)."""
    import fcntl

    ensure_private_dir(parent)
    for _ in range(5):
        new = Path(tempfile.mkdtemp(prefix=".new-", dir=parent))  # mode 0700
        try:
            fd = os.open(new / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            continue  # removed by another scan's clean-up before it was locked: start again
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            folder = parent / (prefix + new.name[len(".new-"):])
            os.rename(new, folder)
            break
        except FileNotFoundError:
            os.close(fd)
    else:
        raise StorageError(f"Không tạo được thư mục làm việc trong {parent}. Kiểm tra quyền thư mục rồi thử lại.",
                           f"Cannot create a work folder in {parent}. Check the folder's permissions and try again.")
    try:
        yield folder
    finally:
        try:
            if remove_contents:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                (folder / LOCK).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    folder.rmdir()  # not empty: files could not be moved out; the next scan returns them
        finally:
            os.close(fd)


def work_folder(cfg: Config):
    """A private work folder for one scan inside the data home, removed when the scan ends."""
    return _run_folder(work_root(cfg), "scan-", remove_contents=True)


@contextlib.contextmanager
def claim(box: Path):
    """A new, empty ``Claim`` on the inbox ``box`` for one scan; its folder is removed at the end once
    empty (files that could not be moved out stay there, and the next scan returns them)."""
    with _run_folder(box / CLAIMS, "run-", remove_contents=False) as folder:
        yield Claim(box, folder)


def stale(parent: Path, prefix: str, *, hold: bool):
    """Folders under ``parent`` left by runs that ended without cleaning up (their lock is free).
    With ``hold`` each is yielded while its lock is held, so its owner cannot be alive meanwhile."""
    import fcntl

    if not parent.is_dir():
        return
    for d in sorted(parent.iterdir()):
        if not (d.name.startswith(prefix) or d.name.startswith(".new-")) or d.is_symlink() or not d.is_dir():
            continue
        try:
            fd = os.open(d / LOCK, os.O_RDWR)
        except FileNotFoundError:
            fd = None  # only a folder whose run was killed before it locked it
        except OSError:
            continue
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its scan is running
                if not hold:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            yield d
        finally:
            if fd is not None:
                os.close(fd)


def claimed_entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name != LOCK)


def recover(cfg: Config) -> dict:
    """Clean up after scans that were killed: remove their work folders (page images and OCR text),
    and return the inbox files they had claimed to the inbox. Returns what was done."""
    from onestop.common.files import move_new

    removed, returned = [], []
    for d in stale(work_root(cfg), "scan-", hold=True):
        shutil.rmtree(d, ignore_errors=True)
        removed.append(str(d))
    box = inbox_dir(cfg)
    for d in stale(box / CLAIMS, "run-", hold=True):
        for f in claimed_entries(d):
            with contextlib.suppress(OSError):
                returned.append(str(move_new(f, box)))
        (d / LOCK).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            d.rmdir()
    return {"removed_work": removed, "returned": returned}


def in_folder(f: Path, folder: Path) -> bool:
    """Whether the entry ``f`` itself (a link is not followed) lies directly in ``folder``."""
    try:
        return Path(os.path.abspath(f)).parent.resolve() == folder.resolve()
    except OSError:
        return False


class Claim:
    """The inbox files one scan took: each renamed into the scan's own claim folder, so no other
    scan can take it; returned to the inbox on failure, moved to ``done/`` after the commit."""

    def __init__(self, box: Path, folder: Path):
        self.box, self.folder = box, folder
        self.files: dict[Path, Path] = {}  # inbox path -> claimed path

    def take(self, paths: list[Path], code: str) -> None:
        import fcntl
        import stat

        # One claimer at a time: a scan takes all of its files or none (two scans never split a batch).
        lock = os.open(self.box / CLAIMS / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for f in paths:
                if f in self.files:
                    continue
                dest = self.folder / f.name
                try:
                    os.rename(f, dest)  # atomic: the file is ours, or it was gone already
                except FileNotFoundError:
                    raise ScanConflict(
                        f"Tệp {f.name} không còn trong hộp thư quét {self.box}: một lần quét khác chạy cùng lúc đã "
                        f"nhận nó. Lần quét hồ sơ {code} này không lưu gì và đã trả lại các tệp nó đã nhận. Xem tệp đó "
                        f"được lưu vào hồ sơ nào ('onestop check', thư mục done/), rồi quét lại nếu cần.",
                        f"{f.name} is no longer in the scan inbox {self.box}: another scan running at the same time "
                        f"took it. This scan of {code} stored nothing and returned the files it had taken. See which "
                        f"dossier got it (inbox done/ folder), then scan again if needed.") from None
                self.files[f] = dest
                mode = os.lstat(dest).st_mode
                if not stat.S_ISREG(mode):
                    raise _not_regular(f.name, dest, mode)
        finally:
            os.close(lock)

    def release(self) -> None:
        """Return every claimed file to the inbox (under its own name unless a new file took it)."""
        from onestop.common.files import move_new

        for f, claimed in self.files.items():
            with contextlib.suppress(OSError):  # left in the claim folder: the next scan returns it
                move_new(claimed, self.box, f.name)

    def done(self) -> list[str]:
        from onestop.common.files import move_new

        done = ensure_private_dir(self.box / "done")
        moved = []
        for claimed in self.files.values():
            try:
                moved.append(str(move_new(claimed, done)))
            except OSError:
                pass  # the scan is committed; the next scan returns the file to the inbox and `check` shows it
        return moved


def _not_regular(name: str, entry: Path, mode: int) -> ScanRejected:
    import stat

    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(entry)
        except OSError:
            target = "?"
        what_vi, what_en = f"là một liên kết (symlink) tới {target}", f"is a symbolic link to {target}"
    else:
        what_vi, what_en = "không phải tệp thông thường (thư mục, FIFO, thiết bị…)", "is not a regular file"
    return ScanRejected(
        f"{name} trong hộp thư quét {what_vi}. onestop không đi theo liên kết và chỉ nhận tệp ảnh/PDF thật: "
        f"xóa nó khỏi hộp thư quét, chép bản quét thật vào rồi quét lại. Chưa có gì được lưu.",
        f"{name} in the scan inbox {what_en}. onestop does not follow links and only takes real image/PDF "
        f"files: remove it from the inbox, copy the real scan there and scan again. Nothing was stored.")


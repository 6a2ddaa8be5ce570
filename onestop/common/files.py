"""Crash-safe file writes: a unique temp name in the same folder, fsync, rename, fsync the folder.

A reader (or a crash) never sees a partial file under the final name; a failed write leaves no
temp file behind. Files are created readable by their owner only (citizens' papers).
``write_new`` and ``move_new`` never replace an existing file (write-once archive, inbox claims).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path


def ensure_private_dir(path: Path) -> Path:
    """Create a folder readable only by its owner (citizens' data lives below it)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort where the filesystem refuses)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic(path: Path, fill, durable: bool) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (``durable=False`` skips the fsyncs, e.g. dry runs)."""
    _atomic(path, lambda f: f.write(data), durable)


def copy_atomic(src: Path, dest: Path, *, durable: bool = True) -> None:
    """Copy ``src`` to ``dest`` atomically, streaming (bounded memory for large scans)."""
    def fill(f):
        with open(src, "rb") as s:
            shutil.copyfileobj(s, f, 1 << 20)

    _atomic(dest, fill, durable)


# Filesystems without hard links answer these; there the name is reserved with O_EXCL instead.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}


def _link_new(src: str, dest: Path) -> None:
    """Give ``src`` the new name ``dest`` as well; FileExistsError when ``dest`` exists (never replaced)."""
    try:
        os.link(src, dest, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno not in _NO_LINKS:
            raise
        # Reserve the name exclusively, then replace only that placeholder of ours.
        os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            os.replace(src, dest)
        except BaseException:
            os.unlink(dest)
            raise


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` crash-safely to ``path``, which must not exist: FileExistsError otherwise.

    A temp file is filled and fsynced, then hard-linked to the final name (a rename that cannot
    clobber), so two writers, or a writer and an older file, never overwrite each other."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _link_new(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    fsync_dir(path.parent)


def move_new(src: Path, folder: Path, name: str | None = None) -> Path:
    """Move ``src`` (a file, or a link itself, never its target) into ``folder`` under ``name``,
    or ``stem_2.ext``, ``stem_3.ext``… when that name is taken; never replaces anything."""
    src = Path(src)
    name = name or src.name
    stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    i = 1
    while True:
        dest = folder / (name if i == 1 else f"{stem}_{i}{dot}{ext}")
        try:
            _link_new(str(src), dest)
        except FileExistsError:
            i += 1
            continue
        with contextlib.suppress(FileNotFoundError):  # gone already where the fallback renamed it
            os.unlink(src)
        return dest

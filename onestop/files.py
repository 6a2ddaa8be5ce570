"""Crash-safe file writes: a unique temp name in the same folder, fsync, rename, fsync the folder.

A reader (or a crash) never sees a partial file under the final name; a failed write leaves no
temp file behind. Files are created readable by their owner only (citizens' papers).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


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

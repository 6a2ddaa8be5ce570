"""One sync at a time: an fcntl lock on a file in the data home.

The kernel drops the lock when the process dies (even on SIGKILL), so a crashed run never
blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from onestop.errors import SyncLocked


@contextmanager
def sync_lock(home: Path):
    """Hold ``<home>/sync.lock`` for the duration; SyncLocked at once if another run holds it."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "sync.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            try:
                holder = os.pread(fd, 32, 0).decode().strip()
            except OSError:
                pass
            raise SyncLocked(
                f"Một phiên đồng bộ khác đang chạy (tiến trình {holder or '?'}). Chờ phiên đó xong rồi chạy lại.",
                f"Another sync is running (process {holder or '?'}). Wait for it to finish, then run again.",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing releases the lock

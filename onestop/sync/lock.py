"""One sync at a time: per office on PostgreSQL, per data home on SQLite.

On the office database the lock is a session advisory lock (``store.postgres.sync_lock``) held by
the run's own connection: every desk of the office sees it, and the server drops it when that
session ends, even if the process is killed. On SQLite it is an fcntl lock on a file in the data
home (the database lives there); the kernel drops it when the process dies (even on SIGKILL). So a
crashed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from onestop.common.errors import SyncLocked


@contextmanager
def run_lock(cfg, db=None):
    """Hold the sync's run lock for the duration; SyncLocked (exit 12) at once if another run holds it.

    ``db``: the run's store; on PostgreSQL the lock is held by its session, so the lock and the
    run's work end together (a lost connection cannot leave the run going without its lock).
    Without ``db`` the lock has a connection of its own.
    """
    from onestop.store import database_url, desk_name

    url = database_url(cfg)
    if url is None:
        with sync_lock(cfg.home) as path:
            yield path
        return
    from onestop.store import postgres

    with postgres.sync_lock(db if db is not None and db.backend == "postgresql" else url,
                            desk=desk_name(cfg)) as conn:
        yield conn


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

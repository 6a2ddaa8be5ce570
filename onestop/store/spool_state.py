"""``.sent.db``: what ``sync --from-spool`` has delivered from a spool folder.

A small SQLite file inside the spool folder, on the connected machine that delivers it; never the
office database (so it stays SQLite whatever the office uses). Batches delivered, the server's
answer for each file, the progress lines already on the server (the doubt check after a crash),
the refusals.
"""

from __future__ import annotations

import json
from pathlib import Path


# dialect: sqlite-only (a file of the spool folder; PRAGMA journal_mode)
def open_state(folder: Path):
    """Open (creating if needed) the spool's ``.sent.db``; ``close_state`` when done."""
    import sqlite3

    from onestop.db import Database

    db = Database(sqlite3.connect(str(Path(folder) / ".sent.db"), isolation_level=None, timeout=10))
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE IF NOT EXISTS batches (name TEXT PRIMARY KEY, done_at TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, remote_id TEXT, url TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY, code TEXT NOT NULL, line TEXT NOT NULL)")
    db.execute("CREATE INDEX IF NOT EXISTS steps_code ON steps(code)")
    db.execute("CREATE TABLE IF NOT EXISTS failures (batch TEXT, code TEXT, reason TEXT)")
    return db


def close_state(st) -> None:
    """Close the spool's ``.sent.db``."""
    st.conn.close()  # Database has no close(); the connection is this module's own


def delivered_batches(st) -> set[str]:
    """Names of the batch files already delivered."""
    return {r[0] for r in st.execute("SELECT name FROM batches").fetchall()}


def mark_delivered(st, name: str, at: str, failures: list[tuple[str, str]]) -> None:
    """Record a batch as delivered, with its refusals as (code, reason)."""
    for code, reason in failures:
        st.execute("INSERT INTO failures VALUES (?, ?, ?)", [name, code, reason])
    st.execute("INSERT INTO batches VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET done_at = excluded.done_at",
               [name, at])


def uploaded_file(st, sha256: str) -> tuple[str, str] | None:
    """The server's (IdTepTin, DuongDan) for a file already uploaded from this spool, or None."""
    row = st.execute("SELECT remote_id, url FROM files WHERE sha256 = ?", [sha256]).fetchone()
    return (row[0], row[1]) if row else None


def record_file(st, sha256: str, remote_id: str, url: str) -> None:
    """Remember the server's answer for an uploaded file."""
    st.execute("INSERT INTO files VALUES (?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET "
               "remote_id = excluded.remote_id, url = excluded.url", [sha256, remote_id, url])


def add_step(st, code: str, line: dict) -> None:
    """A progress line now on the server."""
    st.execute("INSERT INTO steps (code, line) VALUES (?, ?)", [code, json.dumps(line, ensure_ascii=False)])


def steps_by_code(st, codes: list[str]) -> dict[str, list[dict]]:
    """The progress lines delivered for each of ``codes``."""
    out: dict[str, list] = {c: [] for c in codes}
    if not codes:
        return out
    for code, line in st.execute(f"SELECT code, line FROM steps WHERE code IN ({','.join('?' * len(codes))})",
                                 codes).fetchall():
        out[code].append(json.loads(line))
    return out

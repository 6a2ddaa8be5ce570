"""The spool: the same payloads and files as numbered batch files, for offices whose line is down.

Layout of a spool folder (docs/sync.md)::

    000001-upload.json               {"service": "upload", "data": [{"MaHoSo", "sha256", "file"}]}
    000002-DongBoHoSoMC.json         {"madonvi", "service", "isUpdating", "data": [...]}
    000003-CapNhatTienDoHoSoMC.json
    files/<sha256>.pdf
    .sent.db                         what --from-spool has delivered (created on the sending machine)

Each batch file is written to a temporary name, fsynced and renamed, so a reader never sees half a
batch. Records point to files not yet uploaded with ``spool:sha256:<hex>``; ``--from-spool``
uploads the files first and puts the server's IdTepTin / DuongDan in their place.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path

from onestop.files import copy_atomic
from onestop.sync.outbox import ALREADY, SENT, Stats, Unreachable, send_items, send_steps
from onestop.sync.payloads import SPOOL_URL
from onestop.sync.transport import Rejected, Temporary

log = logging.getLogger("onestop.sync")

BATCH = re.compile(r"^(\d{6,})-([A-Za-z]+)\.json$")


def _atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    from onestop.files import write_atomic

    write_atomic(path, data, durable=durable)


def batch_files(folder: Path) -> list[Path]:
    """The batch files of a spool, in order."""
    if not folder.is_dir():
        return []
    out = [(int(m.group(1)), p) for p in folder.iterdir() if (m := BATCH.match(p.name))]
    return [p for _, p in sorted(out)]


class SpoolTransport:
    """A transport that writes batch files instead of sending them (also used by --dry-run)."""

    retries = 0

    def __init__(self, folder: Path, *, agency: str, dry_run: bool = False):
        self.folder = Path(folder)
        self.agency = agency
        self.dry = dry_run
        self.kind = "dry-run" if dry_run else "spool"
        (self.folder / "files").mkdir(parents=True, exist_ok=True)
        existing = batch_files(self.folder)
        self.n = int(BATCH.match(existing[-1].name).group(1)) if existing else 0
        self._index: dict[str, list] | None = None

    def describe(self) -> str:
        return str(self.folder)

    def close(self) -> None:
        pass

    def pause(self, attempt: int) -> None:
        pass

    def _batch(self, service: str, body: dict) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:06d}-{service}.json"
        # a dry run is for reading; a spool must survive a power cut before its entries count as done
        _atomic_write(path, json.dumps(body, ensure_ascii=False, indent=1).encode(), durable=not self.dry)
        if service == "CapNhatTienDoHoSoMC" and self._index is not None:
            for rec in body["data"]:
                self._index.setdefault(rec["MaHoSo"], []).append(rec)
        return path

    def service_once(self, service: str, data: list, *, updating: bool = False) -> dict:
        self._batch(service, {"madonvi": self.agency, "service": service,
                              "isUpdating": "True" if updating else "False", "data": data})
        return {"error_code": 0, "message": "spooled"}

    service = service_once

    def upload(self, path: Path, sha256: str, code: str) -> dict:
        if self.dry:
            ref = str(Path(path).resolve())
        else:
            dest = self.folder / "files" / f"{sha256}{Path(path).suffix or '.pdf'}"
            if not dest.exists():
                copy_atomic(Path(path), dest)
            ref = f"files/{dest.name}"
        self._batch("upload", {"service": "upload", "data": [{"MaHoSo": code, "sha256": sha256, "file": ref}]})
        return {"error_code": 0, "IdTepTin": SPOOL_URL + sha256, "DuongDan": SPOOL_URL + sha256, "sha256": sha256}

    def lookup(self, codes: list[str]) -> dict[str, dict] | None:
        """The spool acts as the server: the progress lines already written for each code."""
        if self.dry:
            return None
        if self._index is None:
            self._index = {}
            for p in batch_files(self.folder):
                if p.name.endswith("-CapNhatTienDoHoSoMC.json"):
                    for rec in json.loads(p.read_text("utf-8"))["data"]:
                        self._index.setdefault(rec["MaHoSo"], []).append(rec)
        return {c: {"MaHoSo": c, "QuaTrinhXuLy": self._index[c]} for c in codes if c in self._index}


# ---------------------------------------------------------------- sending a spool

def _state(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(folder / ".sent.db"), isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS batches (name TEXT PRIMARY KEY, done_at TEXT NOT NULL)")
    conn.execute("CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, remote_id TEXT, url TEXT)")
    conn.execute("CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY, code TEXT NOT NULL, line TEXT NOT NULL)")
    conn.execute("CREATE INDEX IF NOT EXISTS steps_code ON steps(code)")
    conn.execute("CREATE TABLE IF NOT EXISTS failures (batch TEXT, code TEXT, reason TEXT)")
    return conn


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def send_spool(folder: Path, transport, stats: Stats | None = None) -> Stats:
    """Deliver a spool folder through ``transport``; safe to interrupt and run again."""
    folder = Path(folder)
    stats = stats or Stats()
    if not folder.is_dir():
        from onestop.errors import NotFound

        raise NotFound(f"Không thấy thư mục spool {folder}.", f"No spool folder {folder}.")
    st = _state(folder)
    try:
        done = {n for (n,) in st.execute("SELECT name FROM batches")}
        for path in batch_files(folder):
            if path.name in done:
                continue
            body = json.loads(path.read_text("utf-8"))
            service = body.get("service") or BATCH.match(path.name).group(2)
            data = body.get("data") or []
            if service == "upload":
                _send_uploads(folder, st, path.name, data, transport, stats)
            elif service == "CapNhatTienDoHoSoMC":
                _send_steps(st, path.name, data, transport, stats)
            else:
                _send_records(st, path.name, service, body, data, transport, stats)
        return stats
    finally:
        st.close()


def _finish(st, name: str, rows=(), failures=()) -> None:
    st.execute("BEGIN IMMEDIATE")
    try:
        for sql, params in rows:
            st.execute(sql, params)
        st.executemany("INSERT INTO failures VALUES (?, ?, ?)", [(name, c, r) for c, r in failures])
        st.execute("INSERT OR REPLACE INTO batches VALUES (?, ?)", [name, _now()])
        st.execute("COMMIT")
    except BaseException:
        st.execute("ROLLBACK")
        raise


def _send_uploads(folder, st, name, data, transport, stats) -> None:
    for item in data:
        sha = item["sha256"]
        if st.execute("SELECT 1 FROM files WHERE sha256 = ?", [sha]).fetchone():
            stats.already["file"] += 1
            continue
        p = Path(item["file"])
        p = p if p.is_absolute() else folder / p
        try:
            ans = transport.upload(p, sha, item.get("MaHoSo", ""))
        except Temporary as e:
            raise Unreachable(str(e)) from None
        except (Rejected, OSError) as e:
            stats.fail(item.get("MaHoSo", "?"), "file", getattr(e, "message", str(e)))
            continue
        if str(ans.get("error_code", 0)) != "0":
            stats.fail(item.get("MaHoSo", "?"), "file", f"[{ans.get('error_code')}] {ans.get('message', '')}")
            continue
        st.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", [sha, str(ans.get("IdTepTin", "")),
                                                                      str(ans.get("DuongDan", ""))])
        stats.sent["file"] += 1
    _finish(st, name)


def _resolve_files(st, rec: dict) -> dict:
    docs = rec.get("TaiLieuNop") or []
    if not any(str(d.get("DuongDanTaiTepTin", "")).startswith(SPOOL_URL) for d in docs):
        return rec
    new_docs = []
    for d in docs:
        url = str(d.get("DuongDanTaiTepTin", ""))
        if url.startswith(SPOOL_URL):
            row = st.execute("SELECT remote_id, url FROM files WHERE sha256 = ?", [url[len(SPOOL_URL):]]).fetchone()
            d = dict(d, TepDinhKemId=row[0] if row else "", DuongDanTaiTepTin=row[1] if row else "")
        new_docs.append(d)
    return dict(rec, TaiLieuNop=new_docs)


def _send_records(st, name, service, body, data, transport, stats) -> None:
    updating = str(body.get("isUpdating", "False")) == "True"
    kind = "update" if updating else "create"
    failures = []
    for i in range(0, len(data), 50):
        part = [_resolve_files(st, r) for r in data[i:i + 50]]
        for rec, o in zip(part, send_items(transport, service, part, updating=updating)):
            if o[0] == SENT:
                stats.sent[kind] += 1
            elif o[0] == ALREADY:
                stats.already[kind] += 1
            else:
                stats.fail(rec.get("MaHoSo", "?"), kind, o[1])
                failures.append((rec.get("MaHoSo", "?"), o[1]))
    _finish(st, name, failures=failures)


def _send_steps(st, name, data, transport, stats) -> None:
    def done_by_code():
        codes = list({r["MaHoSo"] for r in data})
        out: dict[str, list] = {c: [] for c in codes}
        for code, line in st.execute(
                f"SELECT code, line FROM steps WHERE code IN ({','.join('?' * len(codes))})", codes):
            out[code].append(json.loads(line))
        return out

    # Every line is checked against the server first: the batch may be a copy written again after
    # a crash of the writer, or sent already by a run of ours that died before its answer.
    outs = send_steps(transport, data, mark_attempt=lambda idx: None, is_doubtful=[True] * len(data),
                      done_by_code=done_by_code, on_applied=lambda i: None, stats=stats)
    rows, failures = [], []
    for rec, o in zip(data, outs):
        if o[0] in (SENT, ALREADY):
            (stats.sent if o[0] == SENT else stats.already)["step"] += 1
            rows.append(("INSERT INTO steps (code, line) VALUES (?, ?)",
                         [rec["MaHoSo"], json.dumps(rec, ensure_ascii=False)]))
        else:
            stats.fail(rec.get("MaHoSo", "?"), "step", o[1])
            failures.append((rec.get("MaHoSo", "?"), o[1]))
    _finish(st, name, rows, failures)

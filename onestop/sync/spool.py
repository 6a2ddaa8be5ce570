"""The spool: the same payloads and files as numbered batch files, for offices whose line is down.

Layout of a spool folder (docs/sync.md)::

    office.json                      {"office_id", "agency"}: the database that wrote the spool
    000001-upload.json               {"service": "upload", "data": [{"MaHoSo", "sha256", "file"}]}
    000002-DongBoHoSoMC.json         {"madonvi", "service", "isUpdating", "data": [...], "entries": [[ids]]}
    000003-CapNhatTienDoHoSoMC.json
    files/<sha256>.pdf
    .sent.db                         what --from-spool has delivered (created on the sending machine)
    acks/<batch>.json                the server's answers to each delivered batch (written by --from-spool)

Each batch file is written to a temporary name, fsynced and renamed, so a reader never sees half a
batch. Records point to files not yet uploaded with ``spool:sha256:<hex>``; ``--from-spool``
uploads the files first and puts the server's IdTepTin / DuongDan in their place.

Spooled is not synced: the office's outbox entries stay ``spooled`` until ``onestop sync acks``
reads ``acks/`` and marks done exactly the entries the server acknowledged (``entries`` names the
outbox ids each item carries; files are acknowledged by SHA-256).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from onestop.files import copy_atomic
from onestop.store import spool_state
from onestop.sync.outbox import ALREADY, SENT, Stats, Unreachable, send_items, send_steps
from onestop.sync.payloads import SPOOL_URL
from onestop.sync.transport import Rejected, Temporary

log = logging.getLogger("onestop.sync")

BATCH = re.compile(r"^(\d{6,})-([A-Za-z]+)\.json$")


def _atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    from onestop.errors import StorageError
    from onestop.files import write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, durable=durable)
    except OSError as e:  # a full or read-only stick: say so; what was written before stays valid
        raise StorageError(
            f"Không ghi được {path} ({e.strerror}). Kiểm tra thư mục/thẻ nhớ còn chỗ và ghi được, rồi chạy lại.",
            f"Cannot write {path} ({e.strerror}). Check that the folder/stick has room and is writable, then run again.",
        ) from None


def batch_files(folder: Path) -> list[Path]:
    """The batch files of a spool, in order."""
    if not folder.is_dir():
        return []
    out = [(int(m.group(1)), p) for p in folder.iterdir() if (m := BATCH.match(p.name))]
    return [p for _, p in sorted(out)]


class SpoolTransport:
    """A transport that writes batch files instead of sending them (also used by --dry-run)."""

    retries = 0

    def __init__(self, folder: Path, *, agency: str, dry_run: bool = False, office_id: str = ""):
        self.folder = Path(folder)
        self.agency = agency
        self.dry = dry_run
        self.kind = "dry-run" if dry_run else "spool"
        if not dry_run and office_id:
            claim_folder(self.folder, office_id, agency)
        (self.folder / "files").mkdir(parents=True, exist_ok=True)
        existing = batch_files(self.folder)
        self.n = int(BATCH.match(existing[-1].name).group(1)) if existing else 0
        self._index: dict[str, list] | None = None
        self._carried: dict[int, tuple] = {}

    def carry(self, pairs) -> None:
        """``[(item, outbox ids)]`` for the items of the next batches (matched by identity)."""
        self._carried = {id(item): (item, list(ids)) for item, ids in pairs}

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
        body = {"madonvi": self.agency, "service": service, "isUpdating": "True" if updating else "False",
                "data": data}
        if self._carried and not self.dry:  # a dry run shows exactly the request, nothing more
            body["entries"] = [self._carried.get(id(it), (None, []))[1] for it in data]
        self._batch(service, body)
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


def read_office(folder: Path) -> dict | None:
    try:
        return json.loads((Path(folder) / "office.json").read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def claim_folder(folder: Path, office_id: str, agency: str) -> None:
    """Write ``office.json`` into a new spool folder; refuse a folder another database spools into
    (two offices on one stick would get each other's acknowledgements)."""
    from onestop.errors import InvalidInput

    folder = Path(folder)
    office = read_office(folder)
    if office is None:
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(folder / "office.json", json.dumps(
            {"office_id": office_id, "agency": agency}, ensure_ascii=False).encode())
        return
    if office.get("office_id") != office_id:
        raise InvalidInput(
            f"Thư mục spool {folder} là của văn phòng khác (mã cơ quan {office.get('agency', '?')}). "
            "Dùng một thư mục riêng cho văn phòng này.",
            f"The spool folder {folder} belongs to another office (agency {office.get('agency', '?')}). "
            "Use a folder of this office's own.")


# ---------------------------------------------------------------- sending a spool

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
    st = spool_state.open_state(folder)
    office = read_office(folder) or {}
    try:
        done = spool_state.delivered_batches(st)
        for path in batch_files(folder):
            if path.name in done:
                continue
            body = json.loads(path.read_text("utf-8"))
            service = body.get("service") or BATCH.match(path.name).group(2)
            data = body.get("data") or []
            ack = Ack(folder, path.name, office, body.get("entries"))
            if service == "upload":
                _send_uploads(folder, st, path.name, data, transport, stats, ack)
            elif service == "CapNhatTienDoHoSoMC":
                _send_steps(st, path.name, data, transport, stats, ack)
            else:
                _send_records(st, path.name, service, body, data, transport, stats, ack)
        return stats
    finally:
        spool_state.close_state(st)


class Ack:
    """The server's answers to one batch, written to ``acks/<batch>`` before the batch counts as
    delivered (so a crash in between only repeats the delivery, which sends nothing twice)."""

    def __init__(self, folder: Path, name: str, office: dict, entries: list | None):
        self.path = Path(folder) / "acks" / name
        self.body = {"office_id": office.get("office_id", ""), "agency": office.get("agency", ""), "batch": name,
                     "acked": [], "files": {}, "refused": []}
        self.entries = entries if isinstance(entries, list) else None

    def _ids(self, i: int) -> list:
        if self.entries is None or i >= len(self.entries):
            return []
        return [int(x) for x in self.entries[i] or []]

    def ok(self, i: int) -> None:
        self.body["acked"] += self._ids(i)

    def refused(self, i: int, code: str, reason: str) -> None:
        from onestop.sync.redact import redact

        self.body["refused"].append({"entries": self._ids(i), "MaHoSo": code, "reason": redact(reason)})

    def file(self, sha: str, remote_id: str, url: str) -> None:
        self.body["files"][sha] = [remote_id, url]

    def file_refused(self, sha: str, reason: str) -> None:
        from onestop.sync.redact import redact

        self.body.setdefault("files_refused", {})[sha] = redact(reason)

    def write(self) -> None:
        self.body["at"] = _now()
        _atomic_write(self.path, json.dumps(self.body, ensure_ascii=False, indent=1).encode())


def _finish(st, name: str, steps=(), failures=()) -> None:
    """Record the batch as delivered, with the progress lines it put on the server, in one transaction."""
    from onestop.store import transaction
    from onestop.sync.redact import redact

    with transaction(st):
        for rec in steps:
            spool_state.add_step(st, rec["MaHoSo"], rec)
        spool_state.mark_delivered(st, name, _now(), [(c, redact(r)) for c, r in failures])


def _send_uploads(folder, st, name, data, transport, stats, ack) -> None:
    for item in data:
        sha = item["sha256"]
        known = spool_state.uploaded_file(st, sha)
        if known:
            ack.file(sha, *known)
            stats.already["file"] += 1
            continue
        p = Path(item["file"])
        p = p if p.is_absolute() else folder / p
        try:
            ans = transport.upload(p, sha, item.get("MaHoSo", ""))
        except Temporary as e:
            raise Unreachable(str(e)) from None
        except (Rejected, OSError) as e:
            reason = getattr(e, "message", str(e))
            stats.fail(item.get("MaHoSo", "?"), "file", reason)
            ack.file_refused(sha, reason)
            continue
        if str(ans.get("error_code", 0)) != "0":
            reason = f"[{ans.get('error_code')}] {ans.get('message', '')}"
            stats.fail(item.get("MaHoSo", "?"), "file", reason)
            ack.file_refused(sha, reason)
            continue
        spool_state.record_file(st, sha, str(ans.get("IdTepTin", "")), str(ans.get("DuongDan", "")))
        ack.file(sha, str(ans.get("IdTepTin", "")), str(ans.get("DuongDan", "")))
        stats.sent["file"] += 1
    ack.write()
    _finish(st, name)


def _resolve_files(st, rec: dict) -> dict:
    """The record with the server's file ids in place of the spool's; a file whose upload was
    refused is left out (TaiLieuNop lists only uploaded files), so the record itself still goes."""
    docs = rec.get("TaiLieuNop") or []
    if not any(str(d.get("DuongDanTaiTepTin", "")).startswith(SPOOL_URL) for d in docs):
        return rec
    new_docs = []
    for d in docs:
        url = str(d.get("DuongDanTaiTepTin", ""))
        if url.startswith(SPOOL_URL):
            row = spool_state.uploaded_file(st, url[len(SPOOL_URL):])
            if not row:
                continue
            d = dict(d, TepDinhKemId=row[0], DuongDanTaiTepTin=row[1])
        new_docs.append(d)
    return dict(rec, TaiLieuNop=new_docs, HoSoCoThanhPhanSoHoa="1" if new_docs else "0")


def _send_records(st, name, service, body, data, transport, stats, ack) -> None:
    updating = str(body.get("isUpdating", "False")) == "True"
    kind = "update" if updating else "create"
    failures = []
    for i in range(0, len(data), 50):
        part = [_resolve_files(st, r) for r in data[i:i + 50]]
        for j, (rec, o) in enumerate(zip(part, send_items(transport, service, part, updating=updating)), i):
            if o[0] == SENT:
                stats.sent[kind] += 1
                ack.ok(j)
            elif o[0] == ALREADY:
                stats.already[kind] += 1
                ack.ok(j)
            else:
                stats.fail(rec.get("MaHoSo", "?"), kind, o[1])
                failures.append((rec.get("MaHoSo", "?"), o[1]))
                ack.refused(j, rec.get("MaHoSo", "?"), o[1])
    ack.write()
    _finish(st, name, failures=failures)


def _send_steps(st, name, data, transport, stats, ack) -> None:
    def done_by_code():
        return spool_state.steps_by_code(st, list({r["MaHoSo"] for r in data}))

    # Every line is checked against the server first: the batch may be a copy written again after
    # a crash of the writer, or sent already by a run of ours that died before its answer.
    outs = send_steps(transport, data, mark_attempt=lambda idx: None, is_doubtful=[True] * len(data),
                      done_by_code=done_by_code, on_applied=lambda i: None, stats=stats)
    delivered, failures = [], []
    for j, (rec, o) in enumerate(zip(data, outs)):
        if o[0] in (SENT, ALREADY):
            (stats.sent if o[0] == SENT else stats.already)["step"] += 1
            delivered.append(rec)
            ack.ok(j)
        else:
            stats.fail(rec.get("MaHoSo", "?"), "step", o[1])
            failures.append((rec.get("MaHoSo", "?"), o[1]))
            ack.refused(j, rec.get("MaHoSo", "?"), o[1])
    ack.write()
    _finish(st, name, delivered, failures)


# ---------------------------------------------------------------- acknowledgements, back at the office

def office_id(db) -> str:
    """The id of this database written into its spool folders."""
    from onestop.store.sync_runs import office_id as oid

    return oid(db)


def import_acks(db, cfg, folder: Path) -> dict:
    """Mark done exactly the spooled entries the server acknowledged (``acks/`` of ``folder``), and
    held for a fix those it refused. Idempotent: only entries still ``spooled`` change. Refuses a
    spool written by another database."""
    from onestop.store import transaction
    from onestop.dossiers import iso, now
    from onestop.errors import InvalidInput, NotFound
    from onestop.store import outbox, sync_runs
    from onestop.store.payload_data import files_table

    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound(f"Không thấy thư mục spool {folder}.", f"No spool folder {folder}.")
    ours = office_id(db)
    office = read_office(folder)
    if office is None:
        raise InvalidInput(
            f"{folder} không phải thư mục spool của onestop (thiếu office.json).",
            f"{folder} is not an onestop spool folder (no office.json).")
    acks = sorted((folder / "acks").glob("*.json")) if (folder / "acks").is_dir() else []
    bodies = []
    for p in acks:
        try:
            body = json.loads(p.read_text("utf-8"))
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as e:
            raise InvalidInput(
                f"Tệp xác nhận {p} bị hỏng ({e}); chưa nhận mục nào. Chép lại tệp từ bản sao, hoặc chuyển nó "
                "ra khỏi acks/ để nhận các xác nhận còn lại (các mục của nó vẫn chờ xác nhận, xem 'onestop sync status').",
                f"The acknowledgement file {p} is damaged ({e}); nothing was imported. Copy it again from a backup, or "
                "move it out of acks/ to import the others (its entries stay spooled, see 'onestop sync status').") from None
        bodies.append(body)
    for_us = office.get("office_id") == ours and all(b.get("office_id") == ours for b in bodies)
    if not for_us:
        raise InvalidInput(
            f"Thư mục spool {folder} là của văn phòng khác (mã cơ quan {office.get('agency', '?')}); "
            "không nhận xác nhận nào. Kiểm tra đúng thư mục của văn phòng này.",
            f"The spool folder {folder} belongs to another office (agency {office.get('agency', '?')}); "
            "nothing imported. Check that it is this office's folder.")
    acked, files, refused, files_refused = set(), {}, [], {}
    for body in bodies:
        acked.update(int(x) for x in body.get("acked", []))
        files.update(body.get("files") or {})
        refused += body.get("refused") or []
        files_refused.update(body.get("files_refused") or {})
    stamp = iso(now(cfg))
    table = files_table(db)
    with transaction(db):
        before = outbox.count_by_state(db)
        outbox.ack_spooled(db, list(acked), stamp)
        if table:
            for sha, (remote_id, url) in files.items():
                outbox.ack_spooled_file(db, table, sha, remote_id, stamp)
                # later records of this office point to the server's file, not to the spool's
                outbox.replace_placeholder_upload(db, sha, remote_id, url, SPOOL_URL)
            for sha, reason in files_refused.items():
                outbox.refuse_spooled_file(db, table, sha, reason, stamp)
        for r in refused:
            outbox.refuse_spooled(db, [int(x) for x in r.get("entries") or []], r.get("reason", ""), stamp)
        after = outbox.count_by_state(db)
        result = {"folder": str(folder), "batches": len(acks),
                  "acknowledged": after.get("done", 0) - before.get("done", 0),
                  "refused": after.get("failed", 0) - before.get("failed", 0),
                  "spooled_left": after.get("spooled", 0)}
        sync_runs.log_acks(db, stamp, f"acks:{folder}", result["acknowledged"], result["refused"], result)
    log.info("acks imported from %s: %d done, %d refused, %d still spooled", folder, result["acknowledged"],
             result["refused"], result["spooled_left"])
    return result

"""The spool: the same payloads and files as numbered batch files, for offices whose line is down.

Layout of a spool folder (docs/sync.md)::

    office.json                      {"office_id", "agency"}: the database that wrote the spool
    000001-upload.json               {"service": "upload", "data": [{"MaHoSo", "sha256", "file"}]}
    000002-DongBoHoSoMC.json         {"madonvi", "service", "isUpdating", "data": [...], "entries": [[ids]],
                                      "in_doubt": [bool]}
    000003-CapNhatTienDoHoSoMC.json
    seals/<batch>                    {"office_id", "agency", "batch", "sha256", "nonce", "mac"}
    files/<sha256>.pdf
    acks/<batch>                     the server's answers to each delivered batch (written by --from-spool)

Each batch file is written to a temporary name, fsynced and renamed, then sealed: its SHA-256 and
a random nonce, with an HMAC-SHA256 under the office's secret (``spool_secret`` in ``office``, never on the
stick). Records point to files not yet uploaded with ``spool:sha256:<hex>``; ``--from-spool``
uploads the files first and puts the server's IdTepTin / DuongDan in their place.

The stick is not trusted (docs/sync.md, "Trust"): ``--from-spool`` checks every batch against its
seal and every file against its SHA-256 before it sends anything, sends with the office's agency
code, and learns what was delivered from the stick's ``acks/`` (each naming the exact batch: its
hash and nonce). ``sync acks`` takes an acknowledgement only for a batch whose seal this office's
key verifies and whose delivered hash is the sealed one; the entries come from that batch, never
from the acknowledgement. Spooled is not synced: the office's outbox entries stay ``spooled`` until
then.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import stat
from pathlib import Path

from onestop.common.errors import InvalidInput
from onestop.common.files import copy_atomic
from onestop.sync.outbox import ALREADY, SENT, Stats, Unreachable, send_items, send_steps
from onestop.sync.payloads import SPOOL_URL
from onestop.sync.transport import Rejected, Temporary

log = logging.getLogger("onestop.sync")

BATCH = re.compile(r"^(\d{6,})-([A-Za-z]+)\.json$")
SHA = re.compile(r"^[0-9a-f]{64}$")
SERVICES = ("upload", "DongBoHoSoMC", "CapNhatTienDoHoSoMC")
# The largest batch or acknowledgement file read from a stick (a batch of 50 records is ~100 KB).
MAX_JSON = 64 << 20


def _atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    from onestop.common.errors import StorageError
    from onestop.common.files import write_atomic

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


# ---------------------------------------------------------------- seals

def seal_mac(secret: str, office_id: str, agency: str, name: str, sha256: str, nonce: str) -> str:
    """HMAC-SHA256 of a batch's identity and content hash under the office's secret."""
    msg = "\n".join(("onestop-spool-seal-v1", office_id, agency, name, sha256, nonce)).encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def _bad(path: Path, vi: str, en: str) -> InvalidInput:
    """Exit 4 naming the stick's file; nothing is sent or imported."""
    return InvalidInput(
        f"Tệp {path} trên thư mục spool {vi}. Không gửi/nhận gì từ thư mục này. Không dùng tệp đã bị sửa: ở văn "
        "phòng, ghi lại các mục bằng 'onestop sync resend-spooled --spool THƯ_MỤC_MỚI' (docs/sync.md).",
        f"The spool file {path} {en}. Nothing was sent or imported from this folder. Do not use an altered "
        "file: at the office, write the entries again with 'onestop sync resend-spooled --spool NEW_FOLDER' "
        "(docs/sync.md).")


def _read_bytes(path: Path) -> bytes:
    """A regular file inside the spool (not a symlink), read whole (bounded)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise _bad(path, "không phải tệp thường (liên kết hoặc thư mục)", "is not a regular file (a link or a folder)")
        if st.st_size > MAX_JSON:
            raise _bad(path, "quá lớn", "is too large")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            return f.read(MAX_JSON + 1)
    except OSError as e:
        raise _bad(path, f"không đọc được ({e.strerror})", f"cannot be read ({e.strerror})") from None


def _read_json(path: Path) -> dict:
    raw = _read_bytes(path)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # RecursionError: hostile nesting
        raise _bad(path, f"bị hỏng ({type(e).__name__})", f"is damaged ({type(e).__name__})") from None
    if not isinstance(body, dict):
        raise _bad(path, "bị hỏng (không phải đối tượng JSON)", "is damaged (not a JSON object)")
    return body


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Sealed:
    """One batch of a spool, checked against its seal: name, path, body, sha256, seal."""

    def __init__(self, path: Path, raw: bytes, body: dict, seal: dict):
        self.path, self.name, self.raw, self.body, self.seal = path, path.name, raw, body, seal
        self.sha256 = seal["sha256"]
        self.service = BATCH.match(path.name).group(2)
        self.data = body["data"]
        self.entries = body.get("entries")

    def entry_ids(self, i: int) -> list[int]:
        if not isinstance(self.entries, list) or i >= len(self.entries) or not isinstance(self.entries[i], list):
            return []
        return [int(x) for x in self.entries[i] if isinstance(x, int) and not isinstance(x, bool)]

    def in_doubt(self, i: int) -> bool:
        d = self.body.get("in_doubt")
        return bool(d[i]) if isinstance(d, list) and i < len(d) else True


def read_sealed(folder: Path, office: dict, path: Path, *, key: str | None) -> Sealed:
    """A batch file checked against ``seals/<name>``: same office and agency, same SHA-256 (and, when
    ``key`` is the office's secret, the MAC). Raises exit 4 naming the file otherwise."""
    seal_path = folder / "seals" / path.name
    if not os.path.lexists(seal_path):
        raise _bad(path, "không có dấu niêm phong (seals/): không do văn phòng ghi trọn vẹn, hoặc do người khác thêm vào",
                   "has no seal (seals/): not written in full by the office, or added by someone else")
    seal = _read_json(seal_path)
    fields = ("office_id", "agency", "batch", "sha256", "nonce", "mac")
    if any(not isinstance(seal.get(k), str) for k in fields) or seal["batch"] != path.name:
        raise _bad(seal_path, "bị hỏng (thiếu trường)", "is damaged (missing fields)")
    if seal["office_id"] != office.get("office_id") or seal["agency"] != office.get("agency"):
        raise _bad(seal_path, "thuộc văn phòng khác với office.json", "belongs to another office than office.json")
    raw = _read_bytes(path)
    if hashlib.sha256(raw).hexdigest() != seal["sha256"]:
        raise _bad(path, "đã bị sửa sau khi văn phòng ghi (mã SHA-256 khác dấu niêm phong)",
                   "was changed after the office wrote it (its SHA-256 differs from its seal)")
    if key is not None and not hmac.compare_digest(
            seal_mac(key, seal["office_id"], seal["agency"], path.name, seal["sha256"], seal["nonce"]).encode(),
            seal["mac"].encode("utf-8", "replace")):
        raise _bad(seal_path, "không phải dấu niêm phong của văn phòng này (sai mã xác thực MAC)",
                   "is not this office's seal (wrong MAC)")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad(path, "bị hỏng", "is damaged") from None
    service = BATCH.match(path.name).group(2)
    if (not isinstance(body, dict) or not isinstance(body.get("data"), list)
            or not all(isinstance(it, dict) for it in body["data"]) or service not in SERVICES):
        raise _bad(path, "bị hỏng (không đúng định dạng lô)", "is damaged (not a batch)")
    if service != "upload" and body.get("madonvi") != office.get("agency"):
        raise _bad(path, "ghi mã cơ quan khác với office.json", "names another agency than office.json")
    return Sealed(path, raw, body, seal)


class SpoolTransport:
    """A transport that writes batch files instead of sending them (also used by --dry-run).

    A real spool needs the office's id and secret: every batch is sealed (``seals/<batch>``)."""

    retries = 0

    def __init__(self, folder: Path, *, agency: str, dry_run: bool = False, office_id: str = "",
                 secret: str = ""):
        self.folder = Path(folder)
        self.agency = agency
        self.dry = dry_run
        self.kind = "dry-run" if dry_run else "spool"
        self.office_id = office_id
        self.secret = secret
        if not dry_run and office_id:
            claim_folder(self.folder, office_id, agency)
        (self.folder / "files").mkdir(parents=True, exist_ok=True)
        if not dry_run:
            self._set_aside_unsealed()
        existing = batch_files(self.folder)
        self.n = int(BATCH.match(existing[-1].name).group(1)) if existing else 0
        self._index: dict[str, list] | None = None
        self._carried: dict[int, tuple] = {}

    def _set_aside_unsealed(self) -> None:
        """A batch written without its seal (the writer died in between) carries entries still
        pending here: they are written again, so the unsealed copy is moved out of the way."""
        for p in batch_files(self.folder):
            if not os.path.lexists(self.folder / "seals" / p.name):
                aside = self.folder / "unsealed"
                aside.mkdir(exist_ok=True)
                os.replace(p, aside / f"{p.name}.{secrets.token_hex(4)}")
                log.warning("spool %s: batch %s had no seal (an interrupted write); set aside", self.folder, p.name)

    def carry(self, pairs, doubt: list[bool] | None = None) -> None:
        """``[(item, outbox ids)]`` for the items of the next batches (matched by identity), and
        whether each item may already be on the server (a create sent or spooled before)."""
        doubt = list(doubt) if doubt is not None else [True] * len(pairs)
        self._carried = {id(item): (item, list(ids), d) for (item, ids), d in zip(pairs, doubt)}

    def describe(self) -> str:
        return str(self.folder)

    def close(self) -> None:
        pass

    def pause(self, attempt: int) -> None:
        pass

    def _batch(self, service: str, body: dict) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:06d}-{service}.json"
        data = json.dumps(body, ensure_ascii=False, indent=1).encode()
        # a dry run is for reading; a spool must survive a power cut before its entries count as done
        _atomic_write(path, data, durable=not self.dry)
        if not self.dry:
            sha, nonce = hashlib.sha256(data).hexdigest(), secrets.token_hex(16)
            seal = {"office_id": self.office_id, "agency": self.agency, "batch": path.name, "sha256": sha,
                    "nonce": nonce, "mac": seal_mac(self.secret, self.office_id, self.agency, path.name, sha, nonce)}
            _atomic_write(self.folder / "seals" / path.name, json.dumps(seal).encode())
        if service == "CapNhatTienDoHoSoMC" and self._index is not None:
            for rec in body["data"]:
                self._index.setdefault(rec["MaHoSo"], []).append(rec)
        return path

    def service_once(self, service: str, data: list, *, updating: bool = False) -> dict:
        body = {"madonvi": self.agency, "service": service, "isUpdating": "True" if updating else "False",
                "data": data}
        if self._carried and not self.dry:  # a dry run shows exactly the request, nothing more
            body["entries"] = [self._carried.get(id(it), (None, [], True))[1] for it in data]
            if service == "DongBoHoSoMC" and not updating:
                body["in_doubt"] = [self._carried.get(id(it), (None, [], True))[2] for it in data]
        self._batch(service, body)
        return {"error_code": 0, "message": "spooled"}

    service = service_once

    def upload(self, path: Path, sha256: str, code: str) -> dict:
        if self.dry:
            ref = str(Path(path).resolve())
        else:
            dest = self.folder / "files" / f"{sha256}{Path(path).suffix or '.pdf'}"
            if not _is_copy(dest, sha256):  # missing, or not the bytes it should be: written afresh
                copy_atomic(Path(path), dest)
            ref = f"files/{dest.name}"
        self._batch("upload", {"service": "upload", "data": [{"MaHoSo": code, "sha256": sha256, "file": ref}]})
        return {"error_code": 0, "IdTepTin": SPOOL_URL + sha256, "DuongDan": SPOOL_URL + sha256, "sha256": sha256}

    def lookup(self, codes: list[str]) -> dict[str, dict] | None:
        """The spool acts as the server: the progress lines already written (and sealed by this
        office) for each code."""
        if self.dry:
            return None
        if self._index is None:
            self._index = {}
            office = read_office(self.folder) or {}
            for p in batch_files(self.folder):
                if p.name.endswith("-CapNhatTienDoHoSoMC.json"):
                    for rec in read_sealed(self.folder, office, p, key=self.secret).data:
                        self._index.setdefault(rec["MaHoSo"], []).append(rec)
        return {c: {"MaHoSo": c, "QuaTrinhXuLy": self._index[c]} for c in codes if c in self._index}


def _is_copy(path: Path, sha256: str) -> bool:
    """``path`` is a regular file (not a link) holding exactly the bytes of ``sha256``."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode) and _sha_file(path) == sha256
    except OSError:
        return False


def read_office(folder: Path) -> dict | None:
    """``office.json`` of a spool folder (None when there is none; exit 4 when it is damaged)."""
    path = Path(folder) / "office.json"
    if not os.path.lexists(path):
        return None
    office = _read_json(path)
    if not all(isinstance(office.get(k), str) and office.get(k) for k in ("office_id", "agency")):
        raise _bad(path, "bị hỏng (thiếu office_id/agency)", "is damaged (no office_id/agency)")
    return office


def claim_folder(folder: Path, office_id: str, agency: str) -> None:
    """Write ``office.json`` into a new spool folder; refuse a folder another database spools into
    (two offices on one stick would get each other's acknowledgements)."""
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
    if office.get("agency") != agency:
        raise InvalidInput(
            f"Thư mục spool {folder} được ghi với mã cơ quan {office.get('agency')}, nay là {agency}. "
            "Dùng một thư mục mới.",
            f"The spool folder {folder} was written with agency {office.get('agency')}, now {agency}. "
            "Use a new folder.")


# ---------------------------------------------------------------- sending a spool

def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _real_dir(folder: Path, name: str) -> None:
    """``folder/name``, when present, is a folder of the stick itself, not a link elsewhere."""
    p = folder / name
    if os.path.lexists(p) and not stat.S_ISDIR(os.lstat(p).st_mode):
        raise _bad(p, "không phải thư mục thật (liên kết?)", "is not a real folder (a link?)")


class Plan:
    """A spool checked in full before anything is sent, and what the stick says was delivered."""

    def __init__(self, folder: Path, office: dict, batches: list[Sealed]):
        self.folder, self.office, self.batches = folder, office, batches
        self.files: dict[str, Path] = {}                 # sha256 → the checked file on the stick
        self.delivered: set[str] = set()                 # batches with a final acknowledgement
        self.started: set[str] = set()                   # batches whose delivery began (maybe sent)
        self.uploaded: dict[str, tuple[str, str]] = {}   # sha256 → (IdTepTin, DuongDan)
        self.steps_done: dict[str, list] = {}            # code → progress lines delivered


def _check_items(b: Sealed) -> None:
    for it in b.data:
        if not isinstance(it.get("MaHoSo"), str):
            raise _bad(b.path, "bị hỏng (một mục không có MaHoSo)", "is damaged (an item has no MaHoSo)")
        docs = it.get("TaiLieuNop")
        if docs is not None and not (isinstance(docs, list) and all(isinstance(d, dict) for d in docs)):
            raise _bad(b.path, "bị hỏng (TaiLieuNop)", "is damaged (TaiLieuNop)")


def check_spool(folder: Path, keys: dict[str, str]) -> Plan:
    """Everything the delivery will read, checked before anything is sent (exit 4 naming the file):
    office.json; every batch against its seal (and its MAC when ``keys`` holds the office's
    secret); every upload's file a regular file ``files/<sha256>.<ext>`` inside the folder with
    that SHA-256; every acknowledgement naming exactly its batch (hash and nonce)."""
    office = read_office(folder)
    if office is None:
        raise InvalidInput(f"{folder} không phải thư mục spool của onestop (thiếu office.json).",
                           f"{folder} is not an onestop spool folder (no office.json).")
    for name in ("files", "seals", "acks"):
        _real_dir(folder, name)
    key = keys.get(office["office_id"])
    plan = Plan(folder, office, [read_sealed(folder, office, p, key=key) for p in batch_files(folder)])
    files_dir = (folder / "files").resolve()
    for b in plan.batches:
        if b.service != "upload":
            _check_items(b)
            continue
        for it in b.data:
            sha, ref = it.get("sha256"), it.get("file")
            if not isinstance(sha, str) or not SHA.match(sha) or not isinstance(ref, str) \
                    or not re.fullmatch(rf"files/{sha}\.[A-Za-z0-9]{{1,8}}", ref):
                raise _bad(b.path, f"trỏ tới tệp ngoài thư mục files/ của spool ({str(ref)[:80]})",
                           f"points to a file outside the spool's files/ ({str(ref)[:80]})")
            p = folder / ref
            if not os.path.lexists(p):
                raise _bad(p, "không có (thiếu tệp quét)", "is missing (a scan file)")
            if not stat.S_ISREG(os.lstat(p).st_mode) or p.resolve().parent != files_dir:
                raise _bad(p, "không phải tệp thường trong thư mục spool (liên kết?)",
                           "is not a regular file inside the spool folder (a link?)")
            if _sha_file(p) != sha:
                raise _bad(p, "không đúng mã SHA-256 (hỏng hoặc bị thay)", "does not match its SHA-256 (damaged or replaced)")
            plan.files[sha] = p
    for b in plan.batches:
        ap = folder / "acks" / b.name
        if not os.path.lexists(ap):
            continue
        a = _read_json(ap)
        if (a.get("batch"), a.get("sha256"), a.get("nonce"), a.get("office_id")) != (
                b.name, b.sha256, b.seal["nonce"], office["office_id"]):
            raise _bad(ap, "không khớp lô đã niêm phong (xác nhận của lô khác, hoặc bị sửa)",
                       "does not match its sealed batch (another batch's acknowledgement, or altered)")
        if a.get("final") is not True:
            plan.started.add(b.name)
            continue
        plan.delivered.add(b.name)
        items = _item_list(ap, a.get("acked_items"), len(b.data))
        if b.service == "CapNhatTienDoHoSoMC":
            for i in items:
                plan.steps_done.setdefault(b.data[i]["MaHoSo"], []).append(b.data[i])
        for sha, v in _files_map(ap, a.get("files"), b).items():
            plan.uploaded[sha] = v
    return plan


def _item_list(path: Path, items, n: int) -> list[int]:
    if not isinstance(items, list) or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n
                                              for i in items):
        raise _bad(path, "bị hỏng (acked_items)", "is damaged (acked_items)")
    return items


def _files_map(path: Path, files, b: Sealed) -> dict[str, tuple[str, str]]:
    if files is None:
        return {}
    shas = {it.get("sha256") for it in b.data} if b.service == "upload" else set()
    if not isinstance(files, dict) or not all(
            k in shas and isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)
            for k, v in files.items()):
        raise _bad(path, "bị hỏng (files)", "is damaged (files)")
    return {k: (v[0], v[1]) for k, v in files.items()}


def send_spool(folder: Path, transport, stats: Stats | None = None, *, keys: dict[str, str] | None = None) -> Stats:
    """Deliver a spool folder through ``transport``; safe to interrupt and run again.

    Everything is checked first (``check_spool``); the requests carry the stick's agency code
    (``madonvi`` of the office that wrote it), whatever this machine's own configuration says."""
    folder = Path(folder)
    stats = stats or Stats()
    if not folder.is_dir():
        from onestop.common.errors import NotFound

        raise NotFound(f"Không thấy thư mục spool {folder}.", f"No spool folder {folder}.")
    plan = check_spool(folder, keys or {})
    transport.agency = plan.office["agency"]
    for b in plan.batches:
        if b.name in plan.delivered:
            continue
        started = b.name in plan.started
        ack = Ack(folder, b, plan.office)
        if not started:  # from now on the server may hold what this batch carries
            ack.write(final=False)
        if b.service == "upload":
            _send_uploads(plan, b, transport, stats, ack)
        elif b.service == "CapNhatTienDoHoSoMC":
            _send_steps(plan, b, transport, stats, ack)
        else:
            _send_records(plan, b, transport, stats, ack, started)
    return stats


class Ack:
    """The server's answers to one batch, written to ``acks/<batch>``: first as begun (``final``
    false: an attempt may reach the server), then with the answers (``final`` true) before the batch
    counts as delivered, so a crash in between only repeats the delivery, which sends nothing twice.
    It names the batch's exact content (SHA-256 and the seal's nonce); items by their index."""

    def __init__(self, folder: Path, b: Sealed, office: dict):
        self.path = Path(folder) / "acks" / b.name
        self.body = {"office_id": office["office_id"], "agency": office["agency"], "batch": b.name,
                     "sha256": b.sha256, "nonce": b.seal["nonce"], "final": False,
                     "acked_items": [], "refused": [], "files": {}}

    def ok(self, i: int) -> None:
        self.body["acked_items"].append(i)

    def refused(self, i: int, code: str, reason: str) -> None:
        from onestop.sync.redact import redact

        self.body["refused"].append({"item": i, "MaHoSo": code, "reason": redact(reason)})

    def file(self, sha: str, remote_id: str, url: str) -> None:
        self.body["files"][sha] = [remote_id, url]

    def file_refused(self, sha: str, reason: str) -> None:
        from onestop.sync.redact import redact

        self.body.setdefault("files_refused", {})[sha] = redact(reason)

    def write(self, *, final: bool = True) -> None:
        self.body["final"] = final
        self.body["at"] = _now()
        _atomic_write(self.path, json.dumps(self.body, ensure_ascii=False, indent=1).encode())


def _send_uploads(plan: Plan, b: Sealed, transport, stats, ack) -> None:
    for item in b.data:
        sha, code = item["sha256"], item.get("MaHoSo", "?")
        known = plan.uploaded.get(sha)
        if known:
            ack.file(sha, *known)
            stats.already["file"] += 1
            continue
        try:
            ans = transport.upload(plan.files[sha], sha, str(code))
        except Temporary as e:
            raise Unreachable(str(e)) from None
        except (Rejected, OSError) as e:
            reason = getattr(e, "message", str(e))
            stats.fail(code, "file", reason)
            ack.file_refused(sha, reason)
            continue
        if str(ans.get("error_code", 0)) != "0" or (ans.get("sha256") and str(ans["sha256"]).lower() != sha):
            reason = f"[{ans.get('error_code')}] {ans.get('message', '')}" if str(ans.get("error_code", 0)) != "0" \
                else "máy chủ nhận tệp khác mã SHA-256"
            stats.fail(code, "file", reason)
            ack.file_refused(sha, reason)
            continue
        plan.uploaded[sha] = (str(ans.get("IdTepTin", "")), str(ans.get("DuongDan", "")))
        ack.file(sha, *plan.uploaded[sha])
        stats.sent["file"] += 1
    ack.write()


def _resolve_files(plan: Plan, rec: dict) -> dict:
    """The record with the server's file ids in place of the spool's; a file whose upload was
    refused is left out (TaiLieuNop lists only uploaded files), so the record itself still goes."""
    docs = rec.get("TaiLieuNop") or []
    if not any(str(d.get("DuongDanTaiTepTin", "")).startswith(SPOOL_URL) for d in docs):
        return rec
    new_docs = []
    for d in docs:
        url = str(d.get("DuongDanTaiTepTin", ""))
        if url.startswith(SPOOL_URL):
            row = plan.uploaded.get(url[len(SPOOL_URL):])
            if not row:
                continue
            d = dict(d, TepDinhKemId=row[0], DuongDanTaiTepTin=row[1])
        new_docs.append(d)
    return dict(rec, TaiLieuNop=new_docs, HoSoCoThanhPhanSoHoa="1" if new_docs else "0")


def _send_records(plan: Plan, b: Sealed, transport, stats, ack, started: bool) -> None:
    updating = str(b.body.get("isUpdating", "False")) == "True"
    kind = "update" if updating else "create"
    for i in range(0, len(b.data), 50):
        part = [_resolve_files(plan, r) for r in b.data[i:i + 50]]
        # a create is ours on the server only if it may have gone before: sent or spooled earlier
        # by the office, or this batch's delivery begun before
        doubt = [started or b.in_doubt(j) for j in range(i, i + len(part))]
        outs = send_items(transport, "DongBoHoSoMC", part, updating=updating, in_doubt=doubt)
        for j, (rec, o) in enumerate(zip(part, outs), i):
            if o[0] == SENT:
                stats.sent[kind] += 1
                ack.ok(j)
            elif o[0] == ALREADY:
                stats.already[kind] += 1
                ack.ok(j)
            else:
                stats.fail(rec.get("MaHoSo", "?"), kind, o[1])
                ack.refused(j, rec.get("MaHoSo", "?"), o[1])
    ack.write()


def _send_steps(plan: Plan, b: Sealed, transport, stats, ack) -> None:
    data = b.data
    codes = list({r["MaHoSo"] for r in data})

    def done_by_code():
        return {c: list(plan.steps_done.get(c, [])) for c in codes}

    # Every line is checked against the server first: the batch may be a copy written again after
    # a crash of the writer, or sent already by a delivery that died before its answer.
    outs = send_steps(transport, data, mark_attempt=lambda idx: None, is_doubtful=[True] * len(data),
                      done_by_code=done_by_code, on_applied=lambda i: None, stats=stats)
    for j, (rec, o) in enumerate(zip(data, outs)):
        if o[0] in (SENT, ALREADY):
            (stats.sent if o[0] == SENT else stats.already)["step"] += 1
            plan.steps_done.setdefault(rec["MaHoSo"], []).append(rec)
            ack.ok(j)
        else:
            stats.fail(rec.get("MaHoSo", "?"), "step", o[1])
            ack.refused(j, rec.get("MaHoSo", "?"), o[1])
    ack.write()


# ---------------------------------------------------------------- acknowledgements, back at the office

def office_id(db) -> str:
    """The id of this database written into its spool folders."""
    from onestop.store.sync_runs import office_id as oid

    return oid(db)


def import_acks(db, cfg, folder: Path) -> dict:
    """Mark done exactly the spooled entries the server acknowledged (``acks/`` of ``folder``), and
    held for a fix those it refused. Idempotent: only entries still ``spooled`` change.

    Nothing on the stick is taken on its word: an acknowledgement counts only for a batch whose
    seal this office's secret verifies, delivered with exactly the sealed content (its SHA-256 and
    nonce); the entries are those of the batch, never a list in the acknowledgement. Anything else
    (another office's folder, a damaged, forged or altered file) is refused with exit 4, naming
    the file, and nothing is imported."""
    from onestop.store import transaction
    from onestop.intake.dossiers import iso, now
    from onestop.common.errors import NotFound
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
    if office.get("office_id") != ours:
        raise InvalidInput(
            f"Thư mục spool {folder} là của văn phòng khác (mã cơ quan {office.get('agency', '?')}); "
            "không nhận xác nhận nào. Kiểm tra đúng thư mục của văn phòng này.",
            f"The spool folder {folder} belongs to another office (agency {office.get('agency', '?')}); "
            "nothing imported. Check that it is this office's folder.")
    _real_dir(folder, "acks")
    _real_dir(folder, "seals")
    key = sync_runs.office_secret(db)
    acks = sorted((folder / "acks").iterdir()) if (folder / "acks").is_dir() else []
    acked, files, refused, files_refused, in_progress, n_final = set(), {}, [], {}, 0, 0
    for ap in acks:
        if ap.name.startswith(".") or ap.name.endswith(".tmp"):
            continue  # a write in progress (temporary name)
        if not BATCH.match(ap.name):
            raise _bad(ap, "không phải tệp xác nhận của onestop", "is not an onestop acknowledgement")
        a = _read_json(ap)
        if a.get("office_id") != ours:
            raise _bad(ap, "là xác nhận của văn phòng khác", "is another office's acknowledgement")
        if not all(isinstance(a.get(k), str) for k in ("batch", "sha256", "nonce")) or not isinstance(a.get("final"), bool):
            raise _bad(ap, "không phải xác nhận do 'onestop sync --from-spool' ghi (thiếu lô, mã SHA-256, nonce)",
                       "is not an acknowledgement written by 'onestop sync --from-spool' (no batch, SHA-256, nonce)")
        if not a["final"]:
            in_progress += 1  # the delivery began and did not finish: its entries stay spooled
            continue
        n_final += 1
        bp = folder / ap.name
        if not os.path.lexists(bp):
            raise _bad(ap, "xác nhận một lô không có trong thư mục", "acknowledges a batch that is not in the folder")
        b = read_sealed(folder, office, bp, key=key)  # our own seal, verified with our secret
        if (a["batch"], a["sha256"], a["nonce"]) != (b.name, b.sha256, b.seal["nonce"]):
            raise _bad(ap, "xác nhận một nội dung khác với lô văn phòng đã ghi",
                       "acknowledges other content than the batch this office wrote")
        for i in _item_list(ap, a.get("acked_items"), len(b.data)):
            acked.update(b.entry_ids(i))
        ref = a.get("refused") or []
        if not isinstance(ref, list) or not all(isinstance(r, dict) for r in ref):
            raise _bad(ap, "bị hỏng (refused)", "is damaged (refused)")
        for r in ref:
            i = _item_list(ap, [r.get("item")], len(b.data))[0]
            refused.append((b.entry_ids(i), str(r.get("reason", ""))[:300]))
        files.update(_files_map(ap, a.get("files"), b))
        fr = a.get("files_refused") or {}
        shas = {it.get("sha256") for it in b.data} if b.service == "upload" else set()
        if not isinstance(fr, dict) or not all(k in shas and isinstance(v, str) for k, v in fr.items()):
            raise _bad(ap, "bị hỏng (files_refused)", "is damaged (files_refused)")
        files_refused.update({k: v[:300] for k, v in fr.items()})
    from onestop.sync.redact import redact

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
                outbox.refuse_spooled_file(db, table, sha, redact(reason), stamp)
        for ids, reason in refused:
            outbox.refuse_spooled(db, ids, redact(reason), stamp)
        after = outbox.count_by_state(db)
        result = {"folder": str(folder), "batches": n_final, "in_progress": in_progress,
                  "acknowledged": after.get("done", 0) - before.get("done", 0),
                  "refused": after.get("failed", 0) - before.get("failed", 0),
                  "spooled_left": after.get("spooled", 0)}
        sync_runs.log_acks(db, stamp, f"acks:{folder}", result["acknowledged"], result["refused"], result)
    log.info("acks imported from %s: %d done, %d refused, %d still spooled", folder, result["acknowledged"],
             result["refused"], result["spooled_left"])
    return result

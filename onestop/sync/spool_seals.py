"""The stick is not trusted (docs/sync.md, "Trust"): a spool's seals and the checks of everything
read from a stick, on the connected machine (``--from-spool``) and back at the office (``sync acks``).

A seal (``seals/<batch>``) names the office, its agency, the batch, the batch's SHA-256 and a random
nonce, with an HMAC-SHA256 under the office's secret (``seal_mac``). ``read_sealed`` checks a batch
against its seal; ``check_spool`` checks a whole folder before anything is sent: ``office.json``,
every batch and its seal, every scan file (a regular file ``files/<sha256>.<ext>`` inside the folder
with that SHA-256), every acknowledgement naming exactly its batch. Files are read without following
links and bounded in size; anything wrong is exit 4 naming the file (``bad_file``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import stat
from pathlib import Path

from onestop.common.errors import InvalidInput

BATCH = re.compile(r"^(\d{6,})-([A-Za-z]+)\.json$")
SHA = re.compile(r"^[0-9a-f]{64}$")
SERVICES = ("upload", "DongBoHoSoMC", "CapNhatTienDoHoSoMC")
# The largest batch or acknowledgement file read from a stick (a batch of 50 records is ~100 KB).
MAX_JSON = 64 << 20


def batch_files(folder: Path) -> list[Path]:
    """The batch files of a spool, in order."""
    if not folder.is_dir():
        return []
    out = [(int(m.group(1)), p) for p in folder.iterdir() if (m := BATCH.match(p.name))]
    return [p for _, p in sorted(out)]


def seal_mac(secret: str, office_id: str, agency: str, name: str, sha256: str, nonce: str) -> str:
    """HMAC-SHA256 of a batch's identity and content hash under the office's secret."""
    msg = "\n".join(("onestop-spool-seal-v1", office_id, agency, name, sha256, nonce)).encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def bad_file(path: Path, vi: str, en: str) -> InvalidInput:
    """Exit 4 naming the stick's file; nothing is sent or imported."""
    return InvalidInput(
        f"Tệp {path} trên thư mục spool {vi}. Không gửi/nhận gì từ thư mục này. Không dùng tệp đã bị sửa: ở văn "
        "phòng, ghi lại các mục bằng 'onestop sync resend-spooled --spool THƯ_MỤC_MỚI' (docs/sync.md).",
        f"The spool file {path} {en}. Nothing was sent or imported from this folder. Do not use an altered "
        "file: at the office, write the entries again with 'onestop sync resend-spooled --spool NEW_FOLDER' "
        "(docs/sync.md).")


def read_bytes(path: Path) -> bytes:
    """A regular file inside the spool (not a symlink), read whole (bounded)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise bad_file(path, "không phải tệp thường (liên kết hoặc thư mục)", "is not a regular file (a link or a folder)")
        if st.st_size > MAX_JSON:
            raise bad_file(path, "quá lớn", "is too large")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            return f.read(MAX_JSON + 1)
    except OSError as e:
        raise bad_file(path, f"không đọc được ({e.strerror})", f"cannot be read ({e.strerror})") from None


def read_json(path: Path) -> dict:
    raw = read_bytes(path)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # RecursionError: hostile nesting
        raise bad_file(path, f"bị hỏng ({type(e).__name__})", f"is damaged ({type(e).__name__})") from None
    if not isinstance(body, dict):
        raise bad_file(path, "bị hỏng (không phải đối tượng JSON)", "is damaged (not a JSON object)")
    return body


def sha_file(path: Path) -> str:
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
        raise bad_file(path, "không có dấu niêm phong (seals/): không do văn phòng ghi trọn vẹn, hoặc do người khác thêm vào",
                       "has no seal (seals/): not written in full by the office, or added by someone else")
    seal = read_json(seal_path)
    fields = ("office_id", "agency", "batch", "sha256", "nonce", "mac")
    if any(not isinstance(seal.get(k), str) for k in fields) or seal["batch"] != path.name:
        raise bad_file(seal_path, "bị hỏng (thiếu trường)", "is damaged (missing fields)")
    if seal["office_id"] != office.get("office_id") or seal["agency"] != office.get("agency"):
        raise bad_file(seal_path, "thuộc văn phòng khác với office.json", "belongs to another office than office.json")
    raw = read_bytes(path)
    if hashlib.sha256(raw).hexdigest() != seal["sha256"]:
        raise bad_file(path, "đã bị sửa sau khi văn phòng ghi (mã SHA-256 khác dấu niêm phong)",
                       "was changed after the office wrote it (its SHA-256 differs from its seal)")
    if key is not None and not hmac.compare_digest(
            seal_mac(key, seal["office_id"], seal["agency"], path.name, seal["sha256"], seal["nonce"]).encode(),
            seal["mac"].encode("utf-8", "replace")):
        raise bad_file(seal_path, "không phải dấu niêm phong của văn phòng này (sai mã xác thực MAC)",
                       "is not this office's seal (wrong MAC)")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_file(path, "bị hỏng", "is damaged") from None
    service = BATCH.match(path.name).group(2)
    if (not isinstance(body, dict) or not isinstance(body.get("data"), list)
            or not all(isinstance(it, dict) for it in body["data"]) or service not in SERVICES):
        raise bad_file(path, "bị hỏng (không đúng định dạng lô)", "is damaged (not a batch)")
    if service != "upload" and body.get("madonvi") != office.get("agency"):
        raise bad_file(path, "ghi mã cơ quan khác với office.json", "names another agency than office.json")
    return Sealed(path, raw, body, seal)


def read_office(folder: Path) -> dict | None:
    """``office.json`` of a spool folder (None when there is none; exit 4 when it is damaged)."""
    path = Path(folder) / "office.json"
    if not os.path.lexists(path):
        return None
    office = read_json(path)
    if not all(isinstance(office.get(k), str) and office.get(k) for k in ("office_id", "agency")):
        raise bad_file(path, "bị hỏng (thiếu office_id/agency)", "is damaged (no office_id/agency)")
    return office


def real_dir(folder: Path, name: str) -> None:
    """``folder/name``, when present, is a folder of the stick itself, not a link elsewhere."""
    p = folder / name
    if os.path.lexists(p) and not stat.S_ISDIR(os.lstat(p).st_mode):
        raise bad_file(p, "không phải thư mục thật (liên kết?)", "is not a real folder (a link?)")


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
            raise bad_file(b.path, "bị hỏng (một mục không có MaHoSo)", "is damaged (an item has no MaHoSo)")
        docs = it.get("TaiLieuNop")
        if docs is not None and not (isinstance(docs, list) and all(isinstance(d, dict) for d in docs)):
            raise bad_file(b.path, "bị hỏng (TaiLieuNop)", "is damaged (TaiLieuNop)")


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
        real_dir(folder, name)
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
                raise bad_file(b.path, f"trỏ tới tệp ngoài thư mục files/ của spool ({str(ref)[:80]})",
                               f"points to a file outside the spool's files/ ({str(ref)[:80]})")
            p = folder / ref
            if not os.path.lexists(p):
                raise bad_file(p, "không có (thiếu tệp quét)", "is missing (a scan file)")
            if not stat.S_ISREG(os.lstat(p).st_mode) or p.resolve().parent != files_dir:
                raise bad_file(p, "không phải tệp thường trong thư mục spool (liên kết?)",
                               "is not a regular file inside the spool folder (a link?)")
            if sha_file(p) != sha:
                raise bad_file(p, "không đúng mã SHA-256 (hỏng hoặc bị thay)", "does not match its SHA-256 (damaged or replaced)")
            plan.files[sha] = p
    for b in plan.batches:
        ap = folder / "acks" / b.name
        if not os.path.lexists(ap):
            continue
        a = read_json(ap)
        if (a.get("batch"), a.get("sha256"), a.get("nonce"), a.get("office_id")) != (
                b.name, b.sha256, b.seal["nonce"], office["office_id"]):
            raise bad_file(ap, "không khớp lô đã niêm phong (xác nhận của lô khác, hoặc bị sửa)",
                           "does not match its sealed batch (another batch's acknowledgement, or altered)")
        if a.get("final") is not True:
            plan.started.add(b.name)
            continue
        plan.delivered.add(b.name)
        items = item_list(ap, a.get("acked_items"), len(b.data))
        if b.service == "CapNhatTienDoHoSoMC":
            for i in items:
                plan.steps_done.setdefault(b.data[i]["MaHoSo"], []).append(b.data[i])
        for sha, v in files_map(ap, a.get("files"), b).items():
            plan.uploaded[sha] = v
    return plan


def item_list(path: Path, items, n: int) -> list[int]:
    if not isinstance(items, list) or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n
                                              for i in items):
        raise bad_file(path, "bị hỏng (acked_items)", "is damaged (acked_items)")
    return items


def files_map(path: Path, files, b: Sealed) -> dict[str, tuple[str, str]]:
    if files is None:
        return {}
    shas = {it.get("sha256") for it in b.data} if b.service == "upload" else set()
    if not isinstance(files, dict) or not all(
            k in shas and isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)
            for k, v in files.items()):
        raise bad_file(path, "bị hỏng (files)", "is damaged (files)")
    return {k: (v[0], v[1]) for k, v in files.items()}

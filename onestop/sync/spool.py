"""Writing a spool (the office side): the same payloads and files as numbered batch files, for
offices whose line is down (``onestop sync --spool FOLDER``).

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

The rest of the spool's journey: the stick is not trusted (docs/sync.md, "Trust"), the seals and
every check of what is read from a stick are in spool_seals.py; ``--from-spool`` delivers a folder
from a connected machine (spool_delivery.py) and writes the server's answers to ``acks/``;
``sync acks`` brings them back into the office's outbox (spool_acks.py). Spooled is not synced:
the office's outbox entries stay ``spooled`` until then.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import stat
from pathlib import Path

from onestop.common.errors import InvalidInput
from onestop.common.files import copy_atomic
from onestop.sync.payloads import SPOOL_URL
from onestop.sync.spool_seals import BATCH, batch_files, read_office, read_sealed, seal_mac, sha_file

log = logging.getLogger("onestop.sync")


def write_file(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write a file of the spool crash-safe; a full or read-only folder is a StorageError naming it."""
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
        write_file(path, data, durable=not self.dry)
        if not self.dry:
            sha, nonce = hashlib.sha256(data).hexdigest(), secrets.token_hex(16)
            seal = {"office_id": self.office_id, "agency": self.agency, "batch": path.name, "sha256": sha,
                    "nonce": nonce, "mac": seal_mac(self.secret, self.office_id, self.agency, path.name, sha, nonce)}
            write_file(self.folder / "seals" / path.name, json.dumps(seal).encode())
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
        return stat.S_ISREG(os.lstat(path).st_mode) and sha_file(path) == sha256
    except OSError:
        return False


def claim_folder(folder: Path, office_id: str, agency: str) -> None:
    """Write ``office.json`` into a new spool folder; refuse a folder another database spools into
    (two offices on one stick would get each other's acknowledgements)."""
    folder = Path(folder)
    office = read_office(folder)
    if office is None:
        folder.mkdir(parents=True, exist_ok=True)
        write_file(folder / "office.json", json.dumps(
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


def office_id(db) -> str:
    """The id of this database written into its spool folders."""
    from onestop.store.sync_runs import office_id as oid

    return oid(db)

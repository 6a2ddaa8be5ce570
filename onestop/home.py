"""The data home's identity and the high-water mark of the codes it issued.

A dossier code printed on a receipt must never be issued again, even when the database is
restored from last night's backup or replaced by another office's copy. Two records guard this:

- the database's ``office`` table names the home it belongs to (a random id) and the agency;
- ``<home>/codes-issued.json`` (outside the database, so a restore does not roll it back) holds
  the same id and the highest sequence and book number issued per agency and day / year.

Each code-issuing transaction reads the file (a few kB), takes the higher of it and the
database's counters, and writes the new high-water mark before committing. When the file is
missing it is rebuilt once from the codes found on disk: receipt and archive file names, the sync
log and the spool folder.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

from onestop.errors import HomeMismatch
from onestop.store import office as store

HWM_NAME = "codes-issued.json"


class HighWater:
    """The high-water marks of one home: ``seq[agency|yymmdd]`` and ``book[agency|year]``."""

    def __init__(self, home: Path, home_id: str, seq: dict | None = None, book: dict | None = None):
        self.path = home / HWM_NAME
        self.home_id = home_id
        self.seq: dict[str, int] = dict(seq or {})
        self.book: dict[str, int] = dict(book or {})

    @classmethod
    def load(cls, home: Path) -> "HighWater | None":
        """The file's marks, or None when it is missing or unreadable (then rebuilt from disk)."""
        try:
            data = json.loads((home / HWM_NAME).read_text(encoding="utf-8"))
            return cls(home, str(data["home_id"]), {k: int(v) for k, v in data.get("seq", {}).items()},
                       {k: int(v) for k, v in data.get("book", {}).items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def floor(self, kind: str, agency: str, key) -> int:
        return getattr(self, kind).get(f"{agency}|{key}", 0)

    def note(self, kind: str, agency: str, key, value: int) -> None:
        marks = getattr(self, kind)
        k = f"{agency}|{key}"
        if value > marks.get(k, 0):
            marks[k] = value

    def merge(self, other: "HighWater") -> None:
        for kind in ("seq", "book"):
            for k, v in getattr(other, kind).items():
                agency, _, key = k.partition("|")
                self.note(kind, agency, key, v)

    def save(self) -> None:
        """Replace the file (temp name + rename). Not fsynced: the database commit that follows
        is not either (WAL, synchronous=NORMAL), and a lost file is rebuilt from disk.

        The marks on file are merged in first: on an office database two commands of one desk do not
        share a database-wide write lock, and the later save must not lower the other's marks."""
        on_file = HighWater.load(self.path.parent)
        if on_file is not None and on_file.home_id == self.home_id:
            self.merge(on_file)
        data = json.dumps({"home_id": self.home_id, "seq": self.seq, "book": self.book},
                          sort_keys=True).encode()
        tmp = self.path.with_name(f".{HWM_NAME}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _code_pattern(agency: str) -> re.Pattern:
    return re.compile(r"(?<![\w.])" + re.escape(agency) + r"-(\d{6})-(\d{4,})")


def scan_disk(cfg, home_id: str) -> HighWater:
    """Marks rebuilt from the codes this home has written out: receipts and forms, archive files,
    the logs (sync.log) and the spool. Book numbers are bounded below by the number of distinct
    codes of a year."""
    agency = cfg.agency_code
    pat = _code_pattern(agency)
    owner = cfg.code_rule == "tt04-2025"
    hw = HighWater(cfg.home, home_id)
    seen: set[str] = set()

    def take(text: str) -> None:
        for m in pat.finditer(text):
            day, digits = m.group(1), m.group(2)
            seq = int(digits[2:] if owner and len(digits) > 4 else digits)
            hw.note("seq", agency, day, seq)
            seen.add(f"{day}-{seq}")

    for folder in (cfg.forms_dir, cfg.archive_dir):
        for _root, dirs, files in os.walk(folder):
            take("\n".join(dirs + files))
    spool = Path(cfg.get("sync.spool", "") or cfg.home / "spool")
    for folder in (cfg.logs_dir, spool):
        for root, _dirs, files in os.walk(folder):
            for name in files:
                take(name)
                try:
                    with open(Path(root) / name, "rb") as f:
                        for chunk in iter(lambda: f.read(1 << 20), b""):
                            take(chunk.decode("utf-8", "replace"))
                except OSError:
                    continue
    years: dict[int, int] = {}
    for s in seen:
        y = 2000 + int(s[:2])
        years[y] = years.get(y, 0) + 1
    for y, n in years.items():
        hw.note("book", agency, y, n)
    return hw


def check(db, cfg) -> HighWater:
    """Before issuing codes (inside the write transaction): the database belongs to this home and
    this agency, and the high-water marks are loaded (rebuilt from disk when missing).

    Office database (PostgreSQL): several desks, each with its own data home, share it, so it belongs
    to the office (its agency), not to one home; each desk's file still lifts the counters above the
    codes that desk printed (a restored ``pg_dump`` behind the receipts), without the home match.
    """
    office_db = db.dialect == "postgresql"
    office = store.office_facts(db)
    hw = HighWater.load(cfg.home)
    if not office:
        # A database made before the office was recorded (or a new one): adopt it.
        agency = store.latest_agency(db)
        office = {"home_id": hw.home_id if hw else uuid.uuid4().hex,
                  "agency": cfg.agency_code if agency is None else agency}
        # Another desk of an office database may have recorded it meanwhile (it waited on our insert's
        # row lock, or we on its): keep whatever was recorded first, so every desk adopts one identity.
        office = store.adopt_office(db, office)
    where = db.url if office_db else cfg.db_path
    if office.get("agency") != cfg.agency_code:
        raise HomeMismatch(
            f"Cơ sở dữ liệu {where} thuộc cơ quan '{office.get('agency')}', còn cấu hình ([agency] code) là "
            f"'{cfg.agency_code}': không cấp mã để tránh trùng mã của cơ quan khác. "
            + ("Kiểm tra ONESTOP_DATABASE_URL / [database] url và [agency] code của máy này (docs/office.md)."
               if office_db else "Đặt ONESTOP_HOME về thư mục dữ liệu của cơ quan này, hoặc khôi phục đúng bản sao "
               "lưu: 'onestop db restore TỆP_SAO_LƯU'."),
            f"The database {where} belongs to agency '{office.get('agency')}' but the config ([agency] code) "
            f"says '{cfg.agency_code}': no code is issued, it could repeat another office's codes. "
            + ("Check ONESTOP_DATABASE_URL / [database] url and this desk's [agency] code (docs/office.md)."
               if office_db else "Point ONESTOP_HOME at this office's data home, or restore the right backup: "
               "'onestop db restore BACKUP_FILE'."),
        )
    if hw is None:
        hw = scan_disk(cfg, office["home_id"])
    elif hw.home_id != office["home_id"] and not office_db:
        raise HomeMismatch(
            f"Cơ sở dữ liệu {cfg.db_path} là của một thư mục dữ liệu khác (không khớp {cfg.home / HWM_NAME}): "
            "cấp mã từ đó có thể trùng mã đã in. Khôi phục bản sao lưu của chính thư mục này: "
            "'onestop db restore TỆP_SAO_LƯU'.",
            f"The database {cfg.db_path} comes from another data home (it does not match {cfg.home / HWM_NAME}): "
            "issuing codes from it could repeat codes already printed. Restore a backup of this home: "
            "'onestop db restore BACKUP_FILE'.",
        )
    return hw


def office_of(path: Path) -> dict:
    """The office recorded in a database file (read-only; {} when none is recorded)."""
    return store.office_of_file(path)

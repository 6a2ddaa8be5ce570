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

An office database (several desks, several such files) restored from a dump waits for every desk's
file before it numbers again: see "after a restore" below.

Part of the store (it guards the store's counters; rows through ``onestop.store.office``); it imports
only ``onestop.common`` and its sibling ``office``, never the ``onestop.store`` package itself (which
imports this module when a desk connects).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

from onestop.common.errors import HomeMismatch
from onestop.store import office as store

HWM_NAME = "codes-issued.json"


def desk_name(cfg) -> str:
    """How this desk is listed in ``onestop db status`` and in a restore's waiting list: ``[counter] desk``,
    or the host name."""
    import socket

    return str(cfg.get("counter.desk", "") or "").strip() or socket.gethostname()


class HighWater:
    """The high-water marks of one home: ``seq[agency|yymmdd]`` and ``book[agency|year]``."""

    def __init__(self, home: Path, home_id: str, seq: dict | None = None, book: dict | None = None,
                 epoch: str | None = None):
        self.path = home / HWM_NAME
        self.home_id = home_id
        self.seq: dict[str, int] = dict(seq or {})
        self.book: dict[str, int] = dict(book or {})
        self.epoch = epoch  # the office restore epoch this home last reported its marks to (``report``)

    @classmethod
    def load(cls, home: Path) -> "HighWater | None":
        """The file's marks, or None when it is missing or unreadable (then rebuilt from disk)."""
        try:
            data = json.loads((home / HWM_NAME).read_text(encoding="utf-8"))
            return cls(home, str(data["home_id"]), {k: int(v) for k, v in data.get("seq", {}).items()},
                       {k: int(v) for k, v in data.get("book", {}).items()}, data.get("epoch") or None)
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
            self.epoch = self.epoch or on_file.epoch
        marks = {"home_id": self.home_id, "seq": self.seq, "book": self.book}
        if self.epoch:
            marks["epoch"] = self.epoch
        data = json.dumps(marks, sort_keys=True).encode()
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


def scan_disk(cfg, home_id: str, extra: list[Path] | tuple = ()) -> HighWater:
    """Marks rebuilt from the codes this home has written out: receipts and forms, archive files,
    the logs (sync.log) and the spool, and the files under ``extra`` folders (names and contents).
    Book numbers are bounded below by the number of distinct codes of a year."""
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
    for folder in (cfg.logs_dir, spool, *extra):
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
    if "home_id" not in office or "agency" not in office:
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
    if office_db:
        _numbering_allowed(db, cfg, office, hw)
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


# ---------------------------------------------------------------- after a restore (office database)
#
# One desk's codes-issued.json lifts the counters above the codes THAT desk printed; after the office
# database is restored from a dump, the codes the other desks printed since the dump are known only to
# their own files. So a restore starts an epoch (``restore_epoch`` in the ``office`` table) that lists
# the desks to wait for (those of the restored ``desks`` table seen at most 30 days before its newest
# dossier, or since, plus any named); each desk, as it next connects, lifts the counters to its own
# marks and leaves the list (``report``), and no desk numbers a dossier while the list is not empty
# (``restore_pending``, exit 14) or before it has reported itself (``NotReported``: ``issuing`` reports
# and tries again). ``start_restore`` also lifts the counters above every code found in the shared archive's
# folders and this machine's forms, sync log and spool (and ``--scan`` folders: a USB stick's spool).
# It runs from ``onestop office after-restore``, or by itself at the first connection to a database
# whose identity (server system identifier and database oid) is not the one recorded at its first
# numbered dossier: ``createdb`` + ``pg_restore`` (docs/office.md §6), or a dump restored on another
# server, always makes one.

class NotReported(Exception):
    """Internal: this desk has not reported its marks to the office's latest restore yet."""


def _waiting(office: dict) -> dict:
    n = len(store.RESTORE_WAIT)
    return {k[n:]: v for k, v in office.items() if k.startswith(store.RESTORE_WAIT)}


def waiting(db) -> list[str]:
    """The desks the office still waits for after a restore."""
    return sorted(_waiting(store.office_facts(db)))


def restore_pending(waiting: dict) -> HomeMismatch:
    listed = ", ".join(f"{name} ({seen[:16].replace('T', ' ')})" if seen else name
                       for name, seen in sorted(waiting.items()))
    return HomeMismatch(
        "Cơ sở dữ liệu văn phòng đã được khôi phục từ bản sao lưu: chưa cấp mã hồ sơ mới cho đến khi mọi quầy báo "
        f"các mã đã in, để không cấp lại mã một quầy khác đã in cho công dân. Còn chờ: {listed}. Mở onestop trên "
        "từng quầy đó (một lệnh bất kỳ, ví dụ 'onestop db status'); quầy không còn dùng nữa: 'onestop office "
        "after-restore --forget \"TÊN QUẦY\"' (docs/office.md mục 6). Chưa lưu gì.",
        "The office database was restored from a backup: no new dossier code is issued until every desk has "
        f"reported the codes it printed, so that no code another desk printed for a citizen is issued again. "
        f"Waiting for: {listed}. Start onestop on each of them (any command, e.g. 'onestop db status'); a desk no "
        "longer in use: 'onestop office after-restore --forget \"DESK NAME\"' (docs/office.md section 6). "
        "Nothing was stored.")


def _numbering_allowed(db, cfg, office: dict, hw: "HighWater | None") -> None:
    """Office database, inside the numbering transaction: this desk reported to the latest restore and
    no desk is waited for; the database's identity is recorded at its first numbered dossier."""
    epoch = office.get("restore_epoch")
    if epoch and (hw is None or hw.epoch != epoch):
        raise NotReported()
    waiting = _waiting(office)
    if waiting:
        raise restore_pending(waiting)
    if "db_identity" not in office:
        store.record_identity(db)


def issuing(db, cfg, body):
    """``body(hw)`` in a write transaction after ``check``: what numbers dossiers (receive) runs here.

    A desk that has not reported to the office's latest restore reports first, then tries again. On an
    office database, a counter another desk holds past the lock timeout (a desk that dropped off the
    network mid-receive) is said on stderr, naming that desk, and the whole transaction is tried again
    (nothing of the failed try is stored) until ``lock_wait`` seconds have passed: by then the server has
    ended the dead desk's session (its idle timeout) and rolled its half-done receive back."""
    import sys
    import time

    from onestop.common.errors import DatabaseBusy
    from onestop.common.i18n import t

    start, reported = time.monotonic(), False
    while True:
        try:
            with db.transaction():
                hw = check(db, cfg)
                return hw, body(hw)
        except NotReported:
            if reported:
                raise RuntimeError("the desk's report to the office restore was not recorded") from None
            reported = True
            report(cfg, db)
        except DatabaseBusy as e:
            waited = time.monotonic() - start
            limit = float(getattr(db, "limits", {}).get("lock_wait", 0))
            if getattr(db, "dialect", "sqlite") != "postgresql" or waited >= limit:
                raise
            sys.stderr.write("onestop: " + t(
                f"đang chờ {getattr(e, 'who', '?')} nhả bộ đếm mã hồ sơ (đã chờ {waited:.0f} s, tối đa {limit:g} s)…",
                f"waiting for {getattr(e, 'who', '?')} to release the dossier code counter (waited {waited:.0f} s, "
                f"at most {limit:g} s)…") + "\n")
            sys.stderr.flush()


def lift(db, agency: str, marks: HighWater, source: str) -> list[dict]:
    """Raise the counters of ``agency`` to ``marks`` (never lowers one); what was raised: table,
    agency, key (day or year), from, to, source. The caller holds the transaction."""
    out = []
    for kind, table in (("seq", "code_sequences"), ("book", "book_sequences")):
        current = store.counters(db, table, agency)
        for k, v in sorted(getattr(marks, kind).items()):
            a, _, key = k.partition("|")
            if a != agency:
                continue
            key = key if kind == "seq" else int(key)
            if v > current.get(key, 0):
                store.raise_counter(db, table, agency, key, v)
                out.append({"table": table, "agency": agency, "key": key, "from": current.get(key, 0), "to": v,
                            "source": source})
    return out


def report(cfg, db) -> list[dict]:
    """This desk reports to the office's latest restore: the counters are lifted to its high-water
    mark (rebuilt from its files when missing) and the office stops waiting for it. What was lifted."""
    from onestop.common.errors import StorageError

    desk = desk_name(cfg)
    with db.transaction():
        office = store.office_facts(db)
        hw = HighWater.load(cfg.home) or scan_disk(cfg, office.get("home_id") or uuid.uuid4().hex)
        lifted = lift(db, office.get("agency") or cfg.agency_code, hw, desk)
        store.stop_waiting(db, desk)
    hw.epoch = office.get("restore_epoch")
    try:
        hw.save()
    except OSError as e:
        raise StorageError(f"Không ghi được {hw.path}: {e}. Kiểm tra quyền ghi của thư mục dữ liệu.",
                           f"Cannot write {hw.path}: {e}. Check that the data home is writable.") from e
    return lifted


def start_restore(cfg, db, *, auto: bool = False, desks=(), scan=()) -> dict | None:
    """Start a restore epoch on the office database (``onestop office after-restore``, or ``auto`` when
    a desk connects to a database whose identity changed): wait for the recent desks (and ``desks``),
    and lift the counters above the codes found in the shared archive, this machine's forms, sync log
    and spool, and the ``scan`` folders. Returns epoch, waiting, lifted; None when (``auto``) another
    desk started it meanwhile. This machine reports separately (``report``)."""
    from datetime import datetime, timezone

    office = store.office_facts(db)
    # Read before the transaction: a large archive takes a while, and the desks wait on nothing meanwhile.
    marks = scan_disk(cfg, office.get("home_id") or "", extra=[Path(p) for p in scan])
    with db.transaction():
        store.lock_restore(db)
        facts = store.restore_facts(db)
        if auto and facts.get("db_identity") in (None, facts.get("~identity")):
            return None
        epoch = uuid.uuid4().hex
        waiting = store.recent_desks(db)
        for d in desks:
            waiting.setdefault(d, "")
        store.start_restore(db, epoch, facts["~identity"], datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            waiting)
        lifted = lift(db, office.get("agency") or cfg.agency_code, marks,
                      "archive, forms, logs, spool" + (", " + ", ".join(map(str, scan)) if scan else ""))
    return {"epoch": epoch, "waiting": sorted(waiting), "lifted": lifted}


def forget(db, names) -> dict:
    """Stop waiting for desks that will not report (gone for good); the desks still waited for."""
    from onestop.common.errors import InvalidInput

    with db.transaction():
        waiting = _waiting(store.office_facts(db))
        unknown = [n for n in names if n not in waiting]
        if unknown:
            raise InvalidInput(
                f"Không chờ quầy {', '.join(unknown)}. Các quầy còn chờ: {', '.join(sorted(waiting)) or '(không)'}.",
                f"No desk {', '.join(unknown)} is waited for. Desks waited for: {', '.join(sorted(waiting)) or '(none)'}.")
        for n in names:
            store.stop_waiting(db, n)
    return {"forgotten": list(names), "waiting": sorted(set(waiting) - set(names))}


def after_connect(cfg, db) -> dict | None:
    """A desk connecting to the office database: start the restore epoch when the database is a
    restored one nobody noticed yet, and report this desk's marks when it has not reported to the
    latest epoch. Best effort for a role that may not write (the numbering itself insists)."""
    try:
        facts = store.restore_facts(db)
        started = None
        if facts.get("db_identity") and facts["db_identity"] != facts.get("~identity"):
            started = start_restore(cfg, db, auto=True)
            facts = store.restore_facts(db)
        epoch = facts.get("restore_epoch")
        if epoch:
            hw = HighWater.load(cfg.home)
            if hw is None or hw.epoch != epoch:
                lifted = report(cfg, db)
                if started is not None:
                    started["lifted"] += lifted
                    started["waiting"] = [d for d in started["waiting"] if d != desk_name(cfg)]
        return started
    except db.Error:
        return None


def office_of(path: Path) -> dict:
    """The office recorded in a database file (read-only; {} when none is recorded)."""
    return store.office_of_file(path)

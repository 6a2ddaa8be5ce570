"""Online dossiers (channel 2), the queue side: ``pull`` from the portal into the local queue, what
``online list`` / ``online show`` read, and what ``sync status`` says about the queue (docs/online.md).

A pull runs under the sync's run lock (one pull or sync at a time per office): it first tells the
portal the takes and refusals still unanswered (sync/portal.py), then lists the waiting dossiers,
reads the records of those not stored yet, downloads each file into ``<home>/online/<DVC>/``
(owner-only, checked by SHA-256, renamed only when whole) and stores the dossier with its files in
one transaction (``store.online.store_pulled``: once per portal id). A record without the required
fields, a file the portal does not have or whose SHA-256 does not match, a procedure or paper the
catalog does not know: the dossier is stored ``blocked`` with its reason, out of the queue. A pull
killed at any point leaves files of a dossier not stored yet; the next pull checks them and goes on.
The take and the refusal are in sync/online_take.py.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from datetime import datetime
from pathlib import Path

from onestop.common import errors
from onestop.common.i18n import t

log = logging.getLogger("onestop.sync")

# Test hooks (the archive's scan uses the same variable): ONESTOP_FAULT="online-<step>" kills this process
# with SIGKILL at that step; "pause:online-<step>" writes <ONESTOP_FAULT_GATE>.<pid> there and waits
# until the file ONESTOP_FAULT_GATE exists (two desks let go together).
FAULT_ENV = "ONESTOP_FAULT"
REQUIRED = ("MaHoSoDVC", "MaTTHC", "ChuHoSo", "SoGiayToChuHoSo", "NgayNopHoSo", "TaiLieuNop")
FILE_FIELDS = ("TepDinhKemId", "MaThanhPhanHoSo", "DuongDanTaiTepTin", "sha256")
_DATE = re.compile(r"^\d{14}$")
_SHA = re.compile(r"^[0-9a-fA-F]{64}$")


def step(name: str) -> None:
    """Die here, as kill -9 would, or wait for the gate, when the test hook names this step."""
    what = os.environ.get(FAULT_ENV)
    if what == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif what == "pause:" + name:
        import time

        gate = Path(os.environ["ONESTOP_FAULT_GATE"])
        Path(f"{gate}.{os.getpid()}").touch()
        while not gate.exists():
            time.sleep(0.02)


def queue_dir(cfg) -> Path:
    """Where the online dossiers' files wait (the data home, owner-only): ``<DVC>_<n>.pdf``, one
    folder for all (a folder per dossier cost a third of a pull's time in mkdir)."""
    return cfg.home / "online"


def clear_queue(cfg, dvc: str) -> None:
    """Remove a dossier's files from the queue (taken and archived, refused, or blocked)."""
    import glob

    for p in queue_dir(cfg).glob(glob.escape(safe(dvc)) + "_*"):
        p.unlink(missing_ok=True)


def safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-.") or "x"


def file_name(dvc: str, n: int) -> str:
    """The queue file's name; also the archive's ``sources`` entry, by which a resumed take finds it."""
    return f"{safe(dvc)}_{n}.pdf"


def portal_time(value: str, cfg) -> str:
    """The portal's yyyyMMddHHmmss (Vietnam time) as the ISO time onestop stores; "" if unreadable."""
    from onestop.intake.clock import iso, tz

    try:
        return iso(datetime.strptime(str(value), "%Y%m%d%H%M%S").replace(tzinfo=tz(cfg)))
    except (TypeError, ValueError):
        return ""


# ---------------------------------------------------------------- why a dossier is blocked

def reason_text(reason: str) -> str:
    """A stored reason ("kind:detail") in the user's language."""
    kind, _, detail = (reason or "").partition(":")
    texts = {
        "fields": ("thiếu trường bắt buộc: {}", "required fields missing: {}"),
        "file-fields": ("tệp đính kèm thiếu thông tin: {}", "an attached file lacks: {}"),
        "procedure": ("thủ tục {} không có trong danh mục", "procedure {} is not in the catalog"),
        "component": ("giấy tờ {} không thuộc thủ tục", "paper {} is not one of the procedure's"),
        "missing-file": ("tệp {} không có trên cổng", "file {} is not on the portal"),
        "sha256": ("tệp {} không khớp mã SHA-256", "file {} does not match its SHA-256"),
        "applicant": ("thông tin người nộp không hợp lệ: {}", "the applicant's data is invalid: {}"),
    }
    vi, en = texts.get(kind, ("{}", "{}"))
    return t(vi.format(detail), en.format(detail)) if kind in texts else reason


def _check_record(db, cfg, rec: dict, procs: dict | None = None) -> str:
    """Why ``rec`` cannot enter the queue ("kind:detail"), or "". ``procs``: procedures read so far."""
    from onestop.intake import catalog
    from onestop.intake.applicants import validate_applicant

    missing = [k for k in REQUIRED if not rec.get(k)]
    if missing or not isinstance(rec.get("TaiLieuNop"), list):
        return "fields:" + ", ".join(missing or ["TaiLieuNop"])
    if not _DATE.match(str(rec["NgayNopHoSo"])):
        return "fields:NgayNopHoSo"
    for i, f in enumerate(rec["TaiLieuNop"], 1):
        bad = [k for k in FILE_FIELDS if not isinstance(f, dict) or not f.get(k)]
        if not bad and not _SHA.match(str(f["sha256"])):
            bad = ["sha256"]
        if bad:
            return f"file-fields:{i} ({', '.join(bad)})"
    code = str(rec["MaTTHC"])
    try:
        proc = procs[code] if procs is not None and code in procs else catalog.get(db, code)
    except errors.NotFound:
        return f"procedure:{code}"
    if procs is not None:
        procs[code] = proc
    if components_of(proc, rec) is None:
        codes = ", ".join(sorted({str(f["MaThanhPhanHoSo"]) for f in rec["TaiLieuNop"]}))
        return f"component:{codes}"
    try:
        validate_applicant(applicant_of(rec), datetime.now().year)
    except errors.InvalidInput as e:
        return f"applicant:{t(e.vi, e.en)}"
    return ""


def applicant_of(rec: dict):
    from onestop.intake.applicants import Applicant

    return Applicant(name=str(rec.get("ChuHoSo") or ""), id_number=str(rec.get("SoGiayToChuHoSo") or ""),
                     phone=str(rec.get("SoDienThoai") or ""), email=str(rec.get("Email") or ""),
                     address=str(rec.get("DiaChiChuHoSo") or ""))


def components_of(proc, rec: dict) -> tuple[str, dict[str, int]] | None:
    """(case, paper code -> component number) of the first case holding every paper attached to
    ``rec`` (the portal names papers by ``MaThanhPhanHoSo``), or None when no case holds them."""
    codes = {str(f.get("MaThanhPhanHoSo")) for f in rec.get("TaiLieuNop") or [] if isinstance(f, dict)}
    for case in proc.cases():
        by_code = {c.code: c.n for c in proc.case_components(case)}
        if codes <= set(by_code):
            return case, by_code
    return None


# ---------------------------------------------------------------- the pull

def pull(db, cfg, *, transport=None, connect=None, locked: bool = False) -> dict:
    """Bring the portal's waiting online dossiers into the queue; returns the counts (listed, new,
    blocked, already, files, bytes, acks). ``transport``: the sync's, open; else ``connect()`` makes
    one (onestop.sync.transport.from_config). Unreachable portal: SyncUnreachable (exit 75)."""
    from onestop.sync.sending import Unreachable
    from onestop.sync.transport import LoginFailed, refused_login

    def run() -> dict:
        tr = transport or connect()
        try:
            return _pull(db, cfg, tr)
        except LoginFailed as e:  # the password, or a certificate not trusted: exit 8, the queue unchanged
            raise refused_login(e) from None
        except Unreachable as e:
            raise errors.SyncUnreachable(
                f"Không kết nối được cổng dịch vụ công ({e}); hàng đợi giữ nguyên, hãy chạy lại sau.",
                f"The portal is unreachable ({e}); the queue is unchanged, run again later.") from None
        finally:
            if transport is None:
                tr.close()

    if locked:
        return run()
    from onestop.sync.lock import run_lock

    try:
        with run_lock(cfg, db):
            return run()
    except errors.SyncLocked as e:
        raise errors.SyncLocked(
            "Một lần lấy hồ sơ trực tuyến hoặc đồng bộ khác đang chạy trong văn phòng; chờ xong rồi chạy lại. " + e.vi,
            "Another online pull or sync is running in the office; wait for it, then run again. " + e.en) from None


def _pull(db, cfg, tr) -> dict:
    import time

    from onestop.store import online as store
    from onestop.sync import portal

    started = time.monotonic()
    stats = {"listed": 0, "new": 0, "blocked": 0, "already": 0, "files": 0, "bytes": 0}
    acks = portal.send_acks(db, cfg, tr)  # what was taken leaves the portal's list first
    stats["acks_sent"] = acks["sent"]
    listed = [str(x.get("MaHoSoDVC")) for x in portal.waiting(tr) if x.get("MaHoSoDVC")]
    stats["listed"] = len(listed)
    known = store.known_states(db, listed)
    todo = [d for d in dict.fromkeys(listed) if known.get(d) in (None, "blocked")]
    stats["already"] = len(listed) - len(todo)
    step("online-pull-listed")
    workers = max(1, int(cfg.get("sync.upload_workers", 2)))  # downloads at once (hashing and writing overlap)
    procs: dict = {}
    from concurrent.futures import ThreadPoolExecutor

    # One pool for the whole pull: the next batch's files download while a batch is checked and stored.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = None
        for i in range(0, len(todo), portal.DETAIL_BATCH):
            batch = _start_batch(db, cfg, tr, portal.details(tr, todo[i:i + portal.DETAIL_BATCH]), pool, procs)
            if pending is not None:
                _store_batch(db, cfg, pending, stats)
            pending = batch
        if pending is not None:
            _store_batch(db, cfg, pending, stats)
    stats["seconds"] = round(time.monotonic() - started, 3)
    log.info("online pull: %s", json.dumps(stats))
    return stats


def _start_batch(db, cfg, tr, records: list[dict], pool, procs: dict) -> tuple:
    """Check a batch of records and start downloading their files on ``pool``; (plan, futures)."""
    from onestop.store.sqlite import ensure_private_dir
    from onestop.sync import portal

    folder = None
    plan: list[tuple[dict, str]] = []  # (record, reason)
    jobs = []  # (dvc, n, file item, dest)
    for rec in records:
        dvc = str(rec.get("MaHoSoDVC") or "")
        if not dvc:
            continue
        reason = _check_record(db, cfg, rec, procs)
        plan.append((rec, reason))
        if not reason:
            folder = folder or ensure_private_dir(queue_dir(cfg))
            jobs += [(dvc, n, f, folder / file_name(dvc, n)) for n, f in enumerate(rec["TaiLieuNop"], 1)]

    def fetch(job):
        dvc, n, f, dest = job
        try:
            size = portal.download(tr, str(f["DuongDanTaiTepTin"]), dest, str(f["sha256"]))
        except portal.FileProblem as e:
            name = str(f.get("TenTepDinhKem") or f["TepDinhKemId"])
            return job, None, f"sha256:{name}" if str(e) == "SHA-256" else f"missing-file:{name} ({e})"
        step("online-pull-file")
        return job, size, ""

    return plan, [pool.submit(fetch, j) for j in jobs]


def _store_batch(db, cfg, batch: tuple, stats: dict) -> None:
    """Wait for a batch's files, then store its dossiers in one transaction (blocked ones with their
    reason and no file)."""
    from onestop.intake.clock import iso, now
    from onestop.store import online as store
    from onestop.store import transaction

    plan, futures = batch
    done = [f.result() for f in futures]
    files: dict[str, list[dict]] = {}
    problems: dict[str, str] = {}
    for (dvc, n, f, dest), size, problem in done:
        if problem:
            problems.setdefault(dvc, problem)
            continue
        stats["files"] += 1
        stats["bytes"] += size
        files.setdefault(dvc, []).append({
            "n": n, "remote_id": str(f["TepDinhKemId"]), "name": str(f.get("TenTepDinhKem") or ""),
            "component_code": str(f["MaThanhPhanHoSo"]), "url": str(f["DuongDanTaiTepTin"]),
            "sha256": str(f["sha256"]).lower(), "size": size, "path": str(dest)})
    stamp = iso(now(cfg))
    rows = []
    for rec, reason in plan:
        dvc = str(rec["MaHoSoDVC"])
        reason = reason or problems.get(dvc, "")
        fees = rec.get("DanhSachLePhi") if isinstance(rec.get("DanhSachLePhi"), list) else []
        rows.append(({
            "dvc": dvc, "procedure_code": str(rec.get("MaTTHC") or ""), "procedure_name": str(rec.get("TenTTHC") or ""),
            "applicant_name": str(rec.get("ChuHoSo") or ""), "id_number": str(rec.get("SoGiayToChuHoSo") or ""),
            "submitted_at": portal_time(rec.get("NgayNopHoSo"), cfg) or str(rec.get("NgayNopHoSo") or ""),
            "record": json.dumps(rec, ensure_ascii=False), "paid_online": str(rec.get("DuocThanhToanTrucTuyen") or ""),
            "fees": json.dumps(fees, ensure_ascii=False), "state": "blocked" if reason else "waiting",
            "reason": reason, "pulled_at": stamp}, [] if reason else sorted(files.get(dvc, []), key=lambda x: x["n"])))
    step("online-pull-before-commit")
    with transaction(db):
        stored = [store.store_pulled(db, row, fl) for row, fl in rows]
    step("online-pull-after-commit")
    for (row, _fl), ok in zip(rows, stored):
        if row["reason"]:
            clear_queue(cfg, row["dvc"])  # a blocked dossier keeps no file
            stats["blocked"] += 1
            log.warning("online %s blocked: %s", row["dvc"], row["reason"])
        elif ok:
            stats["new"] += 1
        else:
            stats["already"] += 1


# ---------------------------------------------------------------- what the officer reads

def _waited(cfg, submitted: str) -> int | None:
    from onestop.intake.clock import now

    try:
        return max(0, int((now(cfg) - datetime.fromisoformat(submitted)).total_seconds()))
    except (TypeError, ValueError):
        return None


def public(cfg, r: dict, *, show_personal: bool = False) -> dict:
    """One online dossier as ``online list`` / ``online show`` print it (ID masked unless asked)."""
    from onestop.domain.masking import mask_id, mask_numbers_in_text

    reason = reason_text(r["reason"]) if r["state"] == "blocked" else r["reason"]
    paid = str(r.get("paid_online") or "") in ("1", "true", "True")
    return {"dvc": r["dvc"], "procedure": r["procedure_code"], "procedure_name": r["procedure_name"],
            "applicant": r["applicant_name"],
            "id_number": r["id_number"] if show_personal else mask_id(r["id_number"]),
            "submitted_at": r["submitted_at"], "waited_seconds": _waited(cfg, r["submitted_at"]),
            "files": [{"n": f["n"], "name": f["name"], "component": f["component_code"], "size": f["size"],
                       "path": f["path"]} for f in r.get("files", [])],
            "paid_online": paid, "fees": json.loads(r.get("fees") or "[]"), "state": r["state"],
            "reason": reason if show_personal else mask_numbers_in_text(reason),
            "code": r.get("code"), "taken_by": r.get("taken_by") or "", "taken_at": r.get("taken_at"),
            "portal_told": r.get("ack") == "done", "portal_error": r.get("ack_error") or ""}


def listing(db, cfg, *, show_personal: bool = False) -> list[dict]:
    """The queue, oldest submission first: waiting dossiers and blocked ones with their reason."""
    from onestop.store import online as store

    return [public(cfg, r, show_personal=show_personal) for r in store.listing(db)]


def show(db, cfg, dvc: str, *, show_personal: bool = False) -> dict:
    """One online dossier, whatever its state (NotFound, exit 3)."""
    from onestop.store import online as store

    r = store.get(db, dvc)
    if r is None:
        raise not_found(dvc)
    r["files"] = store.files(db, r["id"])
    return public(cfg, r, show_personal=show_personal)


def not_found(dvc: str) -> errors.NotFound:
    return errors.NotFound(
        f"Không có hồ sơ trực tuyến {dvc} trong hàng đợi. Chạy 'onestop online pull', rồi 'onestop online list'.",
        f"No online dossier {dvc} in the queue. Run 'onestop online pull', then 'onestop online list'.")


def queue_status(db) -> dict:
    """What ``sync status`` says of the online queue: per state, and acknowledgements to send."""
    from onestop.store import online as store

    c = store.counts(db)
    return {"waiting": c.get("waiting", 0), "blocked": c.get("blocked", 0), "taken": c.get("taken", 0),
            "refused": c.get("refused", 0), "portal_pending": c.get("ack_pending", 0)}

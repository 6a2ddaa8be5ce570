"""Online dossiers (channel 2), the counter side: ``accept`` (take) and ``refuse`` (docs/online.md).

A take is an ordinary receive (intake/receiving.py, a ``ReceiveRequest`` with channel "2": the same
checks of the papers against the procedure and its case, the same gapless code sequence, Mẫu 01)
whose insert transaction also marks the queue row taken (``on_insert``): the dossier, its code and
the take commit together, and a second desk's take of the same dossier rolls back whole, no code
consumed, and is told who took it. The appointment date counts from the take with the procedure's
channel-2 time limit. Then each attached file becomes its component's archive file through the
archive's path for a citizen's PDF (archive/scan.py: a PDF with text kept as PDF/A, one without OCRed,
a signed one byte for byte), recorded as the portal's own file (``sync_files``: TaiLieuNop points to
it, nothing is uploaded again); once every file is stored the take's acknowledgement
(``CapNhatDaNhanHoSo``) is due, and it is sent at once when the portal answers, else by the next
pull or sync. A take killed anywhere is finished by running ``online accept DVC`` again.

A refusal (Mẫu 03, status 3 at the portal, no code) is marked in one transaction with its
acknowledgement (``TuChoiTiepNhanHoSo``) due, then the form is written.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from onestop.common import errors
from onestop.common.i18n import t
from onestop.sync.online import applicant_of, clear_queue, components_of, file_name, not_found, reason_text, step

log = logging.getLogger("onestop.sync")


def _row(db, dvc: str) -> dict:
    from onestop.store import online as store

    r = store.get(db, dvc)
    if r is None:
        raise not_found(dvc)
    return r


def _taken_error(r: dict) -> errors.OnlineTaken:
    if r["state"] == "refused":
        return errors.OnlineTaken(
            f"Hồ sơ trực tuyến {r['dvc']} đã bị từ chối bởi {r['taken_by']} lúc {r['taken_at']}: {r['reason']}.",
            f"Online dossier {r['dvc']} was refused by {r['taken_by']} at {r['taken_at']}: {r['reason']}.")
    return errors.OnlineTaken(
        f"Hồ sơ trực tuyến {r['dvc']} đã được {r['taken_by']} tiếp nhận lúc {r['taken_at']}, mã hồ sơ {r['code']}.",
        f"Online dossier {r['dvc']} was taken by {r['taken_by']} at {r['taken_at']}, dossier code {r['code']}.")


def _blocked(r: dict) -> errors.OnlineBlocked:
    why = reason_text(r["reason"])
    return errors.OnlineBlocked(
        f"Hồ sơ trực tuyến {r['dvc']} bị giữ lại, không tiếp nhận được: {why}. Chạy lại 'onestop online pull' khi "
        f"cổng đã sửa, hoặc từ chối: 'onestop online refuse {r['dvc']} --reason \"…\"'.",
        f"Online dossier {r['dvc']} is blocked and cannot be taken: {why}. Run 'onestop online pull' again once "
        f"the portal has it right, or refuse it: 'onestop online refuse {r['dvc']} --reason \"…\"'.")


def _who(cfg) -> str:
    from onestop.intake.applicants import officer_name
    from onestop.store import desk_name

    return f"{officer_name(cfg)} ({desk_name(cfg)})"


def _request(db, cfg, r: dict, files: list[dict], on_insert=None):
    from onestop.intake import catalog
    from onestop.intake.receiving import ReceiveRequest

    rec = json.loads(r["record"])
    proc = catalog.get(db, r["procedure_code"])
    case, by_code = components_of(proc, rec) or ("", {})
    numbers = sorted({by_code[f["component_code"]] for f in files if f["component_code"] in by_code})
    return ReceiveRequest(r["procedure_code"], applicant_of(rec), components=numbers, channel="2",
                          summary=str(rec.get("TrichYeuHoSo") or ""), case=case or None, procedure=proc,
                          on_insert=on_insert), by_code


def accept(db, cfg, dvc: str, *, connect=None, render: bool = True, send: bool = True, renderer=None,
           teller=None) -> dict:
    """Take an online dossier: a dossier code (status 2, channel 2), its files archived, Mẫu 01, and
    the portal told (now, or by the next pull/sync). Returns code, due_at, receipt, files, portal.
    ``teller``: a helper with the archive loaded (sync/portal_early.py), told to store the files after the commit."""
    from onestop.intake import fees, receiving
    from onestop.intake.clock import iso, now
    from onestop.store import online as store

    r = _row(db, dvc)
    files = store.files(db, r["id"])
    if r["state"] == "taken" and (not r["files_done"] or (r["ack"] != "done" and r["taken_by"] == _who(cfg))):
        # a take killed before its files were stored (any desk finishes it), or before this desk told the portal
        out = {"code": r["code"], "status": "2", "resumed": True}
    elif r["state"] in ("taken", "refused"):
        raise _taken_error(r)
    elif r["state"] == "blocked":
        raise _blocked(r)
    else:
        who = _who(cfg)

        def mark_taken(db_, dossier_id: int) -> None:
            at = now(cfg)
            if store.take(db_, dvc, dossier_id, who, iso(at)) != 1:
                raise _taken_error(store.get_locked(db_, dvc))  # rolls the dossier back: no code used
            # What the citizen paid on the portal (DanhSachLePhi, DuocThanhToanTrucTuyen) is recorded as
            # paid online in the take's transaction: nothing to collect again (issue 20, docs/fees.md).
            fees.record_portal_payments(db_, {"id": dossier_id}, json.loads(r["fees"] or "[]"), r["paid_online"],
                                        at, own_transaction=False)

        _check_files(cfg, r, files, connect)
        req, _ = _request(db, cfg, r, files, mark_taken)
        step("online-accept-before-receive")
        missing = receiving.missing_components(req.procedure, req)
        if missing:
            names = "; ".join(m["name"] for m in missing)
            raise errors.OnlineBlocked(
                f"Hồ sơ trực tuyến {dvc} thiếu giấy tờ bắt buộc: {names}. Yêu cầu bổ sung là từ chối kèm danh sách "
                f"giấy tờ còn thiếu: 'onestop online refuse {dvc} --missing'. Chưa tiếp nhận, không cấp mã.",
                f"Online dossier {dvc} lacks required papers: {names}. Asking for more papers is a refusal listing "
                f"them: 'onestop online refuse {dvc} --missing'. Not taken, no code issued.")
        res = receiving.receive(db, cfg, req, render=False)  # Mẫu 01 below, while the helper archives
        out = {"code": res["code"], "status": res.get("status", "2"), "due_at": res["due_at"], "received_at": res["received_at"],
               "receipt": "", "resumed": False}
    step("online-accept-after-commit")
    # The take is committed: a helper warm since the command started (sync/portal_early.py) archives the files
    # on the other core while this process writes the receipt and, on a thread, logs in to the portal.
    # Whatever the helper did not finish is done here (both are idempotent).
    # A warm helper (one accept after another) also tells the portal once the files are stored: its
    # HTTP client is loaded already, and this process then never loads one.
    tell = bool(teller is not None and teller.warm and send and connect is not None)
    login = None
    try:
        if teller is not None:
            teller.go({"dvc": dvc, "officer": cfg.officer, "tell": tell})
            if send and connect is not None and not tell:
                from onestop.sync.portal import EarlyLogin

                login = EarlyLogin(connect)
                connect = login.connect
        unprinted = None
        if render and not out["resumed"]:
            try:
                out["receipt"] = _receipt(db, cfg, out["code"], renderer)
            except Exception as e:  # noqa: BLE001 - the take stands; said after the files and the portal
                unprinted = e
        done = teller.answer() if teller is not None else {}
        out["files"] = done.get("files") or _archive_files(db, cfg, r, files, out["code"], connect)
        portal = done["portal"] if done.get("files") and done.get("portal") else _tell(db, cfg, connect, send)
    finally:
        if login is not None:
            login.close()
    out.update(dvc=dvc, channel="2", portal=portal)
    clear_queue(cfg, dvc)  # archived: the queue's copies go
    if unprinted is not None:
        raise errors.ReceiptNotPrinted.after(out["code"], unprinted, out) from unprinted
    if out["portal"].get("refused"):
        msg = out["portal"]["refused"][0][1]
        raise errors.PortalRefused(
            f"Hồ sơ {out['code']} đã tiếp nhận tại đây, nhưng cổng từ chối xác nhận: {msg}.",
            f"Dossier {out['code']} is taken here, but the portal refused the acknowledgement: {msg}.")
    return out


def _receipt(db, cfg, code: str, renderer) -> str:
    """Mẫu 01 of the taken dossier (as ``receive`` writes it; ``onestop print`` draws it the same way)."""
    from datetime import datetime

    from onestop.intake.form_files import show, with_limit_description, write_receipt
    from onestop.store import dossiers as dossier_store

    d = with_limit_description(db, show(db, cfg, code))
    path = str(write_receipt(cfg, d, datetime.fromisoformat(d["received_at"]), renderer, stored=True))
    dossier_store.update_dossier(db, d["id"], {"receipt_path": path})
    return path


def finish(db, cfg, dvc: str, *, tell: bool = False) -> dict:
    """The files of a committed take archived, in the helper (sync/portal_early.py); then the portal
    told (``tell``: a warm helper) or, by default, the command tells it."""
    from onestop.store import online as store
    from onestop.sync.portal import connect

    r = _row(db, dvc)
    out = {"files": _archive_files(db, cfg, r, store.files(db, r["id"]), r["code"])}
    if tell:
        out["portal"] = _tell(db, cfg, connect(cfg, counter=True), True)
    return out


def _intact(path: Path, sha256: str) -> bool:
    from onestop.archive.files import sha256_file

    try:
        return path.is_file() and sha256_file(path) == sha256
    except OSError:
        return False


def _fetch_again(cfg, connect, f: dict, path: Path) -> None:
    """The queue's copy is gone or damaged (a power cut after the pull): the portal still has it."""
    from onestop.store.sqlite import ensure_private_dir
    from onestop.sync import portal
    from onestop.sync.sending import Unreachable
    from onestop.sync.transport import LoginFailed, refused_login

    ensure_private_dir(path.parent)
    try:
        tr = connect()
    except errors.ConfigError:
        return
    try:
        portal.download(tr, f["url"], path, f["sha256"])
    except (portal.FileProblem, Unreachable, LoginFailed, OSError) as e:
        log.warning("online file %s could not be fetched again: %s", f["remote_id"], e)
    finally:
        tr.close()


def _whole(cfg, connect, f: dict, path: Path) -> bool:
    """Is the queue copy of ``f`` whole (SHA-256)? If not, it is fetched again from the portal first."""
    if not _intact(path, f["sha256"]) and connect is not None:
        _fetch_again(cfg, connect, f, path)
    return _intact(path, f["sha256"])


def _check_files(cfg, r: dict, files: list[dict], connect) -> None:
    """Every queue file whole (SHA-256) before anything is taken: fetched again from the portal if
    not, else OnlineBlocked (exit 29), nothing taken, no code used."""
    for f in files:
        if not _whole(cfg, connect, f, Path(f["path"])):
            raise errors.OnlineBlocked(
                f"Tệp {f['name']} của hồ sơ trực tuyến {r['dvc']} không còn nguyên trong hàng đợi và không tải lại được "
                f"từ cổng. Chưa tiếp nhận, không cấp mã; chạy lại khi có mạng (hoặc 'onestop online pull').",
                f"File {f['name']} of online dossier {r['dvc']} is no longer whole in the queue and could not be "
                f"fetched again from the portal. Not taken, no code issued; run this again when the line is up.")


def _archive_files(db, cfg, r: dict, files: list[dict], code: str, connect=None) -> list[dict]:
    """Store each queue file as its component's archive file (once, also when resumed), recorded as
    the portal's file; then the take's acknowledgement is due."""
    from onestop.archive import scan as archive
    from onestop.intake import dossiers
    from onestop.intake.clock import iso, now
    from onestop.store import online as store
    from onestop.store import outbox, transaction

    d = dossiers.resolve_code(db, cfg, code)
    rec = json.loads(r["record"])
    _case, by_code = components_of(_proc(db, r), rec) or ("", {})
    out = []
    for f in files:
        n = by_code[f["component_code"]]
        fid = f["file_id"] or store.archived_by_source(db, d["id"], file_name(r["dvc"], f["n"]))
        if fid is None:
            path = Path(f["path"])
            if not _whole(cfg, connect, f, path):
                raise errors.OnlineBlocked(
                    f"Tệp {f['name']} của hồ sơ trực tuyến {r['dvc']} không còn nguyên trong hàng đợi ({path}) và không "
                    f"tải lại được từ cổng. Hồ sơ {code} đã tiếp nhận; chạy lại lệnh này khi có mạng.",
                    f"File {f['name']} of online dossier {r['dvc']} is no longer whole in the queue ({path}) and could "
                    f"not be fetched again from the portal. Dossier {code} is taken; run this again when the line is up.")
            has = bool(archive.current(db, d["id"], n))
            res = archive.scan(db, cfg, code, [path], component=n, yes=True, add=has)
            fid = res["file_id"]
            step("online-accept-after-file")
        sha = _file_sha(db, fid)
        with transaction(db):
            outbox.record_upload(db, fid, sha, f["remote_id"], f["url"], iso(now(cfg)))
            store.set_file_archived(db, f["id"], fid)
        out.append({"n": f["n"], "component": n, "file_id": fid, "name": f["name"]})
    with transaction(db):
        store.set_files_done(db, r["id"])
    step("online-accept-before-ack")
    return out


def _proc(db, r: dict):
    from onestop.intake import catalog

    return catalog.get(db, r["procedure_code"])


def _file_sha(db, file_id: int) -> str:
    from onestop.store import online as store

    return store.archive_sha(db, file_id)


def _tell(db, cfg, connect, send: bool) -> dict:
    """Send what the portal is owed now (best effort: otherwise the next pull or sync does);
    ``connect()`` makes the transport (onestop.sync.transport.from_config)."""
    if not send or connect is None:
        return {"sent": 0, "refused": [], "unreachable": "", "waiting": True}
    from onestop.sync.portal import send_acks
    from onestop.sync.transport import LoginFailed, refused_login

    try:
        tr = connect()
    except errors.ConfigError as e:
        return {"sent": 0, "refused": [], "unreachable": t(e.vi, e.en), "waiting": True}
    try:
        res = send_acks(db, cfg, tr)
    except LoginFailed as e:  # the take or refusal stands here; the portal is told once the login is fixed
        why = refused_login(e)
        return {"sent": 0, "refused": [], "unreachable": t(why.vi, why.en), "waiting": True, "login_refused": True}
    finally:
        tr.close()
    res["waiting"] = bool(res["unreachable"])
    return res


def refuse(db, cfg, dvc: str, *, reason: str = "", missing: bool = False, connect=None,
           render: bool = True, send: bool = True, renderer=None) -> dict:
    """Refuse an online dossier (Mẫu 03, no code) with ``reason``, or with the list of the required
    papers not attached (``missing``: how the portal asks an online applicant for more papers)."""
    from onestop.intake import receiving
    from onestop.intake.clock import iso, now
    from onestop.store import online as store
    from onestop.store import transaction

    r = _row(db, dvc)
    resumed = r["state"] == "refused" and not r["form_path"]  # killed before its form was written
    if r["state"] in ("taken", "refused") and not resumed:
        raise _taken_error(r)
    files = store.files(db, r["id"])
    reason = (reason or "").strip()
    if resumed:
        reason = r["reason"]
    elif missing:
        req, _ = _request(db, cfg, r, files)
        lacking = receiving.missing_components(req.procedure, req)
        if not lacking:
            raise errors.InvalidInput(
                f"Hồ sơ trực tuyến {dvc} có đủ giấy tờ bắt buộc: không có gì để yêu cầu bổ sung. Tiếp nhận: "
                f"'onestop online accept {dvc}', hoặc từ chối với --reason.",
                f"Online dossier {dvc} has every required paper: nothing to ask for. Take it with "
                f"'onestop online accept {dvc}', or refuse it with --reason.")
        reason = "Thiếu giấy tờ: " + "; ".join(m["name"] for m in lacking) + (f". {reason}" if reason else "")
    if not reason:
        raise errors.InvalidInput("Cần ghi rõ lý do từ chối (--reason) hoặc --missing.",
                                  "A refusal needs a reason (--reason) or --missing.")
    if r["state"] in ("waiting", "blocked"):  # a blocked one may be refused too (its files are not needed)
        with transaction(db):
            if store.refuse(db, dvc, reason, _who(cfg), iso(now(cfg))) != 1:
                raise _taken_error(store.get_locked(db, dvc))
        step("online-refuse-after-commit")
    rec = json.loads(r["record"])
    try:
        form = receiving.refuse(db, cfg, r["procedure_code"], applicant_of(rec), reason, render=render,
                                renderer=renderer)
    except (errors.InvalidInput, errors.NotFound) as e:  # a blocked record's applicant or procedure: no form
        log.warning("online %s refused without Mẫu 03: %s", dvc, e.en)
        form = {"form": ""}
    with transaction(db):
        store.set_form(db, r["id"], form.get("form") or "-")
    clear_queue(cfg, dvc)
    out = {"dvc": dvc, "status": "3", "code": None, "reason": reason, "form": form.get("form", ""),
           "portal": _tell(db, cfg, connect, send)}
    if out["portal"].get("refused"):
        raise errors.PortalRefused(
            f"Đã từ chối tại đây, nhưng cổng không nhận thông báo từ chối: {out['portal']['refused'][0][1]}.",
            f"Refused here, but the portal did not accept the refusal: {out['portal']['refused'][0][1]}.")
    return out


def open_files(db, cfg, dvc: str) -> list[str]:
    """The paths of an online dossier's files (in the queue, or in the archive once taken)."""
    from onestop.store import online as store

    r = _row(db, dvc)
    files = store.files(db, r["id"])
    archived = store.archive_paths(db, [f["file_id"] for f in files if f["file_id"]])
    return [p for p in archived or [f["path"] for f in files] if p and Path(p).is_file()]

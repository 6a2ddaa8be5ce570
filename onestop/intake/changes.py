"""Changing a received dossier: status moves (with Mẫu 02 and Mẫu 05), the one reschedule (Mẫu 04)
and corrections of the applicant's fields (a new receipt version). Every change is one transaction
that locks the row as the officer saw it (``lock_for_change``), appends an event and queues the
sync; history is never edited."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from onestop.common.config import Config
from onestop.common.errors import InvalidInput, NotFound, TransitionRefused
from onestop.common.text import clean_field, nfc
from onestop.domain import states
from onestop.intake.applicants import Applicant, form_officer, officer_name, validate_applicant
from onestop.intake.clock import iso, now
from onestop.intake.due_dates import check_working_time, compute_due
from onestop.intake.form_files import (form_context, form_path, form_version, render_control_slip,
                                       with_limit_description, write_receipt)
from onestop.intake.lookup import resolve_for_change, show
from onestop.store import catalog as catalog_store
from onestop.store import dossiers as store
from onestop.store import transaction

if TYPE_CHECKING:  # the SQLite module imports sqlite3, which an office command does not need
    from onestop.store.sqlite import Database


def lock_for_change(db: Database, seen: dict, fields: tuple = ("status",)) -> dict:
    """Inside a change's transaction: the dossier row ``seen`` (read before it) as committed now, locked
    until the transaction ends (onestop/store/dossiers.py ``dossier_for_update``). Another desk that
    changed one of ``fields`` meanwhile (both desks acted on the state they had read) makes this change
    stop with TransitionRefused (exit 5) naming the dossier's current status: on either backend the
    second of two changes at once never lands on a state its officer did not see."""
    d = store.dossier_for_update(db, seen["id"])
    if d is None:
        raise NotFound(f"Hồ sơ {seen['code']} không còn trong cơ sở dữ liệu.",
                       f"Dossier {seen['code']} is no longer in the database.")
    if any(d[f] != seen[f] for f in fields):
        due = d["due_at"][:16].replace("T", " ")
        raise TransitionRefused(
            f"Hồ sơ {d['code']} vừa được thay đổi ở nơi khác trong lúc lệnh này chạy: nay ở trạng thái {d['status']} "
            f"({states.status_name(d['status'])}), hẹn trả {due}. Lệnh này không lưu gì; xem 'onestop show "
            f"{d['code']}' rồi làm lại nếu vẫn cần.",
            f"Dossier {d['code']} was changed elsewhere while this command ran: it is now in status {d['status']} "
            f"({states.status_name(d['status'], 'en')}), due {due}. This command stored nothing; see 'onestop show "
            f"{d['code']}' and do it again if still needed.")
    return d


def _check_event_time(db: Database, cfg: Config, d: dict, at: datetime) -> datetime:
    """A time typed for a move (--at): not in the future (as for receive), not before the
    dossier's last recorded event (history is appended in order)."""
    if at > now(cfg) + timedelta(minutes=5):
        raise InvalidInput(
            f"Thời điểm {at:%d/%m/%Y %H:%M} nằm trong tương lai. --at chỉ dùng để ghi lại việc đã xảy ra.",
            f"Time {at:%Y-%m-%d %H:%M} is in the future. --at is only for recording what already happened.")
    last = store.last_event_at(db, d["id"])
    last = max(filter(None, [last, d["received_at"]]), key=lambda v: datetime.fromisoformat(v))
    if at < datetime.fromisoformat(last):
        raise InvalidInput(
            f"Thời điểm {at:%d/%m/%Y %H:%M} trước sự kiện gần nhất của hồ sơ {d['code']} "
            f"({datetime.fromisoformat(last):%d/%m/%Y %H:%M}). Xem 'onestop show {d['code']}'.",
            f"Time {iso(at)} is before the last event of dossier {d['code']} ({last}). See 'onestop show {d['code']}'.")
    return at.replace(microsecond=0)


def _allowed_move(d: dict, target: str) -> states.Move:
    """The move of dossier row ``d`` to ``target``; TransitionRefused naming the moves that are allowed."""
    try:
        return states.check_move(d["status"], target)
    except ValueError:
        allowed_vi, allowed_en = states.allowed_moves(d["status"], "vi"), states.allowed_moves(d["status"], "en")
        raise TransitionRefused(
            f"Hồ sơ {d['code']} đang ở trạng thái {d['status']} ({states.status_name(d['status'])}), "
            f"không chuyển sang {target} ({states.status_name(target)}) được. "
            + (f"Từ trạng thái này chỉ chuyển được sang: {allowed_vi}." if allowed_vi
               else "Trạng thái này đã kết thúc, không chuyển tiếp được."),
            f"Dossier {d['code']} is in status {d['status']} ({states.status_name(d['status'], 'en')}) "
            f"and cannot move to {target} ({states.status_name(target, 'en')}). "
            + (f"From this status it can move to: {allowed_en}." if allowed_en
               else "This status is final: no move leads out of it."),
        ) from None


def check_move(db: Database, cfg: Config, code: str, target: str, at: datetime | None = None) -> dict:
    """The dossier row ``move`` would change, after the checks it would refuse on (the move itself,
    the time typed), so the CLI says "not allowed" before asking the officer to confirm."""
    d = resolve_for_change(db, cfg, code)
    _allowed_move(d, target)
    if at is not None:
        _check_event_time(db, cfg, d, at)
    return d


def move(db: Database, cfg: Config, code: str, target: str, *, note: str = "", at: datetime | None = None,
         missing: list[dict] | None = None, render: bool = True) -> dict:
    """Move a dossier to status ``target`` (DOMAIN.md §3) as an appended event.

    5 (request papers) writes Mẫu 02 and counts the request; 5 → 4 (papers arrived) restarts the
    time limit from that day, keeping the original appointment date; 3/7/8/9/10 set the end of
    processing the first time one is reached.
    """
    target = states.resolve_status(str(target)) or str(target)
    if target not in states.STATUS_NAMES_VI:
        raise InvalidInput(
            f"Trạng thái '{target}' không hợp lệ. Dùng mã hoặc tên (có dấu hay không dấu): {states.move_words('vi')}.",
            f"Status '{target}' is invalid. Use a code or a word: {states.move_words('en')} "
            f"(or the Vietnamese: {states.move_words('vi')}).",
        )
    # Moves that print a form (5: Mẫu 02, 4: Mẫu 05) need a name to print on it.
    officer = form_officer(cfg) if render and target in ("4", "5") else officer_name(cfg)
    note = clean_field(note, "Nội dung (--note)", "The note (--note)")
    missing = [{"name": clean_field(m.get("name"), "Giấy tờ cần bổ sung (--missing)", "A missing paper (--missing)"),
                "reason": clean_field(m.get("reason"), "Giấy tờ cần bổ sung (--missing)", "A missing paper (--missing)")}
               for m in (missing or [])]
    missing = [m for m in missing if m["name"]]
    d = resolve_for_change(db, cfg, code)
    when = _check_event_time(db, cfg, d, at or now(cfg))
    if target == "5" and not (missing or note):
        raise InvalidInput(
            "Yêu cầu bổ sung cần nêu giấy tờ còn thiếu (--missing) hoặc nội dung (--note).",
            "A request for papers needs the missing papers (--missing) or a note (--note).",
        )
    form = ""
    with transaction(db):
        d = lock_for_change(db, d)  # the status the officer acted on, or exit 5 naming the current one
        mv = _allowed_move(d, target)
        stamp = iso(now(cfg))
        sets = {"status": target, "updated_at": stamp}
        data: dict = {}
        if target == "5":
            sets["papers_requests"] = d["papers_requests"] + 1
            data["missing"] = missing or []
        if mv.papers_arrived:
            proc_next = catalog_store.next_day_after_cutoff(db, d["procedure_code"])
            new_due = compute_due(db, cfg, when, d["limit_value"], d["limit_unit"], proc_next)
            sets["due_at"] = iso(new_due)
            data.update(previous_due_at=d["due_at"], new_due_at=iso(new_due))
        if target in states.FINISHED and not d["finished_at"]:
            sets["finished_at"] = iso(when)
        if target == "10":
            sets["returned_at"] = iso(when)
            _signed_result_required(db, cfg, d)
        store.update_dossier(db, d["id"], sets)
        ev = store.add_event(db, d["id"], iso(when), officer, cfg.unit, f"status_{target}",
                    note or states.ACTIONS_VI.get(target, ""), d["status"], target, data)
        store.queue_outbox(db, d["id"], "update", None, stamp)
        store.queue_outbox(db, d["id"], "step", ev, stamp)
        if target == "5" and render:
            from onestop.intake.forms import render_request_papers

            full = show(db, cfg, d["code"])
            p = form_path(cfg, when, f"{d['code']}_Mau02.pdf", d["received_at"])
            form = str(render_request_papers(full, missing or [{"name": note, "reason": ""}],
                                             form_context(cfg), p, note=note, officer=officer,
                                             issued_at=iso(when)))
        if target == "4" and render:
            form = str(render_control_slip(db, cfg, d["code"], when, f"{d['code']}_Mau05.pdf"))
    out = {"code": d["code"], "status": target, "previous_status": d["status"], "at": iso(when),
           "status_name": states.status_name(target), "previous_status_name": states.status_name(d["status"]),
           "due_at": sets.get("due_at", d["due_at"]), "original_due_at": d["original_due_at"]}
    if form:
        out["form"] = form
    return out


def _signed_result_required(db: Database, cfg: Config, d: dict) -> None:
    """``[results] signed_required`` (procedure codes, or "*"): such a dossier's result is returned (10)
    only once its result file carries the agency's valid signature (docs/signing.md); exit 28 otherwise."""
    codes = cfg.get("results.signed_required", []) or []
    if "*" not in codes and d["procedure_code"] not in codes:
        return
    from onestop.common.errors import SignatureRequired
    from onestop.store import signatures

    if not signatures.result_signed(db, d["id"]):
        raise SignatureRequired(
            f"Hồ sơ {d['code']}: thủ tục {d['procedure_code']} chỉ trả kết quả khi tệp kết quả đã được ký số "
            f"([results] signed_required). Quét kết quả ('onestop scan {d['code']} --result TỆP', khi đã cấu hình "
            f"[signing]) hoặc ký tệp đã quét ('onestop sign {d['code']}'), rồi chuyển lại. Chưa thay đổi gì.",
            f"Dossier {d['code']}: procedure {d['procedure_code']} returns its result only once the result file is "
            f"digitally signed ([results] signed_required). Scan the result ('onestop scan {d['code']} --result "
            f"FILE', with [signing] set) or sign the scanned one ('onestop sign {d['code']}'), then move it again. "
            f"Nothing was changed.")


def check_reschedule(db: Database, cfg: Config, d: dict, new_due: datetime, when: datetime) -> None:
    """Why dossier row ``d`` cannot be rescheduled to ``new_due`` at ``when`` (TransitionRefused /
    InvalidInput); nothing when it can. Callers confirm with the officer after this passes."""
    why = states.can_reschedule(d["status"], d["rescheduled"], iso(when), d["due_at"])
    if why:
        vi = {"finished": "hồ sơ đã kết thúc xử lý", "already": "hồ sơ đã được hẹn lại một lần",
              "too_late": "còn chưa đến 1 ngày trước hạn trả"}[why]
        en = {"finished": "the dossier is no longer open", "already": "the dossier was already rescheduled once",
              "too_late": "it is less than one day before the due date"}[why]
        due = d["due_at"][:16].replace("T", " ")
        raise TransitionRefused(
            f"Không hẹn lại được hồ sơ {d['code']}: {vi} (nay ở trạng thái {d['status']} "
            f"({states.status_name(d['status'])}), hẹn trả {due}).",
            f"Cannot reschedule dossier {d['code']}: {en} (it is now in status {d['status']} "
            f"({states.status_name(d['status'], 'en')}), due {due}).")
    check_working_time(db, cfg, new_due)
    if new_due <= datetime.fromisoformat(d["due_at"]):
        raise InvalidInput(
            f"Ngày hẹn mới phải sau ngày hẹn hiện tại ({datetime.fromisoformat(d['due_at']):%d/%m/%Y %H:%M}).",
            f"The new date must be after the current due date ({d['due_at']}).",
        )


def reschedule(db: Database, cfg: Config, code: str, new_due: datetime, reason: str, *,
               at: datetime | None = None, render: bool = True) -> dict:
    """Move the appointment once, at least a day before it falls due, with the apology form (Mẫu 04)."""
    reason = clean_field(reason, "Lý do hẹn lại (--reason)", "The reason (--reason)")
    if not reason:
        raise InvalidInput("Cần ghi lý do hẹn lại (--reason).", "A reschedule needs a reason (--reason).")
    officer = form_officer(cfg) if render else officer_name(cfg)
    when = at or now(cfg)
    form = ""
    seen = resolve_for_change(db, cfg, code)
    with transaction(db):
        d = lock_for_change(db, seen, ("status", "due_at", "rescheduled"))  # Mẫu 04 once, on the date seen
        check_reschedule(db, cfg, d, new_due, when)
        stamp = iso(now(cfg))
        store.update_dossier(db, d["id"], {"due_at": iso(new_due), "rescheduled": 1, "updated_at": stamp})
        ev = store.add_event(db, d["id"], iso(when), officer, cfg.unit, "reschedule", reason, d["status"], d["status"],
                    {"previous_due_at": d["due_at"], "new_due_at": iso(new_due)})
        store.queue_outbox(db, d["id"], "update", None, stamp)
        store.queue_outbox(db, d["id"], "step", ev, stamp)
        if render:
            from onestop.intake.forms import render_reschedule

            full = show(db, cfg, d["code"])
            p = form_path(cfg, when, f"{d['code']}_Mau04.pdf", d["received_at"])
            form = str(render_reschedule(full, iso(new_due), reason, form_context(cfg), p, officer=officer,
                                         previous_due_at=d["due_at"], issued_at=iso(when)))
    return {"code": d["code"], "due_at": iso(new_due), "previous_due_at": d["due_at"], "form": form}


# What `amend` may correct: option name -> dossier column. The dossier code never changes.
AMENDABLE = {"name": "applicant_name", "id": "id_number", "phone": "phone", "address": "address"}


def amend(db: Database, cfg: Config, code: str, changes: dict, reason: str, *, id_type: str | None = None,
          at: datetime | None = None, render: bool = True) -> dict:
    """Correct a mistyped name, ID, phone or address of a received dossier.

    ``changes`` maps keys of :data:`AMENDABLE` to new values. History is not edited: one ``amend``
    event records old and new values, who, when and why; the receipt is rendered again as a new
    version file; an update of the record is queued for the sync.
    """
    reason = nfc(reason)
    if not reason:
        raise InvalidInput("Cần ghi lý do sửa (--reason).", "A correction needs a reason (--reason).")
    unknown = sorted(set(changes) - set(AMENDABLE))
    if unknown:
        raise InvalidInput(f"Không sửa được trường {', '.join(unknown)}.", f"Cannot amend {', '.join(unknown)}.")
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        raise InvalidInput("Chưa nêu gì cần sửa: dùng --name, --id, --phone hoặc --address.",
                           "Nothing to amend: use --name, --id, --phone or --address.")
    officer = form_officer(cfg) if render else officer_name(cfg)
    when = at or now(cfg)
    seen = resolve_for_change(db, cfg, code)
    code = seen["code"]
    receipt = None
    try:
        with transaction(db):
            d = lock_for_change(db, seen, tuple(AMENDABLE.values()))  # the applicant as the officer read it
            # Validate the corrected applicant as a whole, with the very rules of receive.
            name, pid, phone, _email = validate_applicant(Applicant(
                name=given.get("name", d["applicant_name"]), id_number=given.get("id", d["id_number"]),
                id_type=id_type if "id" in given else d["id_type"], phone=given.get("phone", d["phone"]),
                email=d["email"], address=given.get("address", d["address"])), when.year,
                check_phone="phone" in given)
            new = {"applicant_name": name, "id_number": pid.number, "phone": phone,
                   "address": clean_field(given.get("address", d["address"]), "Địa chỉ (--address)", "The address (--address)")}
            if "id" in given:
                new.update(id_type=pid.id_type, applicant_type=pid.applicant_type)
            diff = {k: {"old": d[k], "new": v} for k, v in new.items() if k in AMENDABLE.values() and d[k] != v}
            if not diff:
                raise InvalidInput(f"Hồ sơ {code}: giá trị mới trùng giá trị đang lưu, không có gì để sửa.",
                                   f"Dossier {code}: the new values equal the stored ones; nothing to amend.")
            stamp = iso(now(cfg))
            sets = {k: v for k, v in new.items() if k not in AMENDABLE.values() or k in diff}
            sets["updated_at"] = stamp
            store.update_dossier(db, d["id"], sets)
            if render:
                full = with_limit_description(db, show(db, cfg, code))
                receipt = write_receipt(cfg, full, datetime.fromisoformat(full["received_at"]))
                store.update_dossier(db, d["id"], {"receipt_path": str(receipt)})
            data = {"changes": diff, "receipt_version": form_version(receipt) if render else None}
            store.add_event(db, d["id"], iso(when), officer, cfg.unit, "amend", reason, d["status"], d["status"], data)
            store.queue_outbox(db, d["id"], "update", None, stamp)  # the full record again; not a processing step
    except BaseException:
        if receipt is not None:
            Path(receipt).unlink(missing_ok=True)
        raise
    return {"code": code, "changes": diff, "reason": reason, "officer": officer, "at": iso(when),
            "receipt": str(receipt or "")}

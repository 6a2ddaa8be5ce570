"""Receiving a dossier at the counter: the request, its checks, the dossier code and book number
allocated with the insert (one transaction), many at once (a backlog), and the forms handed out
without a code (Mẫu 02 guidance when papers are missing, Mẫu 03 refusal).

A receive reads its procedure from the catalog once (or takes the one the counter already read,
``ReceiveRequest.procedure``) and passes it down.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from onestop.common.config import Config
from onestop.common.errors import InvalidInput, ReceiptNotPrinted
from onestop.common.text import clean_field, nfc, printable
from onestop.domain import codes
from onestop.intake import catalog
from onestop.intake import fees as fee_rules
from onestop.store import home
from onestop.intake.applicants import Applicant, form_officer, officer_name, validate_applicant
from onestop.intake.clock import iso, now
from onestop.intake.due_dates import compute_due
from onestop.intake.form_files import form_context, form_path, limit_description, write_receipt
from onestop.store import codes as code_store
from onestop.store import dossiers as store
from onestop.store import transaction

if TYPE_CHECKING:  # the SQLite module imports sqlite3, which an office command does not need
    from onestop.store.sqlite import Database


@dataclass
class ReceiveRequest:
    procedure_code: str
    applicant: Applicant
    components: list[int] | None = None  # received component numbers; None = all
    pages: dict[int, int] = field(default_factory=dict)
    at: datetime | None = None
    channel: str = "1"
    delivery: str = "0"
    sets: int = 1
    summary: str = ""
    # The catalog's case (TRUONGHOP): its name or its number as `procedures show` prints it;
    # None = the case holding the components given, else the first case.
    case: str | int | None = None
    applies: list[int] = field(default_factory=list)  # conditional papers the officer marked as applying
    # The procedure as the counter already read it for ``procedure_code`` (an interactive receive asks
    # about its cases and papers); None = read once here. Either way it is read once and passed down.
    procedure: catalog.Procedure | None = None
    refuse: str | None = None  # a reason: refuse to receive (Mẫu 03, no code) instead of receiving
    exempt: str | None = None  # a reason: the fees are exempted (recorded as 0; docs/fees.md)
    fee_amounts: dict[str, int] = field(default_factory=dict)  # amounts of fees the catalog leaves open
    # Components received as papers already digitized (issue 21): number -> "CODE/M", "CODE/KQM" or
    # "auto"; key 0 "auto": every component with an offer (onestop/intake/reuse.py).
    reuse: dict[int, str] = field(default_factory=dict)
    # Called as on_insert(db, dossier_id) inside the insert's transaction, before the code is numbered:
    # an online take (onestop/sync/online_take.py) marks its queue row there, so the take and the dossier
    # commit together (its error rolls both back, no code consumed).
    on_insert: object = None


def select_case(proc: catalog.Procedure, case: str | int | None, components: list[int] | None = None) -> str:
    """The case (TRUONGHOP) name a dossier is received under.

    ``case`` is a number as `procedures show` prints it (1, 2, …) or a case name; None picks the
    one case holding every component number given, else the first case.
    """
    cases = proc.cases()
    if case is None or str(case).strip() == "":
        return (proc.case_of(components) if components else None) or (cases[0] if cases else "")
    text = str(case).strip()
    if text.isdigit():
        n = int(text)
        if 1 <= n <= len(cases):
            return cases[n - 1]
    elif nfc(text) in cases:
        return nfc(text)
    listing = "; ".join(f"{i}. {c}" for i, c in enumerate(cases, 1))
    raise InvalidInput(
        f"Thủ tục {proc.code} không có trường hợp '{text}'. Các trường hợp: {listing}.",
        f"Procedure {proc.code} has no case '{text}'. Its cases: {listing}.",
    )


MAX_SETS = 100  # copies of one dossier handed in at once; more is a typing error


MAX_PAGES = 10_000  # pages of one component


def _check_numbers(req: "ReceiveRequest") -> None:
    """Channel, sets and page counts: refused when out of range (never stored, never an overflow)."""
    if str(req.channel) not in CHANNELS:
        raise InvalidInput(
            f"Kênh '{printable(str(req.channel))}' không hợp lệ. Dùng 1 (trực tiếp), 2 (trực tuyến) hoặc 3 (bưu chính).",
            f"Channel '{printable(str(req.channel))}' is invalid. Use 1 (at the counter), 2 (online) or 3 (post).")
    if not isinstance(req.sets, int) or not 1 <= req.sets <= MAX_SETS:
        raise InvalidInput(f"Số bộ hồ sơ (--sets) phải từ 1 đến {MAX_SETS}, không phải {req.sets}.",
                           f"The number of sets (--sets) must be 1 to {MAX_SETS}, not {req.sets}.")
    for n, p in (req.pages or {}).items():
        if not 0 <= int(p) <= MAX_PAGES:
            raise InvalidInput(f"Số trang của thành phần {n} phải từ 0 đến {MAX_PAGES}, không phải {p}.",
                               f"The page count of component {n} must be 0 to {MAX_PAGES}, not {p}.")


CHANNELS = ("1", "2", "3")  # KenhThucHien: at the counter, online, post (DOMAIN.md)


def _select_components(proc: catalog.Procedure, req: ReceiveRequest):
    case = select_case(proc, req.case, req.components)
    comps = proc.case_components(case) or proc.components
    known = {c.n for c in comps}
    chosen = {c.n for c in comps if not c.conditional} if req.components is None else set(req.components)
    applies = set(req.applies) | (chosen & {c.n for c in comps if c.conditional})
    bad = sorted((chosen | applies) - known)
    if bad:
        cases = proc.cases()
        where_vi = f" trong trường hợp {cases.index(case) + 1} ({case}); chọn trường hợp khác bằng --case N" if len(cases) > 1 else ""
        where_en = f" in case {cases.index(case) + 1} ({case}); pick another case with --case N" if len(cases) > 1 else ""
        raise InvalidInput(
            f"Thủ tục {proc.code} không có thành phần số {', '.join(map(str, bad))}{where_vi}. Xem 'onestop procedures show {proc.code}'.",
            f"Procedure {proc.code} has no component number {', '.join(map(str, bad))}{where_en}. See 'onestop procedures show {proc.code}'.",
        )
    rows = [{"n": c.n, "code": c.code, "name": c.name, "originals": c.originals, "copies": c.copies,
             "pages": int(req.pages.get(c.n, 0)), "received": c.n in chosen, "required": c.required,
             "conditional": c.conditional, "applies": (c.n in applies) if c.conditional else None}
            for c in comps]
    # A conditional paper ("nếu có", "trường hợp bị mất") is missing only when the officer marked it as applying.
    missing = [r for r in rows if not r["received"] and (r["applies"] if r["conditional"] else r["required"])]
    return rows, missing, (case if len(proc.cases()) > 1 else "")


def missing_components(proc: catalog.Procedure, req: ReceiveRequest) -> list[dict]:
    """The papers ``req`` lacks to be received (the same rule as ``receive``): rows with n and name."""
    return _select_components(proc, req)[1]


def _check_time(at: datetime, cfg: Config) -> datetime:
    current = now(cfg)
    if at > current + timedelta(minutes=5):
        raise InvalidInput(
            f"Thời điểm tiếp nhận {at:%d/%m/%Y %H:%M} nằm trong tương lai. --at chỉ dùng để nhập lại hồ sơ đã nhận.",
            f"Receipt time {at:%Y-%m-%d %H:%M} is in the future. --at is only for entering papers already received.",
        )
    if at.year < 2000:
        raise InvalidInput(f"Thời điểm tiếp nhận {at:%d/%m/%Y} không hợp lệ.", f"Receipt time {at:%Y-%m-%d} is invalid.")
    return at.replace(microsecond=0)


def _prepare(db: Database, cfg: Config, req: ReceiveRequest, procs: dict | None = None):
    """Validate a request and pick its components (no writes). The procedure is the request's own
    when the counter read it already, else one from ``procs`` (a bulk receive's), else read here."""
    at = _check_time(req.at or now(cfg), cfg)
    _check_numbers(req)
    name, pid, phone, email = validate_applicant(req.applicant, at.year)
    if req.procedure is not None:
        proc = req.procedure
    elif procs is not None and req.procedure_code in procs:
        proc = procs[req.procedure_code]
    else:
        proc = catalog.get(db, req.procedure_code)
        if procs is not None:
            procs[proc.code] = proc
    req, plan = _reuse_plan(db, cfg, proc, req, pid.number, at)
    rows, missing, case = _select_components(proc, req)
    for r in rows:
        if r["n"] in plan:  # received as the archived paper: its files, its pages
            r.update(reuse=plan[r["n"]], pages=plan[r["n"]].pages)
    base = {
        "procedure_code": proc.code, "procedure_name": proc.name, "field_name": proc.field_name, "case_name": case,
        "applicant_name": name, "id_number": pid.number,
        "address": clean_field(req.applicant.address, "Địa chỉ (--address)", "The address (--address)"),
        "phone": phone, "email": email, "agency": cfg.agency_code,
    }
    return at, pid, proc, rows, missing, base


def _reuse_plan(db, cfg: Config, proc: catalog.Procedure, req: ReceiveRequest, id_number: str, at: datetime):
    """The papers ``req.reuse`` picks (onestop/intake/reuse.py), and the request with their components
    counted as received."""
    if not req.reuse:
        return req, {}
    from onestop.intake import reuse

    comps = proc.case_components(select_case(proc, req.case, req.components or [n for n in req.reuse if n])) \
        or proc.components
    plan = reuse.resolve(db, cfg, id_number, comps, req.reuse, at.date())
    if plan:
        given = req.components if req.components is not None else [c.n for c in comps if not c.conditional]
        req = replace(req, components=sorted(set(given) | set(plan)))
    return req, plan


def _check_agency(cfg: Config) -> str:
    agency = cfg.agency_code
    if not codes.valid_agency_code(agency):
        from onestop.common.errors import ConfigError

        raise ConfigError(
            f"Mã định danh cơ quan '{agency}' trong cấu hình ([agency] code) không hợp lệ.",
            f"The agency identifier '{agency}' in the config ([agency] code) is invalid.",
        )
    return agency


def _insert(db: Database, cfg: Config, req: ReceiveRequest, prepared, officer: str, stamp: str, hw) -> dict:
    """Allocate the code and write the dossier, its components, its first event and its outbox rows.
    Must run inside an IMMEDIATE transaction: the sequence and the insert commit together, so a
    failure leaves no gap and two counters never share a code. ``hw`` (onestop/intake/home.py) lifts the
    counters above any code already issued from this home, e.g. after a backup was restored."""
    at, pid, proc, rows, _missing, base = prepared
    limit, unit = proc.limit_for(req.channel)
    dues = fee_rules.dues_for(proc, req.channel, req.exempt, req.fee_amounts)
    due = compute_due(db, cfg, at, limit, unit, proc.next_day_after_cutoff)
    agency = cfg.agency_code
    day = at.strftime("%y%m%d")
    owner = cfg.get("counter.owner_code", "")
    floors = (hw.floor("seq", agency, day), hw.floor("book", agency, at.year))
    # An office database numbers the dossier last (code_store.number_dossier: the other desks wait
    # on the day's counter row only for that statement and the COMMIT). In a SQLite file the whole
    # transaction holds the write lock anyway: numbers first, the row written once.
    office = getattr(db, "backend", "sqlite") == "postgresql"
    if office:
        prefix = codes.code_prefix(agency, at.date(), cfg.code_rule, owner)  # a bad rule/owner fails before any insert
        code, book_no = code_store.provisional_numbers(db)
    else:
        seq = code_store.allocate_code_number(db, agency, day, floors[0])
        book_no = code_store.allocate_book_number(db, agency, at.year, floors[1])
        code = codes.format_code(agency, at.date(), seq, cfg.code_rule, owner)
    dossier = dict(
        base, code=code, code_rule=cfg.code_rule, field_code=proc.field_code, channel=req.channel,
        applicant_type=pid.applicant_type, id_type=pid.id_type,
        authorised_name=clean_field(req.applicant.authorised_name, "Người được ủy quyền", "The authorised person"),
        summary=clean_field(req.summary, "Trích yếu", "The summary") or proc.name, status="2", received_at=iso(at), due_at=iso(due),
        original_due_at=iso(due), limit_value=limit, limit_unit=unit, delivery=req.delivery,
        fees=fee_rules.dues_json(dues), sets=req.sets, book_year=at.year,
        book_no=book_no, officer=officer, unit=cfg.unit, created_at=stamp, updated_at=stamp,
    )
    did = store.insert_dossier(db, dossier)
    store.insert_components(db, did, rows)
    ev = store.add_event(db, did, iso(at), officer, cfg.unit, "receive", "Tiếp nhận hồ sơ", None, "2")
    store.queue_outbox_rows(db, did, [("create", None), ("step", ev)], stamp)
    if dues:  # the fees owed (intake/fees.py)
        fee_rules.record_at_receive(db, did, dues)
    reused = {r["n"]: r["reuse"] for r in rows if r.get("reuse")}
    if reused:
        from onestop.intake import reuse

        reuse.record(db, did, reused, iso(at), officer, cfg.unit)
    if req.on_insert is not None:
        req.on_insert(db, did)  # an online take: what the citizen paid on the portal is recorded here
    if dues:  # status 6 when the fees must be paid before processing and some are still owed
        dossier["status"] = fee_rules.hold_until_paid(db, cfg, did, dues, iso(at), officer, stamp)
    if office:
        seq, book_no, code = code_store.number_dossier(db, did, agency, day, at.year, prefix, floors)
        if code != codes.format_code(agency, at.date(), seq, cfg.code_rule, owner):  # the SQL and Python formats agree
            raise RuntimeError(f"the office store built code {code!r} for sequence number {seq}")
        dossier.update(code=code, book_no=book_no)
    hw.note("seq", agency, day, seq)
    hw.note("book", agency, at.year, book_no)
    return dict(dossier, id=did, fees=json.loads(dossier["fees"]), estimated_fees=[f for f in dues if f["estimated"]],
                components=[{k: v for k, v in r.items() if k != "reuse"} for r in rows],
                reused=[{"component": n, "ref": p.ref, "kind": "result" if p.kind == "2" else "paper"}
                        for n, p in sorted(reused.items())],
                limit_description=limit_description(proc, req.channel, limit))


def _result(d: dict) -> dict:
    return {"code": d["code"], "status": d["status"], "received_at": d["received_at"], "due_at": d["due_at"],
            "receipt": d.get("receipt_path", ""), "procedure": d["procedure_code"], "book_no": d["book_no"]}


def receive(db: Database, cfg: Config, req: ReceiveRequest, *, render: bool = True, renderer=None) -> dict:
    """Register a dossier at the counter.

    Complete → status 2, a new dossier code, the appointment date and the receipt (Mẫu 01).
    Missing required components → no code is consumed; the guidance form (Mẫu 02) is written
    and ``{"status": "incomplete", ...}`` returned. ``req.refuse`` (a reason) → the refusal form
    (Mẫu 03), no code, ``{"status": "3", ...}``.
    """
    if req.refuse is not None:
        # A refusal looks only at the procedure, the applicant and the time (not the papers).
        brief = ReceiveRequest(req.procedure_code, req.applicant, at=req.at, procedure=req.procedure)
        return _refuse(db, cfg, brief, req.refuse, render=render, renderer=renderer)
    prepared = _prepare(db, cfg, req)
    at, _pid, _proc, _rows, missing, base = prepared
    fee_rules.dues_for(_proc, req.channel, req.exempt, req.fee_amounts)  # an open amount not given: said first
    officer = form_officer(cfg) if render else officer_name(cfg)
    if missing:
        return _guidance(db, cfg, base, missing, at, officer, render=render, renderer=renderer)
    _check_agency(cfg)
    duplicates = recent_duplicates(db, cfg, base["id_number"], base["procedure_code"], at)
    # The transaction holds the day's code counter row (and the year's book counter) from the
    # allocation to COMMIT, and every other desk of an office waits on it: nothing that can wait
    # for the commit runs inside it (P11). The order after it matters: the high-water mark is on
    # disk before any paper carries the code.
    hw, d = home.issuing(db, cfg, lambda hw: _insert(db, cfg, req, prepared, officer, iso(now(cfg)), hw))
    out = dict(_result(d), possible_duplicates=duplicates)
    if d.get("estimated_fees"):
        out["estimated_fees"] = [{"code": f["code"], "name": f["name"], "amount": f["amount"]} for f in d["estimated_fees"]]
    if d["reused"]:
        out["reused"] = d["reused"]
    try:
        hw.save()
        if render:
            d["receipt_path"] = out["receipt"] = str(write_receipt(cfg, d, at, renderer, stored=True))
            store.update_dossier(db, d["id"], {"receipt_path": d["receipt_path"]})
    except Exception as e:  # noqa: BLE001 - the dossier is registered whatever failed: say so, and how to print
        raise ReceiptNotPrinted.after(d["code"], e, out) from e
    except KeyboardInterrupt:
        from onestop.common.errors import Interrupted

        raise Interrupted(
            f"Đã dừng (Ctrl-C) khi in giấy tiếp nhận, nhưng hồ sơ {d['code']} ĐÃ được tiếp nhận. "
            f"In lại giấy tiếp nhận: onestop print {d['code']}",
            f"Stopped (Ctrl-C) while printing the receipt, but dossier {d['code']} IS registered. "
            f"Print its receipt again: onestop print {d['code']}") from None
    return out


def recent_duplicates(db: Database, cfg: Config, id_number: str, procedure_code: str, at: datetime) -> list[str]:
    """Codes of dossiers for the same ID and procedure received within ``[counter] duplicate_window``
    minutes (default 30) of ``at``: most likely the same papers entered twice."""
    minutes = float(cfg.get("counter.duplicate_window", 30) or 0)
    if minutes <= 0 or not id_number:
        return []
    span = timedelta(minutes=minutes)
    return store.duplicate_codes(db, id_number, procedure_code, iso(at - span), iso(at + span))


def receive_many(db: Database, cfg: Config, reqs: list[ReceiveRequest]) -> list[dict]:
    """Register many complete dossiers in one transaction (data entry of a backlog of paper, imports).

    All or nothing: an invalid or incomplete request raises InvalidInput naming its position and
    nothing is stored. Receipts are not rendered (``onestop print CODE`` renders one later).
    """
    _check_agency(cfg)
    officer = officer_name(cfg)
    stamp = iso(now(cfg))
    procs: dict = {}

    def insert_all(hw) -> list[dict]:
        out = []
        for i, req in enumerate(reqs, 1):
            try:
                prepared = _prepare(db, cfg, req, procs)
                fee_rules.dues_for(prepared[2], req.channel, req.exempt, req.fee_amounts)
            except InvalidInput as e:
                raise InvalidInput(f"Hồ sơ thứ {i}: {e.vi}", f"Dossier #{i}: {e.en}") from None
            if prepared[4]:
                raise InvalidInput(
                    f"Hồ sơ thứ {i} thiếu thành phần bắt buộc: {', '.join(m['name'] for m in prepared[4])}.",
                    f"Dossier #{i} lacks required components: {', '.join(m['name'] for m in prepared[4])}.")
            out.append(_result(_insert(db, cfg, req, prepared, officer, stamp, hw)))
        hw.save()  # inside the transaction, as before: the marks are on disk before it commits
        return out

    return home.issuing(db, cfg, insert_all)[1]


def _counter_form(db, cfg, form: str, base: dict, at: datetime, officer: str, draw, *, render: bool,
                  reason: str = "", missing: list[dict] | None = None) -> str:
    """Record a form handed out without a dossier code (02 guidance, 03 refusal) and write its PDF;
    ``draw(dossier, path)`` renders it. Returns the PDF path ("" when not rendered)."""
    path = ""
    with transaction(db):
        form_id = store.insert_counter_form(db, {
            "form": form, "at": iso(at), "procedure_code": base["procedure_code"],
            "applicant_name": base["applicant_name"], "id_number": base["id_number"], "reason": reason,
            "missing": json.dumps(missing or [], ensure_ascii=False), "officer": officer})
        if render:
            p = form_path(cfg, at, f"Mau{form}_{at:%Y%m%d%H%M%S}_{form_id}.pdf")
            path = str(draw(dict(base, code="", received_at=iso(at), issued_at=iso(at)), p))
            store.set_counter_form_pdf(db, form_id, path)
    return path


def _draw(renderer, name: str, *args, **kw):
    """Form ``name`` of onestop.intake.forms, by the warm helper when there is one (prerender.py): the
    path written."""
    if renderer is not None:
        return renderer.render(name, *args, **kw)
    from onestop.intake import forms

    return getattr(forms, name)(*args, **kw)


def _guidance(db, cfg, base: dict, missing: list[dict], at: datetime, officer: str, *, render: bool,
              renderer=None) -> dict:
    items = [{"name": m["name"], "reason": "Chưa nộp"} for m in missing]
    path = _counter_form(db, cfg, "02", base, at, officer, render=render, missing=items,
                         draw=lambda d, p: _draw(renderer, "render_request_papers", d, items, form_context(cfg), p,
                                                 officer=officer))
    return {"code": None, "status": "incomplete", "missing": [m["name"] for m in missing], "form": path,
            "received_at": iso(at)}


def refuse(db: Database, cfg: Config, procedure_code: str, applicant: Applicant, reason: str,
           at: datetime | None = None, *, render: bool = True, renderer=None) -> dict:
    """Refuse to receive a dossier (Mẫu 03); no code is consumed."""
    return _refuse(db, cfg, ReceiveRequest(procedure_code, applicant, at=at), reason, render=render,
                   renderer=renderer)


def _refuse(db: Database, cfg: Config, req: ReceiveRequest, reason: str, *, render: bool, renderer=None) -> dict:
    at, _pid, _proc, _rows, _missing, base = _prepare(db, cfg, req)
    reason = clean_field(reason, "Lý do từ chối (--reason)", "The reason (--reason)")
    if not reason:
        raise InvalidInput("Cần ghi rõ lý do từ chối (--reason).", "A refusal needs a reason (--reason).")
    officer = form_officer(cfg) if render else officer_name(cfg)
    path = _counter_form(db, cfg, "03", base, at, officer, render=render, reason=reason,
                         draw=lambda d, p: _draw(renderer, "render_refusal", d, reason, form_context(cfg), p,
                                                 officer=officer))
    return {"code": None, "status": "3", "reason": reason, "form": path, "received_at": iso(at)}

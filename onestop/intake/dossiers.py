"""Dossier service: receive, move through statuses, reschedule, look up.

Every change is one IMMEDIATE transaction that writes the dossier, an appended event (who, when,
unit, what, resulting status) and the outbox rows the nightly sync sends. History is never edited.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from onestop.intake import catalog
from onestop.domain import codes, states
from onestop.common.config import Config
from onestop.common.errors import AmbiguousCode, InvalidInput, NotFound, ReceiptNotPrinted, StorageError, TransitionRefused
from onestop.store import calendar as calendar_store
from onestop.store import catalog as catalog_store
from onestop.store import codes as code_store
from onestop.store import dossiers as store
from onestop.store import home
from onestop.store import transaction
from onestop.common.text import clean_field, nfc, printable
from onestop.domain.workdays import WorkCalendar, due_at

if TYPE_CHECKING:  # the SQLite module imports sqlite3, which an office command does not need
    from onestop.store.sqlite import Database


# ---------------------------------------------------------------- time and calendar

def tz(cfg: Config) -> ZoneInfo:
    return ZoneInfo(cfg.timezone)


def now(cfg: Config) -> datetime:
    """The current local time (seconds precision).

    ``ONESTOP_NOW`` ("YYYY-MM-DD HH:MM") pins the clock for tests and training sessions.
    """
    import os

    pinned = os.environ.get("ONESTOP_NOW")
    if pinned:
        return datetime.fromisoformat(pinned.replace(" ", "T")).replace(tzinfo=tz(cfg))
    return datetime.now(tz(cfg)).replace(microsecond=0)


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def parse_when(text: str, cfg: Config) -> datetime:
    """Parse a day with an optional time as local time (onestop/common/dates.py: "YYYY-MM-DD HH:MM",
    "dd/mm/yyyy HH:MM", a bare day at 08:00, or ISO with an offset); InvalidInput otherwise."""
    from datetime import time as time_

    from onestop.common.dates import parse_day_time

    got = parse_day_time(text)
    if got is not None:
        day, at = got
        return datetime.combine(day, at or time_(8, 0)).replace(tzinfo=tz(cfg))
    try:
        dt = datetime.fromisoformat((text or "").strip())
        return dt.astimezone(tz(cfg)) if dt.tzinfo else dt.replace(tzinfo=tz(cfg))
    except ValueError:
        pass
    raise InvalidInput(
        f"Thời điểm '{text}' không hợp lệ. Nhập dạng \"YYYY-MM-DD HH:MM\" hoặc \"dd/mm/yyyy HH:MM\", "
        f"ví dụ \"2026-11-23 09:30\" hoặc \"23/11/2026 09:30\".",
        f"Time '{text}' is invalid. Use \"YYYY-MM-DD HH:MM\" or \"dd/mm/yyyy HH:MM\", e.g. \"2026-11-23 09:30\".",
    )


_CAL_MEMO: dict[tuple, WorkCalendar] = {}


def calendar_for(db: Database, cfg: Config, years: range | list[int]) -> WorkCalendar:
    """The working-day calendar for ``years``, cached in the database per year and config version
    (building it imports the ``holidays`` package: ~0.15 s) and in memory for bulk work."""
    import hashlib

    cal_file = cfg.calendar_file
    try:
        st = cal_file.stat()
        memo_key = (str(cal_file), st.st_mtime_ns, st.st_size, tuple(years), cfg.sessions)
    except FileNotFoundError:
        memo_key = (str(cal_file), None, None, tuple(years), cfg.sessions)
    if memo_key in _CAL_MEMO:
        return _CAL_MEMO[memo_key]
    try:
        fp = hashlib.sha1(cal_file.read_bytes()).hexdigest()[:12]
    except FileNotFoundError:
        fp = "none"
    off: set[date] = set()
    make_up: set[date] = set()
    missing = []
    for y in years:
        cached = calendar_store.cached_year(db, f"{y}:{fp}")
        if cached:
            off.update(date.fromisoformat(d) for d in cached[0])
            make_up.update(date.fromisoformat(d) for d in cached[1])
        else:
            missing.append(y)
    if missing:
        from onestop.intake.calendar_source import load_calendar

        cal = load_calendar(missing, cal_file if cal_file.exists() else None)
        for y in missing:
            o = sorted(d.isoformat() for d in cal.off_days if d.year == y)
            m = sorted(d.isoformat() for d in cal.make_up_days if d.year == y)
            off.update(date.fromisoformat(d) for d in o)
            make_up.update(date.fromisoformat(d) for d in m)
            try:
                calendar_store.cache_year(db, f"{y}:{fp}", o, m)
            except Exception:  # a cache write must never fail a command (e.g. read-only db)
                pass
    cal = WorkCalendar(off_days=frozenset(off), make_up_days=frozenset(make_up), sessions=cfg.sessions)
    _CAL_MEMO[memo_key] = cal
    return cal


def compute_due(db: Database, cfg: Config, received: datetime, limit: float, unit: str, next_day_after_cutoff: bool) -> datetime:
    """Appointment time for a dossier received at ``received`` (DOMAIN.md §4)."""
    span = 1 + int(limit // 200) + (1 if unit == "months" else 0)
    cal = calendar_for(db, cfg, range(received.year, received.year + span + 1))
    return due_at(received, limit, unit, cal, next_day_after_cutoff=next_day_after_cutoff, cutoff=cfg.cutoff)


# ---------------------------------------------------------------- receiving

@dataclass
class Applicant:
    name: str
    id_number: str
    id_type: str | None = None
    phone: str = ""
    email: str = ""
    address: str = ""
    authorised_name: str = ""


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


def officer_name(cfg: Config) -> str:
    """Who acts, for the history: the configured officer, else the login name (never printed on a form)."""
    if cfg.officer:
        return cfg.officer
    try:
        return getpass.getuser()
    except Exception:
        return "officer"


def form_officer(cfg: Config) -> str:
    """The officer's name for a printed form; ConfigError (before anything is stored) when none is
    configured: a citizen must never get a form signed by a login name such as ``root``."""
    from onestop.common.errors import ConfigError

    name = nfc(cfg.officer or "").strip()
    if not name:
        raise ConfigError(
            "Chưa đặt tên cán bộ để in lên phiếu. Đặt [counter] officer = \"Họ và tên\" trong "
            f"{cfg.home / 'onestop.toml'} (hoặc config/onestop.toml), hoặc biến môi trường "
            "ONESTOP_OFFICER=\"Họ và tên\", hoặc tùy chọn --officer \"Họ và tên\"; rồi chạy lại. Chưa lưu gì.",
            "No officer name is set for printed forms. Set [counter] officer = \"Full Name\" in "
            f"{cfg.home / 'onestop.toml'} (or config/onestop.toml), or the environment variable "
            "ONESTOP_OFFICER=\"Full Name\", or the option --officer \"Full Name\"; then run again. Nothing was stored.",
        )
    return name


def _validate_applicant(a: Applicant, today_year: int, *, check_phone: bool = True):
    from onestop.domain.identifiers import InvalidId, normalize_phone, parse_id, parse_phone

    name = clean_field(a.name, "Họ tên người nộp (--name)", "The applicant's name (--name)")
    if not name:
        if a.name and a.name.strip():
            raise InvalidInput("Họ tên người nộp (--name) chỉ gồm ký tự vô hình (khoảng trắng độ rộng 0…). Nhập lại họ tên.",
                               "The applicant's name (--name) holds only invisible characters (zero-width spaces…). "
                               "Type the name again.")
        raise InvalidInput("Thiếu họ tên người nộp hồ sơ (--name).", "The applicant's name is missing (--name).")
    try:
        pid = parse_id(a.id_number, a.id_type, today_year=today_year)
    except InvalidId as e:
        raise InvalidInput(e.message_vi, e.message_en) from None
    email = clean_field(a.email, "Email", "The email")
    if email and ("@" not in email or " " in email):
        raise InvalidInput(f"Email '{email}' không hợp lệ.", f"Email '{email}' is invalid.")
    if check_phone:
        try:
            phone = parse_phone(a.phone)
        except InvalidId as e:
            raise InvalidInput(e.message_vi, e.message_en) from None
    else:
        phone = normalize_phone(a.phone)  # as stored before: a correction of another field keeps it
    return name, pid, phone, email


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


def _form_context(cfg: Config):
    from onestop.intake.forms import FormContext

    return FormContext(
        agency_name=cfg.get("agency.name", ""), parent_name=cfg.get("agency.parent", ""),
        unit_name=cfg.get("agency.unit_title", "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"),
        place=cfg.get("agency.place", ""), system_name=cfg.get("agency.system_name", "onestop"),
        head_title=cfg.get("agency.head_title", "THỦ TRƯỞNG CƠ QUAN"), head_name=cfg.get("agency.head_name", ""),
    )


def _form_path(cfg: Config, when: datetime, name: str, since: datetime | str | None = None) -> Path:
    """A new file for a form, in the month folder of ``when``. Printed forms are write-once: the
    first print of a form for a dossier is ``<code>_MauNN.pdf``; every later one (a corrected or
    reprinted receipt, a second request for papers, the slip after the next hand-over, a code issued
    again from a restored database) is the next free version ``<code>_MauNN_v2.pdf``, ``_v3``, …,
    looked for in every month folder from ``since`` (the dossier's receipt) to ``when``, so versions
    never repeat across months. A receipt's name carries its unique code, so two desks never pick
    the same (docs/output.md, "Form files")."""
    from onestop.common.files import ensure_private_dir

    folder = ensure_private_dir(cfg.forms_dir / f"{when:%Y%m}")
    folders = [folder]
    if since is not None:
        start = datetime.fromisoformat(since) if isinstance(since, str) else since
        y, m = start.year, start.month
        while (y, m) < (when.year, when.month):
            folders.append(cfg.forms_dir / f"{y:04d}{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    stem, suffix = Path(name).stem, Path(name).suffix
    version, candidate = 1, name
    while any((f / candidate).exists() for f in folders):
        version += 1
        candidate = f"{stem}_v{version}{suffix}"
    return folder / candidate


def form_version(path: str | Path) -> int:
    """The version of a form file named by ``_form_path`` (``…_Mau01.pdf`` 1, ``…_Mau01_v3.pdf`` 3)."""
    import re

    m = re.search(r"_v(\d+)$", Path(path).stem)
    return int(m[1]) if m else 1


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
    """Validate a request and compute its appointment date (no writes)."""
    at = _check_time(req.at or now(cfg), cfg)
    _check_numbers(req)
    name, pid, phone, email = _validate_applicant(req.applicant, at.year)
    if procs is not None and req.procedure_code in procs:
        proc = procs[req.procedure_code]
    else:
        proc = catalog.get(db, req.procedure_code)
        if procs is not None:
            procs[proc.code] = proc
    rows, missing, case = _select_components(proc, req)
    base = {
        "procedure_code": proc.code, "procedure_name": proc.name, "field_name": proc.field_name, "case_name": case,
        "applicant_name": name, "id_number": pid.number,
        "address": clean_field(req.applicant.address, "Địa chỉ (--address)", "The address (--address)"),
        "phone": phone, "email": email, "agency": cfg.agency_code,
    }
    return at, pid, proc, rows, missing, base


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
    failure leaves no gap and two counters never share a code. ``hw`` (onestop/store/home.py) lifts the
    counters above any code already issued from this home, e.g. after a backup was restored."""
    at, pid, proc, rows, _missing, base = prepared
    limit, unit = proc.limit_for(req.channel)
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
        fees=json.dumps(proc.fees, ensure_ascii=False), sets=req.sets, book_year=at.year,
        book_no=book_no, officer=officer, unit=cfg.unit, created_at=stamp, updated_at=stamp,
    )
    did = store.insert_dossier(db, dossier)
    store.insert_components(db, did, rows)
    ev = _event(db, did, iso(at), officer, cfg.unit, "receive", "Tiếp nhận hồ sơ", None, "2")
    store.queue_outbox_rows(db, did, [("create", None), ("step", ev)], stamp)
    if office:
        seq, book_no, code = code_store.number_dossier(db, did, agency, day, at.year, prefix, floors)
        if code != codes.format_code(agency, at.date(), seq, cfg.code_rule, owner):  # the SQL and Python formats agree
            raise RuntimeError(f"the office store built code {code!r} for sequence number {seq}")
        dossier.update(code=code, book_no=book_no)
    hw.note("seq", agency, day, seq)
    hw.note("book", agency, at.year, book_no)
    return dict(dossier, id=did, fees=proc.fees, components=rows,
                limit_description=_limit_description(proc, req.channel, limit))


def _limit_description(proc, channel, value) -> str:
    """The catalog row's wording of a 0 limit ("Trong ngày làm việc"), for the forms; "" otherwise."""
    if proc is None or float(value or 0) != 0:
        return ""
    lim = proc.limits.get(str(channel or "1")) or proc.limits.get("1") or next(iter(proc.limits.values()), {})
    return lim.get("description", "")


def _with_limit_description(db: Database, d: dict) -> dict:
    if float(d.get("limit_value") or 0) == 0:
        try:
            proc = catalog.get(db, d["procedure_code"])
        except NotFound:
            proc = None  # left the catalog: the usual same-day wording
        d["limit_description"] = _limit_description(proc, d.get("channel"), 0)
    return d


def _result(d: dict) -> dict:
    return {"code": d["code"], "status": "2", "received_at": d["received_at"], "due_at": d["due_at"],
            "receipt": d.get("receipt_path", ""), "procedure": d["procedure_code"], "book_no": d["book_no"]}


def receive(db: Database, cfg: Config, req: ReceiveRequest, *, render: bool = True, renderer=None) -> dict:
    """Register a dossier at the counter.

    Complete → status 2, a new dossier code, the appointment date and the receipt (Mẫu 01).
    Missing required components → no code is consumed; the guidance form (Mẫu 02) is written
    and ``{"status": "incomplete", ...}`` returned.
    """
    prepared = _prepare(db, cfg, req)
    at, _pid, _proc, _rows, missing, base = prepared
    officer = form_officer(cfg) if render else officer_name(cfg)
    if missing:
        return _guidance(db, cfg, base, missing, at, officer, render=render)
    _check_agency(cfg)
    duplicates = recent_duplicates(db, cfg, base["id_number"], base["procedure_code"], at)
    # The transaction holds the day's code counter row (and the year's book counter) from the
    # allocation to COMMIT, and every other desk of an office waits on it: nothing that can wait
    # for the commit runs inside it (P11). The order after it matters: the high-water mark is on
    # disk before any paper carries the code.
    hw, d = home.issuing(db, cfg, lambda hw: _insert(db, cfg, req, prepared, officer, iso(now(cfg)), hw))
    out = dict(_result(d), possible_duplicates=duplicates)
    try:
        hw.save()
        if render:
            d["receipt_path"] = out["receipt"] = str(_render_receipt(cfg, d, at, renderer, stored=True))
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


def _render_receipt(cfg: Config, dossier: dict, at: datetime, renderer=None, *, stored: bool = False) -> Path:
    """Write the receipt PDF; ``stored``: the dossier is already committed (the message must not say
    "nothing was stored")."""
    # A corrected or reprinted receipt is a new version (…_Mau01_v2.pdf): the one handed to the
    # citizen stays as printed.
    name = f"{dossier['code']}_Mau01.pdf"
    path = cfg.forms_dir / f"{at:%Y%m}" / name
    try:
        path = _form_path(cfg, at, name)  # inside: a forms folder that cannot be made is a storage error too
        if renderer is not None:
            return Path(renderer.render("render_receipt", dossier, _form_context(cfg), path))
        from onestop.intake.forms import render_receipt

        return render_receipt(dossier, _form_context(cfg), path)
    except OSError as e:
        if path.is_file():
            path.unlink()
        raise StorageError(
            f"Không ghi được giấy tiếp nhận {path}: {e}. "
            + ("Kiểm tra ổ đĩa." if stored else "Hồ sơ chưa được lưu; kiểm tra ổ đĩa rồi thử lại."),
            f"Cannot write the receipt {path}: {e}. "
            + ("Check the disk." if stored else "The dossier was not stored; check the disk and try again."),
        ) from e


def reprint_receipt(db: Database, cfg: Config, code: str) -> Path:
    """Render a dossier's receipt again (``onestop print``), e.g. after ``receive`` could not print it
    (ReceiptNotPrinted): a new file, the dossier keeps the first one it printed."""
    d = _with_limit_description(db, show(db, cfg, code))
    path = _render_receipt(cfg, d, datetime.fromisoformat(d["received_at"]), stored=True)
    if not d.get("receipt_path"):
        store.update_dossier(db, d["id"], {"receipt_path": str(path)})
    return path


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
            p = _form_path(cfg, at, f"Mau{form}_{at:%Y%m%d%H%M%S}_{form_id}.pdf")
            path = str(draw(dict(base, code="", received_at=iso(at), issued_at=iso(at)), p))
            store.set_counter_form_pdf(db, form_id, path)
    return path


def _guidance(db, cfg, base: dict, missing: list[dict], at: datetime, officer: str, *, render: bool) -> dict:
    from onestop.intake.forms import render_request_papers

    items = [{"name": m["name"], "reason": "Chưa nộp"} for m in missing]
    path = _counter_form(db, cfg, "02", base, at, officer, render=render, missing=items,
                         draw=lambda d, p: render_request_papers(d, items, _form_context(cfg), p, officer=officer))
    return {"code": None, "status": "incomplete", "missing": [m["name"] for m in missing], "form": path,
            "received_at": iso(at)}


def refuse(db: Database, cfg: Config, procedure_code: str, applicant: Applicant, reason: str,
           at: datetime | None = None, *, render: bool = True) -> dict:
    """Refuse to receive a dossier (Mẫu 03); no code is consumed."""
    from onestop.intake.forms import render_refusal

    at, _pid, _proc, _rows, _missing, base = _prepare(db, cfg, ReceiveRequest(procedure_code, applicant, at=at))
    reason = clean_field(reason, "Lý do từ chối (--reason)", "The reason (--reason)")
    if not reason:
        raise InvalidInput("Cần ghi rõ lý do từ chối (--reason).", "A refusal needs a reason (--reason).")
    officer = form_officer(cfg) if render else officer_name(cfg)
    path = _counter_form(db, cfg, "03", base, at, officer, render=render, reason=reason,
                         draw=lambda d, p: render_refusal(d, reason, _form_context(cfg), p, officer=officer))
    return {"code": None, "status": "3", "reason": reason, "form": path, "received_at": iso(at)}


# ---------------------------------------------------------------- events and outbox

def _event(db, dossier_id, at, officer, unit, action, note, status_from, status_to, data=None) -> int:
    """Append an event (onestop/store/dossiers.py); kept under this name for archive.py and the tests."""
    return store.add_event(db, dossier_id, at, officer, unit, action, note, status_from, status_to, data)


def _outbox(db, dossier_id, kind, ref_id, stamp) -> None:
    """Queue a sync entry (onestop/store/dossiers.py); kept under this name for archive.py and the tests."""
    store.queue_outbox(db, dossier_id, kind, ref_id, stamp)


# ---------------------------------------------------------------- lookup

def resolve_code(db: Database, cfg: Config, code: str) -> dict:
    """The dossier row for a full code, or a unique tail of one ("0007", "261122-0007")."""
    code = (code or "").strip()
    row = store.dossier_by_code(db, code)
    if row is None and code:
        tail = code if "-" in code else f"{now(cfg):%y%m%d}-{code.zfill(4)}" if code.isdigit() else code
        rows = store.dossiers_ending_with(db, tail, 2)
        if len(rows) == 1:
            row = rows[0]
    if row is None:
        raise NotFound(
            f"Không tìm thấy hồ sơ mã '{code}'. Kiểm tra lại mã trên giấy tiếp nhận, hoặc dùng 'onestop list --today'.",
            f"No dossier with code '{code}'. Check the code on the receipt, or use 'onestop list --today'.",
        )
    return row


def matching_dossiers(db: Database, cfg: Config, code: str, limit: int = 20) -> list[dict]:
    """Every dossier a code may mean: the full code, or all whose code ends with the tail given
    ("0007" on any day, "261122-0007"), newest first."""
    code = (code or "").strip()
    row = store.dossier_by_code(db, code)
    if row is not None or not code:
        return [row] if row else []
    tail = code.zfill(4) if code.isdigit() else code
    return store.dossiers_ending_with(db, tail, limit)


def resolve_for_change(db: Database, cfg: Config, code: str) -> dict:
    """The one dossier ``code`` names, for a command that changes it.

    Unlike :func:`resolve_code` (which reads a bare number as today's), a short code that matches
    several dossiers is refused with AmbiguousCode listing them: a change must never land on the
    wrong citizen's dossier.
    """
    rows = matching_dossiers(db, cfg, code)
    if len(rows) == 1:
        return rows[0]
    if not rows:
        return resolve_code(db, cfg, code)  # its NotFound message
    codes_ = [r["code"] for r in rows]
    listing = "; ".join(f"{r['code']} ({r['applicant_name']}, {r['received_at'][:10]})" for r in rows[:10])
    raise AmbiguousCode(
        f"Mã '{code}' khớp {len(rows)}{'+' if len(rows) >= 20 else ''} hồ sơ: {listing}. Nhập mã đầy đủ của hồ sơ cần sửa.",
        f"Code '{code}' matches {len(rows)}{'+' if len(rows) >= 20 else ''} dossiers: {listing}. Give the full code of the one meant.",
        candidates=codes_,
    )


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


def show(db: Database, cfg: Config, code: str) -> dict:
    """The dossier with its components and its full history."""
    d = resolve_code(db, cfg, code)
    d["fees"] = json.loads(d["fees"] or "[]")
    d["status_name"] = states.status_name(d["status"], "vi")
    d["components"] = [dict(r, received=bool(r["received"])) for r in store.components_of(db, d["id"])]
    from onestop.archive.digitization import add_component_fields

    add_component_fields(db, d)  # document number, date, issuer; pages needing a rescan
    d["events"] = store.events_of(db, d["id"])
    from onestop.store import results as result_store

    d["results"] = result_store.results_of(db, d["id"])  # result papers scanned (scan --result)
    return d


LIST_COLUMNS = ["code", "received_at", "procedure_code", "applicant_name", "status", "due_at", "officer"]


def list_dossiers(db: Database, cfg: Config, *, today: bool = False, status: str | None = None,
                  day: date | None = None, limit: int = 200) -> list[dict]:
    """The counter's dossiers, newest first (``limit`` 0: all)."""
    if not 0 <= int(limit) <= 10**9:
        raise InvalidInput(f"--limit phải từ 0 đến 1000000000, không phải {limit}.",
                           f"--limit must be 0 to 1000000000, not {limit}.")
    start = end = None
    if today or day:
        d = day or now(cfg).date()
        start, end = d.isoformat(), (d + timedelta(days=1)).isoformat()
    return store.list_dossiers(db, LIST_COLUMNS, start=start, end=end, status=status, limit=int(limit))


# ---------------------------------------------------------------- status changes

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
        store.update_dossier(db, d["id"], sets)
        ev = _event(db, d["id"], iso(when), officer, cfg.unit, f"status_{target}",
                    note or states.ACTIONS_VI.get(target, ""), d["status"], target, data)
        _outbox(db, d["id"], "update", None, stamp)
        _outbox(db, d["id"], "step", ev, stamp)
        if target == "5" and render:
            from onestop.intake.forms import render_request_papers

            full = show(db, cfg, d["code"])
            p = _form_path(cfg, when, f"{d['code']}_Mau02.pdf", d["received_at"])
            form = str(render_request_papers(full, missing or [{"name": note, "reason": ""}],
                                             _form_context(cfg), p, note=note, officer=officer,
                                             issued_at=iso(when)))
        if target == "4" and render:
            form = str(render_control_slip(db, cfg, d["code"], when, f"{d['code']}_Mau05.pdf"))
    out = {"code": d["code"], "status": target, "previous_status": d["status"], "at": iso(when),
           "status_name": states.status_name(target), "previous_status_name": states.status_name(d["status"]),
           "due_at": sets.get("due_at", d["due_at"]), "original_due_at": d["original_due_at"]}
    if form:
        out["form"] = form
    return out


def check_working_time(db: Database, cfg: Config, when: datetime) -> None:
    """InvalidInput unless ``when`` is in a working session of a working day (an appointment the
    citizen can keep)."""
    from onestop.domain.workdays import in_words

    cal = calendar_for(db, cfg, [when.year])
    if cal.is_working_time(when.date(), when.time().replace(tzinfo=None)):
        return
    sessions = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in cfg.sessions)
    day_off = not cal.is_working_day(when.date())
    raise InvalidInput(
        f"{in_words(when)} là {'ngày nghỉ' if day_off else 'ngoài giờ làm việc'}. "
        f"Chọn một ngày làm việc, trong giờ {sessions}.",
        f"{in_words(when, 'en')} is {'a day off' if day_off else 'outside working hours'}. "
        f"Pick a working day, within {sessions}.",
    )


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
        ev = _event(db, d["id"], iso(when), officer, cfg.unit, "reschedule", reason, d["status"], d["status"],
                    {"previous_due_at": d["due_at"], "new_due_at": iso(new_due)})
        _outbox(db, d["id"], "update", None, stamp)
        _outbox(db, d["id"], "step", ev, stamp)
        if render:
            from onestop.intake.forms import render_reschedule

            full = show(db, cfg, d["code"])
            p = _form_path(cfg, when, f"{d['code']}_Mau04.pdf", d["received_at"])
            form = str(render_reschedule(full, iso(new_due), reason, _form_context(cfg), p, officer=officer,
                                         previous_due_at=d["due_at"], issued_at=iso(when)))
    return {"code": d["code"], "due_at": iso(new_due), "previous_due_at": d["due_at"], "form": form}


# ---------------------------------------------------------------- Mẫu 05

HANDOVER_STATUSES = ("4", "5", "9", "10")  # moves that pass the papers from one unit to another


def _timeliness(at: str, due: str) -> str:
    """early / on_time / late of a hand-over against the appointment (by day: the same day is on time)."""
    a, d = datetime.fromisoformat(at), datetime.fromisoformat(due)
    if a.date() < d.date():
        return "early"
    return "on_time" if a <= d or a.date() == d.date() else "late"


def control_slip_rows(db: Database, cfg: Config, d: dict) -> list[dict]:
    """The hand-overs of a dossier for Mẫu 05, oldest first, from its history."""
    counter = cfg.get("agency.unit_title", "Bộ phận tiếp nhận và trả kết quả")
    counter = counter[:1].upper() + counter[1:].lower() if counter.isupper() else counter
    processing = cfg.get("agency.processing_unit", "") or "Cơ quan giải quyết hồ sơ"
    rows = []
    for e in store.status_events(db, d["id"], HANDOVER_STATUSES):
        st = e["status_to"]
        src, dst = {"4": (counter, processing), "5": (processing, counter), "9": (processing, counter),
                    "10": (counter, "Người nộp hồ sơ")}[st]
        due = e["data"].get("new_due_at") or d["due_at"]
        rows.append({"from": src, "to": dst, "at": e["at"], "giver": e["officer"] if st in ("4", "10") else "",
                     "receiver": e["officer"] if st in ("5", "9") else "",
                     "timeliness": _timeliness(e["at"], due), "note": e["note"] or ""})
    return rows


def render_control_slip(db: Database, cfg: Config, code: str, when: datetime, name: str) -> Path:
    """Write Mẫu 05 (Phiếu kiểm soát quá trình giải quyết hồ sơ) for a dossier, dated ``when``."""
    from onestop.intake.forms import render_control_slip as draw

    full = show(db, cfg, code)
    p = _form_path(cfg, when, name, full["received_at"])
    return draw(full, control_slip_rows(db, cfg, full), _form_context(cfg), p, issued_at=iso(when),
                processing_unit=cfg.get("agency.processing_unit", ""))


# ---------------------------------------------------------------- corrections

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
            name, pid, phone, _email = _validate_applicant(Applicant(
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
                full = _with_limit_description(db, show(db, cfg, code))
                receipt = _render_receipt(cfg, full, datetime.fromisoformat(full["received_at"]))
                store.update_dossier(db, d["id"], {"receipt_path": str(receipt)})
            data = {"changes": diff, "receipt_version": form_version(receipt) if render else None}
            _event(db, d["id"], iso(when), officer, cfg.unit, "amend", reason, d["status"], d["status"], data)
            _outbox(db, d["id"], "update", None, stamp)  # the full record again; not a processing step
    except BaseException:
        if receipt is not None:
            Path(receipt).unlink(missing_ok=True)
        raise
    return {"code": code, "changes": diff, "reason": reason, "officer": officer, "at": iso(when),
            "receipt": str(receipt or "")}


def mask_history(events: list[dict]) -> list[dict]:
    """Events with the ID and phone numbers inside corrections masked (for `show --mask`)."""
    from onestop.domain.identifiers import mask_id, mask_phone

    out = []
    for e in events:
        ch = (e.get("data") or {}).get("changes")
        if ch:
            masked = {k: ({"old": mask_id(v["old"]), "new": mask_id(v["new"])} if k == "id_number" else
                          {"old": mask_phone(v["old"]), "new": mask_phone(v["new"])} if k == "phone" else v)
                      for k, v in ch.items()}
            e = dict(e, data=dict(e["data"], changes=masked))
        out.append(e)
    return out


# A valid CCCD (Hà Nội, born 1985): lets one applicant field be checked alone with receive's own rules.
_PROBE_ID = "001085012345"


def check_applicant_field(field_: str, value: str, *, id_type: str | None = None, today_year: int) -> str:
    """Check one applicant field ("name", "id", "phone", "email", "address") exactly as receive will,
    so an interactive session can ask again at the prompt; returns the stored form. InvalidInput otherwise."""
    a = Applicant(name="A", id_number=_PROBE_ID, id_type="cccd")
    if field_ == "id":
        a.id_number, a.id_type = value, id_type
    elif field_ in ("name", "phone", "email", "address"):
        setattr(a, field_, value)
    else:
        raise ValueError(field_)
    name, pid, phone, email = _validate_applicant(a, today_year)
    return {"name": name, "id": pid.number, "phone": phone, "email": email, "address": nfc(value)}[field_]

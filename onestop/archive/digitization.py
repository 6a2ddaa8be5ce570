"""What a scan learns about its pages beyond their text: which pages must be scanned again
(quality.py) and the document number, date and issuer of the component (docnumbers.py).

``review`` runs after the OCR and before anything is stored: at a terminal the officer is asked
about hard-to-read pages while the citizen is still at the counter ("trang 3 khó đọc: quét lại?");
in scripts (or with --yes) the scan is stored, warned about and recorded as needing a rescan.
``record`` writes the verdicts in the scan's own transaction. SQL: onestop/store/digitization.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from onestop.archive import docnumbers, quality
from onestop.common.i18n import t

REASONS = {
    "low_confidence": ("độ tin cậy nhận dạng thấp", "low recognition confidence"),
    "unknown_words": ("nhiều chữ đọc ra không thành từ", "many words read are not words"),
    "empty": ("gần như không đọc được chữ nào", "almost no text could be read"),
}


@dataclass
class Review:
    pages: dict[int, quality.PageQuality] = field(default_factory=dict)   # OCRed pages only
    document: docnumbers.DocNumber | None = None                          # None: not looked for (scan --add)
    warnings: list[str] = field(default_factory=list)

    @property
    def rescan(self) -> list[int]:
        return [n for n, q in self.pages.items() if q.needs_rescan]


_AGENCIES: dict = {}
_LOCAL: dict = {}


def agencies(cfg) -> tuple[list[docnumbers.Agency], list[str]]:
    """config/agencies.toml (``[paths] agencies``), read once per process."""
    from onestop.common.config import _read_toml
    from onestop.common.errors import ConfigError

    path = cfg._config_file("agencies", "agencies.toml")
    if path not in _AGENCIES:
        try:
            data = _read_toml(path)
            _AGENCIES[path] = docnumbers.agencies_from(data)
            _LOCAL[path] = docnumbers.local_from(data)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"Tệp {path} không hợp lệ: {e}. Sửa tệp (abbr, from/until dạng YYYY-MM-DD) rồi chạy lại.",
                              f"{path} is invalid: {e}. Fix it (abbr, from/until as YYYY-MM-DD) and run again.") from e
    return _AGENCIES[path]


def local_families(cfg) -> tuple[str, ...]:
    """``[issuers] local`` of config/agencies.toml: prefixes of local agencies, kept as read (docnumbers)."""
    agencies(cfg)
    return _LOCAL[cfg._config_file("agencies", "agencies.toml")]


def _why(q: quality.PageQuality) -> str:
    parts = [t(*REASONS[r]) for r in q.reasons]
    if q.confidence is not None and "low_confidence" in q.reasons:
        parts[q.reasons.index("low_confidence")] += f" ({q.confidence:.0f}/100)"
    if q.dictionary is not None and "unknown_words" in q.reasons:
        parts[q.reasons.index("unknown_words")] += t(f" ({q.dictionary:.0%} là từ tiếng Việt)",
                                                     f" ({q.dictionary:.0%} Vietnamese words)")
    return ", ".join(parts)


def _pages(ns: list[int]) -> str:
    return ", ".join(str(n) for n in ns)


def review(results, cfg, *, first_part: bool, confirm: Callable[[str], bool] | None = None,
           yes: bool = False) -> Review:
    """Judge each OCRed page and read the document number on the first page; at a terminal ask
    whether to rescan hard-to-read pages (yes: Interrupted, nothing stored)."""
    from onestop.common.errors import Cancelled

    rv = Review()
    for r in results:
        if r.embedded is None:  # a PDF's own text layer is not OCR: nothing to judge
            rv.pages[r.n] = quality.assess(r.text, r.confidence)
    bad = rv.rescan
    if bad:
        detail = "; ".join(f"{t('trang', 'page')} {n}: {_why(rv.pages[n])}" for n in bad)
        if confirm is not None and not yes:
            many = len(bad) > 1
            q = t(f"Trang {_pages(bad)} khó đọc ({detail}): quét lại?",
                  f"Page{'s' if many else ''} {_pages(bad)} {'are' if many else 'is'} hard to read ({detail}): scan again?")
            if confirm(q):
                raise Cancelled(
                    f"Chưa lưu gì. Quét lại trang {_pages(bad)} (giấy phẳng, bản rõ hơn hoặc bản gốc, độ phân giải "
                    f"≥ 300 dpi) rồi chạy lại lệnh scan với đủ các trang.",
                    f"Nothing was stored. Scan page{'s' if many else ''} {_pages(bad)} again (flat, a clearer copy or "
                    f"the original, ≥ 300 dpi) and run scan again with every page.")
        rv.warnings.append(t(f"trang {_pages(bad)} khó đọc ({detail}): đã lưu và ghi nhận cần quét lại "
                             f"(onestop scan … --replace).",
                             f"page{'s' if len(bad) > 1 else ''} {_pages(bad)} hard to read ({detail}): stored and "
                             f"recorded as needing a rescan (onestop scan … --replace)."))
    if first_part and results:
        ags, extra = agencies(cfg)
        rv.document = docnumbers.read(results[0].text, ags, extra_types=extra, local=local_families(cfg))
        if rv.document.needs_check:
            rv.warnings.append(check_text(rv.document))
    return rv


def check_text(doc: docnumbers.DocNumber) -> str:
    """What the officer should verify about a number read with doubts."""
    if doc.candidates:
        return t(f"số ký hiệu đọc được '{doc.raw}' không rõ: có thể là {' hoặc '.join(doc.candidates)}; "
                 f"kiểm tra trên giấy.",
                 f"document number read as '{doc.raw}' is unclear: {' or '.join(doc.candidates)}; check the paper.")
    if "invalid_issuer_date" in doc.notes:
        return t(f"số ký hiệu {doc.number}: cơ quan {doc.issuer} không còn tên này vào ngày {doc.date}; kiểm tra "
                 f"số và ngày trên giấy.",
                 f"document number {doc.number}: agency {doc.issuer} did not exist under that name on {doc.date}; "
                 f"check the number and date on the paper.")
    return t(f"số ký hiệu {doc.number or doc.raw}: cơ quan ban hành không có trong config/agencies.toml; kiểm tra "
             f"trên giấy (hoặc thêm cơ quan vào danh sách).",
             f"document number {doc.number or doc.raw}: the issuer is not in config/agencies.toml; check the paper "
             f"(or add the agency to the list).")


def record(db, file_id: int, dossier_id: int, component: int, rv: Review) -> None:
    """Store the verdicts (inside the scan's transaction)."""
    from onestop.store import digitization as store

    for n, q in rv.pages.items():
        store.set_page_quality(db, file_id, n, words=q.words, dictionary=q.dictionary, quality=",".join(q.reasons),
                               needs_rescan=q.needs_rescan)
    if rv.document is not None:
        d = rv.document
        store.set_component_document(db, dossier_id, component, number=d.number,
                                     key=docnumbers.key(d.number) if d.number else None, day=d.date,
                                     issuer=d.issuer, check=check_text(d) if d.needs_check else "")


def public(rv: Review) -> dict:
    """The scan's JSON fields: pages to rescan and the document read."""
    d = rv.document
    return {"rescan": rv.rescan,
            "document": None if d is None else {k: v for k, v in d.public().items() if k != "notes"}}


def rescan_list(db, **kw) -> list[dict]:
    """Pages needing a rescan, each with a message that says what to do."""
    from onestop.store import digitization as store

    out = []
    for r in store.pages_to_rescan(db, **kw):
        why = [t(*REASONS[x]) for x in r["quality"].split(",") if x in REASONS]
        n = r["component"]
        # A result paper is stored as component -n: said and rescanned as "kết quả n" (scan --result).
        part_vi, part_en, opt = ((f"kết quả {-n}", f"result {-n}", f"--result --component {-n}") if n < 0
                                 else (f"thành phần {n}", f"component {n}", f"--component {n}"))
        msg = t(f"Hồ sơ {r['code']}, {part_vi}, trang {r['page']} khó đọc ({', '.join(why)}): "
                f"quét lại khi có giấy tờ: onestop scan {r['code']} {opt} --replace …",
                f"Dossier {r['code']}, {part_en}, page {r['page']} is hard to read ({', '.join(why)}): "
                f"rescan it when the paper is at hand: onestop scan {r['code']} {opt} --replace …")
        out.append({"code": r["code"], "status": r["status"], "component": r["component"], "part": r["part"],
                    "page": r["page"], "file_id": r["file_id"], "pdf": r["path"], "confidence": r["confidence"],
                    "dictionary": r["dictionary"], "reasons": [x for x in r["quality"].split(",") if x],
                    "procedure_code": r["procedure_code"], "field_code": r["field_code"], "officer": r["officer"],
                    "message": msg})
    return out


def number_hits(db, query: str, limit: int) -> list[dict]:
    """``search 1205/QĐ-BKHCN``: components whose stored document number is exactly that (folded)."""
    import re

    if not re.search(r"\d\s*/\s*\S", query or ""):
        return []
    from onestop.store import digitization as store

    hits = []
    for r in store.components_by_document_key(db, docnumbers.key(query), limit):
        snippet = " — ".join(x for x in (f"«{r['document_number']}»", r["document_date"], r["issuer"]) if x)
        hits.append({"kind": "component", "code": r["code"], "component": r["component"], "page": 1, "pdf": r["pdf"],
                     "applicant_name": r["applicant_name"], "score": None, "matched": "document_number",
                     "document_number": r["document_number"], "snippet": snippet})
    return hits


# ---------------------------------------------------------------- the officer's correction

DOCUMENT_FIELDS = ("document_number", "document_date", "issuer")


def _date(text: str, today) -> str:
    from onestop.common.dates import DAY_FORMATS_EN, DAY_FORMATS_VI, parse_day
    from onestop.common.errors import InvalidInput

    day = parse_day(text)
    if day is None:
        raise InvalidInput(f"Ngày văn bản '{text}' không hợp lệ: dùng {DAY_FORMATS_VI}.",
                           f"Document date '{text}' is invalid: use {DAY_FORMATS_EN}.")
    if day > today:
        raise InvalidInput(f"Ngày văn bản {day:%d/%m/%Y} ở sau hôm nay: kiểm tra ngày trên giấy (--document-date).",
                           f"Document date {day.isoformat()} is after today: check the date on the paper (--document-date).")
    return day.isoformat()


def _refuse_number(typed: str, doc: docnumbers.DocNumber | None, shown: str):
    """InvalidInput saying why a typed number is not taken and what to do."""
    from onestop.common.errors import InvalidInput

    hint_vi = ("Dạng đúng: SỐ/LOẠI-CƠ QUAN (1205/QĐ-BKHCN), SỐ/NĂM/LOẠI-CƠ QUAN (28/2023/NĐ-CP) hoặc công văn "
               "SỐ/CƠ QUAN-ĐƠN VỊ (318/BTTTT-KSTT); loại văn bản theo Phụ lục III NĐ 30/2020/NĐ-CP, cơ quan theo "
               "config/agencies.toml.")
    hint_en = ("Shapes: NUMBER/TYPE-ISSUER (1205/QĐ-BKHCN), NUMBER/YEAR/TYPE-ISSUER (28/2023/NĐ-CP) or a letter "
               "NUMBER/ISSUER-UNIT (318/BTTTT-KSTT); types from NĐ 30/2020/NĐ-CP Phụ lục III, agencies from "
               "config/agencies.toml.")
    if doc is None:
        return InvalidInput(f"Số ký hiệu '{shown}' không đúng dạng. {hint_vi}", f"Document number '{shown}' is malformed. {hint_en}")
    if doc.candidates:
        return InvalidInput(
            f"Số ký hiệu '{shown}' không rõ: có thể là {' hoặc '.join(doc.candidates)}. Nhập đúng số trên giấy; nếu "
            f"giấy ghi đúng như vậy, chạy lại với --as-printed (hoặc thêm cơ quan vào config/agencies.toml).",
            f"Document number '{shown}' is unclear: {' or '.join(doc.candidates)}. Type the number on the paper; if "
            f"the paper says so, run again with --as-printed (or add the agency to config/agencies.toml).")
    if doc.number and docnumbers.key(doc.number) != docnumbers.key(typed):
        return InvalidInput(
            f"Số ký hiệu '{shown}' có phần không có trong danh sách; có phải {doc.number}? Nhập đúng số trên giấy; "
            f"nếu giấy ghi đúng như vậy, chạy lại với --as-printed.",
            f"Document number '{shown}' has a part not in the lists; did you mean {doc.number}? Type the number on "
            f"the paper; if the paper says so, run again with --as-printed.")
    if "invalid_issuer_date" in doc.notes:
        return InvalidInput(
            f"Số ký hiệu {doc.number}: cơ quan {doc.issuer} không còn tên này vào ngày {doc.date}. Kiểm tra số và "
            f"ngày trên giấy (--document-date).",
            f"Document number {doc.number}: agency {doc.issuer} did not exist under that name on {doc.date}. Check "
            f"the number and the date on the paper (--document-date).")
    if "unknown_type" in doc.notes:
        return InvalidInput(f"Số ký hiệu '{shown}': loại văn bản hoặc cơ quan không có trong danh sách. {hint_vi} "
                            f"Nếu giấy ghi đúng như vậy, chạy lại với --as-printed.",
                            f"Document number '{shown}': the type or issuer is in no list. {hint_en} "
                            f"If the paper says so, run again with --as-printed.")
    return InvalidInput(
        f"Số ký hiệu '{shown}': cơ quan ban hành không có trong config/agencies.toml. Nhập đúng số trên giấy; nếu "
        f"giấy ghi đúng như vậy, chạy lại với --as-printed (hoặc thêm cơ quan vào config/agencies.toml).",
        f"Document number '{shown}': the issuer is not in config/agencies.toml. Type the number on the paper; if "
        f"the paper says so, run again with --as-printed (or add the agency to config/agencies.toml).")


def _printed_issuer(number: str, extra: list[str]) -> str | None:
    """The issuer part of a number stored as printed: after a known type (``59/GCN-BKHCM``), else first
    (a công văn, ``318/SKHCN-VP``); None when the number has no such part."""
    parts = number.rsplit("/", 1)[-1].split("-")
    types = {docnumbers.key(x) for x in [*docnumbers.ADMIN_TYPES, *docnumbers.LEGAL_TYPES, *extra]}
    if docnumbers.key(parts[0]) in types:
        return parts[1].upper() if len(parts) > 1 and parts[1] else None
    return parts[0].upper() if len(parts) > 1 and parts[0] else None


def amend_document(db, cfg, code: str, component: int, number: str, *, day: str | None = None,
                   issuer: str | None = None, reason: str | None = None, as_printed: bool = False) -> dict:
    """The officer sets, corrects or confirms a component's document number (and date, issuer).

    A new number is read with the very rules of a scan (docnumbers.parse): it must be number-shaped
    and its type and agency in the closed lists, valid on the document's date; only spelling is
    normalised (``1205/qd-bkhcn`` → ``1205/QĐ-BKHCN``), never a letter guessed. An issuer the table
    does not know, typed as printed, is stored with a warning; ``as_printed`` stores any number-shaped
    text as typed (the paper is the authority: a misprint is kept as printed). The number stored
    (folded the same way) is confirmed as read: the officer looked at the paper, so a reading the
    lists did not know is taken as it is. Either way the flag clears, the officer and time are
    stored, and one ``amend_document`` event keeps the old and new values.
    """
    from datetime import date

    from onestop.intake.applicants import officer_name
    from onestop.intake.changes import lock_for_change
    from onestop.intake.clock import iso, now
    from onestop.intake.lookup import resolve_for_change
    from onestop.store import dossiers as dossier_store
    from onestop.store.sqlite import transaction
    from onestop.common.errors import InvalidInput, NotFound
    from onestop.store import digitization as store
    from onestop.common.text import clean_field

    typed = clean_field(number, "Số ký hiệu (--document-number)", "The document number (--document-number)")
    if not typed:
        raise InvalidInput("Cần số ký hiệu (--document-number): số đọc được để xác nhận, hoặc số đúng trên giấy.",
                           "A document number is needed (--document-number): the one read, to confirm it, or the "
                           "right one from the paper.")
    issuer_typed = clean_field(issuer, "Cơ quan ban hành (--issuer)", "The issuer (--issuer)") if issuer else None
    reason = clean_field(reason, "Lý do (--reason)", "The reason (--reason)") if reason else ""
    when = now(cfg)
    new_day = _date(day, when.date()) if day else None
    officer = officer_name(cfg)
    seen = resolve_for_change(db, cfg, code)
    code = seen["code"]
    ags, extra = agencies(cfg)
    with transaction(db):
        d = lock_for_change(db, seen, ())
        row = store.component_document(db, d["id"], component)
        if row is None:
            raise NotFound(f"Hồ sơ {code} không có thành phần {component}. Xem các thành phần: onestop show {code}",
                           f"Dossier {code} has no component {component}. See its components: onestop show {code}")
        the_day = new_day or row["document_date"]
        confirming = bool(row["document_number"]) and docnumbers.key(typed) == row["document_key"]
        warnings = []
        if confirming:
            new = {"document_number": row["document_number"], "issuer": row["issuer"]}
        else:
            doc = docnumbers.parse(typed, ags, extra_types=extra, local=local_families(cfg),
                                   day=date.fromisoformat(the_day) if the_day else None)
            same = doc is not None and docnumbers.key(doc.number or "") == docnumbers.key(typed)
            # The paper is the authority: a local agency the table does not know (S…, UBND…), typed as
            # printed, is stored (with a warning); so is anything number-shaped stored --as-printed. An
            # unknown ministry-like word (BKHNC) is more likely a typo: refused, --as-printed named.
            unknown_only = same and set(doc.notes) <= {"unknown_issuer", "corrected"} and (
                "unknown_issuer" not in doc.notes or bool(docnumbers.local_family(doc.issuer or "", local_families(cfg))))
            if doc is not None and as_printed and not unknown_only:
                number_ = re.sub(r"\s*([/-])\s*", r"\1", docnumbers.clean(typed))
                issuer_ = doc.issuer if doc.issuer and docnumbers.key(doc.issuer) in docnumbers.key(number_) else \
                    _printed_issuer(number_, extra)
                new = {"document_number": number_, "issuer": issuer_}
                warnings.append(t(f"số ký hiệu {number_} được lưu như trên giấy (--as-printed), không theo danh sách.",
                                  f"document number {number_} stored as printed (--as-printed), not per the lists."))
            elif doc is None or (doc.needs_check and not unknown_only) or not same:
                raise _refuse_number(typed, doc, typed)
            else:
                new = {"document_number": doc.number, "issuer": doc.issuer}
                if "unknown_issuer" in doc.notes:
                    warnings.append(t(
                        f"cơ quan {doc.issuer or '?'} không có trong config/agencies.toml: số ký hiệu được lưu như "
                        f"trên giấy; thêm cơ quan vào danh sách để lần sau được nhận ra.",
                        f"issuer {doc.issuer or '?'} is not in config/agencies.toml: the number is stored as printed; "
                        f"add the agency to the list so that it is recognised next time."))
        if issuer_typed:
            local = local_families(cfg)
            known, close, _ = docnumbers.match_issuer(docnumbers.clean(issuer_typed), [a.abbr for a in ags], local)
            same = new["issuer"] and docnumbers.key(new["issuer"]) == docnumbers.key(issuer_typed)
            if new["issuer"] and not same:
                raise InvalidInput(
                    f"Cơ quan '{issuer_typed}' khác cơ quan trong số ký hiệu ({new['issuer']}). Bỏ --issuer, hoặc sửa số.",
                    f"Issuer '{issuer_typed}' differs from the one in the number ({new['issuer']}). Drop --issuer, "
                    f"or correct the number.")
            as_typed = docnumbers.clean(issuer_typed).upper()
            if not same and not known and not close and (as_printed or docnumbers.local_family(as_typed, local)):
                new["issuer"] = as_typed  # a local agency the table does not know: as printed, warned about
                warnings.append(t(
                    f"cơ quan {as_typed} không có trong config/agencies.toml: được lưu như trên giấy; thêm cơ quan "
                    f"vào danh sách để lần sau được nhận ra.",
                    f"issuer {as_typed} is not in config/agencies.toml: stored as printed; add the agency to the "
                    f"list so that it is recognised next time."))
            elif not same:
                if not known or docnumbers.key(known) != docnumbers.key(issuer_typed):
                    raise InvalidInput(
                        f"Cơ quan '{issuer_typed}' không có trong config/agencies.toml"
                        f"{'; có phải ' + ' hoặc '.join(close or [known]) + '?' if (close or known) else '.'} "
                        f"Nhập đúng tên viết tắt; nếu giấy ghi đúng như vậy, thêm vào config/agencies.toml.",
                        f"Issuer '{issuer_typed}' is not in config/agencies.toml"
                        f"{'; did you mean ' + ' or '.join(close or [known]) + '?' if (close or known) else '.'} "
                        f"Type its abbreviation; if the paper says so, add it to config/agencies.toml.")
                new["issuer"] = known
        new["document_date"] = the_day
        changes = {k: {"old": row[k], "new": new[k]} for k in DOCUMENT_FIELDS if row[k] != new[k]}
        if not changes and not row["document_check"] and row["document_confirmed_by"]:
            raise InvalidInput(
                f"Hồ sơ {code}, thành phần {component}: số ký hiệu {row['document_number']} đã được xác nhận "
                f"({row['document_confirmed_by']}); không có gì để sửa.",
                f"Dossier {code}, component {component}: document number {row['document_number']} was already "
                f"confirmed ({row['document_confirmed_by']}); nothing to change.")
        stamp = iso(when)
        store.confirm_component_document(db, d["id"], component, number=new["document_number"],
                                         key=docnumbers.key(new["document_number"]), day=new["document_date"],
                                         issuer=new["issuer"], officer=officer, at=stamp)
        data = {"component": component, "changes": changes, "confirmed": not changes,
                "document_check": row["document_check"]}
        # The history's notes are Vietnamese, whatever --lang (as digitize's); the reason is appended.
        what = (f"Sửa số ký hiệu thành phần {component}: {row['document_number'] or '(không đọc được)'} → "
                f"{new['document_number']}" if changes else
                f"Xác nhận số ký hiệu thành phần {component}: {new['document_number']}")
        note = f"{what}. {reason}" if reason else what
        dossier_store.add_event(db, d["id"], stamp, officer, cfg.unit, "amend_document", note, None, None, data)
    return {"code": code, "component": component, **new, "changes": changes, "confirmed": not changes,
            "cleared": row["document_check"], "reason": reason, "officer": officer, "at": stamp,
            "warnings": warnings}


def document_check_list(db) -> list[dict]:
    """``check``: components whose document number waits for the officer, each with what to do."""
    from onestop.store import digitization as store

    out = []
    for r in store.documents_to_check(db):
        fix = f"onestop amend {r['code']} --component {r['component']} --document-number \"…\""
        out.append({"code": r["code"], "status": r["status"], "component": r["component"],
                    "document_number": r["document_number"], "check": r["document_check"],
                    "message": t(f"Hồ sơ {r['code']}, thành phần {r['component']}: {r['document_check']} "
                                 f"Sửa hoặc xác nhận: {fix}",
                                 f"Dossier {r['code']}, component {r['component']}: {r['document_check']} "
                                 f"Correct or confirm: {fix}")})
    return out

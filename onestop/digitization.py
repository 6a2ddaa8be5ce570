"""What a scan learns about its pages beyond their text: which pages must be scanned again
(quality.py) and the document number, date and issuer of the component (docnumbers.py).

``review`` runs after the OCR and before anything is stored: at a terminal the officer is asked
about hard-to-read pages while the citizen is still at the counter ("trang 3 khó đọc: quét lại?");
in scripts (or with --yes) the scan is stored, warned about and recorded as needing a rescan.
``record`` writes the verdicts in the scan's own transaction. SQL: onestop/store/digitization.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from onestop import docnumbers, quality
from onestop.i18n import t

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


def agencies(cfg) -> tuple[list[docnumbers.Agency], list[str]]:
    """config/agencies.toml (``[paths] agencies``), read once per process."""
    from onestop.config import _read_toml
    from onestop.errors import ConfigError

    path = cfg._config_file("agencies", "agencies.toml")
    if path not in _AGENCIES:
        try:
            _AGENCIES[path] = docnumbers.agencies_from(_read_toml(path))
        except (ValueError, TypeError) as e:
            raise ConfigError(f"Tệp {path} không hợp lệ: {e}. Sửa tệp (abbr, from/until dạng YYYY-MM-DD) rồi chạy lại.",
                              f"{path} is invalid: {e}. Fix it (abbr, from/until as YYYY-MM-DD) and run again.") from e
    return _AGENCIES[path]


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
    from onestop.errors import Interrupted

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
                raise Interrupted(
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
        rv.document = docnumbers.read(results[0].text, ags, extra_types=extra)
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


def add_component_fields(db, dossier: dict) -> None:
    """``show``: each component's document_number, document_date, issuer, document_check, rescan_pages."""
    from onestop.store import digitization as store

    rows = {r["n"]: r for r in store.component_documents(db, dossier["id"])}
    for c in dossier["components"]:
        r = rows.get(c["n"], {})
        for k in ("document_number", "document_date", "issuer", "document_check"):
            c[k] = r.get(k) or (None if k != "document_check" else "")
        c["rescan_pages"] = r.get("rescan_pages", [])


def rescan_list(db, **kw) -> list[dict]:
    """Pages needing a rescan, each with a message that says what to do."""
    from onestop.store import digitization as store

    out = []
    for r in store.pages_to_rescan(db, **kw):
        why = [t(*REASONS[x]) for x in r["quality"].split(",") if x in REASONS]
        msg = t(f"Hồ sơ {r['code']}, thành phần {r['component']}, trang {r['page']} khó đọc ({', '.join(why)}): "
                f"quét lại khi có giấy tờ: onestop scan {r['code']} --component {r['component']} --replace …",
                f"Dossier {r['code']}, component {r['component']}, page {r['page']} is hard to read ({', '.join(why)}): "
                f"rescan it when the paper is at hand: onestop scan {r['code']} --component {r['component']} --replace …")
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

"""Reusing what is already digitized (issue 21, docs/reuse.md): an applicant's papers and results
archived in this office, which of them a new dossier's component may reuse, and the reuse recorded
with the dossier (inside receive's transaction).

A *paper* is one digitized component or result of an earlier dossier of exactly the same ID number
(never a similar name): its files, its date (the document's date read at scan, else the scan's),
its document number and its validity. Its reference, as ``papers`` prints it and ``receive --reuse``
takes it, is ``CODE/N`` (component N of dossier CODE) or ``CODE/KQN`` (result N).
Offered for a component of the new dossier: papers with the same component code, or with the same
document (type and number read at scan) as one of those, or with the same name where the catalog
gives no code; results whose MAKETQUA ``[reuse] results`` lists for that component code. A paper
past its validity (its expiry date, typed with ``papers --expiry`` or read from its text; else
``[reuse] valid_days`` for its code) is never offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from onestop.common.config import Config
from onestop.common.errors import InvalidInput, NotFound
from onestop.common.text import fold, printable
from onestop.store import reuse as store

PAPER, RESULT = "1", "2"  # DuocTaiSuDung
REUSED, REUSED_RESULT = 2, 3  # dossier_components.digitized (DOMAIN.md §6)
AUTO = "auto"


@dataclass
class Paper:
    ref: str                  # CODE/N or CODE/KQN
    kind: str                 # PAPER or RESULT
    dossier_id: int
    code: str
    n: int                    # component number, or result number for a result
    name: str
    component_code: str
    result_code: str
    document_number: str
    document_key: str
    day: str                  # YYYY-MM-DD: the document's date, else the scan's
    valid_until: str | None   # YYYY-MM-DD, None: no limit known
    expiry_source: str        # "typed" / "read" / "valid_days" / ""
    pages: int
    file_ids: list[int] = field(default_factory=list)

    def valid_on(self, day: date) -> bool:
        return self.valid_until is None or self.valid_until >= day.isoformat()

    def public(self, day: date) -> dict:
        return {"ref": self.ref, "kind": "result" if self.kind == RESULT else "paper", "code": self.code,
                "n": self.n, "name": self.name, "component_code": self.component_code,
                "result_code": self.result_code, "document_number": self.document_number, "date": self.day,
                "valid_until": self.valid_until, "expiry_source": self.expiry_source,
                "valid": self.valid_on(day), "pages": self.pages}


# "Có giá trị đến: 15/08/2031", "giá trị sử dụng đến ngày 15/08/2031", "Ngày hết hạn 15-08-2031",
# "Date of expiry 15/08/2031", folded (no diacritics, lower case) before matching.
_EXPIRY = re.compile(r"(?:co gia tri (?:den|toi)|gia tri su dung (?:den|toi)|het han|date of expiry|expiry date|"
                     r"valid until)\D{0,16}?(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")


def read_expiry(text: str) -> str | None:
    """The expiry date printed on a paper (YYYY-MM-DD), or None."""
    m = _EXPIRY.search(fold(text or ""))
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
    except ValueError:
        return None


def valid_days(cfg: Config, code: str) -> int | None:
    """``[reuse] valid_days`` for a component or result code ("*": every other code), or None."""
    table = cfg.get("reuse.valid_days", {}) or {}
    days = table.get(code, table.get("*")) if code else table.get("*")
    return None if days is None else int(days)


def papers(db, cfg: Config, id_number: str) -> list[Paper]:
    """Every digitized paper and result of this exact ID number in this office, newest first; a
    document scanned in several dossiers (same type and number read at scan) once, its newest scan."""
    if not id_number:
        return []
    rows = store.papers_of(db, id_number)
    groups: dict[tuple[int, int], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dossier_id"], r["component_n"]), []).append(r)
    texts = store.page_texts(db, [r["file_id"] for r in rows if not r["valid_until"]])
    out, seen = [], set()
    for (_did, cn), files in groups.items():
        files.sort(key=lambda r: (r["part"], r["file_id"]))
        f0 = files[0]
        result = cn < 0
        key = "" if result else (f0["document_key"] or "")
        if key:
            if key in seen:
                continue
            seen.add(key)
        code_of = f0["result_code"] if result else f0["component_code"]
        day = (f0["document_date"] or "")[:10] if not result else ""
        day = day or f0["created_at"][:10]
        until, source = f0["valid_until"], "typed" if f0["valid_until"] else ""
        if not until:
            until = next((d for d in (read_expiry(texts.get(f["file_id"], "")) for f in files) if d), None)
            source = "read" if until else ""
        if not until and valid_days(cfg, code_of or "") is not None:
            until = (date.fromisoformat(day) + timedelta(days=valid_days(cfg, code_of or ""))).isoformat()
            source = "valid_days"
        n = -cn if result else cn
        out.append(Paper(
            ref=f"{f0['code']}/KQ{n}" if result else f"{f0['code']}/{n}", kind=RESULT if result else PAPER,
            dossier_id=f0["dossier_id"], code=f0["code"], n=n,
            name=(f0["result_name"] if result else f0["component_name"]) or "", component_code=f0["component_code"] or "",
            result_code=f0["result_code"] or "", document_number=f0["document_number"] or "", document_key=key,
            day=day, valid_until=until, expiry_source=source, pages=sum(int(f["pages"] or 0) for f in files),
            file_ids=[f["file_id"] for f in files]))
    return out


def _matches(cfg: Config, comp, p: Paper, keys: set[str]) -> bool:
    if p.kind == RESULT:
        return bool(comp.code) and p.result_code in (cfg.get("reuse.results", {}) or {}).get(comp.code, [])
    if comp.code:
        return p.component_code == comp.code or (bool(p.document_key) and p.document_key in keys)
    return bool(p.name) and fold(p.name) == fold(comp.name)


def offers(db, cfg: Config, id_number: str, components, day: date, every: list[Paper] | None = None) -> dict[int, list[Paper]]:
    """For each component (catalog ``Component``s) the valid papers of the applicant that may stand
    for it, best first (a paper before a result, then newest); components without any are left out."""
    every = papers(db, cfg, id_number) if every is None else every
    valid = [p for p in every if p.valid_on(day)]
    out: dict[int, list[Paper]] = {}
    for c in components:
        keys = {p.document_key for p in valid if p.kind == PAPER and c.code and p.component_code == c.code and p.document_key}
        hits = [p for p in valid if _matches(cfg, c, p, keys)]
        if hits:
            out[c.n] = sorted(hits, key=lambda p: p.kind)  # stable: newest first within a kind
    return out


def parse_option(values: list[str]) -> dict[int, str]:
    """``receive --reuse`` values: ``N=CODE/M``, ``N=CODE/KQM``, ``N=auto`` or ``auto`` (every
    component that has an offer; key 0). InvalidInput for anything else."""
    out: dict[int, str] = {}
    for v in values:
        text = (v or "").strip()
        if text.lower() == AUTO:
            out[0] = AUTO
            continue
        k, sep, ref = text.partition("=")
        if not sep or not k.strip().isdecimal() or not ref.strip() or int(k) < 1:
            raise InvalidInput(
                f"--reuse '{printable(text)}' cần dạng N=MÃHỒSƠ/M (thành phần M của hồ sơ đã nhận), N=MÃHỒSƠ/KQM "
                "(kết quả M), N=auto, hoặc auto. Xem 'onestop papers SỐ-GIẤY-TỜ'.",
                f"--reuse '{printable(text)}' must be N=CODE/M (component M of an earlier dossier), N=CODE/KQM "
                "(its result M), N=auto, or auto. See 'onestop papers ID-NUMBER'.")
        out[int(k)] = AUTO if ref.strip().lower() == AUTO else ref.strip()
    return out


def resolve(db, cfg: Config, id_number: str, components, picks: dict[int, str], day: date) -> dict[int, Paper]:
    """The paper each picked component reuses. ``components``: the catalog components of the case
    received. ``auto`` takes the first offer (a component without one is left as it is, unless it was
    named: then InvalidInput). A reference that is not a paper of this ID number: NotFound (another
    person's paper is never reused); a paper past its validity: InvalidInput."""
    if not picks:
        return {}
    every = papers(db, cfg, id_number)
    by_n = {c.n: c for c in components}
    offered = offers(db, cfg, id_number, components, day, every)
    out: dict[int, Paper] = {}
    if picks.get(0) == AUTO:
        out.update({n: ps[0] for n, ps in offered.items()})
    by_ref = {p.ref.casefold(): p for p in every}
    for n, ref in picks.items():
        if n == 0:
            continue
        if n not in by_n:
            raise InvalidInput(f"--reuse: thủ tục không có thành phần số {n} (trong trường hợp đã chọn).",
                               f"--reuse: the procedure has no component number {n} (in the case chosen).")
        if ref == AUTO:
            if n not in offered:
                raise NotFound(
                    f"Không có giấy tờ còn hiệu lực đã số hóa của người nộp này cho thành phần {n} ({by_n[n].name}). "
                    "Nhận bản giấy và quét.",
                    f"This applicant has no valid digitized paper for component {n} ({by_n[n].name}). "
                    "Take the paper and scan it.")
            out[n] = offered[n][0]
            continue
        p = by_ref.get(ref.casefold())
        if p is None:
            raise NotFound(
                f"'{printable(ref)}' không phải giấy tờ đã số hóa của người nộp này (số giấy tờ phải trùng khớp). "
                "Xem 'onestop papers SỐ-GIẤY-TỜ'.",
                f"'{printable(ref)}' is not a digitized paper of this applicant (the ID number must match exactly). "
                "See 'onestop papers ID-NUMBER'.")
        if not p.valid_on(day):
            raise InvalidInput(
                f"Giấy tờ {p.ref} ({p.name}) đã hết hiệu lực ngày {p.valid_until}: không dùng lại được. Nhận bản mới và quét.",
                f"Paper {p.ref} ({p.name}) expired on {p.valid_until}: it cannot be reused. Take a new one and scan it.")
        out[n] = p
    return out


def record(db, dossier_id: int, plan: dict[int, Paper], at: str, officer: str, unit: str) -> None:
    """Inside receive's transaction: each picked component points to its paper's files (no copy),
    marked reused (2, or 3 for a result), an event says so, and an outbox "file" entry per file lets
    the sync make sure the server holds it (uploaded once, by the earlier dossier) before the record
    points to it."""
    from onestop.store import dossiers as dstore

    for n, p in sorted(plan.items()):
        rows = [{"file_id": fid, "source_dossier_id": p.dossier_id, "source_n": -p.n if p.kind == RESULT else p.n,
                 "kind": p.kind, "result_code": p.result_code if p.kind == RESULT else "", "at": at,
                 "officer": officer} for fid in p.file_ids]
        store.record_reuse(db, dossier_id, n, rows, REUSED_RESULT if p.kind == RESULT else REUSED, p.pages)
        dstore.add_event(db, dossier_id, at, officer, unit, "reuse",
                         f"Thành phần {n}: dùng lại giấy tờ đã số hóa {p.ref}", None, None,
                         {"component": n, "source": p.ref, "kind": p.kind, "file_ids": p.file_ids})
        dstore.queue_outbox_rows(db, dossier_id, [("file", fid) for fid in p.file_ids], at)


def set_expiry(db, cfg: Config, id_number: str, ref: str, until: date | None) -> Paper:
    """Type a paper's expiry date (None clears it): kept on its files."""
    from onestop.store import transaction

    p = next((p for p in papers(db, cfg, id_number) if p.ref.casefold() == ref.strip().casefold()), None)
    if p is None:
        raise NotFound(f"'{printable(ref)}' không phải giấy tờ đã số hóa của người này. Xem 'onestop papers SỐ-GIẤY-TỜ'.",
                       f"'{printable(ref)}' is not a digitized paper of this person. See 'onestop papers ID-NUMBER'.")
    with transaction(db):
        store.set_valid_until(db, p.file_ids, until.isoformat() if until else None)
    return p

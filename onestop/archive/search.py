"""Full-text search over OCR text and dossier fields: what an officer typed → ranked hits with snippets.

Text is NFC-normalised and folded by ``onestop.common.text.fold`` before it enters the index (diacritics
dropped, and đ/Đ → d, which Unicode cannot decompose), and queries are folded the same way, so
"dang ky" finds "Đăng ký". The index holds the folded text; snippets are cut from the original text
so they keep their diacritics, with matches between « and », after ID and phone numbers are masked.

The index and its queries are ``onestop.store.search``, for either backend (``db.dialect``): SQLite's
FTS5 table ranked by bm25, or PostgreSQL's ``tsvector`` with a GIN index ranked by ``ts_rank``
(folded body and ``tsquery``: ``onestop.store.pg_search``); the same hits, the same order class. Pages are indexed by the scan that stores them (same transaction);
dossier fields are picked up lazily, on the next search, from ``dossiers.updated_at`` (indexed), so
the counter's write path stays untouched.
"""

from __future__ import annotations

import re
from functools import lru_cache

from onestop.store.sqlite import Database
from onestop.store import search as store
# The index operations are the store's (both backends); re-exported as this module's API (archive, tests, bench).
from onestop.store.search import DOSSIER_FIELDS, fts_query, index_page, unindex_pages  # noqa: F401
from onestop.common.text import fold, nfc

_WORD = re.compile(r"\w+", re.UNICODE)


def refresh_dossiers(db: Database) -> int:
    """Index dossiers created or changed since the last search; returns how many."""
    try:
        return store.refresh_dossiers(db)
    except Exception:  # a read-only or busy database still answers from the existing index
        return 0


@lru_cache(maxsize=65536)
def _fold_word(w: str) -> str:
    return fold(w)


def snippet(text: str, terms: set[str], width: int = 14) -> str:
    """About ``width`` words of ``text`` around the densest match, matches wrapped in « »."""
    words = list(_WORD.finditer(text))
    if not words:
        return ""
    hits = [i for i, w in enumerate(words) if _fold_word(w.group()) in terms]
    if not hits:
        start = 0
    else:
        best = max(hits, key=lambda i: sum(1 for j in hits if i <= j < i + width))
        start = max(0, best - width // 3)
    end = min(len(words), start + width)
    a, b = words[start].start(), words[end - 1].end()
    out, pos = [], a
    for i in range(start, end):
        w = words[i]
        out.append(text[pos:w.start()])
        out.append(f"«{w.group()}»" if i in hits else w.group())
        pos = w.end()
    s = " ".join("".join(out).split())
    return ("… " if a > 0 else "") + s + (" …" if b < len(text.rstrip()) else "")


_NUMBER = re.compile(r"^\+?[\d\s.\-]{8,20}$")


def personal_number(query: str) -> str | None:
    """The digits of ``query`` when it is an ID (9 or 12 digits, a tax code) or a phone number; else None."""
    q = nfc(query or "").strip()
    if not _NUMBER.match(q):
        return None
    digits = re.sub(r"[\s.\-]", "", q)
    return digits if 8 <= len(digits.lstrip("+")) <= 15 else None


def find_by_personal_number(db: Database, number: str, *, show_personal: bool = False, limit: int = 20) -> list[dict]:
    """Dossiers whose ID number or phone is ``number`` (a citizen without the receipt), newest first.

    Exact matches on the stored fields, not the full-text index: ID and phone numbers are never
    indexed. The numbers are masked in the hits unless ``show_personal``.
    """
    from onestop.common.dates import show_day
    from onestop.domain.masking import mask_id, mask_phone

    phones = {number}
    bare = number.lstrip("+")
    if bare.startswith("84") and len(bare) >= 11:
        phones.add("0" + bare[2:])
    elif bare.startswith("0"):
        phones.update({"84" + bare[1:], "+84" + bare[1:]})
    rows = store.dossiers_by_personal_number(db, {number, bare}, phones, limit)
    hits = []
    for r in rows:
        code, name, proc, id_number, phone, received, by_id = (
            r["code"], r["applicant_name"], r["procedure_name"], r["id_number"], r["phone"], r["received_at"], r["by_id"])
        shown_id = id_number if show_personal else mask_id(id_number)
        shown_phone = phone if show_personal else mask_phone(phone or "")
        matched = f"«{shown_id}»" if by_id else f"«{shown_phone}»"
        other = shown_phone if by_id else shown_id
        snippet = " — ".join(x for x in (matched, other, proc, show_day(received)) if x)
        hits.append({"kind": "dossier", "code": code, "component": None, "result": None, "page": None, "pdf": None,
                     "applicant_name": name, "score": 1.0, "matched": "id_number" if by_id else "phone",
                     "snippet": snippet})
    return hits



def search(db: Database, query: str, *, limit: int = 20, show_personal: bool = False) -> list[dict]:
    """Ranked hits (best first): pages of the archive and dossiers, with highlighted snippets.
    ID and phone numbers in the snippets are masked unless ``show_personal``."""
    from onestop.domain.masking import mask_numbers_in_text

    keep = (lambda s: s) if show_personal else mask_numbers_in_text
    from onestop.archive.digitization import number_hits

    exact = number_hits(db, query, limit)  # a document number (1205/QĐ-BKHCN) stored exactly: first
    terms = set(_WORD.findall(fold(query)))
    if not terms:  # nothing to search for (fts_query would be empty): no refresh either
        return exact
    refresh_dossiers(db)
    rows = store.matches(db, query, limit)
    pages = store.pages_by_id(db, [r["id"] for r in rows if r["kind"] == "page"])
    fields = store.dossier_fields(db, [r["dossier_id"] for r in rows if r["kind"] != "page"])
    hits = []
    for m in rows:
        score = round(m["score"], 6)
        if m["kind"] == "page":
            p = pages.get(m["id"])
            if not p:
                continue
            hits.append({"kind": "page", "code": p["code"], "component": p["component"], "page": p["page"],
                         "pdf": p["pdf"], "applicant_name": p["applicant_name"], "score": score,
                         "snippet": snippet(keep(p["text"]), terms)})
        else:
            d = fields.get(m["dossier_id"])
            if not d:
                continue
            text = " — ".join(str(d[k]) for k in ("applicant_name", "procedure_name", "summary", "address") if d[k])
            hits.append({"kind": "dossier", "code": d["code"], "component": None, "page": None, "pdf": None,
                         "applicant_name": d["applicant_name"], "score": score,
                         "snippet": snippet(keep(text), terms, width=20)})
    return [_part(h) for h in (exact + hits)[:limit]]


def _part(hit: dict) -> dict:
    """A hit's paper as the officer names it: ``component`` n, or ``result`` n for a result paper
    (stored as component -n, docs/output.md); the other field is null."""
    n = hit.get("component")
    if n is not None and n < 0:
        return dict(hit, component=None, result=-n)
    return dict(hit, result=None)

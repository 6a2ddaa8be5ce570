"""Full-text search over OCR text and dossier fields (SQLite FTS5).

Text is NFC-normalised and folded by ``onestop.text.fold`` before it enters the index (diacritics
dropped, and đ/Đ → d, which Unicode cannot decompose), and queries are folded the same way, so
"dang ky" finds "Đăng ký". The index holds the folded text; snippets are cut from the original text
so they keep their diacritics, with matches between « and ».

Index rows: rowid = archive_pages.id for a page, -dossiers.id for a dossier's own fields. Pages are
indexed by the scan that stores them (same transaction); dossier fields are picked up lazily, on
the next search, from ``dossiers.updated_at`` (indexed), so the counter's write path stays untouched.
"""

from __future__ import annotations

import re
from functools import lru_cache

from onestop.db import Database

from onestop.text import fold, nfc

_WORD = re.compile(r"\w+", re.UNICODE)
DOSSIER_FIELDS = ("code", "applicant_name", "procedure_code", "procedure_name", "summary", "address")


def index_page(db: Database, page_id: int, dossier_id: int, text: str) -> None:
    db.conn.execute("INSERT INTO search_fts (rowid, body, kind, dossier_id) VALUES (?, ?, 'page', ?)",
                    [page_id, fold(nfc(text)), dossier_id])


def unindex_pages(db: Database, page_ids: list[int]) -> None:
    db.conn.executemany("DELETE FROM search_fts WHERE rowid = ?", [(i,) for i in page_ids])


def refresh_dossiers(db: Database) -> int:
    """Index dossiers created or changed since the last search; returns how many."""
    row = db.conn.execute("SELECT value FROM search_state WHERE key = 'dossiers'").fetchone()
    stamp, last_id = (row[0].rsplit("|", 1) if row else ("", "0"))
    cols = ", ".join(DOSSIER_FIELDS)
    rows = db.conn.execute(
        f"SELECT id, updated_at, {cols} FROM dossiers WHERE updated_at > ? OR (updated_at = ? AND id > ?) "
        f"ORDER BY updated_at, id", [stamp, stamp, int(last_id)]).fetchall()
    if not rows:
        return 0
    from onestop.db import transaction

    try:
        with transaction(db):
            db.conn.executemany("DELETE FROM search_fts WHERE rowid = ?", [(-r[0],) for r in rows])
            db.conn.executemany(
                "INSERT INTO search_fts (rowid, body, kind, dossier_id) VALUES (?, ?, 'dossier', ?)",
                [(-r[0], fold(nfc(" ".join(str(v or "") for v in r[2:]))), r[0]) for r in rows])
            db.conn.execute("INSERT OR REPLACE INTO search_state (key, value) VALUES ('dossiers', ?)",
                            [f"{rows[-1][1]}|{rows[-1][0]}"])
    except Exception:  # a read-only or busy database still answers from the existing index
        return 0
    return len(rows)


def fts_query(query: str) -> str:
    """The FTS5 MATCH expression for what an officer typed: folded words, all required;
    text in double quotes is a phrase."""
    parts = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', nfc(query)):
        words = _WORD.findall(fold(m.group(1) if m.group(1) is not None else m.group(2)))
        if not words:
            continue
        if m.group(1) is not None or len(words) > 1:  # "a-b.c" stays a phrase, like a dossier code
            parts.append('"' + " ".join(words) + '"')
        else:
            parts.append('"' + words[0] + '"')
    return " ".join(parts)


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
    from onestop.identifiers import mask_id, mask_phone

    phones = {number}
    bare = number.lstrip("+")
    if bare.startswith("84") and len(bare) >= 11:
        phones.add("0" + bare[2:])
    elif bare.startswith("0"):
        phones.update({"84" + bare[1:], "+84" + bare[1:]})
    ids = {number, bare}
    marks_p = ", ".join("?" * len(phones))
    marks_i = ", ".join("?" * len(ids))
    rows = db.conn.execute(
        f"SELECT code, applicant_name, procedure_name, id_number, phone, received_at, "
        f"id_number IN ({marks_i}) AS by_id FROM dossiers "
        f"WHERE id_number IN ({marks_i}) OR phone IN ({marks_p}) ORDER BY received_at DESC, id DESC LIMIT ?",
        [*ids, *ids, *phones, limit]).fetchall()
    hits = []
    for code, name, proc, id_number, phone, received, by_id in rows:
        shown_id = id_number if show_personal else mask_id(id_number)
        shown_phone = phone if show_personal else mask_phone(phone or "")
        matched = f"«{shown_id}»" if by_id else f"«{shown_phone}»"
        other = shown_phone if by_id else shown_id
        snippet = " — ".join(x for x in (matched, other, proc, received[:10]) if x)
        hits.append({"kind": "dossier", "code": code, "component": None, "page": None, "pdf": None,
                     "applicant_name": name, "score": 1.0, "matched": "id_number" if by_id else "phone",
                     "snippet": snippet})
    return hits



# An ID or phone number in OCR text: 9 to 13 digits, possibly in space-separated groups; not a
# piece of a dossier code ("261122-0001") or of a longer token.
_PERSONAL_NUMBER = re.compile(r"(?<![\w\-])\+?\d(?:[ ]?\d){8,12}(?![\w\-])")


def mask_numbers(text: str) -> str:
    """ID and phone numbers in free text with all but their last 3 digits masked."""
    def repl(m):
        digits = [i for i, ch in enumerate(m.group()) if ch.isdigit()]
        keep = set(digits[-3:])
        return "".join("*" if ch.isdigit() and i not in keep else ch for i, ch in enumerate(m.group()))

    return _PERSONAL_NUMBER.sub(repl, text)


def search(db: Database, query: str, *, limit: int = 20, show_personal: bool = False) -> list[dict]:
    """Ranked hits (best first): pages of the archive and dossiers, with highlighted snippets.
    ID and phone numbers in the snippets are masked unless ``show_personal``."""
    keep = (lambda s: s) if show_personal else mask_numbers
    from onestop.digitization import number_hits

    exact = number_hits(db, query, limit)  # a document number (1205/QĐ-BKHCN) stored exactly: first
    q = fts_query(query)
    if not q:
        return exact
    refresh_dossiers(db)
    terms = set(_WORD.findall(fold(query)))
    rows = db.conn.execute(
        "SELECT rowid, kind, dossier_id, bm25(search_fts) AS score FROM search_fts WHERE search_fts MATCH ? "
        "ORDER BY score LIMIT ?", [q, limit]).fetchall()
    page_ids = [r[0] for r in rows if r[1] == "page"]
    pages = {}
    if page_ids:
        pages = {r[0]: r[1:] for r in db.conn.execute(
            "SELECT p.id, d.code, f.component_n, p.n, f.path, p.text, d.applicant_name FROM archive_pages p "
            "JOIN archive_files f ON f.id = p.file_id JOIN dossiers d ON d.id = f.dossier_id "
            f"WHERE p.id IN ({', '.join('?' * len(page_ids))})", page_ids)}
    hits = []
    for rowid, kind, dossier_id, score in rows:
        if kind == "page":
            r = pages.get(rowid)
            if not r:
                continue
            hits.append({"kind": "page", "code": r[0], "component": r[1], "page": r[2], "pdf": r[3],
                         "applicant_name": r[5], "score": round(-score, 6), "snippet": snippet(keep(r[4]), terms)})
        else:
            r = db.conn.execute(f"SELECT {', '.join(DOSSIER_FIELDS)} FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
            if not r:
                continue
            d = dict(zip(DOSSIER_FIELDS, r))
            text = " — ".join(str(d[k]) for k in ("applicant_name", "procedure_name", "summary", "address") if d[k])
            hits.append({"kind": "dossier", "code": d["code"], "component": None, "page": None, "pdf": None,
                         "applicant_name": d["applicant_name"], "score": round(-score, 6),
                         "snippet": snippet(keep(text), terms, width=20)})
    return (exact + hits)[:limit]

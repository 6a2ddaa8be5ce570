"""Search on PostgreSQL with the semantics of the SQLite FTS5 search (onestop/search.py).

The same folding (``onestop.text.fold``: diacritics and đ/Đ) is done in Python before a text enters
``search_docs.body`` and before a query becomes a ``tsquery``, so both backends fold identically;
the body holds only the folded words, joined by spaces, so PostgreSQL's 'simple' parser tokenises it
the way FTS5's unicode61 did. Words are all required; quoted text (or a word with inner
punctuation, like a dossier code) is a phrase (``<->``). Ranking is ``ts_rank`` (term frequency,
normalised by document length) where SQLite uses bm25: the same order class (more matches first),
not the same numbers. Hits and snippets have the same shape as ``search.search``.
"""

from __future__ import annotations

import re

from onestop.search import DOSSIER_FIELDS, snippet
from onestop.text import fold, nfc

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str | None) -> list[str]:
    """The folded words of ``text`` as FTS5's unicode61 tokenizer splits them."""
    return _WORD.findall(fold(nfc(text)))


def body(text: str | None) -> str:
    return " ".join(words(text))


def tsquery(query: str) -> str:
    """The ``to_tsquery('simple', …)`` text for what an officer typed ('' when nothing to search).
    Words are [^\\W_]+ after folding, so they need no quoting beyond the lexeme quotes."""
    parts = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', nfc(query)):
        ws = words(m.group(1) if m.group(1) is not None else m.group(2))
        if ws:
            parts.append("(" + " <-> ".join(f"'{w}'" for w in ws) + ")" if len(ws) > 1 else f"'{ws[0]}'")
    return " & ".join(parts)


def index_page(store, page_id: int, dossier_id: int, text: str) -> None:
    store.execute("INSERT INTO search_docs (id, kind, dossier_id, body) VALUES (?, 'page', ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET body = excluded.body", [page_id, dossier_id, body(text)])


def unindex_pages(store, page_ids: list[int]) -> None:
    store.execute("DELETE FROM search_docs WHERE id = ANY(?)", [list(page_ids)])


def refresh_dossiers(store) -> int:
    """Index dossiers created or changed since the last search (as on SQLite); returns how many."""
    row = store.execute("SELECT value FROM search_state WHERE key = 'dossiers'").fetchone()
    stamp, last_id = (row[0].rsplit("|", 1) if row else ("", "0"))
    cols = ", ".join(DOSSIER_FIELDS)
    rows = store.execute(
        f"SELECT id, updated_at, {cols} FROM dossiers WHERE updated_at > ? OR (updated_at = ? AND id > ?) "
        "ORDER BY updated_at, id", [stamp, stamp, int(last_id)]).fetchall()
    if not rows:
        return 0
    with store.transaction():
        store.executemany(
            "INSERT INTO search_docs (id, kind, dossier_id, body) VALUES (?, 'dossier', ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            [(-r[0], r[0], body(" ".join(str(v or "") for v in r[2:]))) for r in rows])
        store.execute("INSERT INTO search_state (key, value) VALUES ('dossiers', ?) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [f"{rows[-1][1]}|{rows[-1][0]}"])
    return len(rows)


def search(store, query: str, *, limit: int = 20) -> list[dict]:
    """Ranked hits (best first), the same dicts as ``onestop.search.search``."""
    q = tsquery(query)
    if not q:
        return []
    refresh_dossiers(store)
    terms = set(words(query))
    # ts_rank normalisation 1: divide by 1 + log(length), as bm25 favours the shorter of two equal matches.
    rows = store.execute(
        "SELECT id, kind, dossier_id, ts_rank(tsv, q, 1) AS score FROM search_docs, to_tsquery('simple', ?) q "
        "WHERE tsv @@ q ORDER BY score DESC, id LIMIT ?", [q, limit]).fetchall()
    page_ids = [r[0] for r in rows if r[1] == "page"]
    pages = {}
    if page_ids:
        pages = {r[0]: r[1:] for r in store.execute(
            "SELECT p.id, d.code, f.component_n, p.n, f.path, p.text, d.applicant_name FROM archive_pages p "
            "JOIN archive_files f ON f.id = p.file_id JOIN dossiers d ON d.id = f.dossier_id "
            "WHERE p.id = ANY(?)", [page_ids]).fetchall()}
    dossier_ids = [r[2] for r in rows if r[1] == "dossier"]
    dossiers = {}
    if dossier_ids:
        dossiers = {r["id"]: r for r in store.query(
            f"SELECT id, {', '.join(DOSSIER_FIELDS)} FROM dossiers WHERE id = ANY(?)", [dossier_ids])}
    hits = []
    for rowid, kind, dossier_id, score in rows:
        if kind == "page":
            r = pages.get(rowid)
            if not r:
                continue
            hits.append({"kind": "page", "code": r[0], "component": r[1], "page": r[2], "pdf": r[3],
                         "applicant_name": r[5], "score": round(float(score), 6), "snippet": snippet(r[4], terms)})
        else:
            d = dossiers.get(dossier_id)
            if not d:
                continue
            text = " — ".join(str(d[k]) for k in ("applicant_name", "procedure_name", "summary", "address") if d[k])
            hits.append({"kind": "dossier", "code": d["code"], "component": None, "page": None, "pdf": None,
                         "applicant_name": d["applicant_name"], "score": round(float(score), 6),
                         "snippet": snippet(text, terms, width=20)})
    return hits

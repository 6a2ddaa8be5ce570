"""The full-text index and the look-ups behind ``onestop search``, on both backends.

SQLite: the FTS5 table ``search_fts`` (unicode61, bm25). PostgreSQL: the table ``search_docs``
with a generated ``tsvector`` ('simple', no stemming) and a GIN index (``ts_rank``); its text
helpers (the folded ``body`` and the ``tsquery``) are ``onestop.store.pg_search``. Each operation
branches on ``db.dialect`` with both SQL texts side by side. Text is folded (``onestop.text.fold``)
in Python before it enters either index and before it becomes a query, so diacritics and đ/Đ fold
identically. Index rows: id (rowid) = archive_pages.id for a page, -dossiers.id for a dossier's own
fields (picked up lazily from ``dossiers.updated_at`` by ``refresh_dossiers``).
"""

from __future__ import annotations

import re

from onestop.text import fold, nfc

_WORD = re.compile(r"\w+", re.UNICODE)
DOSSIER_FIELDS = ("code", "applicant_name", "procedure_code", "procedure_name", "summary", "address")


def fts_query(query: str) -> str:
    """The FTS5 MATCH expression for what an officer typed: folded words, all required;
    text in double quotes is a phrase (PostgreSQL's counterpart: ``pg_search.tsquery``)."""
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


def _pg(db) -> bool:
    return db.dialect == "postgresql"


def index_page(db, page_id: int, dossier_id: int, text: str) -> None:
    """Index one archive page's OCR text (in the caller's transaction)."""
    if _pg(db):
        from onestop.store.pg_search import body

        db.execute("INSERT INTO search_docs (id, kind, dossier_id, body) VALUES (?, 'page', ?, ?) "
                   "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, dossier_id = excluded.dossier_id, "
                   "body = excluded.body", [page_id, dossier_id, body(text)])
    else:
        db.execute("INSERT INTO search_fts (rowid, body, kind, dossier_id) VALUES (?, ?, 'page', ?)",
                   [page_id, fold(nfc(text)), dossier_id])


def unindex_pages(db, page_ids: list[int]) -> None:
    """Drop archive pages from the index (a replaced scan)."""
    ids = list(page_ids)
    if not ids:
        return
    if _pg(db):
        db.execute("DELETE FROM search_docs WHERE id = ANY(?)", [ids])
    else:
        for i in ids:  # FTS5 deletes by rowid one at a time
            db.execute("DELETE FROM search_fts WHERE rowid = ?", [i])


def refresh_dossiers(db) -> int:
    """Index dossiers created or changed since the last refresh; returns how many."""
    from onestop.db import transaction

    row = db.execute("SELECT value FROM search_state WHERE key = 'dossiers'").fetchone()
    stamp, last_id = (row[0].rsplit("|", 1) if row else ("", "0"))
    cols = ", ".join(DOSSIER_FIELDS)
    rows = db.execute(
        f"SELECT id, updated_at, {cols} FROM dossiers WHERE updated_at > ? OR (updated_at = ? AND id > ?) "
        f"ORDER BY updated_at, id", [stamp, stamp, int(last_id)]).fetchall()
    if not rows:
        return 0
    state = f"{rows[-1][1]}|{rows[-1][0]}"
    with transaction(db):
        # The first search after a bulk import indexes every dossier: one prepared statement does it fastest.
        if _pg(db):
            from onestop.store.pg_search import body

            db.executemany(
                "INSERT INTO search_docs (id, kind, dossier_id, body) VALUES (?, 'dossier', ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                [(-r[0], r[0], body(" ".join(str(v or "") for v in r[2:]))) for r in rows])
            db.execute("INSERT INTO search_state (key, value) VALUES ('dossiers', ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [state])
        else:
            db.executemany("DELETE FROM search_fts WHERE rowid = ?", [(-r[0],) for r in rows])
            db.executemany(
                "INSERT INTO search_fts (rowid, body, kind, dossier_id) VALUES (?, ?, 'dossier', ?)",
                [(-r[0], fold(nfc(" ".join(str(v or "") for v in r[2:]))), r[0]) for r in rows])
            db.execute("INSERT OR REPLACE INTO search_state (key, value) VALUES ('dossiers', ?)", [state])
    return len(rows)


def matches(db, query: str, limit: int) -> list[dict]:
    """Index rows matching what an officer typed, best first: ``{"id", "kind", "dossier_id", "score"}``
    with ``score`` higher for a better match. Ties: dossiers (negative ids) before pages, lower id first."""
    if _pg(db):
        from onestop.store.pg_search import tsquery

        q = tsquery(query)
        if not q:
            return []
        # ts_rank (term frequency; normalisation 1 divides by 1 + log(length), as bm25 favours the shorter
        # of two equal matches) where FTS5 uses bm25: the same order class, not the same numbers.
        rows = db.execute(
            "SELECT id, kind, dossier_id, ts_rank(tsv, q, 1) AS score FROM search_docs, to_tsquery('simple', ?) q "
            "WHERE tsv @@ q ORDER BY score DESC, id LIMIT ?", [q, limit]).fetchall()
        return [{"id": r[0], "kind": r[1], "dossier_id": r[2], "score": float(r[3])} for r in rows]
    q = fts_query(query)
    if not q:
        return []
    rows = db.execute("SELECT rowid, kind, dossier_id, bm25(search_fts) AS score FROM search_fts "
                      "WHERE search_fts MATCH ? ORDER BY score, rowid LIMIT ?", [q, limit]).fetchall()
    return [{"id": r[0], "kind": r[1], "dossier_id": r[2], "score": -r[3]} for r in rows]


def pages_by_id(db, page_ids: list[int]) -> dict[int, dict]:
    """Archive pages with their dossier code, component, PDF path, OCR text and applicant, by page id."""
    if not page_ids:
        return {}
    rows = db.execute(
        "SELECT p.id, d.code, f.component_n, p.n, f.path, p.text, d.applicant_name FROM archive_pages p "
        "JOIN archive_files f ON f.id = p.file_id JOIN dossiers d ON d.id = f.dossier_id "
        f"WHERE p.id IN ({', '.join('?' * len(page_ids))})", list(page_ids)).fetchall()
    return {r[0]: {"code": r[1], "component": r[2], "page": r[3], "pdf": r[4], "text": r[5],
                   "applicant_name": r[6]} for r in rows}


def dossier_fields(db, dossier_ids: list[int]) -> dict[int, dict]:
    """The indexed fields (``DOSSIER_FIELDS``) of dossiers, by dossier id."""
    if not dossier_ids:
        return {}
    rows = db.execute(f"SELECT id, {', '.join(DOSSIER_FIELDS)} FROM dossiers "
                      f"WHERE id IN ({', '.join('?' * len(dossier_ids))})", list(dossier_ids)).fetchall()
    return {r[0]: dict(zip(DOSSIER_FIELDS, r[1:])) for r in rows}


def dossiers_by_personal_number(db, id_numbers: set[str], phones: set[str], limit: int) -> list[dict]:
    """Dossiers whose ID number is one of ``id_numbers`` or whose phone is one of ``phones``, newest
    first, with ``by_id`` true when the ID number matched."""
    ids, ph = sorted(id_numbers), sorted(phones)
    marks_i, marks_p = ", ".join("?" * len(ids)), ", ".join("?" * len(ph))
    return list(db.query(
        f"SELECT code, applicant_name, procedure_name, id_number, phone, received_at, "
        f"id_number IN ({marks_i}) AS by_id FROM dossiers "
        f"WHERE id_number IN ({marks_i}) OR phone IN ({marks_p}) ORDER BY received_at DESC, id DESC LIMIT ?",
        [*ids, *ids, *ph, limit]))

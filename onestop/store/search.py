"""The full-text index and the look-ups behind ``onestop search``, on both backends.

SQLite: the FTS5 table ``search_fts`` (unicode61, bm25). PostgreSQL: the table ``search_docs``
with a generated ``tsvector`` ('simple', no stemming) and a GIN index (``ts_rank``); its text
helpers (the folded ``body`` and the ``tsquery``) are ``onestop.store.pg_search``. Each operation
branches on ``db.dialect`` with both SQL texts side by side. Text is folded (``onestop.common.text.fold``)
in Python before it enters either index and before it becomes a query, so diacritics and đ/Đ fold
identically. Index rows: id (rowid) = archive_pages.id for a page, -dossiers.id for a dossier's own
fields (picked up lazily from ``dossiers.updated_at`` by ``refresh_dossiers``).
"""

from __future__ import annotations

import re

from onestop.common.text import fold, nfc

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

        b = body(text)
        _pg_replace(db, [(page_id, "page", dossier_id, b)])
    else:
        db.execute("INSERT INTO search_fts (rowid, body, kind, dossier_id) VALUES (?, ?, 'page', ?)",
                   [page_id, fold(nfc(text)), dossier_id])


def unindex_pages(db, page_ids: list[int]) -> None:
    """Drop archive pages from the index (a replaced scan)."""
    ids = list(page_ids)
    if not ids:
        return
    if _pg(db):
        gone = db.execute(f"DELETE FROM search_docs WHERE id = ANY(?) RETURNING {_PG_WORDS}", [ids]).fetchall()
        _pg_bump(db, -len(gone), -sum(r[0] for r in gone))
    else:
        for i in ids:  # FTS5 deletes by rowid one at a time
            db.execute("DELETE FROM search_fts WHERE rowid = ?", [i])


def _changed_dossiers(db) -> list:
    row = db.execute("SELECT value FROM search_state WHERE key = 'dossiers'").fetchone()
    stamp, last_id = (row[0].rsplit("|", 1) if row else ("", "0"))
    cols = ", ".join(DOSSIER_FIELDS)
    return db.execute(
        f"SELECT id, updated_at, {cols} FROM dossiers WHERE updated_at > ? OR (updated_at = ? AND id > ?) "
        f"ORDER BY updated_at, id", [stamp, stamp, int(last_id)]).fetchall()


def refresh_dossiers(db) -> int:
    """Index dossiers created or changed since the last refresh; returns how many."""
    rows = _changed_dossiers(db)  # read first: nothing changed (the common case) takes no write lock
    if not rows:
        return 0
    with db.transaction():
        if _pg(db):
            # Desks refresh one at a time (the SQLite write lock does the same), so two searches at
            # once do not index the same dossiers twice; the second finds the work done.
            from onestop.store.postgres import wait_without_timeout

            wait_without_timeout(db)  # the first refresh after a bulk import indexes every dossier
            db.execute("SELECT pg_advisory_xact_lock(?, ?)", [_LOCK_NS, _LOCK_REFRESH])
            rows = _changed_dossiers(db)
            if not rows:
                return 0
        state = f"{rows[-1][1]}|{rows[-1][0]}"
        # The first search after a bulk import indexes every dossier: one prepared statement does it fastest.
        if _pg(db):
            from onestop.store.pg_search import body

            _pg_replace(db, [(-r[0], "dossier", r[0], body(" ".join(str(v or "") for v in r[2:]))) for r in rows])
            db.execute("INSERT INTO search_state (key, value) VALUES ('dossiers', ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [state])
        else:
            db.executemany("DELETE FROM search_fts WHERE rowid = ?", [(-r[0],) for r in rows])
            db.executemany(
                "INSERT INTO search_fts (rowid, body, kind, dossier_id) VALUES (?, ?, 'dossier', ?)",
                [(-r[0], fold(nfc(" ".join(str(v or "") for v in r[2:]))), r[0]) for r in rows])
            db.execute("INSERT OR REPLACE INTO search_state (key, value) VALUES ('dossiers', ?)", [state])
    return len(rows)


# ---------------------------------------------------------------- PostgreSQL: bm25 as FTS5 computes it
#
# FTS5's bm25 needs the number of indexed rows and their mean length in words; FTS5 keeps both in
# its own tables. On PostgreSQL they are the search_state row 'bm25' ("rows words"), kept exact by
# the same transactions that change search_docs (and counted from the table when missing, e.g.
# after `db migrate-to`). A row's length in words is counted from its body (words joined by single
# spaces), and a term's frequency by counting its occurrences there: plain string functions, no
# extra column, no Python scan.

_LOCK_NS, _LOCK_REFRESH = 0x0E5709, 3  # postgres._NS; 1 and 2 are the migration and sync locks
_PG_WORDS = "octet_length(body) - octet_length(replace(body, ' ', '')) + (body <> '')::int"
_K1, _B = 1.2, 0.75  # FTS5's bm25 constants


def _pg_replace(db, docs: list[tuple[int, str, int, str]]) -> None:
    """Put ``(id, kind, dossier_id, body)`` rows in search_docs (replacing those ids) and keep the totals."""
    ids = [d[0] for d in docs]
    gone = db.execute(f"DELETE FROM search_docs WHERE id = ANY(?) RETURNING {_PG_WORDS}", [ids]).fetchall()
    db.executemany("INSERT INTO search_docs (id, kind, dossier_id, body) VALUES (?, ?, ?, ?)", docs)
    added = sum(len(d[3].split()) for d in docs)
    _pg_bump(db, len(docs) - len(gone), added - sum(r[0] for r in gone))


def _pg_bump(db, rows: int, words: int) -> None:
    if rows or words:
        db.execute("UPDATE search_state SET value = (split_part(value, ' ', 1)::bigint + ?)::text || ' ' || "
                   "(split_part(value, ' ', 2)::bigint + ?)::text WHERE key = 'bm25'", [rows, words])


def _pg_totals(db) -> tuple[int, int]:
    row = db.execute("SELECT value FROM search_state WHERE key = 'bm25'").fetchone()
    if row is None:  # not counted yet (a new or migrated office): once, from the table
        db.execute(f"INSERT INTO search_state (key, value) SELECT 'bm25', count(*)::text || ' ' || "
                   f"coalesce(sum({_PG_WORDS}), 0)::text FROM search_docs ON CONFLICT (key) DO NOTHING")
        row = db.execute("SELECT value FROM search_state WHERE key = 'bm25'").fetchone()
    n, words = (int(x) for x in row[0].split())
    return n, words


def _pg_matches(db, query: str, limit: int) -> list[dict]:
    """bm25 over search_docs: the formula, constants and idf floor of FTS5's bm25()."""
    import math

    from onestop.store.pg_search import phrases

    parts = phrases(query)
    if not parts:
        return []
    tsq = [" <-> ".join(f"'{w}'" for w in p) for p in parts]
    q = " & ".join(f"({t})" for t in tsq)
    n, total = _pg_totals(db)
    avgdl = (total / n) if n else 1.0
    # Rows holding each phrase (the GIN index answers; one pass for all of them).
    counts = db.execute(
        "SELECT " + ", ".join("count(*) FILTER (WHERE tsv @@ to_tsquery('simple', ?))" for _ in tsq)
        + " FROM search_docs WHERE tsv @@ to_tsquery('simple', ?)", [*tsq, " | ".join(f"({t})" for t in tsq)]).fetchone()
    idf = []
    for df in counts:
        x = math.log((n - df + 0.5) / (df + 0.5)) if n else 0.0
        idf.append(x if x > 0 else 1e-6)
    # Occurrences of a phrase: in ' ' || body with every space doubled || ' ', each word stands
    # between its own two spaces, so ' w1  w2 ' counts the phrase without partial-word hits.
    terms, params = [], []
    for i, w in enumerate(idf):
        terms.append(f"?::float8 * tf{i} * {_K1 + 1} / (tf{i} + {_K1} * ({1 - _B} + {_B} * dl / ?::float8))")
        params += [w, avgdl]
    pats = [" " + "  ".join(p) + " " for p in parts]
    tfs = ", ".join(f"(octet_length(s) - octet_length(replace(s, ?, ''))) / ?::float8 AS tf{i}"
                    for i in range(len(parts)))
    tf_params = [x for pat in pats for x in (pat, len(pat.encode()))]
    # Each row's doubled body is built once (OFFSET 0 keeps the subquery from being inlined into
    # every use) and only the numbers are kept (MATERIALIZED) for the score and the sort.
    rows = db.execute(
        f"WITH t AS MATERIALIZED (SELECT d.id, d.kind, d.dossier_id, x.dl, {tfs} FROM search_docs d, "
        f"LATERAL (SELECT ' ' || replace(d.body, ' ', '  ') || ' ' AS s, "
        f"({_PG_WORDS.replace('body', 'd.body')})::float8 AS dl OFFSET 0) x "
        f"WHERE d.tsv @@ to_tsquery('simple', ?)) "
        f"SELECT id, kind, dossier_id, {' + '.join(terms)} AS score FROM t ORDER BY score DESC, id LIMIT ?",
        [*tf_params, q, *params, limit]).fetchall()
    return [{"id": r[0], "kind": r[1], "dossier_id": r[2], "score": float(r[3])} for r in rows]


def matches(db, query: str, limit: int) -> list[dict]:
    """Index rows matching what an officer typed, best first: ``{"id", "kind", "dossier_id", "score"}``
    with ``score`` the bm25 score (higher is better). Ties: dossiers (negative ids) first, then lower ids."""
    if _pg(db):
        return _pg_matches(db, query, limit)  # tsvector @@ tsquery on the GIN index, bm25 as FTS5
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

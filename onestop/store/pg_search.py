"""Search on PostgreSQL: the text helpers behind ``search_docs``. The SQL of both backends is in
``onestop.store.search``, side by side, picked by ``db.dialect``.

The same folding (``onestop.common.text.fold``: diacritics and đ/Đ) is done in Python before a text enters
``search_docs.body`` and before a query becomes a ``tsquery``, so both backends fold identically;
the body holds only the folded words, joined by spaces, so PostgreSQL's 'simple' parser tokenises it
the way FTS5's unicode61 did. Words are all required; quoted text (or a word with inner
punctuation, like a dossier code) is a phrase (``<->``). Ranking is ``ts_rank`` (term frequency,
normalised by document length) where SQLite uses bm25: the same order class (more matches first),
not the same numbers.

A leaf: it imports only ``onestop.common.text``; ``onestop.store.search`` (the SQL) imports it, and the
search itself (ranked hits, snippets) is ``onestop.archive.search``, on either backend.
"""

from __future__ import annotations

import re

from onestop.common.text import fold, nfc

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str | None) -> list[str]:
    """The folded words of ``text`` as FTS5's unicode61 tokenizer splits them."""
    return _WORD.findall(fold(nfc(text)))


def body(text: str | None) -> str:
    """What ``search_docs.body`` holds for ``text``: its folded words joined by single spaces."""
    return " ".join(words(text))


def phrases(query: str) -> list[list[str]]:
    """What an officer typed as a list of phrases (each a list of folded words), all required: a
    quoted text, or a word with inner punctuation like a dossier code, is one phrase."""
    out = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', nfc(query)):
        ws = words(m.group(1) if m.group(1) is not None else m.group(2))
        if ws:
            out.append(ws)
    return out


def tsquery(query: str) -> str:
    """The ``to_tsquery('simple', …)`` text for what an officer typed ('' when nothing to search).
    Words are [^\\W_]+ after folding, so they need no quoting beyond the lexeme quotes."""
    return " & ".join("(" + " <-> ".join(f"'{w}'" for w in ws) + ")" if len(ws) > 1 else f"'{ws[0]}'"
                      for ws in phrases(query))


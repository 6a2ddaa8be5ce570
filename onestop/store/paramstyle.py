"""The store's ``?`` placeholders (SQLite's qmark paramstyle) in psycopg's ``%s`` (format) style.

The store writes every statement once, with ``?``; on PostgreSQL the connection adapts the
placeholders, as Django's database backends adapt paramstyles between drivers. Only that: each
``?`` outside a string literal, quoted identifier or comment becomes ``%s``, and each ``%`` becomes
``%%`` (psycopg reads ``%`` as the start of a placeholder everywhere, literals included). Nothing
else is rewritten; SQL that PostgreSQL does not accept stays SQL that PostgreSQL does not accept.

Not supported (neither occurs in SQL written for both dialects): SQLite's numbered/named
placeholders (``?1``, ``:name``), PostgreSQL's ``E'…'`` escape strings, dollar quoting and its
jsonb ``?`` operators. No driver import here.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=2048)
def qmark_to_format(sql: str) -> str:
    """``sql`` with ``?`` placeholders turned into ``%s`` and literal ``%`` escaped as ``%%``."""
    if "?" not in sql and "%" not in sql:
        return sql
    out = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            # A literal or quoted identifier: copied as is, but for '%'. A doubled quote ('it''s')
            # closes and reopens, which copies the same text.
            j = sql.find(c, i + 1)
            j = n if j < 0 else j + 1
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            # Copy the run of ordinary characters in one go.
            j = i + 1
            while j < n and sql[j] not in "'\"-/?%":
                j += 1
            out.append(sql[i:j])
            i = j
    return "".join(out)

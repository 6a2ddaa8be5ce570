"""One place writes SQL (issue 9): no SQL text in onestop's modules outside the store.

Every statement lives in ``onestop/store/`` behind a named operation (docs/design.md); the SQLite
edge (``onestop/store/sqlite.py``: connection, backup; ``onestop/store/sqlite_schema.py``: the schema) is the store's
too. Only string constants are looked at (through ``ast``), so comments and docstrings that talk
about SQL are fine, and an f-string or a ``+`` chain is read as one text with ``…`` for its holes.
Keywords are matched in capitals, as onestop writes SQL, so English messages ("Select a procedure
from the list", "update the calendar, set …") are not taken for SQL.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "onestop"
ALLOWED = {"db.py", "migrations.py"}  # relative to onestop/; and everything under store/

SQL = re.compile(
    r"\bSELECT\b[\s\S]*?\bFROM\b"
    r"|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b"
    r"|\bUPDATE\s+[\w\"]+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(?:UNIQUE\s+|VIRTUAL\s+|TEMP\s+|TEMPORARY\s+)?(?:TABLE|INDEX)\b"
)


def _text(node: ast.AST) -> str | None:
    """The text of a string expression (constant, f-string, ``+`` of strings), holes as ``…``."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else "…") + (right if right is not None else "…")
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            out.add(id(node.value))  # a bare string statement (docstring) is never executed
    return out


def sql_strings(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of each string expression in ``source`` that holds a SQL statement."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found, inner = [], set()
    for node in ast.walk(tree):  # outermost first: a + chain is read whole, not its parts again
        if id(node) in inner or id(node) in skip:
            continue
        text = _text(node)
        if text is None:
            continue
        for sub in ast.walk(node):
            inner.add(id(sub))
        if SQL.search(text):
            found.append((node.lineno, " ".join(text.split())[:90]))
    return found


def offenders() -> list[str]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "store" or str(rel) in ALLOWED:
            continue
        for line, text in sql_strings(path.read_text(encoding="utf-8")):
            out.append(f"onestop/{rel}:{line}: {text}")
    return out


def test_no_sql_outside_the_store():
    found = offenders()
    assert not found, "SQL outside onestop/store/ (move it behind a named operation):\n" + "\n".join(found)


# The detector itself: each case below is SQL written the ways onestop writes it.
@pytest.mark.parametrize("src", [
    'db.execute("SELECT code FROM dossiers WHERE id = ?", [i])',
    'q = ("SELECT code, name "\n     "FROM procedures")',
    'q = f"SELECT {cols} FROM {table} WHERE x = ?"',
    'q = "SELECT a, " + cols + " FROM t"',
    'db.execute("INSERT INTO personal_access (at) VALUES (?)", [a])',
    'db.execute("INSERT OR REPLACE INTO book_sequences VALUES (?, ?, ?)", r)',
    'db.execute("UPDATE outbox SET state = ? WHERE id = ?", p)',
    'db.execute(f"DELETE FROM {t} WHERE id = ?", [i])',
    'run_script(db, """\n    CREATE TABLE x (id INTEGER)\n""")',
    'db.execute("CREATE UNIQUE INDEX i ON t(a)")',
])
def test_detector_finds_sql(src):
    assert sql_strings(src), src


@pytest.mark.parametrize("src", [
    '"""Reads the rows: SELECT code FROM dossiers is in the store."""',
    'def f():\n    """INSERT INTO personal_access happens in store/access_log.py."""\n    return 1',
    '# SELECT x FROM y in a comment\nx = 1',
    't("Chọn thủ tục từ danh mục", "Select a procedure from the catalog")',
    't("Cập nhật lịch", "Update the calendar, then set the make-up days")',
    'msg = "Delete from the inbox only after the scan is stored"',
    'x = ", ".join(cols)',
])
def test_detector_leaves_prose_and_docstrings(src):
    assert not sql_strings(src)

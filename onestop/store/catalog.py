"""The procedure catalog's rows: procedures and their components (papers), by case."""

from __future__ import annotations

_PROCEDURE_COLUMNS = ("code", "name", "search_text", "field_code", "field_name", "level", "publisher", "limits",
                      "fees", "results", "next_day_after_cutoff", "status", "sample", "source", "updated_at")
_COMPONENT_COLUMNS = ("procedure_code", "n", "code", "name", "case_name", "originals", "copies", "form_name",
                      "form_url", "required")


def lock_for_import(db) -> None:
    """Inside a transaction: wait until no other desk is importing the catalog.

    SQLite: the transaction's write lock (BEGIN IMMEDIATE) already serializes imports. PostgreSQL:
    two desks loading the catalog into a new office database at once would both insert the same
    components (a unique violation); a transaction advisory lock makes the second wait, then replace."""
    if db.dialect == "postgresql":
        from onestop.store.postgres import _LOCK_CATALOG, _NS, wait_without_timeout

        wait_without_timeout(db)  # another desk's import may take longer than a lock timeout
        db.execute("SELECT pg_advisory_xact_lock(?, ?)", [_NS, _LOCK_CATALOG])


def replace_procedure(db, row: dict, components: list[dict]) -> None:
    """Insert or update one procedure (all of ``_PROCEDURE_COLUMNS``) and replace its components."""
    db.execute("DELETE FROM procedure_components WHERE procedure_code = ?", [row["code"]])
    cols = [c for c in _PROCEDURE_COLUMNS if c in row]
    db.execute(
        f"INSERT INTO procedures ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
        f"ON CONFLICT (code) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in cols if c != 'code')}",
        [row[c] for c in cols])
    for c in components:
        db.execute(
            f"INSERT INTO procedure_components ({', '.join(_COMPONENT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_COMPONENT_COLUMNS))})",
            [c[k] for k in _COMPONENT_COLUMNS])


def has_procedures(db) -> bool:
    """True once any procedure is in the catalog."""
    return db.execute("SELECT 1 FROM procedures LIMIT 1").fetchone() is not None


def procedure_row(db, code: str) -> dict | None:
    """The procedure row with this code (JSON columns as stored), or None."""
    return next(db.query("SELECT * FROM procedures WHERE code = ?", [code]), None)


def components_of(db, code: str) -> list[dict]:
    """A procedure's component rows in number order."""
    return list(db.query("SELECT * FROM procedure_components WHERE procedure_code = ? ORDER BY n", [code]))


def search_rows(db, field: str | None = None, folded_field: str = "") -> list[dict]:
    """The rows catalog search scores (code, name, field, limits, search_text, sample), by code; only
    those of a field when ``field`` is given (its code, or its folded name inside the search text)."""
    sql = "SELECT code, name, field_code, field_name, limits, search_text, sample FROM procedures"
    params: list = []
    if field:
        sql += " WHERE field_code = ? OR search_text LIKE ?"
        params = [field, f"%{folded_field}%"]
    return list(db.query(sql + " ORDER BY code", params))


def procedure_codes(db) -> list[str]:
    """Every procedure code, in order."""
    return [r["code"] for r in db.query("SELECT code FROM procedures ORDER BY code")]


def next_day_after_cutoff(db, code: str) -> bool:
    """The procedure's "received after 15:00 counts from the next working day" flag (False when unknown)."""
    row = db.execute("SELECT next_day_after_cutoff FROM procedures WHERE code = ?", [code]).fetchone()
    return bool(row and row[0])

"""Shared output for read commands: ``--json``, ``--csv``, or a rich table on a terminal.

Data goes to stdout, messages to stderr. JSON field names are stable (docs/output.md).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from typing import Iterable


def emit_json(data) -> None:
    """Write ``data`` as JSON (UTF-8, not ASCII-escaped) to stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _stdout_is_file() -> bool:
    import stat

    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # no real descriptor (a test runner's buffer)
        return False


def cell(v) -> str:
    """A value as shown in a table or CSV: hidden characters (escape codes in rows stored before
    they were refused) replaced, never sent raw to a terminal."""
    from onestop.common.text import printable

    return "" if v is None else printable(str(v))


def emit_csv(rows: Iterable[dict], columns: list[str]) -> None:
    """CSV on stdout; a UTF-8 byte-order mark first when stdout is a file (``> list.csv``), so Excel
    reads the Vietnamese text as UTF-8 (without it, Excel guesses the ANSI code page). A pipe gets
    none: tools reading a pipe do not expect one."""
    if _stdout_is_file() and sys.stdout.tell() == 0:
        sys.stdout.write("\ufeff")
    w = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: cell(r.get(k)) for k in columns})


def console(stderr: bool = False):
    """A rich console; long lines are not folded (paths and codes must stay copyable)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Not a terminal (a log, `make demo | tee`): rich would assume 80 columns and crush wide tables.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=True,
                   width=width)


def emit_table(rows: list[dict], columns: list[str], headers: dict[str, str] | None = None, title: str = "") -> None:
    """A rich table on a terminal; plain tab-separated lines when stdout is a pipe."""
    headers = headers or {}
    if not sys.stdout.isatty():
        sys.stdout.write("\t".join(headers.get(c, c) for c in columns) + "\n")
        for r in rows:
            sys.stdout.write("\t".join(cell(r.get(c)).replace("\t", " ").replace("\n", " ") for c in columns) + "\n")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title or None, show_lines=False)
    for c in columns:
        table.add_column(headers.get(c, c))
    for r in rows:
        table.add_row(*(escape(cell(r.get(c))) for c in columns))
    console().print(table)


def emit(rows: list[dict], columns: list[str], *, fmt: str, headers: dict[str, str] | None = None,
         title: str = "", json_data=None) -> None:
    """Render ``rows`` in the chosen format ("json", "csv" or "table")."""
    if fmt == "json":
        emit_json(rows if json_data is None else json_data)
    elif fmt == "csv":
        emit_csv(rows, columns)
    else:
        emit_table(rows, columns, headers, title)


# ---------------------------------------------------------------- values for people (tables, not JSON/CSV)

def age_text(seconds) -> str:
    """How long something has waited, in the largest whole unit: '3 ngày' / '3 days', '5 giờ', '12 phút'."""
    from onestop.common.i18n import t

    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds >= 86400:
        return t(f"{seconds // 86400} ngày", f"{seconds // 86400} days")
    if seconds >= 3600:
        return t(f"{seconds // 3600} giờ", f"{seconds // 3600} h")
    return t(f"{seconds // 60} phút", f"{seconds // 60} min")


def local_time(value) -> str:
    """'2026-11-30T22:57:38+07:00' → '30/11/2026 22:57' (the time as stored: local to the counter)."""
    if not value:
        return ""
    from datetime import datetime

    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{dt:%d/%m/%Y %H:%M}"


def money(amount, unit: str = "") -> str:
    """Vietnamese money: '3.000.000 đồng' (dot thousands, the word đồng for VND in any spelling)."""
    try:
        n = float(amount or 0)
    except (TypeError, ValueError):
        return str(amount)
    text = f"{n:,.0f}".replace(",", ".") if n == int(n) else f"{n:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    u = (unit or "").strip()
    if not u or u.lower().replace(".", "") in ("vnd", "vnđ", "đồng", "dong", "đ", "d"):
        return f"{text} đồng"
    return f"{text} đồng/{u}"


LIMIT_UNITS = {"working_days": ("ngày làm việc", "working days"), "days": ("ngày", "days"),
               "hours": ("giờ", "hours"), "months": ("tháng", "months")}


# A 0 limit is a same-day procedure: the catalog says so in words ("Trong ngày làm việc"), never "0 ngày".
ZERO_LIMIT = {"working_days": ("Trong ngày làm việc", "Within the working day"), "days": ("Trong ngày", "Within the day"),
              "hours": ("Ngay khi tiếp nhận", "At once"), "months": ("Trong tháng", "Within the month")}


def zero_limit_text(unit: str, description: str = "", *, lang: str | None = None) -> str:
    """The wording of a 0 limit: the catalog row's own (MOTA's first clause, "Trong ngày làm việc")
    when it is a short phrase without numbers, else the usual wording for the unit."""
    import re

    from onestop.common.i18n import t

    vi, en = ZERO_LIMIT.get(unit, ZERO_LIMIT["working_days"])
    first = re.split(r"[;.\n]", description or "", maxsplit=1)[0].strip()
    if first and len(first) <= 60 and not re.search(r"\d", first):
        vi = first[0].upper() + first[1:]
    return vi if lang == "vi" else t(vi, en)


def limit_text(value, unit: str, description: str = "") -> str:
    """'15 ngày làm việc' (English with --lang en); a 0 limit in the catalog's words (zero_limit_text)."""
    from onestop.common.i18n import t

    v = float(value)
    if v == 0:
        return zero_limit_text(unit, description)
    vi, en = LIMIT_UNITS.get(unit, (unit, unit))
    number = f"{int(v)}" if v.is_integer() else f"{v:g}".replace(".", ",")
    return f"{number} {t(vi, en)}"


def info(msg: str) -> None:
    """A message for the person at the terminal (stderr)."""
    sys.stderr.write(msg + "\n")

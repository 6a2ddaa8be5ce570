"""The working-day calendar cache: days off and make-up days per year and calendar-file fingerprint.

Building a year's calendar imports the ``holidays`` package (~0.15 s); counters read it from here.
"""

from __future__ import annotations

import json


def cached_year(db, key: str) -> tuple[list[str], list[str]] | None:
    """The cached (days off, make-up days) as ISO dates for ``key`` ("<year>:<fingerprint>"), or None."""
    row = db.execute("SELECT off_days, make_up_days FROM calendar_cache WHERE key = ?", [key]).fetchone()
    return (json.loads(row[0]), json.loads(row[1])) if row else None


def cache_year(db, key: str, off_days: list[str], make_up_days: list[str]) -> None:
    """Store (or replace) the days of one cached year."""
    db.execute("INSERT INTO calendar_cache (key, off_days, make_up_days) VALUES (?, ?, ?) "
               "ON CONFLICT (key) DO UPDATE SET off_days = excluded.off_days, make_up_days = excluded.make_up_days",
               [key, json.dumps(off_days), json.dumps(make_up_days)])

"""The date formats an officer may type, the same in every command: ISO (2026-12-06) and the
Vietnamese way (06/12/2026, 6/12/2026, 06-12-2026, 06.12.2026), optionally followed by a time
(HH:MM, or HH:MM:SS). Pure: no clock, no config."""

from __future__ import annotations

import re
from datetime import date, datetime, time

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_VN = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_TIME = re.compile(r"^(\d{1,2})[:hg](\d{2})(?::(\d{2}))?$")

DAY_FORMATS_VI = "YYYY-MM-DD hoặc dd/mm/yyyy (vd. 2026-12-06 hoặc 06/12/2026)"
DAY_FORMATS_EN = "YYYY-MM-DD or dd/mm/yyyy (e.g. 2026-12-06 or 06/12/2026)"


def parse_day(text: str | None) -> date | None:
    """The calendar day written in ``text``; None when it is not a date in a known form."""
    s = (text or "").strip()
    m = _ISO.match(s)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = _VN.match(s)
        if m:
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:  # 31/02/2026
        return None
    return None


def parse_day_time(text: str | None) -> tuple[date, time | None] | None:
    """A day with an optional time ("2026-12-10 16:00", "10/12/2026 16:00", "2026-12-10T16:00");
    None when either part is not in a known form."""
    s = " ".join((text or "").strip().replace("T", " ").split())
    day_part, _, time_part = s.partition(" ")
    day = parse_day(day_part)
    if day is None:
        return None
    if not time_part:
        return day, None
    m = _TIME.match(time_part)
    if not m:
        return None
    try:
        return day, time(int(m[1]), int(m[2]), int(m[3] or 0))
    except ValueError:
        return None


def show_day(value: date | datetime | str | None) -> str:
    """'06/12/2026' for a date, a datetime or an ISO string ('' for nothing)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value:%d/%m/%Y}"

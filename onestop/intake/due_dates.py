"""Appointment dates: the working-day calendar (cached per year in the database) and the due date of
a dossier received at a given time (DOMAIN.md §4); whether a time is within working hours."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from onestop.common.config import Config
from onestop.common.errors import InvalidInput
from onestop.domain.workdays import WorkCalendar, due_at
from onestop.store import calendar as calendar_store

if TYPE_CHECKING:  # the SQLite module imports sqlite3, which an office command does not need
    from onestop.store.sqlite import Database


_CAL_MEMO: dict[tuple, WorkCalendar] = {}


def calendar_for(db: Database, cfg: Config, years: range | list[int]) -> WorkCalendar:
    """The working-day calendar for ``years``, cached in the database per year and config version
    (building it imports the ``holidays`` package: ~0.15 s) and in memory for bulk work."""
    import hashlib

    cal_file = cfg.calendar_file
    try:
        st = cal_file.stat()
        memo_key = (str(cal_file), st.st_mtime_ns, st.st_size, tuple(years), cfg.sessions)
    except FileNotFoundError:
        memo_key = (str(cal_file), None, None, tuple(years), cfg.sessions)
    if memo_key in _CAL_MEMO:
        return _CAL_MEMO[memo_key]
    try:
        fp = hashlib.sha1(cal_file.read_bytes()).hexdigest()[:12]
    except FileNotFoundError:
        fp = "none"
    off: set[date] = set()
    make_up: set[date] = set()
    missing = []
    for y in years:
        cached = calendar_store.cached_year(db, f"{y}:{fp}")
        if cached:
            off.update(date.fromisoformat(d) for d in cached[0])
            make_up.update(date.fromisoformat(d) for d in cached[1])
        else:
            missing.append(y)
    if missing:
        from onestop.intake.calendar_source import load_calendar

        cal = load_calendar(missing, cal_file if cal_file.exists() else None)
        for y in missing:
            o = sorted(d.isoformat() for d in cal.off_days if d.year == y)
            m = sorted(d.isoformat() for d in cal.make_up_days if d.year == y)
            off.update(date.fromisoformat(d) for d in o)
            make_up.update(date.fromisoformat(d) for d in m)
            try:
                calendar_store.cache_year(db, f"{y}:{fp}", o, m)
            except Exception:  # a cache write must never fail a command (e.g. read-only db)
                pass
    cal = WorkCalendar(off_days=frozenset(off), make_up_days=frozenset(make_up), sessions=cfg.sessions)
    _CAL_MEMO[memo_key] = cal
    return cal


def compute_due(db: Database, cfg: Config, received: datetime, limit: float, unit: str, next_day_after_cutoff: bool) -> datetime:
    """Appointment time for a dossier received at ``received`` (DOMAIN.md §4)."""
    span = 1 + int(limit // 200) + (1 if unit == "months" else 0)
    cal = calendar_for(db, cfg, range(received.year, received.year + span + 1))
    return due_at(received, limit, unit, cal, next_day_after_cutoff=next_day_after_cutoff, cutoff=cfg.cutoff)


def check_working_time(db: Database, cfg: Config, when: datetime) -> None:
    """InvalidInput unless ``when`` is in a working session of a working day (an appointment the
    citizen can keep)."""
    from onestop.domain.workdays import in_words

    cal = calendar_for(db, cfg, [when.year])
    if cal.is_working_time(when.date(), when.time().replace(tzinfo=None)):
        return
    sessions = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in cfg.sessions)
    day_off = not cal.is_working_day(when.date())
    raise InvalidInput(
        f"{in_words(when)} là {'ngày nghỉ' if day_off else 'ngoài giờ làm việc'}. "
        f"Chọn một ngày làm việc, trong giờ {sessions}.",
        f"{in_words(when, 'en')} is {'a day off' if day_off else 'outside working hours'}. "
        f"Pick a working day, within {sessions}.",
    )

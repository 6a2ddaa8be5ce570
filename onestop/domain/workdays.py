"""The working-day calendar and the appointment date (ngày hẹn trả), DOMAIN.md §4.

Pure: no clock, no files, no config. The calendar comes in as a `WorkCalendar` (built by
`onestop.intake.calendar_source.load_calendar`), the receipt time as an aware datetime.

Counting rules, in one place:

* The day of receipt is not counted; if the last day is a day off, the deadline moves to the
  next working day (Bộ luật Dân sự 2015 Art. 147-148).
* A receipt outside working hours counts from the start of the next working session: the next
  working morning after hours or on a day off, 13:30 during lunch. That *effective* day is then
  the uncounted day of receipt.
* The due time keeps the (effective) time of day of receipt and always lies inside a working
  session; a session end (11:30, 17:00) counts as inside.
"""

from __future__ import annotations

import calendar as _gregorian
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from onestop.common.text import fold

# A calendar that never yields a working day (all weekdays in `weekend`, nothing made up)
# would loop forever; ten years without a working day is certainly a configuration error.
_MAX_SEARCH_DAYS = 3660


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are worked and the working sessions of each working day.

    Precedence: `off_days` (holidays, swaps, compensatory days) beat everything;
    `make_up_days` (Saturdays declared working days) beat the `weekend`.
    """

    off_days: frozenset[date]
    make_up_days: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    sessions: tuple[tuple[time, time], ...] = (
        (time(7, 0), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )

    def __post_init__(self) -> None:
        # Accept any iterable from callers, store immutable values (the class is hashable).
        object.__setattr__(self, "off_days", frozenset(self.off_days))
        object.__setattr__(self, "make_up_days", frozenset(self.make_up_days))
        object.__setattr__(self, "weekend", frozenset(self.weekend))
        object.__setattr__(self, "sessions", tuple((s, e) for s, e in self.sessions))
        if not all(isinstance(w, int) and 0 <= w <= 6 for w in self.weekend):
            raise ValueError(f"weekend must hold date.weekday() values 0-6, not {sorted(self.weekend)}")
        if not self.sessions:
            raise ValueError("a working day needs at least one session")
        previous_end: time | None = None
        for start, end in self.sessions:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("session times are local wall-clock times without tzinfo")
            if not start < end:
                raise ValueError(f"session {start}-{end} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError("sessions must be in order and must not overlap")
            previous_end = end

    def is_working_day(self, d: date) -> bool:
        """True if `d` is worked: not an off day, and a make-up day or not a weekend day."""
        if d in self.off_days:
            return False
        if d in self.make_up_days:
            return True
        return d.weekday() not in self.weekend

    def is_working_time(self, d: date, tod: time) -> bool:
        """True if ``tod`` on day ``d`` falls in a working session (ends included: 17:00 is still open)."""
        return self.is_working_day(d) and any(start <= tod <= end for start, end in self.sessions)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        for offset in range(1, _MAX_SEARCH_DAYS + 1):
            candidate = d + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days after {d}: check the calendar")

    def add_working_days(self, d: date, n: int) -> date:
        """The date `n` working days after `d` (`d` itself is not counted).

        `n == 0` gives `d` if it is a working day, else the next working day.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return d if self.is_working_day(d) else self.next_working_day(d)
        result = d
        for _ in range(n):
            result = self.next_working_day(result)
        return result

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in `(start, end]`; negative (minus those in `(end, start]`) if end < start.

        Used for "days late": the appointment date as `start`, the day the result came as `end`.
        """
        if end < start:
            return -self.working_days_between(end, start)
        days = (start + timedelta(days=offset) for offset in range(1, (end - start).days + 1))
        return sum(1 for d in days if self.is_working_day(d))


UNITS = ("working_days", "days", "hours", "months")

# Keys are folded (lower case, no diacritics, đ→d, single spaces; see onestop.common.text.fold).
_UNIT_NAMES = {
    "ngay lam viec": "working_days",
    "working days": "working_days",
    "working day": "working_days",
    "ngay": "days",
    "days": "days",
    "day": "days",
    "calendar days": "days",
    "gio": "hours",
    "hours": "hours",
    "hour": "hours",
    "thang": "months",
    "months": "months",
    "month": "months",
}


def normalize_unit(text: str) -> str:
    """Map a unit of time limit as written in the procedure catalog (DONVITINH) to one of `UNITS`.

    Case-, diacritics- and separator-insensitive: "Ngày làm việc", "ngay lam viec" and
    "working_days" all give "working_days"; "Ngày" → "days", "Giờ" → "hours", "Tháng" → "months".
    Raises ValueError for anything else.
    """
    key = fold(str(text).replace("_", " ").replace("-", " "))
    try:
        return _UNIT_NAMES[key]
    except KeyError:
        raise ValueError(f"unknown time-limit unit {text!r}; expected one of {', '.join(UNITS)}") from None


def due_at(
    received: datetime,
    limit: float,
    unit: str,
    cal: WorkCalendar,
    *,
    next_day_after_cutoff: bool = False,
    cutoff: time = time(15, 0),
) -> datetime:
    """The appointment date and time for a dossier received at `received`.

    `received` must be timezone-aware (Asia/Ho_Chi_Minh); the result has the same tzinfo and
    is computed in that wall-clock time. `unit` is one of `UNITS` or anything `normalize_unit`
    accepts. Choices made here (DOMAIN.md §4 leaves them to practice):

    * Effective receipt: a receipt inside a session counts as is; during a break it counts from
      the start of the next session the same day (13:30); before the first session, after the
      last one (the session end itself included) or on a day off it counts from the first
      session of the next working day.
    * `next_day_after_cutoff`: a receipt strictly after `cutoff` (15:00) counts from the next
      working morning. Only applies when the flag is set (a per-procedure setting).
    * `limit == 0` (same-day procedures, any unit): due at the end of the last session of the
      effective receipt day; with the cutoff flag a receipt after 15:00 is thus due at the end
      of the next working day.
    * working_days: `n` working days after the effective day, at the effective time of day.
      A fractional limit is converted to working hours (one day = the total session length,
      8 h by default) and counted like `hours`.
    * days: `n` calendar days after the effective day, at the effective time of day. If that
      day is a day off, the deadline ends at the end of the next working day (Art. 148: "kết
      thúc tại thời điểm kết thúc ngày làm việc tiếp theo"). A fractional limit is treated as
      a fraction of working days (rare in the catalog; never silently rounded up).
    * hours: working time inside the sessions, counted from the effective receipt time; a
      deadline that is used up exactly at a session end falls on that end (11:30, 17:00).
    * months: the same day number `n` months later, clamped to the month's last day; if that
      is a day off, the end of the next working day (as for days).

    Only `working_days` and `hours` are strictly monotonic in the receipt time; for `days`
    and `months` the due *date* is monotonic, but a rolled-over deadline ends at 17:00 and can
    be later in the day than one received a day later (Art. 148 versus keeping the time).
    """
    if received.tzinfo is None or received.utcoffset() is None:
        raise ValueError("received must be timezone-aware (Asia/Ho_Chi_Minh)")
    unit = normalize_unit(unit)
    limit = float(limit)
    if math.isnan(limit) or math.isinf(limit) or limit < 0:
        raise ValueError(f"time limit must be a finite number >= 0, got {limit}")

    tz = received.tzinfo
    day, tod = _effective_start(cal, received.date(), received.time())
    if next_day_after_cutoff and tod > cutoff:
        day, tod = cal.next_working_day(day), cal.sessions[0][0]

    last_end = cal.sessions[-1][1]
    if limit == 0:
        return datetime.combine(day, last_end, tzinfo=tz)

    whole = limit.is_integer()
    if unit == "hours" or (unit in ("working_days", "days") and not whole):
        hours = limit if unit == "hours" else limit * _day_length(cal) / timedelta(hours=1)
        due_day, due_tod = _add_working_hours(cal, day, tod, timedelta(hours=hours))
    elif unit == "working_days":
        due_day, due_tod = cal.add_working_days(day, int(limit)), tod
    elif unit == "days":
        due_day, due_tod = _roll_to_working_day(cal, day + timedelta(days=int(limit)), tod)
    else:  # months
        if not whole:
            raise ValueError(f"a time limit in months must be a whole number, got {limit}")
        due_day, due_tod = _roll_to_working_day(cal, _add_months(day, int(limit)), tod)

    return datetime.combine(due_day, _clamp_into_session(cal, due_tod), tzinfo=tz)


def _effective_start(cal: WorkCalendar, d: date, tod: time) -> tuple[date, time]:
    """Where counting starts for a receipt on `d` at `tod` (naive wall-clock time)."""
    if cal.is_working_day(d):
        for start, end in cal.sessions:
            if tod < start:
                return d, start
            if tod < end:
                return d, tod
    return cal.next_working_day(d), cal.sessions[0][0]


def _day_length(cal: WorkCalendar) -> timedelta:
    return sum((_span(start, end) for start, end in cal.sessions), timedelta())


def _span(a: time, b: time) -> timedelta:
    anchor = date(2000, 1, 1)
    return datetime.combine(anchor, b) - datetime.combine(anchor, a)


def _add_working_hours(cal: WorkCalendar, d: date, tod: time, amount: timedelta) -> tuple[date, time]:
    """Consume `amount` of session time starting at (`d`, `tod`), a point inside a session."""
    anchor = date(2000, 1, 1)
    while True:
        for start, end in cal.sessions:
            if tod >= end:
                continue
            begin = max(tod, start)
            available = _span(begin, end)
            if amount <= available:
                return d, (datetime.combine(anchor, begin) + amount).time()
            amount -= available
        d, tod = cal.next_working_day(d), cal.sessions[0][0]


def _roll_to_working_day(cal: WorkCalendar, d: date, tod: time) -> tuple[date, time]:
    """Art. 148: a deadline on a day off ends at the end of the next working day."""
    if cal.is_working_day(d):
        return d, tod
    return cal.next_working_day(d), cal.sessions[-1][1]


def _add_months(d: date, n: int) -> date:
    months = d.year * 12 + (d.month - 1) + n
    year, month = divmod(months, 12)
    month += 1
    return date(year, month, min(d.day, _gregorian.monthrange(year, month)[1]))


def _clamp_into_session(cal: WorkCalendar, tod: time) -> time:
    """Move a time of day into a session: a break or the evening clamps to the previous
    session end, the early morning to the first session start. Session ends are inside."""
    if tod < cal.sessions[0][0]:
        return cal.sessions[0][0]
    previous_end = cal.sessions[0][0]
    for start, end in cal.sessions:
        if tod < start:
            return previous_end
        if tod <= end:
            return tod
        previous_end = end
    return previous_end


_WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def in_words(dt: datetime, lang: str = "vi") -> str:
    """A moment as an officer reads it aloud: "16 giờ 00, Thứ Hai ngày 14 tháng 12 năm 2026"."""
    if lang == "en":
        return f"{dt:%H:%M}, {_WEEKDAYS_EN[dt.weekday()]} {dt.day} {dt:%B %Y}"
    return f"{dt:%H} giờ {dt:%M}, {_WEEKDAYS_VI[dt.weekday()]} ngày {dt.day} tháng {dt.month} năm {dt.year}"

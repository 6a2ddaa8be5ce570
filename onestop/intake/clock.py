"""The counter's clock: the current local time (pinned by ONESTOP_NOW), ISO stamps, and times typed
at the counter (--at, --to) read as local time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from onestop.common.config import Config
from onestop.common.errors import InvalidInput


def tz(cfg: Config) -> ZoneInfo:
    return ZoneInfo(cfg.timezone)


def now(cfg: Config) -> datetime:
    """The current local time (seconds precision).

    ``ONESTOP_NOW`` ("YYYY-MM-DD HH:MM") pins the clock for tests and training sessions.
    """
    import os

    pinned = os.environ.get("ONESTOP_NOW")
    if pinned:
        return datetime.fromisoformat(pinned.replace(" ", "T")).replace(tzinfo=tz(cfg))
    return datetime.now(tz(cfg)).replace(microsecond=0)


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def parse_when(text: str, cfg: Config) -> datetime:
    """Parse a day with an optional time as local time (onestop/common/dates.py: "YYYY-MM-DD HH:MM",
    "dd/mm/yyyy HH:MM", a bare day at 08:00, or ISO with an offset); InvalidInput otherwise."""
    from datetime import time as time_

    from onestop.common.dates import parse_day_time

    got = parse_day_time(text)
    if got is not None:
        day, at = got
        return datetime.combine(day, at or time_(8, 0)).replace(tzinfo=tz(cfg))
    try:
        dt = datetime.fromisoformat((text or "").strip())
        return dt.astimezone(tz(cfg)) if dt.tzinfo else dt.replace(tzinfo=tz(cfg))
    except ValueError:
        pass
    raise InvalidInput(
        f"Thời điểm '{text}' không hợp lệ. Nhập dạng \"YYYY-MM-DD HH:MM\" hoặc \"dd/mm/yyyy HH:MM\", "
        f"ví dụ \"2026-11-23 09:30\" hoặc \"23/11/2026 09:30\".",
        f"Time '{text}' is invalid. Use \"YYYY-MM-DD HH:MM\" or \"dd/mm/yyyy HH:MM\", e.g. \"2026-11-23 09:30\".",
    )

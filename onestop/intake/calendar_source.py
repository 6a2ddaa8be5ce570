"""Builds the `WorkCalendar` from the `holidays` package and the agency's yearly decisions.

The I/O edge of the working-day calendar: `onestop.domain.workdays` stays pure and receives what
this module builds. Two sources, applied in order:

1. `holidays.country_holidays("VN")`: the Labor Code holidays with their lunar dates,
   compensatory days for holidays on a weekend, and the swaps the package knows
   (a "Day off (substituted from <date>)" entry, whose from-date, a Saturday, the package
   lists in `weekend_workdays`: that Saturday becomes a make-up working day).
2. `config/calendar.toml`: the official decisions of each year (Prime Minister, Ministry of
   Home Affairs), which the package may lack or get wrong: `[[off]]` extra days off,
   `[[work]]` make-up working days, `[[not_off]]` days the package lists but the decision
   does not give.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date, time
from pathlib import Path

from onestop.common.errors import ConfigError
from onestop.domain.workdays import WorkCalendar

_SECTIONS = ("off", "work", "not_off")


def load_calendar(
    years: Iterable[int],
    config_file: Path | None,
    sessions: tuple[tuple[time, time], ...] | None = None,
) -> WorkCalendar:
    """The working calendar for `years` (and the year after the last, since deadlines cross
    year end), with the decisions in `config_file` applied; `sessions` overrides the default
    working hours. Raises ConfigError if the file is missing or malformed.

    Reads the file on every call (a few milliseconds); callers cache the result.
    """
    import holidays  # slow to import: only when a calendar is actually needed

    wanted = sorted({int(y) for y in years})
    if wanted:
        wanted.append(wanted[-1] + 1)
    package = holidays.country_holidays("VN", years=wanted)
    off = set(package.keys())
    # Saturdays the package's swaps turn into working days; this holds the from-dates of all
    # the swaps it populated, which are official facts whatever their year.
    make_up = set(getattr(package, "weekend_workdays", ()))

    if config_file is not None:
        decisions = read_decisions(config_file)
        off -= decisions["not_off"]
        off |= decisions["off"]
        make_up |= decisions["work"]
        # A decision that a day is worked overrides the package's idea that it is off
        # (WorkCalendar lets off_days win, so remove it there).
        off -= decisions["work"]

    kwargs = {} if sessions is None else {"sessions": sessions}
    return WorkCalendar(off_days=frozenset(off), make_up_days=frozenset(make_up), **kwargs)


def read_decisions(config_file: Path) -> dict[str, set[date]]:
    """The dates of each section (`off`, `work`, `not_off`) of a calendar TOML file."""
    path = Path(config_file)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(
            f"Không tìm thấy tệp lịch làm việc {path}: tạo tệp theo mẫu config/calendar.toml.",
            f"Calendar file {path} not found: create it from config/calendar.toml.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Tệp lịch làm việc {path} sai cú pháp TOML ({exc}): sửa tệp rồi chạy lại.",
            f"Calendar file {path} is not valid TOML ({exc}): fix it and retry.",
        ) from None

    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(
            f"Tệp lịch làm việc {path} có mục lạ {unknown}: chỉ dùng [[off]], [[work]], [[not_off]].",
            f"Calendar file {path} has unknown sections {unknown}: use [[off]], [[work]], [[not_off]].",
        )
    result: dict[str, set[date]] = {}
    for section in _SECTIONS:
        entries = data.get(section, [])
        if not isinstance(entries, list):
            raise ConfigError(
                f"Tệp lịch làm việc {path}: '{section}' phải viết là [[{section}]].",
                f"Calendar file {path}: '{section}' must be an array of tables, [[{section}]].",
            )
        result[section] = {_entry_date(path, section, entry) for entry in entries}
    both = result["off"] & result["work"]
    if both:
        days = ", ".join(d.isoformat() for d in sorted(both))
        raise ConfigError(
            f"Tệp lịch làm việc {path}: ngày {days} vừa là ngày nghỉ vừa là ngày làm bù.",
            f"Calendar file {path}: {days} listed both as [[off]] and [[work]].",
        )
    return result


def _entry_date(path: Path, section: str, entry: object) -> date:
    value = entry.get("date") if isinstance(entry, dict) else None
    # TOML has a native date type (date = 2026-01-02) and the template quotes it: accept both.
    if type(value) is date:  # a TOML datetime is a date subclass: refuse it
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(
        f"Tệp lịch làm việc {path}: một mục [[{section}]] có ngày không hợp lệ ({value!r}); "
        "viết dạng date = \"YYYY-MM-DD\".",
        f"Calendar file {path}: a [[{section}]] entry has an invalid date ({value!r}); "
        'write date = "YYYY-MM-DD".',
    )

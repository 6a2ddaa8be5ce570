"""The day forms every command takes (onestop/common/dates.py): pure, no clock."""

from datetime import date, time

import pytest

from onestop.common.dates import parse_day, parse_day_time, show_day


@pytest.mark.parametrize("text", ["2026-12-06", "06/12/2026", "6/12/2026", "06-12-2026", "06.12.2026", " 6/12/2026 "])
def test_the_same_day_in_every_form(text):
    assert parse_day(text) == date(2026, 12, 6)


@pytest.mark.parametrize("text", ["", "31/02/2026", "2026-13-01", "12/2026", "06/12/26", "2026/12/06", "hôm nay"])
def test_not_a_day(text):
    assert parse_day(text) is None


def test_day_and_time():
    assert parse_day_time("10/12/2026 16:00") == (date(2026, 12, 10), time(16, 0))
    assert parse_day_time("2026-12-10T16:00:30") == (date(2026, 12, 10), time(16, 0, 30))
    assert parse_day_time("2026-12-10") == (date(2026, 12, 10), None)
    assert parse_day_time("10/12/2026 25:00") is None and parse_day_time("10/12/2026 chiều") is None
    assert show_day("2026-12-06T08:00:00+07:00") == "06/12/2026" and show_day(date(2026, 1, 2)) == "02/01/2026"

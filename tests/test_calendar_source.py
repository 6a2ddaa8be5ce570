"""Building the WorkCalendar from the holidays package and config/calendar.toml."""

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from onestop.intake.calendar_source import load_calendar, read_decisions
from onestop.common.errors import CONFIG, ConfigError
from onestop.domain.workdays import due_at

D = date.fromisoformat
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "calendar.toml"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def package_only():
    return load_calendar([2025, 2026], None)


@pytest.fixture(scope="module")
def shipped():
    return load_calendar([2025, 2026], REPO_CONFIG)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_package_gives_labor_code_holidays(package_only):
    cal = package_only
    for day in [
        "2025-01-01",
        "2025-01-29",  # Tết Ất Tỵ
        "2025-04-07",  # Giỗ Tổ Hùng Vương (10/3 lunar)
        "2025-04-30",
        "2025-05-01",
        "2025-09-01",  # adjacent day to 2/9
        "2025-09-02",
        "2026-02-16",  # 29 Tết Bính Ngọ
        "2026-02-20",  # mùng 4
        "2026-04-27",  # Giỗ Tổ on Sunday 26/04: compensatory Monday
    ]:
        assert not cal.is_working_day(D(day)), day


def test_package_substitutions_become_make_up_days(package_only):
    # "Day off (substituted from 04/26/2025)": Fri 02/05 off, Sat 26/04 worked
    assert not package_only.is_working_day(D("2025-05-02"))
    assert package_only.is_working_day(D("2025-04-26"))
    # "Day off (substituted from 08/22/2026)"
    assert not package_only.is_working_day(D("2026-08-31"))
    assert package_only.is_working_day(D("2026-08-22"))


def test_following_year_is_loaded(package_only):
    # Deadlines cross year end: 2027 is there although only 2025-2026 were asked for.
    assert not package_only.is_working_day(D("2027-01-01"))
    assert not package_only.is_working_day(D("2027-02-08"))  # Tết Đinh Mùi, mùng 3


def test_shipped_config_adds_the_2026_new_year_swap(package_only, shipped):
    assert package_only.is_working_day(D("2026-01-02"))
    assert not shipped.is_working_day(D("2026-01-02"))
    assert not package_only.is_working_day(D("2026-01-10"))
    assert shipped.is_working_day(D("2026-01-10"))


def test_shipped_config_keeps_the_package_facts(package_only, shipped):
    assert package_only.off_days <= shipped.off_days
    assert package_only.make_up_days <= shipped.make_up_days


def test_shipped_config_parses():
    decisions = read_decisions(REPO_CONFIG)
    assert D("2026-01-02") in decisions["off"]
    assert D("2026-01-10") in decisions["work"]
    for day in decisions["work"]:
        assert day.weekday() >= 5, f"{day} is a make-up day but not a weekend day"


def test_appointment_across_tet_2026_with_the_real_calendar(shipped):
    # Fri 13/02/2026 not counted; 14-22 off; Mon 23 (1), Tue 24 (2), Wed 25 (3)
    received = datetime(2026, 2, 13, 10, 0, tzinfo=TZ)
    assert due_at(received, 3, "Ngày làm việc", shipped) == datetime(2026, 2, 25, 10, 0, tzinfo=TZ)


def test_appointment_across_new_year_2026_with_the_real_calendar(shipped):
    # Wed 31/12/2025 not counted; 01/01, 02/01 (swap), weekend off; Mon 05 (1) ... Fri 09 (5),
    # Sat 10/01 make-up (6)
    received = datetime(2025, 12, 31, 9, 0, tzinfo=TZ)
    assert due_at(received, 6, "working_days", shipped) == datetime(2026, 1, 10, 9, 0, tzinfo=TZ)


def test_config_sections(tmp_path, package_only):
    path = write(
        tmp_path,
        """
[[off]]
date = "2026-06-01"
reason = "a new holiday decided by law"

[[work]]
date = "2026-06-06"
reason = "make-up Saturday"

[[work]]
date = 2026-09-01   # a native TOML date works too
reason = "a decision that moves the adjacent day (hypothetical)"

[[not_off]]
date = "2026-11-24"
reason = "not in force yet"
""",
    )
    cal = load_calendar([2026], path)
    assert not cal.is_working_day(D("2026-06-01"))
    assert cal.is_working_day(D("2026-06-06"))
    # [[work]] beats a holiday of the package
    assert not package_only.is_working_day(D("2026-09-01"))
    assert cal.is_working_day(D("2026-09-01"))
    assert cal.is_working_day(D("2026-11-24"))


def test_config_off_day_removes_a_package_make_up_saturday(tmp_path):
    path = write(tmp_path, '[[off]]\ndate = "2026-08-22"\n[[not_off]]\ndate = "2026-08-31"\n')
    cal = load_calendar([2026], path)
    assert not cal.is_working_day(D("2026-08-22"))
    assert cal.is_working_day(D("2026-08-31"))


def test_empty_config_is_the_package(tmp_path, package_only):
    cal = load_calendar([2025, 2026], write(tmp_path, "# nothing decided yet\n"))
    assert cal == package_only


def test_sessions_are_passed_through(tmp_path):
    sessions = ((time(7, 30), time(11, 30)), (time(13, 0), time(16, 30)))
    cal = load_calendar([2026], None, sessions)
    assert cal.sessions == sessions
    assert load_calendar([2026], None).sessions[0] == (time(7, 0), time(11, 30))


@pytest.mark.parametrize(
    "text",
    [
        "[[off]\ndate = 1",  # not TOML
        '[[off]]\ndate = "2026-13-01"\n',  # no such month
        '[[off]]\ndate = "02/01/2026"\n',  # not ISO
        "[[off]]\nreason = 'no date'\n",
        "[[off]]\ndate = 2026-01-02T08:00:00\n",  # a datetime, not a date
        '[off]\ndate = "2026-01-02"\n',  # a table, not an array of tables
        '[[holiday]]\ndate = "2026-01-02"\n',  # unknown section
        '[[off]]\ndate = "2026-01-10"\n[[work]]\ndate = "2026-01-10"\n',  # contradiction
    ],
)
def test_bad_config_is_a_config_error(tmp_path, text):
    with pytest.raises(ConfigError) as excinfo:
        load_calendar([2026], write(tmp_path, text))
    assert excinfo.value.exit_code == CONFIG
    assert "calendar.toml" in excinfo.value.vi


def test_missing_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_calendar([2026], tmp_path / "nope.toml")
    assert "nope.toml" in excinfo.value.vi

"""The working-day calendar and the appointment date (onestop.domain.workdays), on hand-built calendars.

Every expected date is counted by hand in a comment; "(n)" marks the n-th counted working day.
"""

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.domain.workdays import UNITS, WorkCalendar, due_at, normalize_unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
D = date.fromisoformat

# The official days off of 2025-2027 written out by hand (not read from the holidays
# package, so these tests pin the counting rules, not the package).
OFF = frozenset(
    map(
        D,
        [
            # 2025
            "2025-01-01",
            "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",  # Tết Ất Tỵ
            "2025-04-07",  # Giỗ Tổ Hùng Vương
            "2025-04-30", "2025-05-01", "2025-05-02",  # 02/05 swapped with Sat 26/04
            "2025-09-01", "2025-09-02",  # Quốc khánh + adjacent day
            # 2026
            "2026-01-01", "2026-01-02",  # 02/01 swapped with Sat 10/01
            "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",  # Tết Bính Ngọ
            "2026-04-27",  # Giỗ Tổ on Sun 26/04: compensatory Mon 27/04
            "2026-04-30", "2026-05-01",
            "2026-08-31", "2026-09-01", "2026-09-02",  # 31/08 swapped with Sat 22/08
            # 2027
            "2027-01-01",
            "2027-02-04", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",  # Tết Đinh Mùi
            "2027-04-16",
            "2027-04-30", "2027-05-03",  # 1/5 on a Saturday: compensatory Mon 03/05
            "2027-09-02", "2027-09-03",
        ],
    )
)
MAKE_UP = frozenset(map(D, ["2025-04-26", "2026-01-10", "2026-08-22"]))
CAL = WorkCalendar(off_days=OFF, make_up_days=MAKE_UP)


def at(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=TZ)


# --- WorkCalendar ------------------------------------------------------------------------


def test_weekdays_work_weekends_rest():
    assert CAL.is_working_day(D("2025-03-10"))  # Monday
    assert CAL.is_working_day(D("2025-03-14"))  # Friday
    assert not CAL.is_working_day(D("2025-03-15"))  # Saturday
    assert not CAL.is_working_day(D("2025-03-16"))  # Sunday


def test_make_up_saturday_is_a_working_day():
    assert CAL.is_working_day(D("2026-01-10"))
    assert CAL.is_working_day(D("2025-04-26"))
    assert not CAL.is_working_day(D("2026-01-17"))  # an ordinary Saturday


def test_off_day_beats_make_up_day():
    cal = WorkCalendar(off_days=frozenset({D("2026-01-10")}), make_up_days=frozenset({D("2026-01-10")}))
    assert not cal.is_working_day(D("2026-01-10"))


def test_custom_weekend():
    cal = WorkCalendar(off_days=frozenset(), weekend=frozenset({6}))  # Sundays only
    assert cal.is_working_day(D("2025-03-15"))
    assert not cal.is_working_day(D("2025-03-16"))


def test_accepts_plain_sets_and_stays_hashable():
    cal = WorkCalendar(off_days={D("2025-03-10")}, make_up_days=[D("2025-03-15")])
    assert isinstance(cal.off_days, frozenset) and isinstance(cal.make_up_days, frozenset)
    same = WorkCalendar(off_days=frozenset({D("2025-03-10")}), make_up_days=frozenset({D("2025-03-15")}))
    assert cal == same and hash(cal) == hash(same)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sessions": ()},
        {"sessions": ((time(11, 0), time(7, 0)),)},
        {"sessions": ((time(7, 0), time(12, 0)), (time(11, 0), time(17, 0)))},
        {"weekend": frozenset({7})},
    ],
)
def test_invalid_calendar_is_refused(kwargs):
    with pytest.raises(ValueError):
        WorkCalendar(off_days=frozenset(), **kwargs)


def test_next_working_day():
    assert CAL.next_working_day(D("2025-03-10")) == D("2025-03-11")
    assert CAL.next_working_day(D("2025-03-14")) == D("2025-03-17")  # Fri -> Mon
    assert CAL.next_working_day(D("2025-03-15")) == D("2025-03-17")  # Sat -> Mon
    # Wed 29/04/2026: Thu 30/04 off, Fri 01/05 off, weekend -> Mon 04/05
    assert CAL.next_working_day(D("2026-04-29")) == D("2026-05-04")
    # Fri 09/01/2026 -> Sat 10/01 is a make-up day
    assert CAL.next_working_day(D("2026-01-09")) == D("2026-01-10")


def test_next_working_day_gives_up_on_a_calendar_without_working_days():
    cal = WorkCalendar(off_days=frozenset(), weekend=frozenset(range(7)))
    with pytest.raises(ValueError):
        cal.next_working_day(D("2025-01-01"))


def test_add_working_days_zero():
    assert CAL.add_working_days(D("2025-03-10"), 0) == D("2025-03-10")
    assert CAL.add_working_days(D("2025-03-15"), 0) == D("2025-03-17")  # Sat -> Mon
    assert CAL.add_working_days(D("2026-02-16"), 0) == D("2026-02-23")  # Tết -> first day after


def test_add_working_days_negative_is_refused():
    with pytest.raises(ValueError):
        CAL.add_working_days(D("2025-03-10"), -1)


def test_add_working_days_across_tet_2026():
    # Fri 13/02 not counted; 14-15 weekend; 16-20 Tết; 21-22 weekend;
    # Mon 23 (1), Tue 24 (2), Wed 25 (3)
    assert CAL.add_working_days(D("2026-02-13"), 3) == D("2026-02-25")


def test_working_days_between():
    assert CAL.working_days_between(D("2025-03-10"), D("2025-03-10")) == 0
    assert CAL.working_days_between(D("2025-03-14"), D("2025-03-17")) == 1  # Fri -> Mon
    assert CAL.working_days_between(D("2025-03-17"), D("2025-03-14")) == -1
    # (Fri 13/02/2026, Mon 23/02/2026]: only Mon 23 is worked
    assert CAL.working_days_between(D("2026-02-13"), D("2026-02-23")) == 1
    # (Tue 29/04/2025, Fri 02/05/2025]: 30/04, 01/05, 02/05 all off
    assert CAL.working_days_between(D("2025-04-29"), D("2025-05-02")) == 0
    # (Fri 25/04/2025, Mon 28/04/2025]: Sat 26 make-up (1), Mon 28 (2)
    assert CAL.working_days_between(D("2025-04-25"), D("2025-04-28")) == 2


# --- normalize_unit -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, unit",
    [
        ("Ngày làm việc", "working_days"),
        ("NGÀY LÀM VIỆC", "working_days"),
        ("ngay lam viec", "working_days"),
        ("  Ngày   làm việc ", "working_days"),
        ("Nga\u0300y la\u0300m vie\u0323\u0302c", "working_days"),  # decomposed (NFD) input
        ("working_days", "working_days"),
        ("Ngày", "days"),
        ("ngay", "days"),
        ("days", "days"),
        ("Giờ", "hours"),
        ("gio", "hours"),
        ("hours", "hours"),
        ("Tháng", "months"),
        ("THANG", "months"),
        ("months", "months"),
    ],
)
def test_normalize_unit(text, unit):
    assert normalize_unit(text) == unit
    assert unit in UNITS


@pytest.mark.parametrize("text", ["", "Tuần", "ngày lễ", "phút", "năm"])
def test_normalize_unit_refuses_unknown_units(text):
    with pytest.raises(ValueError):
        normalize_unit(text)


# --- due_at: working days -------------------------------------------------------------------


def test_ordinary_week():
    # Mon 10/03/2025 09:15 not counted; Tue (1), Wed (2), Thu (3)
    assert due_at(at("2025-03-10T09:15"), 3, "working_days", CAL) == at("2025-03-13T09:15")


def test_accepts_catalog_unit_text_and_string_limits():
    assert due_at(at("2025-03-10T09:15"), "3", "Ngày làm việc", CAL) == at("2025-03-13T09:15")


def test_result_keeps_tzinfo():
    fixed = timezone(timedelta(hours=7))
    due = due_at(datetime(2025, 3, 10, 9, 15, tzinfo=fixed), 3, "working_days", CAL)
    assert due == datetime(2025, 3, 13, 9, 15, tzinfo=fixed)
    assert due.tzinfo is fixed
    assert due_at(at("2025-03-10T09:15"), 3, "working_days", CAL).tzinfo is TZ


def test_keeps_seconds_of_receipt():
    assert due_at(at("2025-03-10T09:15:42"), 1, "working_days", CAL) == at("2025-03-11T09:15:42")


def test_tet_2026_receipt_just_before():
    # Fri 13/02 not counted; Sat 14 - Sun 22 off (Tết 16-20 + weekends);
    # Mon 23 (1), Tue 24 (2), Wed 25 (3)
    assert due_at(at("2026-02-13T10:00"), 3, "working_days", CAL) == at("2026-02-25T10:00")


def test_tet_2027_receipt_just_before():
    # Wed 03/02 not counted; Thu 04 - Wed 10 off (Tết + compensatory days + weekend);
    # Thu 11 (1), Fri 12 (2), Sat/Sun, Mon 15 (3)
    assert due_at(at("2027-02-03T10:00"), 3, "working_days", CAL) == at("2027-02-15T10:00")


def test_hung_kings_day_2025():
    # Fri 04/04 not counted; Sat 5, Sun 6, Mon 7 (Giỗ Tổ) off; Tue 8 (1), Wed 9 (2)
    assert due_at(at("2025-04-04T09:00"), 2, "working_days", CAL) == at("2025-04-09T09:00")


def test_hung_kings_on_sunday_2026_and_30_4_1_5():
    # Fri 24/04 not counted; Sat 25, Sun 26 (Giỗ Tổ), Mon 27 (compensatory) off;
    # Tue 28 (1), Wed 29 (2); Thu 30/04, Fri 01/05, Sat, Sun off; Mon 04/05 (3), Tue 05 (4), Wed 06 (5)
    assert due_at(at("2026-04-24T14:00"), 5, "working_days", CAL) == at("2026-05-06T14:00")


def test_30_4_1_5_2025_with_swap():
    # Tue 29/04 not counted; Wed 30, Thu 01/05, Fri 02/05 (swap), Sat, Sun off; Mon 05 (1), Tue 06 (2)
    assert due_at(at("2025-04-29T10:00"), 2, "working_days", CAL) == at("2025-05-06T10:00")


def test_make_up_saturday_is_counted():
    # Fri 25/04/2025 not counted; Sat 26 make-up (1), Sun off, Mon 28 (2), Tue 29 (3)
    assert due_at(at("2025-04-25T08:00"), 3, "working_days", CAL) == at("2025-04-29T08:00")
    # Fri 09/01/2026 not counted; Sat 10/01 make-up (1)
    assert due_at(at("2026-01-09T16:00"), 1, "working_days", CAL) == at("2026-01-10T16:00")


def test_receipt_on_a_make_up_saturday_counts_as_is():
    # Sat 10/01/2026 is worked: not counted; Sun off; Mon 12 (1)
    assert due_at(at("2026-01-10T09:00"), 1, "working_days", CAL) == at("2026-01-12T09:00")


def test_national_day_2025_with_adjacent_day():
    # Fri 29/08 not counted; Sat 30, Sun 31, Mon 01/09 (adjacent day), Tue 02/09 off; Wed 03 (1)
    assert due_at(at("2025-08-29T09:30"), 1, "working_days", CAL) == at("2025-09-03T09:30")


def test_national_day_2026_with_swap():
    # Fri 28/08 not counted; Sat, Sun, Mon 31 (swap), Tue 01/09, Wed 02/09 off; Thu 03 (1), Fri 04 (2)
    assert due_at(at("2026-08-28T09:30"), 2, "working_days", CAL) == at("2026-09-04T09:30")
    # Fri 21/08 not counted; Sat 22/08 make-up (1)
    assert due_at(at("2026-08-21T10:00"), 1, "working_days", CAL) == at("2026-08-22T10:00")


def test_compensatory_day_off():
    # 1/5/2027 is a Saturday -> Mon 03/05 off. Thu 29/04 not counted; Fri 30/04 off, weekend,
    # Mon 03/05 off; Tue 04 (1)
    assert due_at(at("2027-04-29T10:00"), 1, "working_days", CAL) == at("2027-05-04T10:00")


def test_a_new_holiday_moves_the_date():
    # Mon 23/11/2026, 1 working day: Tue 24 (1) without the holiday...
    assert due_at(at("2026-11-23T09:00"), 1, "working_days", CAL) == at("2026-11-24T09:00")
    # ...Wed 25 (1) once 24/11 (Ngày Văn hóa Việt Nam) is a day off.
    cal = replace(CAL, off_days=CAL.off_days | {D("2026-11-24")})
    assert due_at(at("2026-11-23T09:00"), 1, "working_days", cal) == at("2026-11-25T09:00")


def test_year_end():
    # Wed 31/12/2025 not counted; Thu 01/01 off, Fri 02/01 off (swap), weekend; Mon 05 (1), Tue 06 (2)
    assert due_at(at("2025-12-31T10:00"), 2, "working_days", CAL) == at("2026-01-06T10:00")
    # Mon 05/01/2026 not counted; Tue (1) Wed (2) Thu (3) Fri (4) Sat 10/01 make-up (5)
    assert due_at(at("2026-01-05T10:00"), 5, "working_days", CAL) == at("2026-01-10T10:00")


# --- due_at: effective receipt time ----------------------------------------------------------


def test_after_hours_receipt_counts_from_next_morning():
    # Mon 10/03/2025 18:00 -> effective Tue 11 07:00, not counted; Wed (1), Thu (2), Fri 14 (3)
    assert due_at(at("2025-03-10T18:00"), 3, "working_days", CAL) == at("2025-03-14T07:00")


def test_receipt_at_closing_time_is_after_hours():
    # 17:00 sharp is the end of the session: effective Tue 07:00; Wed 12 (1)
    assert due_at(at("2025-03-10T17:00"), 1, "working_days", CAL) == at("2025-03-12T07:00")


def test_early_receipt_counts_from_opening():
    # Mon 06:30 -> effective Mon 07:00, not counted; Tue (1)
    assert due_at(at("2025-03-10T06:30"), 1, "working_days", CAL) == at("2025-03-11T07:00")


def test_lunch_time_receipt_counts_from_afternoon_session():
    # Mon 12:00 -> effective Mon 13:30, not counted; Tue (1), Wed 12 (2)
    assert due_at(at("2025-03-10T12:00"), 2, "working_days", CAL) == at("2025-03-12T13:30")
    # 11:30 sharp ends the morning session: also the afternoon
    assert due_at(at("2025-03-10T11:30"), 2, "working_days", CAL) == at("2025-03-12T13:30")


def test_weekend_receipt_counts_from_monday_morning():
    # Sat 15/03/2025 10:00 -> effective Mon 17 07:00, not counted; Tue 18 (1)
    assert due_at(at("2025-03-15T10:00"), 1, "working_days", CAL) == at("2025-03-18T07:00")


def test_holiday_receipt_counts_from_next_working_morning():
    # Online dossier on Tết Tue 17/02/2026 -> effective Mon 23 07:00; Tue 24 (1)
    assert due_at(at("2026-02-17T20:00"), 1, "working_days", CAL) == at("2026-02-24T07:00")


def test_due_time_stays_inside_the_session():
    # 16:59 receipt, due 16:59: fine, before 17:00
    assert due_at(at("2025-03-10T16:59"), 1, "working_days", CAL) == at("2025-03-11T16:59")


# --- due_at: same-day procedures and the 15:00 cutoff --------------------------------------


def test_same_day_procedure():
    assert due_at(at("2025-03-10T14:00"), 0, "working_days", CAL) == at("2025-03-10T17:00")
    # without the flag even a late afternoon receipt is due the same day
    assert due_at(at("2025-03-10T16:30"), 0, "working_days", CAL) == at("2025-03-10T17:00")
    # after hours: due at the end of the next working day
    assert due_at(at("2025-03-10T18:00"), 0, "working_days", CAL) == at("2025-03-11T17:00")
    # Saturday: Monday evening
    assert due_at(at("2025-03-15T09:00"), 0, "hours", CAL) == at("2025-03-17T17:00")


def test_same_day_procedure_after_cutoff_becomes_next_working_day():
    flag = {"next_day_after_cutoff": True}
    assert due_at(at("2025-03-10T14:59"), 0, "working_days", CAL, **flag) == at("2025-03-10T17:00")
    # 15:00 sharp is not "after 15:00"
    assert due_at(at("2025-03-10T15:00"), 0, "working_days", CAL, **flag) == at("2025-03-10T17:00")
    assert due_at(at("2025-03-10T15:30"), 0, "working_days", CAL, **flag) == at("2025-03-11T17:00")
    # Fri 14/03 15:30 -> Mon 17/03
    assert due_at(at("2025-03-14T15:30"), 0, "working_days", CAL, **flag) == at("2025-03-17T17:00")
    # Fri 13/02/2026 15:30, just before Tết -> Mon 23/02
    assert due_at(at("2026-02-13T15:30"), 0, "working_days", CAL, **flag) == at("2026-02-23T17:00")


def test_cutoff_configurable():
    flag = {"next_day_after_cutoff": True, "cutoff": time(16, 0)}
    assert due_at(at("2025-03-10T15:30"), 0, "working_days", CAL, **flag) == at("2025-03-10T17:00")
    assert due_at(at("2025-03-10T16:01"), 0, "working_days", CAL, **flag) == at("2025-03-11T17:00")


def test_cutoff_with_a_time_limit_moves_receipt_to_next_morning():
    # Mon 15:30 with the flag -> effective Tue 07:00, not counted; Wed (1), Thu 13 (2)
    flag = {"next_day_after_cutoff": True}
    assert due_at(at("2025-03-10T15:30"), 2, "working_days", CAL, **flag) == at("2025-03-13T07:00")
    # without the flag: Mon not counted; Tue (1), Wed 12 (2) at 15:30
    assert due_at(at("2025-03-10T15:30"), 2, "working_days", CAL) == at("2025-03-12T15:30")
    # after hours the receipt is already moved: no second move
    assert due_at(at("2025-03-10T18:00"), 2, "working_days", CAL, **flag) == at("2025-03-13T07:00")


# --- due_at: other units --------------------------------------------------------------------


def test_calendar_days():
    # Wed 12/03/2025 + 5 days = Mon 17/03, a working day: same time
    assert due_at(at("2025-03-12T10:00"), 5, "days", CAL) == at("2025-03-17T10:00")


def test_calendar_days_ending_on_a_sunday():
    # Wed 12/03/2025 + 4 days = Sun 16/03 -> end of Mon 17/03 (Art. 148)
    assert due_at(at("2025-03-12T10:00"), 4, "Ngày", CAL) == at("2025-03-17T17:00")


def test_calendar_days_ending_on_a_holiday():
    # Fri 25/04/2025 + 5 days = Wed 30/04 off; 01/05, 02/05 off, Sat 03 and Sun 04 off -> Mon 05/05
    assert due_at(at("2025-04-25T10:00"), 5, "days", CAL) == at("2025-05-05T17:00")


def test_calendar_days_count_holidays():
    # Fri 13/02/2026 + 12 days = Wed 25/02 (Tết days are counted as calendar days)
    assert due_at(at("2026-02-13T10:00"), 12, "days", CAL) == at("2026-02-25T10:00")


def test_hours_across_lunch():
    # Mon 10:00, 4 h: 10:00-11:30 = 1.5 h, then 13:30 + 2.5 h = 16:00
    assert due_at(at("2025-03-10T10:00"), 4, "Giờ", CAL) == at("2025-03-10T16:00")


def test_hours_overnight():
    # Mon 16:00, 4 h: 16:00-17:00 = 1 h, then Tue 07:00 + 3 h = 10:00
    assert due_at(at("2025-03-10T16:00"), 4, "hours", CAL) == at("2025-03-11T10:00")


def test_hours_over_weekend_and_to_the_session_end():
    # Fri 16:00, 2 h: 1 h Friday, then Mon 07:00 + 1 h
    assert due_at(at("2025-03-14T16:00"), 2, "hours", CAL) == at("2025-03-17T08:00")
    # Mon 07:00 + 8 h: 4.5 h morning + 3.5 h afternoon = 17:00 the same day
    assert due_at(at("2025-03-10T07:00"), 8, "hours", CAL) == at("2025-03-10T17:00")
    # Mon 10:00 + 1.5 h ends exactly at 11:30
    assert due_at(at("2025-03-10T10:00"), 1.5, "hours", CAL) == at("2025-03-10T11:30")


def test_hours_from_lunch_and_after_hours():
    # Mon 12:00 -> 13:30 + 1 h
    assert due_at(at("2025-03-10T12:00"), 1, "hours", CAL) == at("2025-03-10T14:30")
    # Mon 18:00 -> Tue 07:00 + 2 h
    assert due_at(at("2025-03-10T18:00"), 2, "hours", CAL) == at("2025-03-11T09:00")


def test_hours_across_tet():
    # Fri 13/02/2026 16:00, 24 h: 1 h Friday, then Mon 23 8 h, Tue 24 8 h, Wed 25 7 h -> 16:00
    assert due_at(at("2026-02-13T16:00"), 24, "hours", CAL) == at("2026-02-25T16:00")


def test_fractional_working_days_use_working_hours():
    # 0.5 day = 4 h from Mon 09:00: 2.5 h morning, 13:30 + 1.5 h = 15:00
    assert due_at(at("2025-03-10T09:00"), 0.5, "working_days", CAL) == at("2025-03-10T15:00")
    # 1.5 days = 12 h from Mon 09:00: Mon 6 h, Tue 4.5 h morning, 13:30 + 1.5 h = 15:00
    assert due_at(at("2025-03-10T09:00"), 1.5, "working_days", CAL) == at("2025-03-11T15:00")
    # a whole float is an ordinary day count
    assert due_at(at("2025-03-10T09:00"), 2.0, "working_days", CAL) == at("2025-03-12T09:00")


def test_fractional_day_length_follows_the_sessions():
    cal = replace(CAL, sessions=((time(8, 0), time(12, 0)), (time(13, 0), time(17, 0))))
    # 0.5 day of an 8 h day = 4 h: Mon 10:00 -> 12:00 (2 h), 13:00 + 2 h = 15:00
    assert due_at(at("2025-03-10T10:00"), 0.5, "working_days", cal) == at("2025-03-10T15:00")


def test_months():
    # Thu 31/07/2025 + 2 months -> Tue 30/09 (clamped to the month end)
    assert due_at(at("2025-07-31T10:00"), 2, "Tháng", CAL) == at("2025-09-30T10:00")
    # Fri 31/01/2025 is Tết: effective Mon 03/02 07:00, + 1 month -> Mon 03/03 07:00
    assert due_at(at("2025-01-31T10:00"), 1, "months", CAL) == at("2025-03-03T07:00")
    # Mon 31/03/2025 + 2 months -> Sat 31/05 -> end of Mon 02/06
    assert due_at(at("2025-03-31T10:00"), 2, "months", CAL) == at("2025-06-02T17:00")
    # Mon 15/12/2025 + 2 months -> Sun 15/02/2026, then Tết to Sun 22 -> end of Mon 23/02
    assert due_at(at("2025-12-15T10:00"), 2, "months", CAL) == at("2026-02-23T17:00")
    # leap year clamp: 31/01/2028 + 1 month -> Tue 29/02/2028
    assert due_at(at("2028-01-31T10:00"), 1, "months", CAL) == at("2028-02-29T10:00")


# --- due_at: refused input ------------------------------------------------------------------


def test_naive_receipt_is_refused():
    with pytest.raises(ValueError):
        due_at(datetime(2025, 3, 10, 9, 0), 1, "working_days", CAL)


@pytest.mark.parametrize(
    "limit, unit",
    [(-1, "working_days"), (float("nan"), "hours"), (float("inf"), "days"), (1.5, "months"), (1, "weeks")],
)
def test_bad_limits_are_refused(limit, unit):
    with pytest.raises(ValueError):
        due_at(at("2025-03-10T09:00"), limit, unit, CAL)


# --- properties -----------------------------------------------------------------------------

receipts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30, 23, 59), timezones=st.just(TZ)
)
limits = st.one_of(st.integers(0, 40), st.sampled_from([0.25, 0.5, 1.5, 2.75]))
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 6, 30))
flags = st.booleans()


def _inside_a_session(cal: WorkCalendar, t: time) -> bool:
    return any(start <= t <= end for start, end in cal.sessions)


@settings(max_examples=400)
@given(received=receipts, limit=limits, unit=st.sampled_from(UNITS), flag=flags)
def test_due_is_a_working_time_not_before_receipt(received, limit, unit, flag):
    if unit == "months":
        limit = int(limit) % 13
    due = due_at(received, limit, unit, CAL, next_day_after_cutoff=flag)
    assert due >= received
    assert due.tzinfo is received.tzinfo
    assert CAL.is_working_day(due.date())
    assert _inside_a_session(CAL, due.timetz().replace(tzinfo=None))


@settings(max_examples=400)
@given(r1=receipts, r2=receipts, limit=limits, unit=st.sampled_from(["working_days", "hours"]), flag=flags)
def test_due_is_monotonic_in_receipt_time(r1, r2, limit, unit, flag):
    r1, r2 = min(r1, r2), max(r1, r2)
    assert due_at(r1, limit, unit, CAL, next_day_after_cutoff=flag) <= due_at(
        r2, limit, unit, CAL, next_day_after_cutoff=flag
    )


@settings(max_examples=300)
@given(r1=receipts, r2=receipts, n=st.integers(0, 14), unit=st.sampled_from(["days", "months"]))
def test_calendar_unit_due_date_is_monotonic(r1, r2, n, unit):
    # Only the date: a rolled-over deadline ends at 17:00 (see the due_at docstring).
    r1, r2 = min(r1, r2), max(r1, r2)
    assert due_at(r1, n, unit, CAL).date() <= due_at(r2, n, unit, CAL).date()


@settings(max_examples=300)
@given(received=receipts, h1=st.floats(0.1, 200), h2=st.floats(0.1, 200))
def test_more_hours_never_give_an_earlier_date(received, h1, h2):
    h1, h2 = min(h1, h2), max(h1, h2)
    assert due_at(received, h1, "hours", CAL) <= due_at(received, h2, "hours", CAL)


@settings(max_examples=400)
@given(d=days, n=st.integers(0, 60))
def test_add_working_days_counts_exactly_n(d, n):
    result = CAL.add_working_days(d, n)
    assert CAL.is_working_day(result)
    if n == 0:
        assert result == (d if CAL.is_working_day(d) else CAL.next_working_day(d))
    else:
        assert CAL.working_days_between(d, result) == n
        # and it is the first such day: one day earlier has one working day less
        assert CAL.working_days_between(d, result - timedelta(days=1)) == n - 1


@settings(max_examples=300)
@given(a=days, b=days, c=days)
def test_working_days_between_is_additive_and_antisymmetric(a, b, c):
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
    assert CAL.working_days_between(a, c) == CAL.working_days_between(a, b) + CAL.working_days_between(b, c)


@settings(max_examples=300)
@given(received=receipts, n=st.integers(1, 20))
def test_working_days_due_date_is_n_working_days_after_effective_day(received, n):
    due = due_at(received, n, "working_days", CAL)
    # the effective day is the receipt day when received inside a session, else the next working day
    # the effective day is the receipt day if it is worked and the receipt is before closing
    # time, else the next working day
    same_day = CAL.is_working_day(received.date()) and received.time() < CAL.sessions[-1][1]
    effective = received.date() if same_day else CAL.next_working_day(received.date())
    assert CAL.working_days_between(effective, due.date()) == n

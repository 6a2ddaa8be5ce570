"""The pure core: dossier codes and the status machine."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onestop.domain import codes, states


def test_format_matches_tt01_2018():
    assert codes.format_code("000.00.01.H56", date(2026, 11, 22), 7) == "000.00.01.H56-261122-0007"


def test_sequence_grows_past_9999_without_truncation():
    assert codes.format_code("000.00.01.H56", date(2026, 1, 2), 12345) == "000.00.01.H56-260102-12345"


def test_tt04_2025_variant_puts_owner_digits_before_sequence():
    c = codes.format_code("000.00.00.G22", date(2026, 2, 1), 3, rule="tt04-2025", owner="07")
    assert c == "000.00.00.G22-260201-070003"
    assert codes.parse_code(c, rule="tt04-2025").seq == 3
    with pytest.raises(ValueError):
        codes.format_code("000.00.00.G22", date(2026, 2, 1), 3, rule="tt04-2025", owner="")


@pytest.mark.parametrize("agency", ["000.00.01.H56", "000.00.00.G22", "000.A0.01.H26", "000.713.18.G12"])
def test_agency_codes_from_domain_are_valid(agency):
    assert codes.valid_agency_code(agency)


@pytest.mark.parametrize("agency", ["", "H56", "000 00 01", "000.00.01.H56-"])
def test_bad_agency_codes_are_rejected(agency):
    assert not codes.valid_agency_code(agency)


def test_sequence_starts_at_one():
    with pytest.raises(ValueError):
        codes.format_code("000.00.01.H56", date(2026, 1, 2), 0)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(1, 10**6))
def test_code_round_trips(day, seq):
    c = codes.format_code("000.00.01.H56", day, seq)
    p = codes.parse_code(c)
    assert (p.agency, p.day, p.seq) == ("000.00.01.H56", day, seq)


ALLOWED = [(a, b) for a, bs in states.TRANSITIONS.items() for b in sorted(bs, key=int)]  # sorted: the same order in every xdist worker
ALL = [str(i) for i in range(1, 11)]


@pytest.mark.parametrize("a,b", ALLOWED)
def test_each_allowed_transition(a, b):
    mv = states.check_move(a, b)
    assert mv.papers_arrived == (a == "5" and b == "4")


@pytest.mark.parametrize("a,b", [(a, b) for a in ALL for b in ALL if (a, b) not in ALLOWED])
def test_each_refused_transition(a, b):
    with pytest.raises(ValueError):
        states.check_move(a, b)


def test_terminal_statuses_have_no_way_out():
    for s in ("3", "7", "8", "10"):
        assert not states.TRANSITIONS[s]


@pytest.mark.parametrize("word,code", [("4", "4"), ("handover", "4"), ("bổ sung", "5"), ("Bo-sung", "5"),
                                       ("rút", "7"), ("xong", "9"), ("trả", "10"), ("nonsense", None)])
def test_status_aliases(word, code):
    assert states.resolve_status(word) == code


def test_reschedule_rules():
    due = "2026-12-10T09:00:00+07:00"
    assert states.can_reschedule("4", 0, "2026-12-08T09:00:00+07:00", due) is None
    assert states.can_reschedule("4", 1, "2026-12-08T09:00:00+07:00", due) == "already"
    assert states.can_reschedule("4", 0, "2026-12-09T10:00:00+07:00", due) == "too_late"
    assert states.can_reschedule("9", 0, "2026-12-01T10:00:00+07:00", due) == "finished"

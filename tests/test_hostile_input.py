"""What a hostile tester types at the counter: control characters, invisible names, out-of-range
numbers, other scripts' digits, impossible times. Refused with exit 4 (nothing stored) or
normalised where the meaning is certain; never an "unexpected error"; never an escape code printed."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROC = "1.003584"
BASE = ["receive", "-p", PROC, "--id", "001085012345", "--all-components", "--json"]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


def stored(db, table="dossiers"):
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize("field,value", [
    ("--name", "Nguy\x01n\x1b[31mRED\x07"),
    ("--name", "An\x9bB"),  # C1 CSI
    ("--address", "Số 1\x1b]0;owned\x07 Hàng Bạc"),
])
def test_control_characters_are_refused(run, db, field, value):
    args = [*BASE, "--name", "An"] if field != "--name" else BASE
    r = run(*args, field, value)
    assert r.exit_code == 4, r.stderr
    assert "U+00" in r.stderr and "\x1b" not in r.stderr and "\x07" not in r.stderr
    assert stored(db) == 0


@pytest.mark.parametrize("name", ["\u200b", " \u200b\u200d \ufeff ", "\u202e"])
def test_a_name_of_invisible_characters_is_refused(run, db, name):
    r = run(*BASE, "--name", name)
    assert r.exit_code == 4 and "--name" in r.stderr, r.stderr
    assert stored(db) == 0


def test_zero_width_characters_inside_a_name_are_dropped(run, db, rows):
    r = run(*BASE, "--name", "Nguyễn\u200b Văn\u202e An", "--address", "Số 12\tHàng Bạc\n Hà Nội")
    assert r.exit_code == 0, r.stderr
    assert rows("SELECT applicant_name, address FROM dossiers")[0] == \
        ("Nguyễn Văn An", "Số 12 Hàng Bạc Hà Nội")


@pytest.mark.parametrize("option,value", [
    ("--channel", "x"), ("--channel", ""), ("--channel", "0"), ("--channel", "4"),
    ("--sets", "0"), ("--sets", "-5"), ("--sets", "99999999999999999999"),
    ("--pages", "1=99999999999999999999"), ("--pages", "1=-1"), ("--pages", "1=²"),
])
def test_out_of_range_options_exit_4_and_store_nothing(run, db, option, value):
    r = run(*BASE, "--name", "An", option, value)
    assert r.exit_code == 4, (r.exit_code, r.stderr, r.exception)
    assert "không mong đợi" not in r.stderr
    assert stored(db) == 0 and stored(db, "code_sequences") == 0


@pytest.mark.parametrize("phone", ["٠٩١٢٣٤٥٦٧٨", "０９１２ ３４５ ６７８", " 0912.345.678 "])
def test_phone_digits_of_any_script_are_stored_as_ascii(run, db, phone, rows):
    r = run(*BASE, "--name", "An", "--phone", phone)
    assert r.exit_code == 0, r.stderr
    assert rows("SELECT phone FROM dossiers")[0][0] == "0912345678"
    shown = json.loads(run("show", json.loads(r.stdout)["code"], "--json").stdout)
    assert shown["phone"] == "091*****78"


def test_id_in_arabic_indic_digits_is_stored_as_ascii(run, db, rows):
    r = run("receive", "-p", PROC, "--id", "٠٠١٠٨٥٠١٢٣٤٥", "--name", "An", "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    assert rows("SELECT id_number FROM dossiers")[0][0] == "001085012345"


def test_move_in_the_future_or_before_the_last_event_is_refused(run, db, rows):
    code = json.loads(run(*BASE, "--name", "An", "--at", "2026-11-23 09:00").stdout)["code"]
    r = run("move", code, "4", "--at", "2099-01-01")
    assert r.exit_code == 4 and "tương lai" in r.stderr, r.stderr
    assert run("move", code, "4", "--at", "2026-11-25 10:00").exit_code == 0
    r = run("move", code, "9", "--at", "2026-11-24 10:00")  # after receipt, before the handover
    assert r.exit_code == 4 and "25/11/2026 10:00" in r.stderr, r.stderr
    assert run("move", code, "9", "--at", "2026-11-26 10:00").exit_code == 0
    assert [e[0] for e in rows("SELECT at FROM events ORDER BY id")] == [
        "2026-11-23T09:00:00+07:00", "2026-11-25T10:00:00+07:00", "2026-11-26T10:00:00+07:00"]


def test_old_rows_with_escape_codes_are_never_printed_raw(run, db):
    code = json.loads(run(*BASE, "--name", "An", "--at", "2026-11-23 09:00").stdout)["code"]
    # a row stored by a version that did not refuse control characters
    db.execute("UPDATE dossiers SET applicant_name = ?, address = ?",
                    ["Nguy\x01n\x1b[31mRED\x07", "\x1b]0;x\x07Hà Nội"])
    for args in (["list"], ["list", "--csv"], ["book", "--year", "2026"], ["book", "--year", "2026", "--csv"],
                 ["show", code]):
        r = run(*args)
        assert r.exit_code == 0, (args, r.stderr)
        assert "RED" in r.stdout, args
        assert not any(ch in r.stdout for ch in "\x01\x1b\x07"), (args, r.stdout)


# Every option a tester can type, any text: an exit code from docs/exit-codes.md, never 1.
_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30)
_INTISH = st.one_of(st.integers(min_value=-10**25, max_value=10**25).map(str), _TEXT)
_OPTIONS = {"--name": st.one_of(st.just("Nguyễn Văn An"), _TEXT), "--phone": _TEXT, "--address": _TEXT,
            "--channel": st.one_of(st.sampled_from(["1", "2", "3"]), _TEXT), "--sets": _INTISH,
            "--pages": _INTISH.map(lambda v: f"1={v}"), "-c": _INTISH, "--at": _TEXT}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({}, optional=_OPTIONS))
def test_receive_options_never_end_in_an_unexpected_error(run, db, options):
    args = [a for k, v in options.items() for a in (k, v)]
    if "--name" not in options:
        args += ["--name", "An"]
    r = run("receive", "-p", PROC, "--id", "001085012345", "--all-components", *args, "--json")
    assert r.exit_code in (0, 2, 3, 4), (options, r.exit_code, r.stderr, r.exception)
    assert "không mong đợi" not in r.stderr


@pytest.mark.parametrize("args", [["list", "--limit", "99999999999999999999"], ["list", "--limit", "-3"],
                                  ["book", "--year", "99999999999999999999"],
                                  ["search", "--limit", "99999999999999999999", "an"]])
def test_huge_numbers_at_read_commands_exit_4(run, db, args):
    r = run(*args)
    assert r.exit_code == 4, (r.exit_code, r.stderr, r.exception)
    assert "không mong đợi" not in r.stderr

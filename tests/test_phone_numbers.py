"""Phone numbers checked by the Vietnamese numbering (issue 18, item 2): mobiles 10 digits with a
mobile prefix, landlines 11 digits with an area code 02x, +84 normalised, foreign numbers with + and a
country code; anything else asked again at the prompt and refused in scripts (exit 4)."""

import json

import pytest

from onestop.common import errors
from onestop.domain.identifiers import InvalidId
from onestop.domain.phones import parse_phone
from terminal import Terminal

BAD = ["091234567", "12345678", "1234567890", "0000000000", "0812345679999", "0912abc345", "0212345678", "+0123"]
BASE = ["receive", "-p", "1.003584", "--name", "Nguyễn Văn An", "--id", "001085012345", "--all-components"]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


@pytest.mark.parametrize("raw, stored", [
    ("0912345678", "0912345678"), ("0912 345 678", "0912345678"), ("0357.123.456", "0357123456"),
    ("+84 912 345 678", "0912345678"), ("0084912345678", "0912345678"), ("+84 (24) 3825-1234", "02438251234"),
    ("024 3825 1234", "02438251234"), ("02213567890", "02213567890"),
    ("+33 1 23 45 67 89", "+33123456789"), ("+1 202 555 0143", "+12025550143"), ("", ""),
])
def test_valid_numbers_are_normalised(raw, stored):
    assert parse_phone(raw) == stored


@pytest.mark.parametrize("raw", BAD)
def test_impossible_numbers_are_refused_with_the_rule(raw):
    with pytest.raises(InvalidId) as e:
        parse_phone(raw)
    assert f"'{raw}'" in e.value.message_vi and "10 chữ số" in e.value.message_vi and "mã vùng" in e.value.message_vi


def test_the_mobile_prefixes_are_data():
    assert parse_phone("0612345678", mobile_prefixes=("06",)) == "0612345678"
    with pytest.raises(InvalidId):
        parse_phone("0912345678", mobile_prefixes=("03",))


@pytest.mark.parametrize("raw", BAD)
def test_scripts_refuse_a_bad_phone_and_store_nothing(run, db, rows, raw):
    r = run(*BASE, "--phone", raw)
    assert r.exit_code == errors.INVALID_INPUT, r.output
    assert "Số điện thoại" in r.stderr and "không hợp lệ" in r.stderr
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]


def test_amend_checks_the_new_phone_and_stores_plus_84_nationally(run, db, rows):
    r = run(*BASE, "--phone", "0912345678", "--json")
    assert r.exit_code == 0, r.output
    code = json.loads(r.stdout)["code"]
    r = run("amend", code, "--phone", "091234567", "--reason", "Nhập sai")
    assert r.exit_code == errors.INVALID_INPUT and "9 chữ số" in r.stderr
    r = run("amend", code, "--phone", "+84 987 654 321", "--reason", "Số mới")
    assert r.exit_code == 0, r.output
    assert rows("SELECT phone FROM dossiers") == [("0987654321",)]


def test_the_prompt_asks_again_for_an_impossible_phone(db, rows):
    term = Terminal(*BASE)
    term.expect("Điện thoại")
    term.send("091234567")
    term.expect("không hợp lệ")
    term.expect("Điện thoại")
    term.send("0000000000")
    term.expect("không hợp lệ")
    term.expect("Điện thoại")
    term.send("+84 912 345 678")
    term.expect("Địa chỉ")
    term.send("Hà Nội")
    term.expect("Email")
    term.send("")
    term.expect("Người được ủy quyền nộp")
    term.send("")
    assert term.wait() == 0, term.seen
    assert rows("SELECT phone FROM dossiers") == [("0912345678",)]


from hypothesis import given, strategies as st  # noqa: E402


@given(st.text(max_size=24) | st.from_regex(r"\+?[0-9 .()-]{6,18}", fullmatch=True))
def test_any_text_is_a_valid_number_or_a_clear_refusal(raw):
    import re

    try:
        stored = parse_phone(raw)
    except InvalidId as e:
        assert "Số điện thoại" in e.message_vi and "Phone number" in e.message_en
        return
    assert stored == "" or re.fullmatch(r"0[35789][0-9]{8}|02[0-9]{9}|\+[1-9][0-9]{7,14}", stored), stored
    assert parse_phone(stored) == stored  # stored numbers read back unchanged

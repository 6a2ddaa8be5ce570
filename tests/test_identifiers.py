"""Applicant identifiers (DOMAIN.md §7): CCCD, CMND, MST, passport, chip-card QR."""

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onestop.domain.chip_qr import ChipCardQR, parse_chip_qr
from onestop.domain.identifiers import (
    ID_TYPES,
    PROVINCE_CODES,
    ApplicantId,
    InvalidId,
    mst_check_digit,
    parse_id,
)
from onestop.domain.masking import mask_id, mask_phone

# The province codes listed in DOMAIN.md §7, kept here so an edit to the table is noticed.
DOMAIN_CODES = (
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 "
    "034 035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 "
    "067 068 070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096"
).split()


def test_province_table_matches_domain_list():
    assert sorted(PROVINCE_CODES) == sorted(DOMAIN_CODES)
    assert all(name.strip() for name in PROVINCE_CODES.values())
    assert PROVINCE_CODES["001"] == "Hà Nội"
    assert PROVINCE_CODES["002"] == "Hà Giang"
    assert "Hồ Chí Minh" in PROVINCE_CODES["079"]
    # names are stored NFC, like every other text in onestop
    assert all(unicodedata.is_normalized("NFC", n) for n in PROVINCE_CODES.values())


def test_id_types():
    assert ID_TYPES == ("cccd", "cmnd", "mst", "passport")


# ---------------------------------------------------------------------------
# valid identifiers

VALID = [
    # raw, id_type, expected
    ("001099012345", None, ApplicantId("cccd", "001099012345", "1", "Hà Nội", 1999, "M")),
    ("079 301 012345", None, ApplicantId("cccd", "079301012345", "1", "TP Hồ Chí Minh", 2001, "F")),
    ("048.185.000001", "cccd", ApplicantId("cccd", "048185000001", "1", "Đà Nẵng", 1985, "F")),
    ("096200999999", "CCCD", ApplicantId("cccd", "096200999999", "1", "Cà Mau", 2000, "M")),
    ("002400000001", "cccd", ApplicantId("cccd", "002400000001", "1", "Hà Giang", 2100, "M")),
    ("002500000001", "cccd", ApplicantId("cccd", "002500000001", "1", "Hà Giang", 2100, "F")),
    (" 123456789 ", None, ApplicantId("cmnd", "123456789", "1")),
    ("012.345.678", "cmnd", ApplicantId("cmnd", "012345678", "1")),
    ("0100233488", None, ApplicantId("mst", "0100233488", "2")),
    ("01.00.233.488", "mst", ApplicantId("mst", "0100233488", "2")),
    ("0314409058-002", None, ApplicantId("mst", "0314409058-002", "2")),
    ("0314409058002", "mst", ApplicantId("mst", "0314409058-002", "2")),
    ("0314409058 - 002", "mst", ApplicantId("mst", "0314409058-002", "2")),
    ("c1234567", "passport", ApplicantId("passport", "C1234567", "1")),
    ("B 1234567", "passport", ApplicantId("passport", "B1234567", "1")),
    ("AB123456", "passport", ApplicantId("passport", "AB123456", "1")),
    ("123456", "passport", ApplicantId("passport", "123456", "1")),
    ("X12345678", "passport", ApplicantId("passport", "X12345678", "1")),
]


@pytest.mark.parametrize("raw,id_type,expected", VALID)
def test_valid(raw, id_type, expected):
    assert parse_id(raw, id_type) == expected


def test_full_width_digits_are_folded():
    assert parse_id("００１０９９０１２３４５").number == "001099012345"


def test_cccd_birth_year_equal_to_today_is_accepted():
    assert parse_id("001225000001", today_year=2025).birth_year == 2025


# ---------------------------------------------------------------------------
# invalid identifiers: every error branch, the Vietnamese text names the problem

INVALID = [
    # raw, id_type, today_year, words that must appear in message_vi
    ("", None, None, ["Chưa nhập"]),
    ("  . ", "cccd", None, ["Chưa nhập"]),
    ("001099012345", "cmtnd", None, ["Loại giấy tờ", "cccd, cmnd, mst, passport"]),
    # auto-detect
    ("0010990123456", None, None, ["13 chữ số", "--id-type mst"]),
    ("12345", None, None, ["5 chữ số", "--id-type passport"]),
    ("C1234567", None, None, ["--id-type passport"]),
    ("001-099-012345", None, None, ["--id-type passport"]),
    # cccd
    ("00109901234O", "cccd", None, ["chỉ được gồm chữ số"]),
    ("00109901234", "cccd", None, ["12 chữ số", "11 chữ số"]),
    ("123456789", "cccd", None, ["12 chữ số", "--id-type cmnd"]),
    ("003099012345", "cccd", None, ["Mã tỉnh", "'003'"]),
    ("000099012345", "cccd", None, ["Mã tỉnh", "'000'"]),
    ("097099012345", "cccd", None, ["Mã tỉnh", "'097'"]),
    ("001699012345", "cccd", None, ["thế kỷ", "6", "từ 0 đến 5"]),
    ("001999012345", "cccd", None, ["thế kỷ", "9"]),
    ("001230012345", "cccd", 2025, ["Năm sinh", "2030", "2025"]),
    ("001499012345", "cccd", 2025, ["Năm sinh", "2199"]),
    # cmnd
    ("12345678x", "cmnd", None, ["CMND", "chỉ được gồm chữ số"]),
    ("12345678", "cmnd", None, ["9 chữ số", "8 chữ số"]),
    ("001099012345", "cmnd", None, ["9 chữ số", "--id-type cccd"]),
    # mst
    ("01002334A8", "mst", None, ["chỉ được gồm chữ số"]),
    ("010023348", "mst", None, ["10 chữ số", "9 chữ số"]),
    ("0100233488-01", "mst", None, ["10 chữ số", "12 chữ số"]),
    ("0100233480", "mst", None, ["chữ số kiểm tra"]),
    ("0100233488-000", "mst", None, ["chi nhánh", "000"]),
    ("0100000000", "mst", None, ["toàn là 0"]),
    ("0314409057-002", None, None, ["chữ số kiểm tra"]),
    # passport
    ("C123-4567", "passport", None, ["A-Z"]),
    ("Đ1234567", "passport", None, ["A-Z"]),
    ("C1234", "passport", None, ["6 đến 9", "5 ký tự"]),
    ("C123456789", "passport", None, ["6 đến 9", "10 ký tự"]),
    ("ABCDEFG", "passport", None, ["không có chữ số"]),
]


@pytest.mark.parametrize("raw,id_type,today_year,words", INVALID)
def test_invalid(raw, id_type, today_year, words):
    with pytest.raises(InvalidId) as info:
        parse_id(raw, id_type, today_year=today_year)
    err = info.value
    for word in words:
        assert word in err.message_vi
    assert str(err) == err.message_vi
    assert err.message_en and err.message_en != err.message_vi
    assert isinstance(err, ValueError)


def test_mst_check_digit_of_ten_is_invalid():
    # find 9 digits whose check value would be 10: no 10th digit can make them valid
    first9 = next(f"{n:09d}" for n in range(10_000_000, 10**9) if mst_check_digit(f"{n:09d}") is None)
    for last in "0123456789":
        with pytest.raises(InvalidId, match="chữ số kiểm tra"):
            parse_id(first9 + last, "mst")


# ---------------------------------------------------------------------------
# properties


@st.composite
def valid_cccd(draw):
    code = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    century = draw(st.integers(0, 5))
    yy = draw(st.integers(0, 99))
    rest = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    return f"{code}{century}{yy:02d}{rest}"


@given(valid_cccd(), st.sampled_from(["", " ", ".", "  "]))
def test_any_valid_cccd_parses_and_round_trips(number, sep):
    parsed = parse_id(number)
    assert parsed.id_type == "cccd"
    assert parsed.number == number
    assert parsed.province == PROVINCE_CODES[number[:3]]
    assert parsed.birth_year % 100 == int(number[4:6])
    assert 1900 <= parsed.birth_year <= 2199
    assert parsed.sex == ("M" if int(number[3]) % 2 == 0 else "F")
    # as typed with separators, and re-parsing the normalized number
    spaced = sep.join([number[:3], number[3:6], number[6:]])
    assert parse_id(spaced, "cccd") == parsed
    assert parse_id(parsed.number, parsed.id_type) == parsed


@st.composite
def valid_mst(draw):
    first9 = draw(
        st.text(alphabet="0123456789", min_size=9, max_size=9).filter(
            lambda s: s[2:] != "0000000" and mst_check_digit(s) is not None
        )
    )
    return first9 + str(mst_check_digit(first9))


@given(valid_mst(), st.integers(1, 999))
def test_mst_with_correct_check_digit_passes(number, branch):
    assert parse_id(number) == ApplicantId("mst", number, "2")
    with_branch = f"{number}-{branch:03d}"
    assert parse_id(with_branch).number == with_branch
    assert parse_id(f"{number}{branch:03d}", "mst").number == with_branch


@given(valid_mst(), st.integers(1, 9))
def test_mst_any_change_of_the_check_digit_fails(number, delta):
    wrong = number[:9] + str((int(number[9]) + delta) % 10)
    with pytest.raises(InvalidId, match="chữ số kiểm tra"):
        parse_id(wrong)
    with pytest.raises(InvalidId, match="chữ số kiểm tra"):
        parse_id(wrong + "-001", "mst")


@given(st.text())
def test_mask_id_never_reveals_more_than_3_digits(text):
    masked = mask_id(text)
    assert sum(c.isdigit() for c in masked) <= 3
    assert sum(c != "*" for c in masked) <= 3


@given(valid_cccd())
def test_mask_id_keeps_last_three(number):
    assert mask_id(number) == "*" * 9 + number[-3:]


def test_mask_id_examples():
    assert mask_id("") == ""
    assert mask_id("001099012123") == "*********123"
    assert mask_id("001 099 012 123") == "*********123"
    assert mask_id("0100233488-001") == "***********001"
    assert mask_id("C1234567") == "*****567"
    assert mask_id("12") == "**"


def test_mask_phone():
    assert mask_phone("0901234567") == "090*****67"
    assert mask_phone("090 123 4567") == "090*****67"
    assert mask_phone("+84901234567") == "+84*******67"
    assert mask_phone("") == ""
    assert mask_phone("12345") == "*****"


@given(st.text())
def test_mask_phone_reveals_at_most_five(text):
    masked = mask_phone(text)
    assert sum(c != "*" for c in masked) <= 5


# ---------------------------------------------------------------------------
# chip ID card QR

QR_LINE = (
    "079301012345|025123456|Nguyễn Thị Thuỳ Dương|15082001|Nữ|"
    "Số 12, Đường Nguyễn Huệ, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh|20042021"
)
QR_EXPECTED = ChipCardQR(
    cccd="079301012345",
    old_cmnd="025123456",
    name="Nguyễn Thị Thuỳ Dương",
    birth_date=date(2001, 8, 15),
    sex="F",
    address="Số 12, Đường Nguyễn Huệ, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh",
    issue_date=date(2021, 4, 20),
)


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_chip_qr_nfc_and_nfd_give_nfc(form):
    line = unicodedata.normalize(form, QR_LINE)
    if form == "NFD":
        assert line != QR_LINE
    parsed = parse_chip_qr(line + "\n")
    assert parsed == QR_EXPECTED
    for text in (parsed.name, parsed.address):
        assert unicodedata.is_normalized("NFC", text)


def test_chip_qr_missing_old_cmnd_and_extra_fields():
    line = "001099012345||Trần Văn Đức|01011999|Nam|Thôn Đông, Xã Yên Viên, Hà Nội|10052022|extra|\r\n"
    parsed = parse_chip_qr(line)
    assert parsed.old_cmnd == ""
    assert parsed.cccd == "001099012345"
    assert parsed.sex == "M"
    assert parsed.birth_date == date(1999, 1, 1)
    assert parsed.issue_date == date(2022, 5, 10)


def test_chip_qr_empty_dates_are_none():
    parsed = parse_chip_qr("001099012345||Lê Văn An||Nam|Hà Nội|")
    assert parsed.birth_date is None and parsed.issue_date is None


QR_INVALID = [
    ("", ["7 trường"]),
    ("001099012345|123456789|Nguyễn Văn A|01011999|Nam|Hà Nội", ["7 trường", "6"]),
    ("003099012345||Nguyễn Văn A|01011999|Nam|Hà Nội|01012021", ["Mã tỉnh"]),
    ("00109901234||Nguyễn Văn A|01011999|Nam|Hà Nội|01012021", ["12 chữ số"]),
    ("001099012345|12345|Nguyễn Văn A|01011999|Nam|Hà Nội|01012021", ["CMND cũ"]),
    ("001099012345||  |01011999|Nam|Hà Nội|01012021", ["họ tên"]),
    ("001099012345||Nguyễn Văn A|1999-01|Nam|Hà Nội|01012021", ["ngày sinh", "ddMMyyyy"]),
    ("001099012345||Nguyễn Văn A|31021999|Nam|Hà Nội|01012021", ["ngày sinh", "không phải ngày"]),
    ("001099012345||Nguyễn Văn A|01011998|Nam|Hà Nội|01012021", ["năm sinh 1998", "không khớp"]),
    ("001099012345||Nguyễn Văn A|01011999|Nữ|Hà Nội|01012021", ["giới tính", "không khớp"]),
    ("001099012345||Nguyễn Văn A|01011999|X|Hà Nội|01012021", ["giới tính", "không rõ"]),
    ("001099012345||Nguyễn Văn A|01011999|Nam|Hà Nội|32012021", ["ngày cấp"]),
    ("001099012345||Nguyễn Văn A|01011999|Nam|Hà Nội|01011990", ["ngày cấp", "trước ngày sinh"]),
]


@pytest.mark.parametrize("line,words", QR_INVALID)
def test_chip_qr_invalid(line, words):
    with pytest.raises(InvalidId) as info:
        parse_chip_qr(line)
    for word in words:
        assert word in info.value.message_vi
    assert info.value.message_vi.startswith("Mã QR")
    assert info.value.message_en


def test_chip_qr_future_birth_year_with_today_year():
    with pytest.raises(InvalidId, match="Năm sinh"):
        parse_chip_qr("001230012345||Nguyễn Văn A|01012030|Nam|Hà Nội|", today_year=2025)


@given(valid_cccd())
def test_chip_qr_accepts_any_valid_cccd(number):
    line = f"{number}||Phạm Văn Bình|||Hà Nội|"
    assert parse_chip_qr(line).cccd == number

"""Document numbers (số ký hiệu) read from OCR text: the misreadings OCR really makes, corrected
against the closed lists, and ambiguous ones flagged instead of guessed (onestop/archive/docnumbers.py)."""

from __future__ import annotations

import tomllib
from datetime import date

import pytest
from hypothesis import assume, given, strategies as st

from conftest import REPO
from onestop.archive import docnumbers as dn

AGENCIES, EXTRA = dn.agencies_from(tomllib.loads((REPO / "config" / "agencies.toml").read_text("utf-8")))


def read(text: str, agencies=None):
    return dn.read(text, AGENCIES if agencies is None else agencies, extra_types=EXTRA)


def page(number_line: str, day: str = "ngày 05 tháng 03 năm 2026") -> str:
    return f"BỘ KHOA HỌC VÀ CÔNG NGHỆ\n{number_line}\nHà Nội, {day}\nQUYẾT ĐỊNH\nVề việc cấp giấy chứng nhận"


@pytest.mark.parametrize("line, number, issuer", [
    ("Số: 1205/QĐ-BKHCN", "1205/QĐ-BKHCN", "BKHCN"),
    ("Số: 1205/Q\u00d0-BKHCN", "1205/QĐ-BKHCN", "BKHCN"),          # Đ read as Ð (U+00D0)
    ("Số: 1205/QĐĐ-BKHCN", "1205/QĐ-BKHCN", "BKHCN"),             # doubled Đ
    ("Số: 1205 / QĐ - BKHCN", "1205/QĐ-BKHCN", "BKHCN"),          # spaces inside
    ("Số: 1205/QĐ–BKHCN", "1205/QĐ-BKHCN", "BKHCN"),              # an en dash
    ("Số: l2O5/QĐ-BKHCN", "1205/QĐ-BKHCN", "BKHCN"),              # l and O for 1 and 0
    ("Số: 1205/QĐ-BKH CN", "1205/QĐ-BKHCN", "BKHCN"),             # a space inside the issuer
    ("Số: 1205/QĐ-BKHCM", "1205/QĐ-BKHCN", "BKHCN"),              # one letter wrong, one agency close
    ("Sô: 12/TB-UBNO", "12/TB-UBND", "UBND"),                     # the label's accent misread too
    ("Số: 7/GP-BTC", "7/GP-BTC", "BTC"),                          # a configured specialised type
    ("Số: 3/QyĐ-BNV", "3/QyĐ-BNV", "BNV"),                        # mixed-case type of Phụ lục III
    ("Số: 3/QYĐ-BNV", "3/QyĐ-BNV", "BNV"),
    ("Số: 28/2O23/NĐ-CP", "28/2023/NĐ-CP", "CP"),                 # legal document: number/year/type-issuer
    ("Số: 15/2026/TT-BKHCN", "15/2026/TT-BKHCN", "BKHCN"),
    ("Số: 9/TTr-BKHCN", "9/TTr-BKHCN", "BKHCN"),
])
def test_misreadings_are_corrected(line, number, issuer):
    d = read(page(line))
    assert (d.number, d.issuer, d.date) == (number, issuer, "2026-03-05")
    assert not d.needs_check


def test_bttti_is_read_as_bttt_t_before_the_merger():
    d = read(page("Số: 318/BTTTI-KSTT", "ngày 12 tháng 08 năm 2024"))
    assert (d.number, d.issuer, d.date) == ("318/BTTTT-KSTT", "BTTTT", "2024-08-12")
    assert "corrected" in d.notes and not d.needs_check


def test_an_agency_after_its_merger_is_kept_but_flagged():
    d = read(page("Số: 318/BTTTT-KSTT", "ngày 12 tháng 08 năm 2026"))  # BTTTT merged into BKHCN on 2025-03-01
    assert d.number == "318/BTTTT-KSTT" and "invalid_issuer_date" in d.notes and d.needs_check


def test_validity_dates_decide_between_agencies():
    ags = [dn.Agency("BKHA", valid_until=date(2025, 2, 28)), dn.Agency("BKHB", valid_from=date(2025, 3, 1))]
    assert read(page("Số: 5/QĐ-BKHX", "ngày 1 tháng 1 năm 2024"), ags).number == "5/QĐ-BKHA"
    assert read(page("Số: 5/QĐ-BKHX", "ngày 1 tháng 1 năm 2026"), ags).number == "5/QĐ-BKHB"


def test_two_equally_close_agencies_are_not_guessed():
    ags = [dn.Agency("BKHA"), dn.Agency("BKHB")]
    d = read(page("Số: 5/QĐ-BKHX"), ags)
    assert d.number is None and d.needs_check
    assert sorted(d.candidates) == ["5/QĐ-BKHA", "5/QĐ-BKHB"]


def test_unknown_issuer_is_stored_as_read_and_flagged():
    d = read(page("Số: 5/QĐ-SXYZW"))
    assert d.number == "5/QĐ-SXYZW" and d.needs_check and "unknown_issuer" in d.notes


@pytest.mark.parametrize("line, number, issuer", [
    ("Số: 57/GCN-SKHCN", "57/GCN-SKHCN", "SKHCN"),     # a provincial department: never the ministry BKHCN
    ("Số: 57/QĐ-STP", "57/QĐ-STP", "STP"),             # never BTP
    ("Số: 57/SKHCN-VP", "57/SKHCN-VP", "SKHCN"),       # a công văn of the department
    ("Số: 9/QĐ-SGDĐT", "9/QĐ-SGDĐT", "SGDĐT"),
    ("Số: 12/QĐ-BQL", "12/QĐ-BQL", "BQL"),              # Ban quản lý: never the ministry BQP
    ("Số: 318/STC-VP", "318/STC-VP", "STC"),            # Sở Tài chính's công văn: never the type TC
    ("Số: 318/SCT-VP", "318/SCT-VP", "SCT"),            # nor CT (Chỉ thị)
])
def test_a_local_agency_is_kept_as_read_and_flagged_when_unknown(line, number, issuer):
    d = read(page(line))
    assert (d.number, d.issuer) == (number, issuer)
    assert "corrected" not in d.notes and "unknown_issuer" in d.notes and d.needs_check
    # Once the province lists it, the same reading is known: not flagged, still not rewritten.
    known = read(page(line), AGENCIES + [dn.Agency(issuer)])
    assert (known.number, known.issuer, known.needs_check) == (number, issuer, False)


def test_corrections_stay_within_the_agencys_family():
    ags = AGENCIES + [dn.Agency("SKHCN"), dn.Agency("STP")]
    assert read(page("Số: 57/GCN-5KHCN"), ags).number == "57/GCN-SKHCN"   # 5 for S: a look-alike
    assert read(page("Số: 57/GCN-8KHCN"), ags).number == "57/GCN-BKHCN"   # 8 for B
    # A real word of a department's shape is not rewritten into another department either.
    d = read(page("Số: 57/GCN-SKHCM"), ags)
    assert d.number == "57/GCN-SKHCM" and "unknown_issuer" in d.notes
    # The prefixes of the local families come from config/agencies.toml ([issuers] local).
    assert dn.local_from({}) == dn.LOCAL_PREFIXES
    assert dn.local_from({"issuers": {"local": ["S", "cat"]}}) == ("S", "CAT")
    d = dn.read(page("Số: 3/QĐ-CATP"), AGENCIES + [dn.Agency("CA")], extra_types=EXTRA, local=("S", "CA"))
    assert d.number == "3/QĐ-CATP" and d.needs_check


def test_only_the_headings_labelled_number_counts():
    body = ("ĐƠN ĐỀ NGHỊ\nCăn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 03 năm 2020\n"
            "Hà Nội, ngày 22/02/2026\nKính gửi: Sở Khoa học và Công nghệ")
    d = read(body)
    assert d.number is None and d.raw == "" and not d.needs_check


def test_date_with_misread_digits_and_diacritics():
    assert dn.find_date(["Ha Noi, ngay O5 thang 1l nam 2O26"]) == "2026-11-05"
    assert dn.find_date(["Hà Nội, ngày 31 tháng 02 năm 2026"]) is None  # not a date


def test_search_key_folds_case_spaces_and_d():
    assert dn.key("1205/QĐ-BKHCN") == dn.key(" 1205 / qđ-bkhcn ") == dn.key("1205/QD-BKHCN") == "1205/QD-BKHCN"


def test_type_list_is_the_decrees():
    # NĐ 30/2020/NĐ-CP Phụ lục III: 27 administrative types and 3 kinds of copy (DOMAIN.md §10);
    # công văn has no abbreviation.
    assert len(dn.ADMIN_TYPES) == 30 and "CV" not in dn.ADMIN_TYPES
    assert {"QyĐ", "CTr", "TTr", "GUQ", "GGT", "GNP", "TrS"} <= set(dn.ADMIN_TYPES)


def test_invalid_agencies_file_is_a_config_error(tmp_path, monkeypatch):
    import shutil

    from onestop.common import config
    from onestop.archive import digitization
    from onestop.common.errors import CONFIG, ConfigError

    shutil.copy(REPO / "config" / "onestop.toml", tmp_path / "onestop.toml")
    (tmp_path / "agencies.toml").write_text('[[agency]]\nabbr = "BKHCN"\nuntil = "28/02/2025"\n', "utf-8")
    monkeypatch.setenv("ONESTOP_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError) as e:
        digitization.agencies(config.load())
    assert e.value.exit_code == CONFIG and "agencies.toml" in e.value.message


@given(st.sampled_from(["S", "UBND", "HĐND", "BQL"]), st.text("ABCDEGHKLMNPQRSTUVXYĐ", min_size=2, max_size=6),
       st.sampled_from(["QĐ", "GCN", "TB", "GP"]))
def test_a_local_familys_word_is_never_rewritten(prefix, rest, kind):
    word = prefix + rest
    assume("ĐĐ" not in word)  # a doubled Đ is OCR's, corrected by design
    d = read(page(f"Số: 57/{kind}-{word}"))
    assert d.number == f"57/{kind}-{word}" and d.issuer == word

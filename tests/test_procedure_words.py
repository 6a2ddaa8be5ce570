"""A script's -p words must single out one procedure (issue 18, item 3): several close matches are
refused with the candidates (exit 16), never one of them picked by a tie-breaker."""

import json

import pytest

from onestop.intake import catalog
from onestop.common import errors

BASE = ["--name", "Nguyễn Văn An", "--id", "001085012345", "--all-components"]
SIX = ["1.000446", "1.003626", "1.003660", "1.003604", "1.014446", "1.003593"]


@pytest.mark.parametrize("words, candidates", [
    ("giay chung nhan", SIX),                                   # scores 1.02 vs 1.019: was picked silently
    ("chung nhan khoa hoc", ["1.003626", "1.003604", "1.014446", "1.003593"]),
    ("cap giay chung nhan dang ky hoat dong", ["1.000446", "1.003604"]),  # "cấp lại" was meant, perhaps
])
def test_words_matching_several_procedures_are_refused_with_the_candidates(run, db, rows, words, candidates):
    r = run("receive", "-p", words, *BASE)
    assert r.exit_code == errors.AMBIGUOUS_CODE, r.output
    assert f"khớp {len(candidates)} thủ tục" in r.stderr and "-p 1." in r.stderr
    for code in candidates:
        assert code in r.stderr
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]
    with pytest.raises(errors.AmbiguousCode) as e:
        catalog.single_out(db, words)
    assert sorted(e.value.candidates) == sorted(candidates)


@pytest.mark.parametrize("words, code", [
    ("thanh lap to chuc khoa hoc", "1.003584"),                              # the only match
    ("Cấp Giấy chứng nhận doanh nghiệp khoa học và công nghệ", "1.003626"),  # a name in full
    ("cap giay chung nhan doanh nghiep khoa hoc va cong nghe", "1.003626"),
])
def test_words_that_single_out_one_procedure_are_taken(run, db, rows, words, code):
    r = run("receive", "-p", words, *BASE)
    assert r.exit_code == 0, r.output
    assert rows("SELECT procedure_code FROM dossiers") == [(code,)]


def test_no_match_is_still_not_found(run, db):
    assert catalog.single_out(db, "xyz abc") is None
    r = run("receive", "-p", "xyz abc", *BASE)
    assert r.exit_code == errors.NOT_FOUND


def test_procedures_show_lists_the_close_procedures_instead_of_showing_one(run):
    """`procedures show WORDS` whose words match several procedures about equally shows none of them
    as if it were the one meant (its papers, limits and fees would be read as this procedure's)."""
    r = run("procedures", "show", "giay chung nhan", "--json")
    assert r.exit_code == 16, r.output
    assert r.stdout == ""
    assert all(code in r.stderr for code in SIX) and "onestop procedures list giay chung nhan" in r.stderr
    # Words that single one out, and a code, still show it.
    r = run("procedures", "show", "cap giay chung nhan doanh nghiep khoa hoc va cong nghe", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["code"] == "1.003626", r.output
    assert json.loads(run("procedures", "show", "1.003584", "--json").stdout)["code"] == "1.003584"

"""Procedure catalog: LayThuTuc import and diacritics-free search."""

import json

import pytest

from onestop.intake import catalog
from onestop.common.errors import InvalidInput, NotFound

LAY_THU_TUC = {
    "error_code": 0,
    "result": [{
        "MATTHC": "2.002492", "TENTTHC": "Cấp giấy phép thử nghiệm",
        "LINHVUCTHUCHIEN": [{"MALINHVUC": "G13-TC", "TENLINHVUC": "Tiêu chuẩn đo lường chất lượng"}],
        "CACHTHUCTHUCHIEN": [
            {"KENH": "1", "THOIGIAN": [{"THOIGIANGIAIQUYET": "7", "DONVITINH": "Ngày làm việc",
                                         "PHILEPHI": [{"MAPHILEPHI": "P1", "SOTIEN": "1500000", "DONVI": "VNĐ", "MOTA": "Phí thẩm định"}]}]},
            {"KENH": 2, "THOIGIAN": [{"THOIGIANGIAIQUYET": 5, "DONVITINH": "Ngày làm việc"}]},
        ],
        "THANHPHANHOSO": [{"TRUONGHOP": "Cấp mới", "GIAYTO": [
            {"MAGIAYTO": "A", "TENGIAYTO": "Đơn đề nghị", "SOBANCHINH": "1", "SOBANSAO": "0"},
            {"MAGIAYTO": "B", "TENGIAYTO": "Bản sao quyết định thành lập"},
        ]}],
        "KETQUATHUCHIEN": [{"MAKETQUA": "K", "TENKETQUA": "Giấy phép"}],
    }],
}


def test_import_wrapper_and_numbers_as_strings_or_numbers(db, tmp_path):
    f = tmp_path / "ltt.json"
    f.write_text(json.dumps(LAY_THU_TUC, ensure_ascii=False), encoding="utf-8")
    assert catalog.import_file(db, f) == 1
    p = catalog.get(db, "2.002492")
    assert p.limit_for("1") == (7.0, "working_days")
    assert p.limit_for("2") == (5.0, "working_days")
    # each channel's fees, in whole đồng (issue 20); channel 2 lists none: it takes the counter's
    assert p.fees == [{"code": "P1", "name": "Phí thẩm định", "amount": 1500000, "unit": "VNĐ", "channel": "1"}]
    assert p.fees_for("2") == p.fees_for("1") == p.fees
    # the counts of originals/copies may be missing: 1 original by default
    assert [(c.name, c.originals, c.copies) for c in p.components] == [
        ("Đơn đề nghị", 1, 0), ("Bản sao quyết định thành lập", 1, 0)]


def test_import_bare_list_updates_in_place(db, tmp_path, rows):
    f = tmp_path / "ltt.json"
    proc = dict(LAY_THU_TUC["result"][0], TENTTHC="Tên mới")
    f.write_text(json.dumps([proc], ensure_ascii=False), encoding="utf-8")
    catalog.import_file(db, f)
    catalog.import_file(db, f)
    assert catalog.get(db, "2.002492").name == "Tên mới"
    assert rows("SELECT count(*) FROM procedure_components WHERE procedure_code='2.002492'")[0][0] == 2


@pytest.mark.parametrize("content", ['{"error_code": 1, "message": "sai"}', "[{\"MATTHC\": \"abc\"}]", "not json", '{"x": 1}'])
def test_import_rejects_malformed_files_and_stores_nothing(db, tmp_path, content, rows):
    before = rows("SELECT count(*) FROM procedures")[0][0]
    f = tmp_path / "bad.json"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput):
        catalog.import_file(db, f)
    assert rows("SELECT count(*) FROM procedures")[0][0] == before


def test_sample_catalog_has_at_least_12_marked_sample_procedures(db):
    rows = list(db.query("SELECT code, sample FROM procedures"))
    assert len(rows) >= 12 and all(r["sample"] for r in rows)


@pytest.mark.parametrize("query", ["dang ky to chuc khcn", "ĐĂNG KÝ tổ chức KH&CN", "dang ki to chuc khcn",
                                   "ddawng kys to chuwcs khcn", "dang ky thanh lap to chuc khoa hoc"])
def test_search_finds_the_procedure_without_diacritics_typos_or_ime(db, query):
    hits = catalog.search(db, query)
    assert hits and hits[0]["code"] == "1.003584", hits[:3]


def test_search_by_code_and_nothing_for_nonsense(db):
    assert catalog.search(db, "1.008253")[0]["code"] == "1.008253"
    assert catalog.search(db, "xyzzy qwerty") == []


def test_unknown_code_suggests_close_matches(db):
    with pytest.raises(NotFound) as e:
        catalog.get(db, "giay phep buc xa")
    assert "1.008253" in e.value.vi


def test_cli_procedures_list_and_show(run):
    r = run("procedures", "list", "dang", "ky", "to", "chuc", "khcn", "--json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)[0]["code"] == "1.003584"
    r = run("procedures", "show", "1.003584", "--json")
    data = json.loads(r.stdout)
    assert data["code"] == "1.003584" and data["components"]
    r = run("procedures", "show", "9.999999")
    assert r.exit_code == 3 and "Không có thủ tục" in r.stderr

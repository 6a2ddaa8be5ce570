"""Personal data at the read commands: `show` and `search` mask ID and phone numbers unless
--show-personal, and that asking is recorded in personal_access."""

import json

import pytest

from onestop.archive import search
from onestop.domain.masking import mask_numbers_in_text
from onestop.store.sqlite import transaction

ID, PHONE = "001185012345", "0912345678"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


@pytest.fixture
def code(run, db):
    r = run("receive", "-p", "1.003584", "--name", "Nguyễn Thị Hương", "--id", ID, "--phone", PHONE,
            "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["code"]


def accesses(db):
    return db.execute("SELECT officer, command, detail FROM personal_access").fetchall()


def test_show_masks_by_default_and_records_show_personal(run, db, code):
    for args in ([], ["--json"]):
        r = run("show", code, *args)
        assert r.exit_code == 0, r.stderr
        assert ID not in r.stdout and PHONE not in r.stdout
        assert "*********345" in r.stdout and "091*****78" in r.stdout
    assert accesses(db) == []
    r = run("show", code, "--show-personal", "--json")
    assert json.loads(r.stdout)["id_number"] == ID and json.loads(r.stdout)["phone"] == PHONE
    assert accesses(db) == [("Trần Thị Cán Bộ", "show", code)]


def test_search_snippets_mask_numbers_from_ocr_text(run, db, code, rows):
    did = rows("SELECT id FROM dossiers")[0][0]
    text = f"Đơn đề nghị. Số định danh cá nhân: {ID}. Điện thoại: 0912 345 678. Mã hồ sơ {code}."
    with transaction(db):
        fid = db.execute("INSERT INTO archive_files (dossier_id, component_n, path, sha256, size, pages, created_at) "
                              "VALUES (?, 1, '/x/a.pdf', '', 0, 1, '2026-11-30')", [did]).lastrowid
        pid = db.execute("INSERT INTO archive_pages (file_id, n, text) VALUES (?, 1, ?)", [fid, text]).lastrowid
        search.index_page(db, pid, did, text)
    r = run("search", "dinh danh", "--json")
    assert r.exit_code == 0, r.stderr
    snip = json.loads(r.stdout)[0]["snippet"]
    # masked as `show` masks them (identifiers.mask_numbers_in_text: one masker for snippets and logs)
    assert ID not in snip and "345 678" not in snip and "*********345" in snip and "091*****78" in snip
    assert mask_numbers_in_text(f"hồ sơ {code}, ngày 23/11/2026") == f"hồ sơ {code}, ngày 23/11/2026"
    assert accesses(db) == []
    r = run("search", "dinh danh", "--show-personal", "--json")
    assert ID in json.loads(r.stdout)[0]["snippet"]
    assert [a[1] for a in accesses(db)] == ["search"]

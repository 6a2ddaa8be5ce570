"""`onestop search`: FTS5 over OCR text and dossier fields, insensitive to diacritics and đ/Đ,
NFC-normalised, ranked, with snippets cut from the original text. No tesseract needed here."""

from __future__ import annotations

import json
import unicodedata

import pytest

from pages import new_dossier

from onestop.archive import search
from onestop.store.sqlite import transaction


def add_file(db, code: str, texts: list[str], component: int = 1) -> int:
    did = db.execute("SELECT id FROM dossiers WHERE code = ?", [code]).fetchone()[0]
    with transaction(db):
        fid = db.execute("INSERT INTO archive_files (dossier_id, component_n, path, sha256, size, pages, created_at) "
                         "VALUES (?, ?, ?, '', 0, ?, '2026-11-22')", [did, component, f"/x/{code}_{component}.pdf",
                                                                       len(texts)]).lastrowid
        for n, t in enumerate(texts, 1):
            pid = db.execute("INSERT INTO archive_pages (file_id, n, text) VALUES (?, ?, ?)", [fid, n, t]).lastrowid
            search.index_page(db, pid, did, t)
    return fid


@pytest.fixture
def corpus(db, cfg):
    a = new_dossier(db, cfg, name="Nguyễn Văn An")
    b = new_dossier(db, cfg, name="Đặng Thị Đào")
    add_file(db, a, ["ĐƠN ĐỀ NGHỊ ĐĂNG KÝ HOẠT ĐỘNG\nKính gửi: Sở Khoa học và Công nghệ",
                     "Điều lệ tổ chức. Trụ sở tại Hưng Yên."])
    add_file(db, b, ["Biên bản họp hội đồng. Đăng ký, đăng ký và đăng ký lại hoạt động khoa học."], component=2)
    return a, b


@pytest.mark.parametrize("query", ["dang ky", "ĐĂNG KÝ", "Đăng ký", "đang kỳ",
                                   unicodedata.normalize("NFD", "đăng ký")])
def test_diacritics_and_d_insensitive(db, corpus, query):
    hits = search.search(db, query)
    pages = [(h["code"], h["component"], h["page"]) for h in hits if h["kind"] == "page"]
    assert (corpus[0], 1, 1) in pages and (corpus[1], 2, 1) in pages


def test_ranked_and_highlighted_in_original_text(db, corpus):
    hits = [h for h in search.search(db, "dang ky") if h["kind"] == "page"]
    assert hits[0]["code"] == corpus[1]  # three matches beat one
    assert "«Đăng» «ký»" in hits[0]["snippet"] or "«đăng» «ký»" in hits[0]["snippet"]
    assert hits[0]["score"] >= hits[-1]["score"]


def test_dossier_fields_and_d(db, corpus):
    hits = search.search(db, "dang thi dao")
    assert hits and hits[0]["kind"] == "dossier" and hits[0]["code"] == corpus[1]
    assert "«Đặng» «Thị» «Đào»" in hits[0]["snippet"]


def test_dossier_code_is_a_phrase(db, corpus):
    hits = search.search(db, corpus[0])
    assert hits[0]["code"] == corpus[0] and hits[0]["kind"] == "dossier"
    assert not [h for h in hits if h["code"] == corpus[1]]


def test_changed_dossier_is_reindexed(db, cfg, corpus):
    assert search.search(db, "ho chi minh") == []
    db.execute("UPDATE dossiers SET address = 'TP Hồ Chí Minh', updated_at = '2099-01-01T00:00:00+07:00' "
               "WHERE code = ?", [corpus[0]])
    assert [h["code"] for h in search.search(db, "ho chi minh")] == [corpus[0]]
    assert search.refresh_dossiers(db) == 0  # nothing new since


def test_phrase_and_no_hits(db, corpus):
    assert [h["page"] for h in search.search(db, '"tru so tai hung yen"')] == [2]
    assert search.search(db, "khong co tu nay") == []
    assert search.search(db, "  ...  ") == []
    assert search.fts_query('dang "ky lai" x-y') == '"dang" "ky lai" "x y"'


def test_cli_json(run, corpus):
    r = run("search", "dieu le", "--json")
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)
    assert hits[0]["page"] == 2 and "«Điều» «lệ»" in hits[0]["snippet"]
    assert set(hits[0]) == {"kind", "code", "component", "result", "page", "pdf", "applicant_name", "score", "snippet"}


def test_cli_plain_lines_when_piped(run, corpus):
    r = run("search", "tru so")
    assert r.exit_code == 0
    code, comp, page, snip = r.stdout.splitlines()[0].split("\t")
    assert (code, comp, page) == (corpus[0], "1", "2") and "«Trụ» «sở»" in snip

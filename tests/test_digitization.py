"""Issue 11 with the real tesseract: a hard-to-read page is flagged at the counter (asked at a terminal,
warned in scripts), recorded as needing a rescan and listed by `check` and `backlog` until rescanned;
the document number of a scanned degraded page reaches `show --json` and `search` finds it first."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import ImageFilter

import degraded
from pages import new_dossier, numbered, render, save
from terminal import Terminal


def small(variant: str, seed: int):
    """A half-A4 administrative page (heading, number, date, title, 6 body lines): quick to OCR."""
    return degraded.page(variant, seed, size_mm=(210, 148), body=6)


@pytest.fixture
def code(db, cfg):
    return new_dossier(db, cfg)


# The pages are drawn and written once per session (per xdist worker: ~2 s of CPU a test), then each
# test gets its own copy of the file under the same name.
@pytest.fixture(scope="session")
def good_page(tmp_path_factory):
    d = small("photocopy", 1001)  # 2375/QĐ-UBND
    return d, degraded.save(d, tmp_path_factory.mktemp("digitization") / "good")


@pytest.fixture(scope="session")
def poor_page(tmp_path_factory):
    """The same kind of page out of focus: tesseract still reads something, mostly wrong."""
    d = small("photocopy", 1002)
    im = d.image.filter(ImageFilter.GaussianBlur(6))
    im.info["dpi"] = (300, 300)
    return d, save(im, tmp_path_factory.mktemp("digitization") / "poor.png")


@pytest.fixture
def good(tmp_path, good_page):
    d, made = good_page
    return d, Path(shutil.copyfile(made, tmp_path / made.name))


@pytest.fixture
def poor(tmp_path, poor_page):
    d, made = poor_page
    return d, Path(shutil.copyfile(made, tmp_path / made.name))


def rows(cfg, sql):
    """Stored rows as tuples, from the test's backend (SQLite file or office database)."""
    from onestop import store

    s = store.connect(cfg)
    try:
        return [tuple(r) for r in s.execute(sql).fetchall()]
    finally:
        if s.backend == "postgresql":
            s.close()


def test_poor_page_is_flagged_recorded_and_listed_until_rescanned(run, cfg, code, good, poor, tmp_path):
    first = save(numbered(1, dpi=300), tmp_path / "first.png")
    r = run("scan", code, "--component", 1, first, poor[1], "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["rescan"] == [2]
    assert out["pages"][1]["quality"]["needs_rescan"] and not out["pages"][0]["quality"]["needs_rescan"]
    assert any("trang 2 khó đọc" in w for w in out["warnings"])
    assert "trang 2 khó đọc" in r.stderr
    assert rows(cfg, "SELECT n, needs_rescan FROM archive_pages ORDER BY n") == [(1, 0), (2, 1)]

    r = run("show", code, "--json")
    comp = json.loads(r.stdout)["components"][0]
    assert comp["rescan_pages"] == [2]
    r = run("check", "--json")
    assert r.exit_code == 0, r.output  # the stored file is intact: listed, not a failure
    [item] = json.loads(r.stdout)["rescan"]
    assert (item["code"], item["component"], item["page"]) == (code, 1, 2) and "--replace" in item["message"]
    r = run("backlog", "--json")
    [item] = json.loads(r.stdout)["rescan"]
    assert (item["code"], item["page"]) == (code, 2)

    # Rescanned with a readable copy: no longer listed anywhere.
    r = run("scan", code, "--component", 1, first, good[1], "--replace", "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rescan"] == []
    assert json.loads(run("check", "--json").stdout)["rescan"] == []
    assert json.loads(run("backlog", "--json").stdout)["rescan"] == []
    assert json.loads(run("show", code, "--json").stdout)["components"][0]["rescan_pages"] == []


def test_good_degraded_page_is_not_flagged(run, cfg, code, good):
    r = run("scan", code, "--component", 1, good[1], "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["rescan"] == [] and out["warnings"] == []
    q = out["pages"][0]["quality"]
    assert q["confidence"] >= 90 and q["dictionary"] >= 0.95
    assert json.loads(run("check", "--json").stdout)["rescan"] == []


def test_at_the_counter_the_officer_is_asked_and_a_rescan_stores_nothing(cfg, code, poor, home):
    env = {"ONESTOP_HOME": str(home), "ONESTOP_CONFIG_DIR": os.environ["ONESTOP_CONFIG_DIR"]}
    term = Terminal("scan", code, "--component", "1", str(poor[1]), env=env)
    term.expect("Trang 1 khó đọc", timeout=180)
    term.expect("quét lại?")
    term.send("c")
    assert term.wait(60) == 130
    assert "Chưa lưu gì" in term.seen
    assert rows(cfg, "SELECT count(*) FROM archive_files") == [(0,)]

    # Answered no: stored, and recorded as needing a rescan.
    term = Terminal("--lang", "en", "scan", code, "--component", "1", str(poor[1]), env=env)
    term.expect("Page 1 is hard to read", timeout=180)
    term.send("n")
    assert term.wait(60) == 0
    assert rows(cfg, "SELECT n, needs_rescan FROM archive_pages") == [(1, 1)]


def test_document_number_of_a_degraded_page_in_show_and_search(run, db, cfg, good):
    d, path = good
    code = new_dossier(db, cfg)
    other = new_dossier(db, cfg, name="Lê Thị Bình")
    r = run("scan", code, "--component", 1, path, "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["document"]["document_number"] == d.number == "2375/QĐ-UBND"
    # Another dossier whose page merely cites the number in its text: a full-text hit, ranked after.
    im = render(["ĐƠN ĐỀ NGHỊ", f"Căn cứ Quyết định số {d.number} của UBND tỉnh"], dpi=300, size_mm=(148, 105))
    r = run("scan", other, "--component", 1, save(im, cfg.home.parent / "cite.png"), "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["document"]["document_number"] is None

    comp = json.loads(run("show", code, "--json").stdout)["components"][0]
    assert (comp["document_number"], comp["document_date"], comp["issuer"]) == (d.number, d.date, d.issuer)
    assert json.loads(run("show", other, "--json").stdout)["components"][0]["document_number"] is None

    for query in (d.number, "2375/qd-ubnd", "2375 / QĐ - UBND"):
        hits = json.loads(run("search", query, "--json").stdout)
        assert hits[0]["code"] == code and hits[0]["kind"] == "component" and hits[0]["component"] == 1, query
    hits = json.loads(run("search", d.number, "--json").stdout)
    assert other in [h["code"] for h in hits[1:]]  # the citing page is still found, after

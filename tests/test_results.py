"""Result papers (`scan --result`): checked, archived (PDF/A), searched and synced like components;
they reach the ministry's server in DanhSachGiayToKetQua after their upload, and count in the
digitization rate where the procedure requires an electronic result."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

import pdfa_check
from onestop.common import errors
from pages import new_dossier, numbered, render, save
from sync_helpers import env, srv  # noqa: F401 - fixtures
from sync_helpers import assert_exactly_once

RESULT_LINES = ["GIẤY CHỨNG NHẬN", "đăng ký hoạt động khoa học và công nghệ", "Số 1205/QĐ-BKHCN"]



def _result_page(tmp_path: Path) -> Path:
    return save(render(RESULT_LINES, dpi=200, size_mm=(148, 105)), tmp_path / "ket-qua.png")


def test_scanned_result_reaches_the_ministry_in_danh_sach_giay_to_ket_qua(env, srv, run, tmp_path):
    from onestop.intake import dossiers

    cfg, db = env
    code = new_dossier(db, cfg, pages={1: 1})
    comp = save(numbered(1), tmp_path / "don.png")
    assert run("scan", code, "--component", 1, comp, "--yes").exit_code == 0
    assert run("sync").exit_code == 0  # on the server, no result yet
    assert srv.state.dossiers[code]["DanhSachGiayToKetQua"] == []
    page = _result_page(tmp_path)
    # Not before the result is ready: refused, nothing stored.
    r = run("scan", code, "--result", page, "--yes", "--json")
    assert r.exit_code == errors.TRANSITION_REFUSED, r.output
    assert "9" in r.stderr and db.execute("SELECT count(*) FROM archive_files").fetchone()[0] == 1
    dossiers.move(db, cfg, code, "4", render=False)
    dossiers.move(db, cfg, code, "9", render=False)
    r = run("scan", code, "--result", page, "--yes", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["result"] == 1 and out["result_code"] == "KQ-1.003604-1" and out["component"] is None
    assert "Giấy chứng nhận" in out["result_name"] and "1205" in out["pages"][0]["text"]
    pdf = Path(out["pdf"])
    assert pdf.name.startswith(f"{code}_KQ01_") and pdfa_check.problems(pdf) == []
    hits = json.loads(run("search", "giay chung nhan dang ky", "--json").stdout)
    assert any(h["kind"] == "page" and h["code"] == code and h["pdf"] == str(pdf) for h in hits)
    # The component list is unchanged: a result is not a submitted paper.
    shown = json.loads(run("show", code, "--json").stdout)
    assert [c["digitized"] for c in shown["components"]][:1] == [1]
    assert [(x["n"], x["result_code"], x["path"], x["state"]) for x in shown["results"]] == [
        (1, "KQ-1.003604-1", str(pdf), "current")]
    assert run("check").exit_code == 0
    r = run("sync", "--json")
    assert r.exit_code == 0, r.output
    rec = srv.state.dossiers[code]
    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    fid = srv.state.files[sha]["IdTepTin"]
    assert rec["DanhSachGiayToKetQua"] == [{
        "TenGiayTo": out["result_name"], "MaThanhPhanHoSo": "KQ-1.003604-1", "GiayToId": fid,
        "DuongDanTepTinKetQua": srv.state.files[sha]["DuongDan"], "MaGiayToKetQua": "KQ-1.003604-1"}]
    assert all(d["TepDinhKemId"] != fid for d in rec["TaiLieuNop"])  # not listed as a submitted paper
    assert rec["TrangThaiHoSo"] == "9"
    assert_exactly_once(srv, db)
    # A second result scan needs --replace, like a component.
    r = run("scan", code, "--result", page, "--yes")
    assert r.exit_code == errors.SCAN_CONFLICT


def test_result_number_must_exist(env, run, tmp_path):
    from onestop.intake import dossiers

    cfg, db = env
    code = new_dossier(db, cfg)
    dossiers.move(db, cfg, code, "4", render=False)
    dossiers.move(db, cfg, code, "9", render=False)
    r = run("scan", code, "--result", "--component", 2, _result_page(tmp_path), "--yes")
    assert r.exit_code == errors.NOT_FOUND, r.output
    assert "kết quả số 2" in r.stderr


def test_digitization_rate_counts_results_where_required(env, home, run, tmp_path):
    from onestop.common import config
    from onestop.intake import dossiers
    from onestop.reports import figures as reports

    cfg, db = env
    code = new_dossier(db, cfg, pages={1: 1})
    assert run("scan", code, "--component", 1, save(numbered(1), tmp_path / "don.png"), "--yes").exit_code == 0
    dossiers.move(db, cfg, code, "4", render=False)
    dossiers.move(db, cfg, code, "9", render=False)
    today = dossiers.now(cfg).date()

    def rate(extra: str = "") -> float:
        (home / "onestop.toml").write_text((home / "onestop.toml").read_text() + extra, encoding="utf-8")
        c = config.load()
        return reports.period_report(db, c, date(today.year, today.month, 1), today)["digitization_rate"]

    assert rate() == 1.0  # no procedure requires an electronic result: components are enough
    assert rate('\n[results]\nelectronic = ["1.003604"]\n') == 0.0  # required, not scanned yet
    assert run("scan", code, "--result", _result_page(tmp_path), "--yes").exit_code == 0
    assert rate() == 1.0

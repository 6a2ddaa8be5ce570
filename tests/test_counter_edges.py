"""Rough edges an officer meets every day (issue 18), through a real pseudo-terminal where the
order of questions and messages matters: check first, ask after; usage errors in the officer's
language with the documented code; a "no" at a confirmation is not an error."""

from __future__ import annotations

import json

import pytest

from pages import jpeg_bytes, numbered
from terminal import Terminal

PROC = "1.003584"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


@pytest.fixture
def code(run):
    r = run("receive", "-p", PROC, "--name", "Lê Văn Bình", "--id", "001085012345", "--all-components",
            "--pages", "1=1", "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["code"]


# ------------------------------------------------------------------ check first, ask after


def test_impossible_move_is_refused_before_the_confirmation_and_names_the_allowed_moves(code, rows):
    term = Terminal("move", code, "tra ket qua")           # 2 → 10: irreversible, and not allowed from 2
    assert term.wait() == 5, term.seen
    assert "[c/K]" not in term.seen                        # never asked to confirm what cannot be done
    assert "không chuyển sang 10" in term.seen
    assert "chỉ chuyển được sang: 4 dang xu ly, 5 bo sung, 6 nghia vu tai chinh, 7 rut ho so, 8 dung xu ly, " \
           "9 da xu ly" in term.seen
    assert rows("SELECT status FROM dossiers") == [("2",)]


def test_no_at_a_confirmation_is_a_calm_cancelled_line_not_an_error(code, rows):
    term = Terminal("move", code, "rut ho so")
    term.expect("[c/K]")
    term.send("k")
    assert term.wait() == 130                             # docs/exit-codes.md: a confirmation answered no
    assert "onestop: đã hủy theo yêu cầu, hồ sơ không thay đổi." in term.seen
    assert "lỗi" not in term.seen
    assert rows("SELECT status FROM dossiers") == [("2",)]


def test_receive_finds_an_unknown_procedure_before_asking_for_the_applicant(db, rows):
    term = Terminal("receive", "-p", "9.999999")
    assert term.wait() == 3, term.seen
    assert "Không có thủ tục mã '9.999999'" in term.seen
    assert "Họ tên" not in term.seen and "Điện thoại" not in term.seen
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]


def test_receive_finds_a_case_the_procedure_lacks_before_asking_for_the_applicant(db, rows):
    term = Terminal("receive", "-p", "1.005082", "--case", "9")
    assert term.wait() == 4, term.seen
    assert "không có trường hợp '9'" in term.seen and "Họ tên" not in term.seen


def test_receive_finds_the_officer_unset_before_asking_anything(db, rows):
    term = Terminal("receive", "-p", PROC, env={"ONESTOP_OFFICER": "", "USER": "root"})
    assert term.wait() == 8, term.seen
    assert "ONESTOP_OFFICER" in term.seen
    assert "Họ tên" not in term.seen and "Điện thoại" not in term.seen


def test_scan_finds_a_broken_file_before_the_page_count_question(code, tmp_path, rows):
    good = tmp_path / "trang-1.jpg"
    good.write_bytes(jpeg_bytes(numbered(1), 75))
    data = jpeg_bytes(numbered(2), 75)
    cut = tmp_path / "trang-2.jpg"
    cut.write_bytes(data[: len(data) // 2])                # half written by the scanner
    term = Terminal("scan", code, "-c", "1", str(good), str(cut))   # component 1 declares 1 page: 2 given
    assert term.wait() == 9, term.seen
    assert "trang-2.jpg bị hỏng hoặc chưa ghi xong" in term.seen
    assert "Vẫn lưu và cập nhật số trang" not in term.seen
    assert rows("SELECT count(*) FROM archive_files") == [(0,)]


def test_scan_of_a_missing_file_is_not_found_as_documented(run, code, tmp_path):
    r = run("scan", code, "-c", "1", str(tmp_path / "khong-co.jpg"), "--yes")
    assert r.exit_code == 3, r.stderr                      # docs/exit-codes.md: unknown … file
    assert "Không tìm thấy tệp" in r.stderr


# ------------------------------------------------------------------ usage errors


@pytest.mark.parametrize("args, said", [
    (["recieve"], "onestop: lỗi: Không có lệnh 'recieve'. Có phải: onestop receive? Xem: onestop --help"),
    (["reschedule", "0001", "--to", "2026-12-10 16:00"],
     "onestop: lỗi: Thiếu tùy chọn '--reason'. Xem: onestop reschedule --help"),
    (["show", "0001", "0002"], "onestop: lỗi: Thừa tham số: 0002."),
    (["list", "--limit", "nhiều"], "onestop: lỗi: Giá trị không hợp lệ cho '--limit': 'nhiều' không phải số nguyên."),
    (["list", "--limt", "3"], "onestop: lỗi: Không có tùy chọn '--limt'. Có phải '--limit'? Xem: onestop list --help"),
    (["db", "bakup"], "onestop: lỗi: Không có lệnh 'bakup'. Có phải: onestop db backup?"),
    (["--lang", "en", "recieve"], "onestop: error: No such command 'recieve'. Did you mean: onestop receive?"),
    (["--lang", "en", "move", "0001"], "onestop: error: Missing argument 'STATUS'. See: onestop move --help"),
])
def test_usage_errors_are_one_line_in_the_officers_language_with_exit_2(db, args, said):
    term = Terminal(*args)
    assert term.wait() == 2, term.seen                     # docs/exit-codes.md: USAGE
    assert said in term.seen, term.seen
    assert "Usage:" not in term.seen and "Error:" not in term.seen and "Traceback" not in term.seen
    assert term.seen.strip().count("\n") == 0              # one line


def test_usage_error_in_process_keeps_data_off_stdout(run):
    r = run("recieve")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("onestop: lỗi: Không có lệnh 'recieve'.")


# ------------------------------------------------------------------ dates


def test_backlog_takes_the_dates_reschedule_takes(run):
    for day in ("30/11/2026", "2026-11-30", "30-11-2026", "30.11.2026"):
        r = run("backlog", "--as-of", day, "--json")
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout)["as_of"].startswith("2026-11-30")
    r = run("backlog", "--as-of", "31/02/2026")
    assert r.exit_code == 4 and "dd/mm/yyyy" in r.stderr


def test_reschedule_and_the_next_move_show_dates_as_dd_mm_yyyy(run, code):
    r = run("reschedule", code, "--to", "28/12/2026 16:00", "--reason", "Cần xác minh", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip().endswith("→ 28/12/2026 16:00") and "2026-12" not in r.stdout + r.stderr
    r = run("move", code, "4")
    assert r.exit_code == 0, r.stderr
    assert "Hẹn trả mới: 28/12/2026 16:00 (ban đầu" in r.stderr and "T" not in r.stderr.split("Hẹn trả mới:")[1]


# ------------------------------------------------------------------ scans and results


def test_a_blank_page_is_said_blank_not_confidence_none(run, db, cfg, tmp_path):
    from pages import new_dossier, render, save

    code = new_dossier(db, cfg, pages={1: 1})
    page = save(render([], dpi=200, size_mm=(105, 74)), tmp_path / "trang-trang.png")
    r = run("scan", code, "-c", "1", page, "--yes")
    assert r.exit_code == 0, r.stderr
    assert "trang 1:" in r.stderr and "trang trắng, không có chữ" in r.stderr
    assert "None" not in r.stderr


def test_result_hits_are_named_result_n_not_component_minus_n(run, db, cfg, tmp_path):
    from onestop.intake import dossiers
    from pages import new_dossier, render, save

    code = new_dossier(db, cfg, pages={1: 1})
    dossiers.move(db, cfg, code, "4", render=False)
    dossiers.move(db, cfg, code, "9", render=False)
    page = save(render(["GIẤY CHỨNG NHẬN", "đăng ký hoạt động khoa học và công nghệ"], dpi=200), tmp_path / "kq.png")
    r = run("scan", code, "--result", page, "--yes")
    assert r.exit_code == 0, r.stderr
    r = run("search", "chung nhan", "--json")
    hit = [h for h in json.loads(r.stdout) if h["kind"] == "page"][0]
    assert (hit["code"], hit["result"], hit["component"]) == (code, 1, None)
    r = run("search", "chung nhan")                         # a pipe: KQ1 in the component column
    assert f"{code}\tKQ1\t1\t" in r.stdout and "-1" not in r.stdout
    shown = run("show", code)
    assert "Kết quả 1: " in shown.stdout and "TP -1" not in shown.stdout
    term = Terminal("search", "chung", "nhan")               # the table an officer reads
    assert term.wait() == 0, term.seen
    assert f"{code} (Kết quả 1 tr. 1)" in term.seen and "TP -1" not in term.seen


def test_show_has_applies_the_case_name_and_digitized_as_a_mark(run, db, tmp_path):
    from pages import numbered, save

    r = run("receive", "-p", "1.005082", "--name", "Công ty TNHH Ánh Dương", "--id", "0100233488",
            "-c", "1", "-c", "2", "-c", "3", "-c", "4", "--pages", "1=1", "--json")
    assert r.exit_code == 0, r.stderr
    code = json.loads(r.stdout)["code"]
    comps = {c["n"]: c for c in json.loads(run("show", code, "--json").stdout)["components"]}
    assert comps[5]["applies"] == 0 and comps[1]["applies"] is None   # docs/output.md: 1/0 conditional, else null
    assert run("scan", code, "-c", "1", save(numbered(1), tmp_path / "p.png"), "--yes").exit_code == 0
    out = run("show", code).stdout
    assert "Trường hợp: Trường hợp đăng ký lần đầu" in out
    row1 = next(line for line in out.splitlines() if "Văn bản đề nghị đăng ký" in line)
    assert row1.count("✓") == 2 and not row1.rstrip(" │|").endswith("1")
    row5 = next(line for line in out.splitlines() if "Văn bản ủy quyền" in line)
    assert "không áp dụng" in row5 and "0" not in row5.split("│")[-2:][0]

"""The officer corrects or confirms a document number (số ký hiệu) read with doubts (issue 11):
`amend CODE --component N --document-number …` with the real tesseract reading the pages first."""

from __future__ import annotations

import json

from pages import new_dossier, render, save

OFFICER = "Trần Thị Cán Bộ"


def heading(number: str, day: str = "ngày 12 tháng 03 năm 2025"):
    return render(["BỘ KHOA HỌC VÀ CÔNG NGHỆ", f"Số: {number}", f"Hà Nội, {day}", "QUYẾT ĐỊNH",
                   "Về việc cấp giấy chứng nhận đăng ký"], dpi=300, size_mm=(148, 105))


def scan(run, code, n, im, path):
    r = run("scan", code, "--component", n, save(im, path), "--yes", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["document"]


def listed(run):
    r = run("check", "--json")
    assert r.exit_code == 0, r.output  # waiting for the officer is work to do, not archive damage
    return [(d["code"], d["component"]) for d in json.loads(r.stdout)["documents"]]


def component(run, code, n):
    return json.loads(run("show", code, "--json").stdout)["components"][n - 1]


def component_hits(run, query):
    hits = json.loads(run("search", query, "--json").stdout)
    return [(h["code"], h["component"]) for h in hits if h["kind"] == "component"], hits


def test_officer_corrects_flagged_numbers(run, db, cfg, rows, tmp_path):
    code = new_dossier(db, cfg)
    # Component 1: an issuer in no list, stored as read and flagged; component 2: BTX, equally close
    # to BTC, BTP and BYT, not guessed.
    assert scan(run, code, 1, heading("1205/QĐ-SXYZW"), tmp_path / "p1.png")["document_number"] == "1205/QĐ-SXYZW"
    doc = scan(run, code, 2, heading("7/QĐ-BTX"), tmp_path / "p2.png")
    assert doc["document_number"] is None and "7/QĐ-BTP" in doc["candidates"]
    assert listed(run) == [(code, 1), (code, 2)]
    assert component_hits(run, "1205/QĐ-SXYZW")[0] == [(code, 1)]
    assert component_hits(run, "1205/QĐ-BKHCN")[0] == []

    # Typed without Vietnamese keyboard: stored in its canonical spelling, with the date corrected too.
    r = run("amend", code.split("-")[-1], "--component", 1, "--document-number", "1205/QD-BKHCN",
            "--document-date", "2025-03-11", "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert (res["document_number"], res["issuer"], res["document_date"]) == ("1205/QĐ-BKHCN", "BKHCN", "2025-03-11")
    assert res["changes"] == {"document_number": {"old": "1205/QĐ-SXYZW", "new": "1205/QĐ-BKHCN"},
                              "document_date": {"old": "2025-03-12", "new": "2025-03-11"},
                              "issuer": {"old": "SXYZW", "new": "BKHCN"}}
    assert listed(run) == [(code, 2)]
    c = component(run, code, 1)
    assert (c["document_number"], c["document_date"], c["issuer"], c["document_check"]) == \
        ("1205/QĐ-BKHCN", "2025-03-11", "BKHCN", "")
    assert c["document_confirmed_by"] == OFFICER and c["document_confirmed_at"]
    assert rows("SELECT document_key FROM dossier_components WHERE n = 1 AND document_key IS NOT NULL") == \
        [("1205/QD-BKHCN",)]
    ev = json.loads(run("show", code, "--json").stdout)["events"][-1]
    assert ev["action"] == "amend_document" and ev["officer"] == OFFICER
    assert ev["data"]["component"] == 1 and ev["data"]["changes"] == res["changes"]
    assert "1205/QĐ-SXYZW → 1205/QĐ-BKHCN" in ev["note"]

    # Exact search follows the number: the component first (folded too); the wrong number is gone.
    for query in ("1205/QĐ-BKHCN", "1205/qd-bkhcn"):
        exact, hits = component_hits(run, query)
        assert exact == [(code, 1)] and (hits[0]["code"], hits[0]["kind"]) == (code, "component"), query
        assert hits[0]["document_number"] == "1205/QĐ-BKHCN"
    assert component_hits(run, "1205/QĐ-SXYZW")[0] == []

    # The ambiguous one: the officer picks the paper's agency; printed for people, in English.
    r = run("--lang", "en", "amend", code, "-c", 2, "--document-number", "7/QĐ-BTP")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"{code} component 2: 7/QĐ-BTP"
    assert "Number: — → 7/QĐ-BTP" in r.stderr and "Issuer: — → BTP" in r.stderr
    assert listed(run) == []
    r = run("check")
    assert "[document]" not in r.stderr
    assert component_hits(run, "7/QĐ-BTP")[0] == [(code, 2)]


def test_confirmation_without_change_clears_the_flag_and_survives_a_rescan(run, db, cfg, rows, tmp_path):
    code = new_dossier(db, cfg)
    page = save(heading("5/QĐ-SXYZW"), tmp_path / "p.png")
    r = run("scan", code, "--component", 1, page, "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert listed(run) == [(code, 1)]
    r = run("check")
    assert f"[document] Hồ sơ {code}, thành phần 1" in r.stderr and "--document-number" in r.stderr

    # The issuer is in no list, but the officer has the paper: the reading is confirmed as it is.
    r = run("amend", code, "--component", 1, "--document-number", "5/qd-sxyzw")
    assert r.exit_code == 0, r.output
    assert "Đã xác nhận số ký hiệu 5/QĐ-SXYZW" in r.stderr
    assert listed(run) == []
    c = component(run, code, 1)
    assert (c["document_number"], c["issuer"], c["document_date"], c["document_check"]) == \
        ("5/QĐ-SXYZW", "SXYZW", "2025-03-12", "")
    assert c["document_confirmed_by"] == OFFICER
    ev = json.loads(run("show", code, "--json").stdout)["events"][-1]
    assert ev["action"] == "amend_document" and ev["data"]["confirmed"] is True and ev["data"]["changes"] == {}

    # Confirmed twice: nothing to do, no second event.
    r = run("amend", code, "--component", 1, "--document-number", "5/QĐ-SXYZW")
    assert r.exit_code == 4 and "đã được xác nhận" in r.stderr
    assert rows("SELECT count(*) FROM events WHERE action = 'amend_document'") == [(1,)]

    # A rescan of the component reads the paper again, but the officer's values stand.
    r = run("scan", code, "--component", 1, page, "--replace", "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert listed(run) == []
    assert component(run, code, 1)["document_confirmed_by"] == OFFICER

    # A replacement that reads another number is another paper: its reading, not the old confirmation.
    other = save(heading("1205/QĐ-BKHCN"), tmp_path / "other.png")
    r = run("scan", code, "--component", 1, other, "--replace", "--yes", "--json")
    assert r.exit_code == 0, r.output
    c = component(run, code, 1)
    assert c["document_number"] == "1205/QĐ-BKHCN" and c["document_confirmed_by"] is None
    assert component_hits(run, "5/QĐ-SXYZW")[0] == []


def test_bad_numbers_are_refused_and_nothing_is_stored(run, db, cfg, rows):
    code = new_dossier(db, cfg)
    before = rows("SELECT n, document_number, document_key, document_date, issuer, document_check, "
                  "document_confirmed_by FROM dossier_components ORDER BY n")
    events = rows("SELECT count(*) FROM events")

    def refused(args, exit_code, *words):
        r = run("amend", code, *args)
        assert r.exit_code == exit_code, (args, r.output)
        for w in words:
            assert w in r.stderr, (args, r.stderr)
        return r

    refused(["-c", 1, "--document-number", "QĐ 1205"], 4, "không đúng dạng", "1205/QĐ-BKHCN")
    refused(["-c", 1, "--document-number", "7/QĐ-BTX"], 4, "7/QĐ-BTC", "7/QĐ-BTP", "config/agencies.toml")
    refused(["-c", 1, "--document-number", "1205/QĐ-BKHCM"], 4, "có phải 1205/QĐ-BKHCN?", "--as-printed")
    refused(["-c", 1, "--document-number", "1205/XX-BKHCN"], 4, "Phụ lục III")
    refused(["-c", 1, "--document-number", "318/BTTTT-KSTT", "--document-date", "2025-06-02"], 4,
            "BTTTT không còn tên này vào ngày 2025-06-02")  # merged into BKHCN on 2025-03-01
    refused(["-c", 1, "--document-number", "1205/QĐ-BKHCN", "--document-date", "31/02/2025"], 4, "YYYY-MM-DD")
    refused(["-c", 1, "--document-number", "1205/QĐ-BKHCN", "--document-date", "2099-01-01"], 4, "sau hôm nay")
    refused(["-c", 1, "--document-number", "1205/QĐ-BKHCN", "--issuer", "BTC"], 4, "khác cơ quan trong số")
    refused(["-c", 1, "--document-number", "1205/QĐ-BKHCN", "--name", "Lê Văn Bình"], 4, "hai lệnh amend")
    refused(["-c", 1], 4, "--document-number")
    refused(["--document-number", "1205/QĐ-BKHCN"], 4, "--component")
    refused(["-c", 9, "--document-number", "1205/QĐ-BKHCN"], 3, "không có thành phần 9")
    refused(["-c", 1, "--document-number", "1205/QĐ-\x1b[31mBKHCN"], 4, "ký tự điều khiển")
    r = run("--lang", "en", "amend", code, "-c", 1, "--document-number", "abc")
    assert r.exit_code == 4 and "Document number 'abc' is malformed" in r.stderr
    assert rows("SELECT n, document_number, document_key, document_date, issuer, document_check, "
                "document_confirmed_by FROM dossier_components ORDER BY n") == before
    assert rows("SELECT count(*) FROM events") == events

    # A component whose number OCR did not find (or not scanned yet): the officer can type it.
    r = run("amend", code, "-c", 3, "--document-number", "28/2O23/nđ-cp", "--json")
    assert r.exit_code == 4  # an O for a 0 is OCR's mistake, not a typed number's: refused, not guessed
    r = run("amend", code, "-c", 3, "--document-number", "28/2023/nđ-cp", "--document-date", "2023-06-15",
            "--issuer", "cp", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["document_number"] == "28/2023/NĐ-CP"
    assert rows("SELECT document_number, document_key, document_date, issuer FROM dossier_components WHERE n = 3") == \
        [("28/2023/NĐ-CP", "28/2023/ND-CP", "2023-06-15", "CP")]


def test_a_departments_number_is_stored_as_printed(run, db, cfg, rows, tmp_path):
    """Issue 18: ``57/GCN-SKHCN`` (a provincial department) was stored as the ministry's ``57/GCN-BKHCN``,
    unflagged, and typing the paper's number was refused. Scanned with the real tesseract."""
    from onestop.intake import dossiers

    code = new_dossier(db, cfg)
    doc = scan(run, code, 1, heading("57/GCN-SKHCN"), tmp_path / "p1.png")
    assert (doc["document_number"], doc["issuer"], doc["needs_check"]) == ("57/GCN-SKHCN", "SKHCN", True)
    assert listed(run) == [(code, 1)]  # flagged: the issuer is not in config/agencies.toml
    assert "SKHCN" in run("check").stderr
    assert component_hits(run, "57/GCN-SKHCN")[0] == [(code, 1)]
    assert component_hits(run, "57/GCN-BKHCN")[0] == []

    # The officer confirms what is printed; and types it for a component that was not read.
    r = run("amend", code, "--component", 1, "--document-number", "57/GCN-SKHCN")
    assert r.exit_code == 0, r.output
    assert listed(run) == []
    r = run("amend", code, "--component", 2, "--document-number", "58/gcn-skhcn", "--document-date", "2025-03-12")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().endswith(": 58/GCN-SKHCN") and "Cảnh báo" in r.stderr and "SKHCN" in r.stderr
    assert rows("SELECT n, document_number, issuer, document_check FROM dossier_components WHERE n IN (1, 2) "
                "ORDER BY n") == [(1, "57/GCN-SKHCN", "SKHCN", ""), (2, "58/GCN-SKHCN", "SKHCN", "")]
    # A misprint the lists would correct is refused first, then stored as printed when the officer says so.
    r = run("amend", code, "--component", 3, "--document-number", "59/GCN-BKHCM")
    assert r.exit_code == 4 and "--as-printed" in r.stderr
    r = run("amend", code, "--component", 3, "--document-number", "59/GCN-BKHNC")  # no ministry: a typo, likely
    assert r.exit_code == 4 and "--as-printed" in r.stderr
    r = run("amend", code, "--component", 3, "--document-number", "59/GCN-BKHCM", "--as-printed", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["document_number"] == "59/GCN-BKHCM"
    # The issuer typed alone: a department is taken as typed, never turned into the ministry.
    r = run("amend", code, "--component", 3, "--document-number", "59/GCN-BKHCM", "--issuer", "skhcn", "--json")
    assert r.exit_code == 4 and "khác cơ quan trong số" in r.stderr  # the number says BKHCN
    r = run("amend", code, "--component", 3, "--document-number", "59/GCN", "--issuer", "SKHCN", "--as-printed",
            "--json")
    assert r.exit_code == 0, r.output
    assert (json.loads(r.stdout)["document_number"], json.loads(r.stdout)["issuer"]) == ("59/GCN", "SKHCN")

    # The same on the result papers (scan --result).
    dossiers.move(db, cfg, code, "4", render=False)
    dossiers.move(db, cfg, code, "9", render=False)
    r = run("scan", code, "--result", save(heading("60/GCN-SKHCN"), tmp_path / "kq.png"), "--yes", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)["document"]
    assert (doc["document_number"], doc["issuer"]) == ("60/GCN-SKHCN", "SKHCN")

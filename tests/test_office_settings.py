"""One office, several desks (issue 9): the office-wide settings live in the office database, the
archive folder is shared, and `onestop check` checks the whole office. Each test sets up two desk
data homes that share one database URL on the real PostgreSQL server of tests/pg.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROC = "1.003584"  # 15 working days


@pytest.fixture
def desks(tmp_path, monkeypatch, pg_url):
    """``desks(name, toml="")`` makes a desk's data home and makes it the one the next commands use."""
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    from onestop import store

    monkeypatch.setattr(store, "COMMANDS_ON_POSTGRESQL", True)
    made = {}

    def desk(name: str, toml: str = "") -> Path:
        if name not in made:
            h = tmp_path / name
            h.mkdir()
            if toml:
                (h / "onestop.toml").write_text(toml, encoding="utf-8")
            made[name] = h
        monkeypatch.setenv("ONESTOP_HOME", str(made[name]))
        return made[name]

    return desk


def receive(run, name="Nguyễn Văn An", now="2026-11-30 10:00", monkeypatch=None):
    return run("receive", "-p", PROC, "--name", name, "--id", "001085012345", "--all-components", "--json")


def settings(run) -> dict:
    r = run("office", "show", "--json")
    assert r.exit_code == 0, r.output
    return {row["key"]: row for row in json.loads(r.stdout)}


def test_the_first_desk_sets_the_office_and_every_desk_follows(run, desks, monkeypatch, rows):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    a = desks("a", '[agency]\nname = "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH A"\n[counter]\ncutoff = "16:00"\n')
    r = receive(run)
    assert r.exit_code == 0, r.output
    assert r.stderr == ""  # the first desk agrees with itself
    office = settings(run)
    assert office["agency.code"]["value"] == "000.00.12.H26"
    assert office["agency.name"]["value"] == "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH A"
    assert office["counter.cutoff"]["value"] == "16:00" and office["counter.code_rule"]["value"] == "tt01-2018"
    assert office["archive.root"]["value"] == str((a / "archive").resolve())
    assert office["calendar"]["value"] == (REPO / "config" / "calendar.toml").read_text(encoding="utf-8")
    assert all(row["desk"] is None for row in office.values())

    b = desks("b")  # the shared config folder says cutoff 15:00 and the sample agency name
    r = receive(run, "Lê Thị Bình")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["code"] == "000.00.12.H26-261130-0002"  # one sequence for the office
    # B is told, naming the settings, that the office's values are used instead of its own.
    assert "[counter] cutoff" in r.stderr and "'16:00'" in r.stderr and "'15:00'" in r.stderr
    assert "[agency] name" in r.stderr and "onestop office set" in r.stderr
    office_b = settings(run)
    assert office_b["counter.cutoff"]["value"] == "16:00" and office_b["counter.cutoff"]["desk"] == "15:00"
    # ... once a day: the next receive is quiet (office show still lists them), a new disagreement is told at once.
    r = receive(run, "Lê Thị Cúc")
    assert r.exit_code == 0 and "[counter] cutoff" not in r.stderr and "[agency] name" not in r.stderr, r.stderr
    (b / "onestop.toml").write_text('[counter]\ncutoff = "14:30"\n', encoding="utf-8")
    r = receive(run, "Lê Thị Dung")
    assert r.exit_code == 0 and "'14:30'" in r.stderr and "[agency] name" not in r.stderr, r.stderr
    (b / "onestop.toml").unlink()
    # B's receipt names the office's agency, and B's scans go to the office's archive folder.
    from onestop.common import config
    from onestop import store

    cfg = config.load()
    store.connect(cfg).close()
    assert cfg.agency_name == "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH A" and cfg.get("counter.cutoff") == "16:00"
    assert cfg.archive_dir == (a / "archive").resolve() and cfg.home == b
    assert cfg.officer == "Trần Thị Cán Bộ"  # the officer stays the desk's


def test_a_desk_of_another_agency_is_refused(run, desks, monkeypatch, rows):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    desks("a")
    assert receive(run).exit_code == 0
    desks("b", '[agency]\ncode = "000.00.01.H56"\n')
    r = receive(run, "Lê Thị Bình")
    assert r.exit_code == 14, r.output
    assert "[agency] code" in r.stderr and "000.00.01.H56" in r.stderr and "000.00.12.H26" in r.stderr
    assert "ONESTOP_DATABASE_URL" in r.stderr
    assert rows("SELECT code FROM dossiers") == [("000.00.12.H26-261130-0001",)]


def test_office_calendar_decides_every_desks_appointments(run, desks, monkeypatch, tmp_path):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    desks("a")
    r = receive(run)
    # 15 working days from Mon 30/11: Mon 21/12.
    assert json.loads(r.stdout)["due_at"] == "2026-12-21T10:00:00+07:00"
    cal = tmp_path / "calendar-2026.toml"
    cal.write_text((REPO / "config" / "calendar.toml").read_text(encoding="utf-8")
                   + '\n[[off]]\ndate = "2026-12-01"\nreason = "test: an office day off"\n', encoding="utf-8")
    r = run("office", "set", "calendar", cal)
    assert r.exit_code == 0, r.output
    desks("b")  # B's own calendar.toml (the config folder's) does not have that day off
    r = receive(run, "Lê Thị Bình")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["due_at"] == "2026-12-22T10:00:00+07:00"
    assert "calendar.toml" in r.stderr  # told its own file differs
    desks("a")  # and A, which set it, too
    assert json.loads(receive(run, "Phạm Văn Cường").stdout)["due_at"] == "2026-12-22T10:00:00+07:00"


def test_office_set_checks_what_it_stores(run, desks, monkeypatch, tmp_path):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    desks("a")
    assert run("office", "set", "counter.cutoff", "25:99").exit_code == 4
    assert run("office", "set", "agency.code", "H56").exit_code == 4
    assert run("office", "set", "counter.officer", "Ai đó").exit_code == 4  # per desk, not the office's
    assert run("office", "set", "archive.root", "relative/folder").exit_code == 4
    bad = tmp_path / "bad.toml"
    bad.write_text("[[holiday]]\ndate = \"2026-12-01\"\n", encoding="utf-8")
    r = run("office", "set", "calendar", bad)
    assert r.exit_code == 8 and "bad.toml" in r.stderr
    r = run("office", "set", "counter.sessions", "07:30-11:30,13:00-16:30")
    assert r.exit_code == 0, r.output
    assert settings(run)["counter.sessions"]["value"] == ["07:30-11:30", "13:00-16:30"]
    # The agency code can change only while the office has issued no code.
    assert run("office", "set", "agency.code", "000.00.01.H56").exit_code == 0
    assert receive(run).exit_code == 14  # this desk's config still says H26: refused, told why
    assert run("office", "set", "agency.code", "000.00.12.H26").exit_code == 0
    r = receive(run)
    assert r.exit_code == 0, r.output
    r = run("office", "set", "agency.code", "000.00.01.H56")
    assert r.exit_code == 4 and "000.00.12.H26" in r.stderr
    assert settings(run)["agency.code"]["value"] == "000.00.12.H26"


def test_office_commands_on_a_sqlite_desk(run, monkeypatch):
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    r = run("office", "show")
    assert r.exit_code == 8 and "ONESTOP_DATABASE_URL" in r.stderr


def test_migrate_to_makes_the_moved_desks_settings_the_offices(run, tmp_path, monkeypatch, pg_url):
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    home = tmp_path / "desk"
    home.mkdir()
    monkeypatch.setenv("ONESTOP_HOME", str(home))
    (home / "onestop.toml").write_text('[counter]\ncutoff = "16:30"\n[archive]\nroot = "/srv/onestop-archive"\n',
                                       encoding="utf-8")
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    assert receive(run).exit_code == 0  # on the desk's SQLite file
    # Another desk connected to the new database first: its settings are replaced by the moved desk's.
    from onestop.common import config
    from onestop import store

    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("ONESTOP_HOME", str(other))
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    monkeypatch.setattr(store, "COMMANDS_ON_POSTGRESQL", True)
    store.connect(config.load()).close()
    monkeypatch.setenv("ONESTOP_HOME", str(home))
    monkeypatch.delenv("ONESTOP_DATABASE_URL")
    r = run("db", "migrate-to", pg_url, "--json")
    assert r.exit_code == 0, r.output
    assert "counter.cutoff" in json.loads(r.stdout)["office_settings"]
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    office = settings(run)
    assert office["counter.cutoff"]["value"] == "16:30"
    assert office["archive.root"]["value"] == "/srv/onestop-archive"
    r = receive(run, "Lê Thị Bình")
    assert r.exit_code == 0 and json.loads(r.stdout)["code"].endswith("-0002"), r.output


def test_an_unmounted_shared_archive_is_not_replaced_by_a_local_folder(run, desks, monkeypatch, tmp_path):
    from pages import numbered, save

    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    shared = tmp_path / "share"
    shared.mkdir()
    desks("a", f'[archive]\nroot = "{shared}"\n')
    code = json.loads(receive(run).stdout)["code"]
    shared.rmdir()  # desk B: the share is not mounted there
    desks("b")
    page = save(numbered(1), tmp_path / "p1.png")
    r = run("scan", code, "--component", 1, page, "--yes")
    assert r.exit_code == 7, r.output
    assert str(shared.resolve()) in r.stderr and "docs/office.md" in r.stderr
    assert not shared.exists()  # not created in the share's place
    r = run("check")
    assert r.exit_code == 7 and "mount" in r.stderr.lower(), r.output


def test_two_desks_scan_into_one_shared_archive_and_check_covers_the_office(run, desks, monkeypatch, tmp_path):
    from pages import numbered, save

    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    shared = tmp_path / "share"
    shared.mkdir()
    desks("a", f'[archive]\nroot = "{shared}"\n')
    code_a = json.loads(receive(run).stdout)["code"]
    pages = [save(numbered(i), tmp_path / f"p{i}.png") for i in (1, 2)]
    r = run("scan", code_a, "--component", 1, *pages, "--yes", "--json")
    assert r.exit_code == 0, r.output
    pdf_a = Path(json.loads(r.stdout)["pdf"])
    desks("b")  # no archive setting of its own: the office's shared folder
    code_b = json.loads(receive(run, "Lê Thị Bình").stdout)["code"]
    r = run("scan", code_b, "--component", 1, *pages, "--yes", "--json")
    assert r.exit_code == 0, r.output
    pdf_b = Path(json.loads(r.stdout)["pdf"])
    assert pdf_a.parent.parent == pdf_b.parent.parent == shared.resolve() and pdf_a.name != pdf_b.name
    assert not (tmp_path / "b" / "archive").exists()
    r = run("check", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["files"] == 2  # B checks A's file too
    pdf_a.write_bytes(pdf_a.read_bytes()[:-10] + b"0123456789")  # damaged on the share
    r = run("check", "--json")
    assert r.exit_code == 10, r.output
    assert [(p["kind"], p["code"]) for p in json.loads(r.stdout)["problems"]] == [("checksum", code_a)]

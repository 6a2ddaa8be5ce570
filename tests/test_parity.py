"""Issue 9, parity: the same scripted day at the counter, run once on a SQLite data home and once on a
PostgreSQL office database with the same pinned clock, gives the same backlog, period report,
search hits and sync payloads (as the test ministry server received them).

What legitimately differs between the two runs is normalised first: the data home's paths (receipts,
archive files) and the internal row ids. Search order is compared by class: the same hits, and the
same order where one hit matches more than another (bm25 and ts_rank give other numbers).
The two schemas themselves (tables, columns, indexes), built from the one definition in
onestop/store/schema.py, are compared in tests/test_schema.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ministry_server import MinistryServer
from pages import render, save
from sync_helpers import point_at, write_sync_config

pytestmark = pytest.mark.postgresql_only

PAGE_LINES = ["ĐIỀU LỆ TỔ CHỨC VÀ HOẠT ĐỘNG", "Viện Nghiên cứu Ứng dụng Ánh Dương", "Trụ sở: thành phố Hưng Yên",
              "Giám đốc: Trần Thị Bích Ngọc"]

# The day: (clock, command). {A}… are the codes the receives issued, in order.
DAY = [
    ("2026-11-30 08:05", ["receive", "-p", "1.003604", "--name", "Nguyễn Văn An", "--id", "001085012345",
                          "--phone", "0912345678", "--all-components"]),
    ("2026-11-30 08:20", ["receive", "-p", "1.003584", "--name", "Trần Thị Bích Ngọc", "--id", "033190004567",
                          "--all-components"]),
    ("2026-11-30 09:00", ["receive", "-p", "1.000446", "--name", "Lê Đức Thắng", "--id", "079092003210",
                          "--address", "Số 5 phố Hàng Đào, Hà Nội", "--all-components", "--post"]),
    ("2026-11-30 09:30", ["receive", "-p", "1.008245", "--name", "Phạm Thị Hoa", "--id", "036185009876",
                          "--all-components", "--channel", "3"]),
    ("2026-11-30 10:00", ["move", "{A}", "4", "--note", "Chuyển phòng Quản lý khoa học"]),
    ("2026-11-30 10:30", ["scan", "{A}", "-c", "1", "{PAGE}", "--yes"]),
    ("2026-11-30 11:00", ["reschedule", "{B}", "--to", "2026-12-28 09:00", "--reason", "Cần thẩm định thực tế",
                          "--yes"]),
    ("2026-11-30 11:10", ["amend", "{C}", "--name", "Lê Đức Thắm", "--phone", "0905111222",
                          "--reason", "Nhập sai họ tên"]),
    ("2026-11-30 13:40", ["move", "{D}", "4"]),
    ("2026-11-30 14:10", ["move", "{D}", "9", "--yes", "--note", "Đã có kết quả"]),
    ("2026-11-30 14:30", ["sync"]),
    ("2026-11-30 15:20", ["receive", "-p", "1.003604", "--name", "Nguyễn Thị Ánh Dương", "--id", "001190000001",
                          "--all-components"]),
    ("2026-11-30 15:40", ["move", "{C}", "5", "--missing", "Bản sao Điều lệ: thiếu chữ ký"]),
    ("2026-11-30 16:30", ["sync"]),
]
SEARCHES = ["điều lệ ánh dương", "Nguyễn", "dieu le", "Hưng Yên", "{A}", "Thắm"]


def _day(run, monkeypatch, home: Path, page: Path, srv) -> dict:
    """Play the day in ``home`` on the backend the environment names; the outputs to compare."""
    monkeypatch.setenv("ONESTOP_HOME", str(home))
    write_sync_config(home)
    point_at(monkeypatch, srv.url)
    codes: dict[str, str] = {"PAGE": str(page)}
    for clock, cmd in DAY:
        monkeypatch.setenv("ONESTOP_NOW", clock)
        args = [a.format(**codes) for a in cmd] + ["--json"]
        r = run(*args)
        assert r.exit_code == 0, (args, r.stdout, r.stderr)
        if cmd[0] == "receive":
            codes["ABCDE"[sum(1 for k in codes if k != "PAGE")]] = json.loads(r.stdout)["code"]
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 17:00")
    out = {"codes": codes}
    for cmd in (["backlog"], ["report", "--period", "2026-11"], ["report", "--from", "2026-11-30", "--to", "2026-11-30"]):
        r = run(*cmd, "--json")
        assert r.exit_code == 0, (cmd, r.stderr)
        out[" ".join(cmd)] = json.loads(r.stdout)
    for q in SEARCHES:
        r = run("search", q.format(**codes), "--json")
        assert r.exit_code == 0, (q, r.stderr)
        # The same hits in the same order; the score's number is the engine's own (bm25 / ts_rank).
        out[f"search {q}"] = [{k: v for k, v in hit.items() if k != "score"} for hit in json.loads(r.stdout)]
        assert out[f"search {q}"], f"no hit for {q!r}: the corpus should match every query"
    st = srv.state
    out["server"] = {"dossiers": st.dossiers, "steps": st.steps, "files": st.files,
                     "creates": dict(st.creates), "updates": dict(st.updates), "uploads": dict(st.uploads)}
    return out


def _normalise(out: dict, home: Path) -> dict:
    """The outputs with the data home's path as HOME and codes by role."""
    text = json.dumps(out, ensure_ascii=False, sort_keys=True)
    text = text.replace(str(home.resolve()), "HOME").replace(str(home), "HOME")
    for role, code in out["codes"].items():
        if role != "PAGE":
            text = text.replace(code, f"<{role}>")
    return json.loads(text)


def test_same_day_same_results_on_sqlite_and_postgresql(run, monkeypatch, tmp_path, pg_url):
    page = save(render(PAGE_LINES, dpi=200, size_mm=(120, 80)), tmp_path / "dieu-le.png")
    results = {}
    for backend in ("sqlite", "postgresql"):
        home = tmp_path / backend
        home.mkdir()
        if backend == "sqlite":
            monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
        with MinistryServer() as srv:
            results[backend] = _normalise(_day(run, monkeypatch, home, page, srv), home)
        Path(f"/tmp/pd2-parity-{backend}.json").write_text(json.dumps(results[backend], ensure_ascii=False, indent=1, sort_keys=True))
    assert (tmp_path / "sqlite" / "onestop.db").exists() and not (tmp_path / "postgresql" / "onestop.db").exists()
    lite, pg = results["sqlite"], results["postgresql"]
    assert lite.keys() == pg.keys()
    for key in lite:
        assert lite[key] == pg[key], key


def test_generated_data_same_figures_on_both_backends(run, monkeypatch, tmp_path, pg_url):
    """`onestop generate` (the P7/P11 benches' data) loads the same rows into SQLite and, by COPY, into a
    new PostgreSQL database: the same backlog and report; the password is never printed; a database
    that already holds dossiers is refused."""
    from onestop.store.redact import redact_url

    lite = tmp_path / "lite"
    lite.mkdir()
    args = ["--dossiers", 800, "--events", 4000, "--months", 2, "--end", "2026-11-30"]
    out = {}
    for backend, target in (("sqlite", lite / "onestop.db"), ("postgresql", pg_url)):
        monkeypatch.setenv("ONESTOP_HOME", str(lite if backend == "sqlite" else tmp_path))
        monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
        g = run("generate", target, *args)
        assert g.exit_code == 0, g.output
        if backend == "postgresql":
            assert pg_url not in g.output and redact_url(pg_url) in g.output
            monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
        out[backend] = {}
        for cmd in ("backlog --as-of 2026-11-30", "report --period 2026-11"):
            r = run(*cmd.split(), "--json")
            assert r.exit_code == 0, (backend, cmd, r.output)
            out[backend][cmd] = json.loads(r.stdout)
        assert out[backend]["backlog --as-of 2026-11-30"]["total"] > 0
    assert out["sqlite"] == out["postgresql"]
    again = run("generate", pg_url, "--dossiers", 10)
    assert again.exit_code == 4 and pg_url not in again.output

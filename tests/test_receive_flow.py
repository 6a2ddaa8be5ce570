"""A receive flows down: the CLI hands one request to intake, and the procedure is read from the
catalog once per receive (issue 19), whether given as a code, as words, or picked at the prompts."""

import json

import pytest

PROC = "1.003584"  # the sample catalog's "Đăng ký thành lập tổ chức khoa học và công nghệ", 7 papers


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")


@pytest.fixture
def reads(monkeypatch):
    """How many times the procedure's row and its papers' rows were read from the store."""
    from onestop.store import catalog as catalog_store

    counts = {"procedure_row": 0, "components_of": 0}
    for name in counts:
        real = getattr(catalog_store, name)

        def counted(*a, _real=real, _name=name, **kw):
            counts[_name] += 1
            return _real(*a, **kw)

        monkeypatch.setattr(catalog_store, name, counted)
    return counts


def test_receive_by_code_reads_the_procedure_once(run, db, rows, reads):
    r = run("receive", "-p", PROC, "--name", "Nguyễn Thị Hương", "--id", "001185012345", "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "2"
    assert reads == {"procedure_row": 1, "components_of": 1}
    assert rows("SELECT procedure_code FROM dossiers") == [(PROC,)]


def test_receive_by_words_reads_the_procedure_once(run, db, rows, reads):
    r = run("receive", "-p", "dang ky thanh lap to chuc khoa hoc va cong nghe", "--name", "Nguyễn Thị Hương",
            "--id", "001185012345", "--all-components", "--json")
    assert r.exit_code == 0, r.stderr
    assert reads == {"procedure_row": 1, "components_of": 1}
    assert rows("SELECT procedure_code FROM dossiers") == [(PROC,)]


def test_interactive_receive_reads_the_procedure_once(run, db, rows, reads):
    """The prompts ask about the procedure's papers; the receive then uses that very procedure."""
    answers = "\n".join([PROC, "Hoàng Thị Mai", "", "001185012345", "0912345678", "Hà Nội", "", ""]
                        + ["y", "2"] * 7) + "\n"
    r = run("receive", "--ask", "--json", input=answers)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "2"
    assert reads == {"procedure_row": 1, "components_of": 1}
    assert [p for (p,) in rows("SELECT pages FROM dossier_components ORDER BY n")] == [2] * 7


def test_refusal_goes_through_the_same_request(run, db, rows, reads):
    r = run("receive", "-p", PROC, "--name", "Lê Văn Bình", "--id", "001085012345",
            "--refuse", "Không thuộc thẩm quyền", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "3" and out["code"] is None and out["form"].endswith(".pdf")
    assert reads == {"procedure_row": 1, "components_of": 1}
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]
    assert rows("SELECT form FROM counter_forms") == [("03",)]


def test_intake_imports_nothing_above_it():
    """Layers common < domain < store < intake < archive: no intake module imports the archive, the
    reports, the sync, the samples or the CLI, even inside a function (the old dossiers ↔ digitization
    circle)."""
    import ast
    from pathlib import Path

    import onestop.intake

    above = ("onestop.archive", "onestop.reports", "onestop.sync", "onestop.samples", "onestop.cli", "onestop.entry")
    found = []
    for path in sorted(Path(onestop.intake.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.startswith(above)]
    assert found == []

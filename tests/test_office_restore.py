"""Issue 17 item 1: a restored office database never issues a code (or book number) twice.

Desks are real OS processes (``python -m onestop``), each with its own data home, on one PostgreSQL
database and one shared archive folder; the dump and the restore are the real ``pg_dump -Fc`` and
``pg_restore`` of the server's binaries, as docs/office.md §6 says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from onestop.common import errors

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NOW = "2026-11-23 09:00"
AGENCY = "000.00.12.H26"

pytestmark = pytest.mark.postgresql_only


def _home(root: Path, name: str, archive: Path) -> Path:
    h = root / name.replace(" ", "-")
    h.mkdir()
    (h / "onestop.toml").write_text(f'[archive]\nroot = "{archive}"\n\n[counter]\ndesk = "{name}"\n',
                                    encoding="utf-8")
    return h


class Office:
    """An office database, a shared archive and desks (data homes) run as separate processes."""

    def __init__(self, tmp_path: Path, url: str, server):
        self.root, self.url, self.server = tmp_path, url, server
        self.dbname = url.rsplit("/", 1)[1]
        self.archive = tmp_path / "archive"
        self.archive.mkdir()
        self.env = dict(os.environ, ONESTOP_DATABASE_URL=url, ONESTOP_NOW=NOW,
                        PYTHONPATH=os.pathsep.join([str(REPO), str(HERE)]))
        self.printed: list[dict] = []  # every receive that printed a code: code, book_no, desk

    def desk(self, name: str) -> Path:
        return _home(self.root, name, self.archive)

    def onestop(self, home: Path, *args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "onestop", *map(str, args)], capture_output=True, text=True,
                              env=dict(self.env, ONESTOP_HOME=str(home)), timeout=120)

    def receive(self, home: Path, name: str = "Lê Văn Tám") -> subprocess.CompletedProcess:
        r = self.onestop(home, "--lang", "en", "receive", "-p", "1.003584", "--name", name, "--id", "001085012345",
                         "--all-components", "--json")
        if r.returncode == 0:
            out = json.loads(r.stdout)
            self.printed.append({"code": out["code"], "book_no": out["book_no"], "desk": home.name})
        return r

    def dump(self) -> Path:
        path = self.root / "onestop.dump"
        subprocess.run([self.server.bin / "pg_dump", "--format=custom", f"--file={path}", self.url], check=True,
                       capture_output=True)
        return path

    def restore(self, dump: Path) -> None:
        """docs/office.md §6: a new database (createdb … --template template0), pg_restore --no-owner."""
        self.server.sql(f"DROP DATABASE {self.dbname} WITH (FORCE)")
        self.server.sql(f"CREATE DATABASE {self.dbname} TEMPLATE template0 ENCODING 'UTF8'")
        p = subprocess.run([self.server.bin / "pg_restore", "--no-owner", f"--dbname={self.url}", dump],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr

    def assert_nothing_printed_twice(self) -> None:
        codes = [p["code"] for p in self.printed]
        books = [p["book_no"] for p in self.printed]
        assert len(set(codes)) == len(codes), self.printed
        assert len(set(books)) == len(books), self.printed


@pytest.fixture
def office(tmp_path, pg_url, pg_server):
    return Office(tmp_path, pg_url, pg_server)


def test_restore_as_documented_then_each_desk_receives_no_code_twice(office):
    """The red-team repro: dump; desk 1 and desk 2 receive; restore as docs/office.md §6 says (then
    `onestop office after-restore` on the server); the next receive on each desk. Before: desk 1's
    next receive printed the code desk 2 had printed for another citizen."""
    d1, d2, server = office.desk("Quầy 1"), office.desk("Quầy 2"), office.desk("Máy chủ")
    for h in (d1, d2):
        assert office.receive(h).returncode == 0
    assert office.onestop(server, "db", "status").returncode == 0  # the server machine is a known desk too
    dump = office.dump()
    for h in (d1, d2, d1, d2):  # after the dump: codes 0003-0006 printed, books 3-6
        r = office.receive(h)
        assert r.returncode == 0, r.stderr
    office.restore(dump)

    r = office.onestop(server, "--lang", "en", "office", "after-restore", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["waiting"] == ["Quầy 1", "Quầy 2"]
    assert "Quầy 1, Quầy 2" in r.stderr

    # Desk 1 connects first: it reports its own codes, but desk 2 has not: no code yet (exit 14, named).
    r = office.receive(d1)
    assert r.returncode == errors.HomeMismatch.exit_code, r.stderr
    assert "Waiting for: Quầy 2" in r.stderr and "Nothing was stored" in r.stderr and "Traceback" not in r.stderr
    # Desk 2 connects (any command): the counters stand above every code printed.
    assert office.onestop(d2, "list", "--today").returncode == 0
    for h in (d1, d2, d1):
        r = office.receive(h)
        assert r.returncode == 0, r.stderr
    office.assert_nothing_printed_twice()
    assert [p["code"][-4:] for p in office.printed[-3:]] == ["0007", "0008", "0009"]
    assert [p["book_no"] for p in office.printed[-3:]] == [7, 8, 9]


def test_a_restore_nobody_announced_is_noticed_by_the_first_desk(office):
    """The technician restores and forgets `office after-restore`: the first desk to connect notices
    the new database (its identity differs from the one recorded), lifts the counters above the codes
    in the shared archive, and the office waits for the other desk as above."""
    d1, d2 = office.desk("Quầy 1"), office.desk("Quầy 2")
    for h in (d1, d2):
        assert office.receive(h).returncode == 0
    dump = office.dump()
    for h in (d1, d2, d1, d2):
        assert office.receive(h).returncode == 0
    # A file of the shared archive carries a code no desk's file knows (a desk whose home was lost).
    code = f"{AGENCY}-261123-0011"
    folder = office.archive / code
    folder.mkdir()
    (folder / f"{code}_1_20261123.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    office.restore(dump)

    # The red-team order: desk 1 first (before: it printed 0006, desk 2's code). It notices the restore.
    r = office.receive(d1)
    assert r.returncode == errors.HomeMismatch.exit_code, (r.stderr, office.printed)
    assert "is a restored one" in r.stderr and "code_sequences 261123: 2 → 11" in r.stderr
    assert "report the codes they printed: Quầy 2 (docs" in r.stderr and "Waiting for: Quầy 2" in r.stderr
    assert office.onestop(d2, "db", "status").returncode == 0
    for h in (d1, d2):
        r = office.receive(h)
        assert r.returncode == 0, r.stderr
    assert [p["code"][-4:] for p in office.printed[-2:]] == ["0012", "0013"]
    office.assert_nothing_printed_twice()

    # `check` then finds the archive files of dossiers the restored database lacks: its advice never
    # sends them into another dossier. Here 0011 (not in the database) and a file of an earlier
    # dossier 0001 scanned before today's 0001 was received (a code given again before this fix).
    old = f"{AGENCY}-261123-0001"
    (office.archive / old).mkdir()
    (office.archive / old / f"{old}_TP01_20261120.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    r = office.onestop(d1, "check", "--json")
    assert r.returncode == errors.CheckFailed.exit_code, r.stderr
    orphans = {p["code"]: p for p in json.loads(r.stdout)["problems"] if p["kind"] == "orphan"}
    assert orphans[code]["dossier"] is None and "không có trong cơ sở dữ liệu" in orphans[code]["message"]
    assert "đừng quét nó vào hồ sơ khác" in orphans[code]["message"]
    assert f"Đừng quét nó vào hồ sơ {old}" in orphans[old]["message"]
    assert all("Chạy lại đúng lệnh" not in o["message"] for o in orphans.values())


def test_a_desk_gone_for_good_is_forgotten_by_name(office):
    d1, d2, server = office.desk("Quầy 1"), office.desk("Quầy 2"), office.desk("Máy chủ")
    for h in (d1, d2, server):
        assert office.receive(h).returncode == 0
    office.restore(office.dump())
    # A desk set up after the dump is not in the restored desks table: named, it is waited for too.
    r = office.onestop(server, "office", "after-restore", "--desk", "Quầy 5", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["waiting"] == ["Quầy 1", "Quầy 2", "Quầy 5"]
    r = office.onestop(server, "--lang", "en", "office", "after-restore", "--forget", "Quầy 9")
    assert r.returncode == errors.InvalidInput.exit_code, r.stderr
    assert "Desks waited for: Quầy 1, Quầy 2, Quầy 5." in r.stderr
    r = office.onestop(server, "--lang", "en", "office", "after-restore", "--forget", "Quầy 2", "--forget", "Quầy 5",
                       "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["waiting"] == ["Quầy 1"]
    assert office.receive(d1).returncode == 0
    office.assert_nothing_printed_twice()

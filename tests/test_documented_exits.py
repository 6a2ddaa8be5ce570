"""Inputs that once ended in "lỗi không mong đợi" (exit 1) get their documented exit code and a
message that says what to fix (issue 17, item 8; docs/exit-codes.md): wrong config types and values,
a config that is not UTF-8, a malformed database or ministry URL, an archive root that is a file or
read-only, a folder given as a file, a damaged spool file, a sync with nowhere to send; and, in an
office, the roles that lack a privilege and desks on another schema version."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_office_roles import office  # noqa: E402,F401 - the fixture: an office set up as docs/office.md says

PROC = "1.003584"


def receive(run, name="Nguyễn Văn An"):
    return run("receive", "-p", PROC, "--name", name, "--id", "001085012345", "--all-components", "--json")


def _toml(text: str, *command: str, env: dict | None = None):
    """A case: this data home's onestop.toml, then ``command``."""
    def case(home, tmp_path, run, monkeypatch):
        (home / "onestop.toml").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        return run(*command)
    return case


def _archive_root_is_a_file(home, tmp_path, run, monkeypatch):
    root = tmp_path / "archive-file"
    root.write_text("not a folder")
    (home / "onestop.toml").write_text(f'[archive]\nroot = "{root}"\n', encoding="utf-8")
    return run("check")


@contextlib.contextmanager
def _read_only_folder(path: Path):
    """A folder this process cannot write to: mode 0555, or (as root, who ignores modes) a read-only tmpfs."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def _archive_root_is_read_only(home, tmp_path, run, monkeypatch):
    from pages import make_samples

    r = receive(run)
    assert r.exit_code == 0, r.output
    page = make_samples(tmp_path / "scans")[2]
    with _read_only_folder(tmp_path / "ro-archive") as root:
        (home / "onestop.toml").write_text(f'[archive]\nroot = "{root}"\n', encoding="utf-8")
        return run("scan", "0001", "--component", 1, page, "--yes")


def _dry_run_into_a_file(home, tmp_path, run, monkeypatch):
    assert receive(run).exit_code == 0
    f = tmp_path / "a-file"
    f.write_text("x")
    return run("sync", "--dry-run", f)


def _damaged_spool_batch(home, tmp_path, run, monkeypatch):
    assert receive(run).exit_code == 0
    spool = tmp_path / "stick"
    assert run("sync", "--spool", spool).exit_code == 0
    batch = sorted(spool.glob("0*.json"))[0]
    batch.write_text('{"service": "DongBoHoSoMC", "data": [{"MaHoSo\x01', encoding="utf-8")  # cut mid-write
    monkeypatch.setenv("ONESTOP_SYNC_URL", "http://127.0.0.1:9/api")
    r = run("sync", "--from-spool", spool)
    assert batch.name in r.stderr
    return r


def _no_url_no_spool(home, tmp_path, run, monkeypatch):
    assert receive(run).exit_code == 0
    return run("sync")


def _migrate_to_a_broken_url(home, tmp_path, run, monkeypatch):
    assert receive(run).exit_code == 0
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)
    return run("db", "migrate-to", "postgresql://owner:p@ss-word@[::1/onestop")


CASES = {
    # (case, documented exit, text the message must hold)
    "sessions reversed": (_toml('[counter]\nsessions = ["17:00-07:00"]\n', "list", "--today"), 8, "17:00-07:00"),
    "sessions a string": (_toml('[counter]\nsessions = "07:00-11:30"\n', "list", "--today"), 8, "sessions"),
    "timezone on Mars": (_toml('[counter]\ntimezone = "Mars/Olympus"\n', "list", "--today"), 8, "Mars/Olympus"),
    "code rule nonsense": (_toml('[counter]\ncode_rule = "nonsense"\n', "list", "--today"), 8, "tt01-2018"),
    "cutoff a number": (_toml('[counter]\ncutoff = 15\n', "list", "--today"), 8, "cutoff"),
    "min_dpi a word": (_toml('[scan]\nmin_dpi = "abc"\n', "list", "--today"), 8, "min_dpi"),
    "sync timeout a word": (_toml('[sync]\ntimeout = "x"\n', "sync", "status"), 8, "timeout"),
    "config in UTF-16": (_toml('[counter]\ncutoff = "16:00"\n'.encode("utf-16"), "list", "--today"), 8, "UTF-8"),
    "ftp sync url": (_toml('[sync]\nurl = "ftp://dvc.example.gov.vn/api"\n', "sync"), 8, "ftp://"),
    "broken IPv6 sync url": (_toml("", "sync", env={"ONESTOP_SYNC_URL": "http://[::1"}), 8, "[::1"),
    "no url and no spool": (_no_url_no_spool, 8, "ONESTOP_SYNC_URL"),
    "archive root is a file": (_archive_root_is_a_file, 7, "archive-file"),
    "archive root is read-only": (_archive_root_is_read_only, 7, "ro-archive"),
    "a folder given as a file": (_dry_run_into_a_file, 7, "a-file"),
    "damaged spool batch": (_damaged_spool_batch, 4, "spool"),
    "database url with @ and a broken bracket": (_migrate_to_a_broken_url, 8, "%40"),
}


@pytest.mark.sqlite_only  # the office's own inputs: test_office_inputs_end_in_their_documented_code below
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_ends_in_its_documented_code(name, home, tmp_path, run, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    case, code, text = CASES[name]
    r = case(home, tmp_path, run, monkeypatch)
    assert r.exit_code != 1, r.output
    assert r.exit_code == code, r.output
    assert "không mong đợi" not in r.stderr and text in r.stderr, r.stderr
    assert "p@ss-word" not in r.output and "ss-word" not in r.output


def test_an_unknown_config_key_is_warned_with_the_closest_known_one(home, run):
    (home / "onestop.toml").write_text('[counter]\ncuttoff = "16:00"\n[sycn]\nurl = ""\n', encoding="utf-8")
    r = run("list", "--today")
    assert r.exit_code == 0, r.output
    assert "cuttoff" in r.stderr and "'cutoff'" in r.stderr
    assert "[sycn]" in r.stderr and "[sync]" in r.stderr


# ---------------------------------------------------------------- the office: roles and schema versions

def _desk_before_the_owner(run, office, tmp_path):
    office("onestop_desk", "desk")
    return run("receive", "-p", PROC, "--name", "An", "--id", "001085012345", "--all-components")


def _ready(run, office):
    office("onestop_owner", "server")
    assert run("db", "status").exit_code == 0
    office.grant()


def _migrate_to_as_a_desk(run, office, tmp_path):
    _ready(run, office)
    office("onestop_desk", "sqlite-desk")
    url = os.environ.pop("ONESTOP_DATABASE_URL")
    assert receive(run).exit_code == 0  # on this desk's own SQLite file
    return run("db", "migrate-to", url)


def _read_only_role(run, office, tmp_path, pg_server=None):
    import psycopg

    _ready(run, office)
    url = office.url("onestop_desk")
    with psycopg.connect(office.url("onestop_owner"), autocommit=True) as c:
        user = psycopg.conninfo.conninfo_to_dict(url)["user"]
        c.execute(f"REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {user}")
    office("onestop_desk", "desk")
    return receive(run)


def _schema_change(version_delta: int):
    def case(run, office, tmp_path):
        import psycopg

        from onestop.store.pg_schema import MIGRATIONS

        _ready(run, office)
        with psycopg.connect(office.url("onestop_owner"), autocommit=True) as c:
            if version_delta > 0:  # the owner already ran a newer onestop
                c.execute("INSERT INTO onestop_schema (version, name) VALUES (%s, 'from_the_future')",
                          [len(MIGRATIONS) + 1])
            else:  # this desk was updated before the owner ran the new onestop
                c.execute("DELETE FROM onestop_schema WHERE version = %s", [len(MIGRATIONS)])
        office("onestop_desk", "desk")
        return receive(run)
    return case


OFFICE_CASES = {
    "desk before the owner's first run": (_desk_before_the_owner, 19, "onestop_owner"),
    "migrate-to as a desk": (_migrate_to_as_a_desk, 18, "owner"),
    "a read-only role": (_read_only_role, 18, "onestop_desk"),
    "a desk older than the schema": (_schema_change(+1), 19, "Cập nhật onestop trên máy này"),
    "a desk newer than the schema": (_schema_change(-1), 19, "sở hữu CSDL"),
}


@pytest.mark.postgresql_only
@pytest.mark.parametrize("name", list(OFFICE_CASES))
def test_office_inputs_end_in_their_documented_code(name, run, office, tmp_path, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    case, code, text = OFFICE_CASES[name]
    r = case(run, office, tmp_path)
    assert r.exit_code != 1, r.output
    assert r.exit_code == code, r.output
    assert "không mong đợi" not in r.stderr and text in r.stderr, r.stderr
    assert "s3cret" not in r.output


@pytest.mark.parametrize("url, code", [
    ("postgresql://desk:pa%25ss-w0rd@127.0.0.1:9/onestop", 17),      # '%' written right: unreachable
    ("postgresql://desk:pa%ss-w0rd@127.0.0.1:9/onestop", 8),         # '%' not encoded
    ("postgresql://desk:pa@ss-w0rd@127.0.0.1:9/onestop", 8),         # '@' not encoded
    ("postgresql://desk:pa/ss-w0rd@127.0.0.1:9/onestop", 8),         # '/' not encoded
    ("postgresql://desk:pass-w0rd@[::1:9/onestop", 8),                # broken IPv6 bracket
    ("postgresql://desk:pass-w0rd@[::1]:port/onestop", 8),            # a port that is not a number
])
def test_the_database_password_is_never_printed(run, monkeypatch, url, code):
    """Issue 17 item 9: whatever the URL holds, no part of the password reaches the screen."""
    monkeypatch.setenv("ONESTOP_DATABASE_URL", url)
    monkeypatch.setenv("ONESTOP_DB_CONNECT_TIMEOUT", "2")
    r = run("db", "status")
    assert r.exit_code == code, r.output
    assert "w0rd" not in r.output and "ss-w" not in r.output and "***" in r.stderr

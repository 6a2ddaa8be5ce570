"""The office's roles as docs/office.md section 1 sets them up (issue 17, item 7): the owner's first
run, the grants block of the docs run as written, then a desk and a supervisor that log in with
their own roles. The desk tries what a hostile desk would; each attempt is refused by the server,
and onestop's own commands keep working."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgresql_only

REPO = Path(__file__).resolve().parent.parent
PROC = "1.003584"


def documented_grants() -> str:
    """The ```sql block of docs/office.md section 1.3, as the technician pastes it."""
    text = (REPO / "docs" / "office.md").read_text(encoding="utf-8")
    section = text[text.index("### 1.3 Grants"):]
    return re.search(r"```sql\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def office(pg_server, pg_url, tmp_path, monkeypatch):
    """An office database owned by a non-superuser owner role, set up as the docs say; returns
    ``login(role, home_name, toml="")`` that makes the next commands run as that role from that home."""
    import psycopg

    db = pg_url.rsplit("/", 1)[1]
    roles = {r: f"{r}_{db}" for r in ("onestop_owner", "onestop_desk", "onestop_supervisor")}
    pw = "s3cret-pw"
    for role in roles.values():
        pg_server.sql(f"CREATE ROLE {role} LOGIN PASSWORD '{pw}'")
    pg_server.sql(f"ALTER DATABASE {db} OWNER TO {roles['onestop_owner']}")
    pg_server.sql(f"GRANT CONNECT ON DATABASE {db} TO {roles['onestop_desk']}, {roles['onestop_supervisor']}")
    homes: dict[str, Path] = {}

    def url(role: str) -> str:
        return pg_server.url(db, user=roles[role], password=pw)

    def login(role: str, name: str, toml: str = "") -> str:
        if name not in homes:
            homes[name] = tmp_path / name
            homes[name].mkdir()
            if toml:
                (homes[name] / "onestop.toml").write_text(toml, encoding="utf-8")
        monkeypatch.setenv("ONESTOP_HOME", str(homes[name]))
        monkeypatch.setenv("ONESTOP_DATABASE_URL", url(role))
        return url(role)

    def grant() -> None:
        sql = documented_grants()
        for generic, actual in roles.items():
            sql = sql.replace(generic, actual)
        with psycopg.connect(url("onestop_owner"), autocommit=True) as c:
            c.execute(sql)

    def desk(run) -> None:
        """A desk as docs/office.md sets one up, with a shared archive folder: the owner's server
        home (``[archive] root`` on the share), the schema made, the documented grants, then the
        desk role's home; the clock at 2026-11-30 10:00."""
        monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
        login("onestop_owner", "server", f'[archive]\nroot = "{tmp_path / "share"}"\n')
        (tmp_path / "share").mkdir()
        assert run("db", "status").exit_code == 0
        grant()
        login("onestop_desk", "desk")

    login.grant = grant
    login.url = url
    login.desk = desk
    return login


def receive(run, name="Nguyễn Văn An"):
    return run("receive", "-p", PROC, "--name", name, "--id", "001085012345", "--all-components", "--json")


def refused(url: str, sql: str) -> str:
    """Run ``sql`` as the role of ``url``; the server's refusal (the test fails if it is accepted)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        try:
            c.execute(sql)
        except psycopg.Error as e:
            return str(e)
    raise AssertionError(f"accepted: {sql}")


def test_a_desk_before_the_owners_first_run_is_told_to_run_it(run, office):
    office("onestop_desk", "desk")
    r = run("db", "status")
    assert r.exit_code == 19, r.output
    assert "owner" in r.stderr or "sở hữu" in r.stderr
    assert "s3cret" not in r.output


def test_the_documented_desk_role_cannot_rewrite_history_counters_or_due_dates(run, office, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    office("onestop_owner", "server")
    assert run("db", "status").exit_code == 0  # the owner's first run: schema, catalog, settings
    office.grant()
    desk = office("onestop_desk", "desk")
    r = receive(run)
    assert r.exit_code == 0, r.output
    code = json.loads(r.stdout)["code"]
    r = run("show", code, "--show-personal")  # writes the access log
    assert r.exit_code == 0, r.output
    r = run("reschedule", code, "--to", "2027-01-15 16:00", "--reason", "Cần xác minh thêm", "--yes")
    assert r.exit_code == 0, r.output  # onestop's own due-date change, with its history line

    for sql in ("DELETE FROM personal_access",
                "UPDATE personal_access SET officer = 'ai đó'",
                "UPDATE events SET note = 'đã sửa'",
                "DELETE FROM events",
                f"UPDATE dossiers SET due_at = '2027-03-01T17:00:00+07:00' WHERE code = '{code}'",
                "UPDATE code_sequences SET last = 0",
                "DELETE FROM code_sequences",
                "UPDATE book_sequences SET last = 0",
                "UPDATE code_sequences SET day = '261201'",
                "INSERT INTO office_settings (key, value, updated_at) VALUES ('counter.cutoff', '\"23:00\"', 'x')",
                "UPDATE office_settings SET value = '\"23:00\"'",
                "UPDATE office SET value = 'x'",
                "DROP TABLE events"):
        assert refused(desk, sql)
    # A due date changed with a forged history line naming another date is refused too.
    import psycopg

    with psycopg.connect(desk) as c:
        did = c.execute("SELECT id FROM dossiers WHERE code = %s", [code]).fetchone()[0]
        c.execute("INSERT INTO events (dossier_id, at, action, data) VALUES (%s, 'x', 'note', "
                  "'{\"new_due_at\": \"2027-01-20T17:00:00+07:00\"}')", [did])
        c.execute("UPDATE dossiers SET due_at = '2027-03-01T17:00:00+07:00' WHERE id = %s", [did])
        with pytest.raises(psycopg.Error):
            c.commit()
    # Nothing changed, and the desks go on numbering.
    shown = json.loads(run("show", code, "--json").stdout)
    assert shown["due_at"].startswith("2027-01-15")
    r = receive(run, "Trần Văn Bình")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["code"].endswith("0002")

    # office set: not for a desk (exit 18, says who may), and nothing stored.
    r = run("office", "set", "counter.cutoff", "16:00")
    assert r.exit_code == 18, r.output
    assert "onestop_supervisor" in r.stderr or "supervisor" in r.stderr
    # The supervisor may; every value is checked before it is stored.
    office("onestop_supervisor", "supervisor")
    r = run("office", "set", "counter.sessions", "17:00-07:00")
    assert r.exit_code == 4, r.output
    assert "17:00-07:00" in r.stderr
    r = run("office", "set", "counter.cutoff", "16:00")
    assert r.exit_code == 0, r.output
    office("onestop_desk", "desk")
    assert receive(run, "Lê Thị Cúc").exit_code == 0


def test_a_desk_of_another_agency_cannot_change_the_office_settings(run, office):
    office("onestop_owner", "server")
    assert run("db", "status").exit_code == 0
    office.grant()
    office("onestop_supervisor", "other", '[agency]\ncode = "000.00.01.H56"\n')
    for key, value in (("counter.cutoff", "16:00"), ("archive.root", "/tmp/elsewhere")):
        r = run("office", "set", key, value)
        assert r.exit_code == 14, r.output
    office("onestop_owner", "server")
    shown = {row["key"]: row["value"] for row in json.loads(run("office", "show", "--json").stdout)}
    assert shown["counter.cutoff"] == "15:00" and shown["archive.root"] != "/tmp/elsewhere"


def test_the_desk_role_can_do_a_whole_day_at_the_counter(run, office, tmp_path):
    """Least rights are still enough: every desk command of a day runs as the documented desk role."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pages import make_samples

    office.desk(run)
    code = json.loads(receive(run).stdout)["code"]
    page = make_samples(tmp_path / "scans")[2]
    for args in (("scan", code, "--component", 1, page, "--yes"),
                 ("search", "Nguyễn"),
                 ("move", code, "4", "--yes"),
                 ("amend", code, "--phone", "0966555444", "--reason", "Sai số điện thoại"),
                 ("backlog", "--show-personal"),
                 ("sync", "--spool", tmp_path / "stick"),
                 ("check",),
                 ("office", "show"),
                 ("db", "status")):
        r = run(*args)
        assert r.exit_code == 0, (args, r.output)


def test_the_spool_identity_is_read_by_the_desks_and_changed_by_no_one_but_the_owner(run, office, tmp_path):
    """Issue 19: the spool identity lives in the one identity table (``office``). A desk reads it (it
    seals its spool batches with the secret, as with sync_office) but can neither change nor delete
    nor replace it, and neither can the supervisor: the trigger of 0012_office_restore_rows keeps it."""
    import psycopg

    office("onestop_owner", "server")
    assert run("db", "status").exit_code == 0
    office.grant()
    with psycopg.connect(office.url("onestop_owner")) as c:
        before = dict(c.execute("SELECT key, value FROM office").fetchall())
    assert len(before["office_id"]) == 32 and len(before["spool_secret"]) == 64 and before["office_created_at"]
    desk = office("onestop_desk", "desk")
    r = run("sync", "--spool", tmp_path / "stick")  # the desk reads the id and the secret to seal a batch
    assert r.exit_code == 0, r.output
    with psycopg.connect(desk) as c:
        assert c.execute("SELECT value FROM office WHERE key = 'spool_secret'").fetchone()[0] == before["spool_secret"]
    for role in ("onestop_desk", "onestop_supervisor"):
        for sql in ("UPDATE office SET value = 'x' WHERE key = 'spool_secret'",
                    "UPDATE office SET value = 'x' WHERE key = 'office_id'",
                    "DELETE FROM office WHERE key IN ('office_id', 'office_created_at', 'spool_secret')",
                    "INSERT INTO office (key, value) VALUES ('spool_secret', 'x') "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"):
            assert "changed only by the database owner" in refused(office.url(role), sql), (role, sql)
    with psycopg.connect(office.url("onestop_owner")) as c:
        after = dict(c.execute("SELECT key, value FROM office").fetchall())
    assert {k: after[k] for k in before} == before


DESK1, DESK2 = '[counter]\ndesk = "Quầy 1"\n', '[counter]\ndesk = "Quầy 2"\n'


def test_the_desk_role_reports_its_codes_after_a_restore_and_touches_no_other_office_row(run, office, monkeypatch):
    """A restore waits for each desk to report the codes it printed (docs/office.md section 6): the
    documented desk role must be able to do its part (remove its own waiting row, or start the epoch
    of a restore nobody announced) and nothing else of the office's identity."""
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    office("onestop_owner", "server")
    assert run("db", "status").exit_code == 0
    office.grant()
    office("onestop_desk", "Quầy 1", DESK1)
    r = receive(run)
    assert r.exit_code == 0, r.output
    office("onestop_desk", "Quầy 2", DESK2)
    assert receive(run, "Lê Thị Cúc").exit_code == 0
    office("onestop_owner", "server")
    r = run("office", "after-restore", "--json")
    assert r.exit_code == 0, r.output
    # Desk 1 reports as the desk role, but desk 2 has not yet: no code (exit 14, desk 2 named).
    desk1 = office("onestop_desk", "Quầy 1", DESK1)
    r = receive(run, "Phạm Văn Dũng")
    assert r.exit_code == 14, r.output
    assert "Quầy 2" in r.stderr
    office("onestop_desk", "Quầy 2", DESK2)
    assert run("db", "status").exit_code == 0  # any command reports
    office("onestop_desk", "Quầy 1", DESK1)
    r = receive(run, "Phạm Văn Dũng")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["code"].endswith("0003")
    for sql in ("DELETE FROM office WHERE key = 'agency'", "UPDATE office SET value = 'x' WHERE key = 'agency'",
                "DELETE FROM office WHERE key NOT LIKE 'restore%' AND key <> 'db_identity'"):
        assert refused(desk1, sql)

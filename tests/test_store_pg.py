"""The office store (issue 9 groundwork) against a real PostgreSQL server started by tests/pg.py:
backend choice, connection errors and their exit codes, no password in messages, the versioned
schema, gapless codes with several real desk processes, the office-wide sync lock, and search with
the same hits as the SQLite FTS5 search on the same corpus."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import pg

from onestop.common import errors

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DESK = [sys.executable, str(HERE / "desk.py")]


def _env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO), **extra)
    return env


# ---------------------------------------------------------------- backend choice (no server needed)

def test_no_url_means_sqlite_and_no_driver_import(home):
    code = ("import sys; from onestop.common import config; from onestop import store; cfg = config.load(); db = store.connect(cfg); "
            "print(store.backend(cfg), type(db).__name__, 'psycopg' in sys.modules)")
    env = {k: v for k, v in _env().items() if k != "ONESTOP_DATABASE_URL"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["sqlite", "Database", "False"]
    assert (home / "onestop.db").exists()


def test_url_from_config_and_bad_scheme(home, cfg, monkeypatch):
    from onestop.common import config
    from onestop import store

    (home / "onestop.toml").write_text('[database]\nurl = "postgresql://desk@db.office.lan/onestop"\n')
    assert store.backend(config.load()) == "postgresql"
    monkeypatch.setenv("ONESTOP_DATABASE_URL", "mysql://u:s3cret@h/db")
    with pytest.raises(errors.ConfigError) as e:
        store.database_url(config.load())
    assert e.value.exit_code == errors.CONFIG and "s3cret" not in e.value.vi and "***" in e.value.vi


def test_commands_refuse_office_mode_until_wired(run, monkeypatch, home):
    """A desk told to use the office server must not silently issue codes from its own SQLite file."""
    from onestop import store

    monkeypatch.setattr(store, "COMMANDS_ON_POSTGRESQL", False)  # the PostgreSQL test run turns it on
    monkeypatch.setenv("ONESTOP_DATABASE_URL", "postgresql://desk:s3cret@127.0.0.1:1/onestop")
    for args in (["list", "--json"], ["sync"]):
        r = run(*args)
        assert r.exit_code == errors.CONFIG, (args, r.output)
        assert "PostgreSQL" in r.stderr and "s3cret" not in r.output + r.stderr
    assert not (home / "onestop.db").exists()


@pytest.mark.parametrize("url, expected", [
    ("postgresql://desk:s3cret@db.lan:5432/onestop", "postgresql://desk:***@db.lan:5432/onestop"),
    ("postgresql://desk:p%40ss%3A@db.lan/onestop?sslmode=verify-full",
     "postgresql://desk:***@db.lan/onestop?sslmode=verify-full"),
    ("postgresql://desk@db.lan/onestop?password=s3cret&sslmode=require",
     "postgresql://desk@db.lan/onestop?password=***&sslmode=require"),
    ("host=db.lan user=desk password='s3 cret' dbname=onestop", "host=db.lan user=desk password=*** dbname=onestop"),
    ("postgresql://desk@db.lan/onestop", "postgresql://desk@db.lan/onestop"),
])
def test_redact_url(url, expected):
    from onestop.store.postgres import redact_url

    assert redact_url(url) == expected


# ---------------------------------------------------------------- connection failures

def test_wrong_password_is_auth_error_without_the_password(pg_server, pg_url):
    from onestop.store import postgres

    bad = pg_url.replace(pg_server.password, "Wr0ngPassw0rd")
    with pytest.raises(errors.DatabaseAuth) as e:
        postgres.connect(bad)
    assert e.value.exit_code == 18
    for text in (e.value.vi, e.value.en, str(e.value)):
        assert "Wr0ngPassw0rd" not in text and pg_server.password not in text
    assert ":***@127.0.0.1" in e.value.vi and "~/.pgpass" in e.value.vi


def test_unreachable_server(pg_server):
    from onestop.store import postgres

    url = pg_server.url("onestop").replace(f":{pg_server.port}/", ":1/")
    with pytest.raises(errors.DatabaseUnreachable) as e:
        postgres.connect(url)
    assert e.value.exit_code == 17 and "Không kết nối được" in e.value.vi and pg_server.password not in e.value.vi


def test_missing_database(pg_server):
    from onestop.store import postgres

    with pytest.raises(errors.DatabaseUnreachable) as e:
        postgres.connect(pg_server.url("no_such_db"))
    assert e.value.exit_code == 17 and "createdb" in e.value.vi


def test_password_from_pgpass(pg_server, pg_url, tmp_path, monkeypatch):
    from onestop.store import postgres

    no_pw = pg_url.replace(f":{pg_server.password}@", "@")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(errors.DatabaseAuth):
        postgres.connect(no_pw)
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:*:onestop_test:{pg_server.password}\n")
    pgpass.chmod(0o600)
    store = postgres.connect(no_pw)
    assert store.execute("SELECT current_user").fetchone()[0] == "onestop_test"
    assert pg_server.password not in store.url


# ---------------------------------------------------------------- schema

def test_schema_created_versioned_and_idempotent(pg_url):
    from onestop.store import postgres
    from onestop.store.pg_schema import MIGRATIONS

    store = postgres.connect(pg_url)
    assert postgres.schema_version(store) == len(MIGRATIONS)
    from onestop.store.sqlite import connect as sqlite_connect

    lite = sqlite_connect(Path(os.environ["ONESTOP_HOME"]) / "x.db")
    # The spool identity is made by the migrations on both backends, with the same shape (issue 19: rows
    # of the one identity table, office).
    sql = "SELECT value FROM office WHERE key = ?"
    office_id, lite_id = (db.execute(sql, ["office_id"]).fetchone()[0] for db in (store, lite))
    created, lite_created = (db.execute(sql, ["office_created_at"]).fetchone()[0] for db in (store, lite))
    secret, lite_secret = (db.execute(sql, ["spool_secret"]).fetchone()[0] for db in (store, lite))
    assert len(office_id) == len(lite_id) == 32 and int(office_id, 16) >= 0 and office_id == office_id.lower()
    assert len(created) == len(lite_created) == 20 and created.endswith("Z") and created[10] == "T"
    assert len(secret) == len(lite_secret) == 64 and int(secret, 16) >= 0 and secret != lite_secret
    postgres.connect(pg_url)  # second desk: nothing to do
    assert store.execute("SELECT count(*) FROM onestop_schema").fetchone()[0] == len(MIGRATIONS)
    names = [r[0] for r in store.execute("SELECT name FROM onestop_schema ORDER BY version")]
    assert names == [name for name, _ in MIGRATIONS] and len(set(names)) == len(names)


def test_schema_too_new_or_foreign(pg_server, pg_url):
    from onestop.store import postgres

    store = postgres.connect(pg_url)
    store.execute("INSERT INTO onestop_schema (version, name) VALUES (99, '0099_future')")
    with pytest.raises(errors.SchemaMismatch) as e:
        postgres.connect(pg_url)
    assert e.value.exit_code == 19 and "99" in e.value.vi
    pg_server.sql("CREATE DATABASE foreign_app")
    pg_server.sql("CREATE TABLE invoices (id int)", "foreign_app")
    with pytest.raises(errors.SchemaMismatch) as e:
        postgres.connect(pg_server.url("foreign_app"))
    assert "không phải của onestop" in e.value.vi


def test_lost_connection_mid_transaction_stores_nothing(pg_server, pg_url):
    """The server side of a desk dies between the numbering of a dossier and the commit: no code consumed."""
    from onestop.store import postgres
    from desk import DAYS, insert_numbered

    store, admin = postgres.connect(pg_url), postgres.connect(pg_url)
    pid = store.execute("SELECT pg_backend_pid()").fetchone()[0]
    with pytest.raises(errors.DatabaseUnreachable) as e:
        with store.transaction():
            assert insert_numbered(store, "desk", 1, DAYS[0])["seq"] == 1
            admin.execute("SELECT pg_terminate_backend(?)", [pid])
            store.execute("INSERT INTO search_state VALUES ('x', 'y')")
    assert e.value.exit_code == 17 and pg_server.password not in e.value.vi
    assert admin.execute("SELECT count(*) FROM code_sequences").fetchone()[0] == 0
    assert admin.execute("SELECT count(*) FROM dossiers").fetchone()[0] == 0


# ---------------------------------------------------------------- codes across desks (real processes)

def _start(args, **kw):
    return subprocess.Popen(DESK + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(), **kw)


def test_codes_gapless_and_unique_across_desk_processes(pg_url):
    """Three desks receive at once (every 7th receipt rolls back after taking a number) while a fourth
    hangs holding the counter row and is killed: each day's numbers are 1..K, none twice, none missing."""
    from onestop.store import postgres

    postgres.connect(pg_url)
    hold = _start(["hold", pg_url])
    assert hold.stdout.readline().strip() == "ready"
    hold.stdin.write("go\n"), hold.stdin.flush()
    assert hold.stdout.readline().startswith("allocated 1 1")
    desks = [_start(["receive", pg_url, "60", "7", f"desk{i}"]) for i in range(3)]
    for d in desks:
        assert d.stdout.readline().strip() == "ready"
    for d in desks:
        d.stdin.write("go\n"), d.stdin.flush()
    os.kill(hold.pid, signal.SIGKILL)  # its transaction (number 1 of the day) must be rolled back
    hold.wait(timeout=60)
    codes = []
    for d in desks:
        out, err = d.communicate(timeout=300)
        assert d.returncode == 0, err
        codes += out.split()
    assert len(codes) == 3 * (60 - 60 // 7) and len(set(codes)) == len(codes)
    store = postgres.connect(pg_url)
    for day in ("261123", "261124"):
        seqs = sorted(int(c.rsplit("-", 1)[1]) for c in codes if f"-{day}-" in c)
        assert seqs == list(range(1, len(seqs) + 1)), day
        assert store.execute("SELECT last FROM code_sequences WHERE day = ?", [day]).fetchone()[0] == len(seqs)
    books = [r[0] for r in store.execute("SELECT book_no FROM dossiers ORDER BY book_no")]
    assert books == list(range(1, len(codes) + 1))
    assert store.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2 * len(codes)
    assert store.execute("SELECT count(*) FROM events").fetchone()[0] == len(codes)


# ---------------------------------------------------------------- one sync per office

def test_sync_lock_is_office_wide_and_freed_when_the_holder_dies(pg_server, pg_url):
    a = _start(["sync-lock", pg_url, "desk-a"])
    assert a.stdout.readline().strip() == "held"
    b = subprocess.run(DESK + ["sync-lock", pg_url, "desk-b"], input="", capture_output=True, text=True, env=_env())
    assert b.returncode == errors.SYNC_LOCKED, b.stderr
    assert "desk-a" in b.stderr and pg_server.password not in b.stderr + b.stdout
    os.kill(a.pid, signal.SIGKILL)
    a.wait(timeout=60)
    for _ in range(100):  # the server notices the closed socket; bounded retries, no timing assertion
        b = subprocess.run(DESK + ["sync-lock", pg_url, "desk-b"], input="", capture_output=True, text=True,
                           env=_env())
        if b.returncode != errors.SYNC_LOCKED:
            break
    assert b.returncode == 0 and b.stdout.strip() == "held", b.stderr


# ---------------------------------------------------------------- search parity with FTS5

QUERIES = ["dang ky", "ĐĂNG KÝ", "đang kỳ", "dang thi dao", "dieu le", "tru so", '"tru so tai hung yen"',
           "khong co tu nay", "  ...  ", "ho chi minh", "nguyen van an"]


def _copy(lite, store, table: str) -> None:
    rows = list(lite.query(f"SELECT * FROM {table} ORDER BY rowid"))
    if not rows:
        return
    cols = list(rows[0])
    with store.conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                        [list(r.values()) for r in rows])


def test_search_same_hits_as_fts5_on_the_same_corpus(cfg, pg_url):
    from test_search import add_file
    from pages import new_dossier

    from onestop.intake import catalog
    from onestop.archive import search
    from onestop.store.sqlite import connect as sqlite_connect
    from onestop.store import pg_search, postgres
    from onestop.store import search as index

    db = sqlite_connect(cfg.db_path)  # SQLite on both test runs: this test compares the two
    catalog.ensure_loaded(db, cfg.catalog_file)

    a = new_dossier(db, cfg, name="Nguyễn Văn An")
    b = new_dossier(db, cfg, name="Đặng Thị Đào")
    add_file(db, a, ["ĐƠN ĐỀ NGHỊ ĐĂNG KÝ HOẠT ĐỘNG\nKính gửi: Sở Khoa học và Công nghệ",
                     "Điều lệ tổ chức. Trụ sở tại Hưng Yên."])
    add_file(db, b, ["Biên bản họp hội đồng. Đăng ký, đăng ký và đăng ký lại hoạt động khoa học."], component=2)
    store = postgres.connect(pg_url)
    for t in ("dossiers", "archive_files", "archive_pages"):
        _copy(db, store, t)
    for pid, did, text in db.execute("SELECT p.id, f.dossier_id, p.text FROM archive_pages p "
                                     "JOIN archive_files f ON f.id = p.file_id"):
        index.index_page(store, pid, did, text)

    def key(hits):
        return [(h["kind"], h["code"], h["component"], h["page"], h["snippet"]) for h in hits]

    for q in QUERIES + [a]:
        lite, pg = search.search(db, q), search.search(store, q)
        assert {k[:4] for k in key(pg)} == {k[:4] for k in key(lite)}, q
        assert [k[:4] for k in key(pg)][:1] == [k[:4] for k in key(lite)][:1], q  # the same best hit
        assert {k[4] for k in key(pg)} == {k[4] for k in key(lite)}, q  # the same highlighted snippets
    assert key(search.search(store, "dang ky"))[0][1] == b  # three matches beat one, as with bm25
    # A changed dossier is re-indexed on the next search, as on SQLite.
    store.execute("UPDATE dossiers SET address = 'TP Hồ Chí Minh', updated_at = '2099-01-01T00:00:00+07:00' "
                  "WHERE code = ?", [a])
    assert [h["code"] for h in search.search(store, "ho chi minh")] == [a]
    assert index.refresh_dossiers(store) == 0
    assert pg_search.tsquery('dang "ky lai" x-y') == "'dang' & ('ky' <-> 'lai') & ('x' <-> 'y')"


# ---------------------------------------------------------------- the test server itself (tests/pg.py)

def test_server_folder_reachable_by_the_server_user(tmp_path, monkeypatch):
    """CI runs as root with TMPDIR possibly under /root (0700): the postgres user could not reach a
    folder made there. The server's folder goes where that user can traverse, with a short socket path."""
    import pg

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    stranger = 54321  # neither the owner nor in the group
    assert not pg.reachable(str(private), stranger, {54321})
    assert pg.reachable(str(private), os.stat(private).st_uid, set())
    assert pg.reachable("/tmp", stranger, {54321})
    monkeypatch.setattr(pg.tempfile, "tempdir", str(private))
    assert pg.base_dir(stranger, {54321}) == "/tmp"
    deep = tmp_path / ("x" * 90)
    deep.mkdir()
    monkeypatch.setattr(pg.tempfile, "tempdir", str(deep))
    assert pg.base_dir(os.geteuid(), set(os.getgroups())) == "/tmp"  # a socket path must fit 107 bytes


def test_server_starts_with_tmpdir_in_a_private_folder(tmp_path, monkeypatch):
    """The real start (as root: initdb and postgres as the postgres user) with TMPDIR in a 0700 folder."""
    import pg

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setattr(pg.tempfile, "tempdir", str(private))
    server = pg.PgServer().start()
    try:
        import psycopg

        with psycopg.connect(server.url(), autocommit=True) as c:
            assert c.execute("SELECT current_user").fetchone()[0] == pg.SUPERUSER
        assert len(str(server.sock / f".s.PGSQL.{server.port}")) <= pg.SOCKET_MAX
    finally:
        server.stop()
    assert not server.root.exists()


def test_no_server_is_an_error_not_a_skip(tmp_path):
    """Without PostgreSQL the office tests error out (exit code nonzero), never skip silently."""
    (tmp_path / "conftest.py").write_text("import pg\npg.glob.glob = lambda pattern: []\n")
    (tmp_path / "test_office.py").write_text("from pg import pg_server, pg_url\n\n"
                                             "def test_needs_server(pg_url):\n    pass\n")
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(tmp_path)],
                       capture_output=True, text=True, cwd=tmp_path, env=dict(_env(), PYTHONPATH=f"{HERE}:{REPO}"))
    assert p.returncode != 0, p.stdout
    assert "1 error" in p.stdout and "skipped" not in p.stdout, p.stdout
    assert "PostgreSQL is not installed" in p.stdout


# ---------------------------------------------------------------- db status and the desks seen

@pytest.mark.sqlite_only
def test_db_status_sqlite_names_its_backend(run):
    r = run("db", "status")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "backend: sqlite" and "schema_version: " in r.stdout
    info = json.loads(run("db", "status", "--json").stdout)
    assert info["backend"] == "sqlite" and info["journal_mode"] == "wal" and "desks" not in info


def test_db_status_postgresql_server_schema_and_desks(run, monkeypatch, pg_server, pg_url, home):
    import socket

    from onestop.store import postgres
    from onestop.store.pg_schema import MIGRATIONS

    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    postgres.connect(pg_url, desk="quay-2", officer="Lê Văn Hai")  # another desk, seen first
    r = run("db", "status", "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["backend"] == "postgresql" and info["schema_version"] == len(MIGRATIONS)
    assert info["server_version"].split(".")[0] == pg.pg_bin().parent.name  # /usr/lib/postgresql/15/bin
    assert info["database"] == pg_url.replace(pg_server.password, "***")
    assert info["dossiers"] == 0 and info["outbox_pending"] == 0
    assert [d["name"] for d in info["desks"]] == [socket.gethostname(), "quay-2"]  # this desk, now: first
    me = info["desks"][0]
    assert me["host"] == socket.gethostname() and me["officer"] == "Trần Thị Cán Bộ" and me["version"]
    assert me["last_seen"].endswith("+07:00")
    text = run("db", "status")
    assert text.exit_code == 0 and text.stdout.splitlines()[0] == "backend: postgresql"
    assert "server_version: " in text.stdout and "quay-2" in text.stdout and "Lê Văn Hai" in text.stdout
    assert pg_server.password not in r.output + text.output + r.stderr + text.stderr
    assert not (home / "onestop.db").exists()  # no silent local file


def test_desk_name_from_config_and_row_not_rewritten_each_command(pg_url, home, monkeypatch):
    from onestop.common import config
    from onestop import store
    from onestop.store import postgres

    (home / "onestop.toml").write_text('[counter]\ndesk = "Quầy 3"\n')
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    pg = store.connect(config.load())
    row = pg.execute("SELECT name, xmin::text FROM desks").fetchall()
    assert [r[0] for r in row] == ["Quầy 3"]
    store.connect(config.load())  # the next command a moment later: no write
    assert pg.execute("SELECT name, xmin::text FROM desks").fetchall() == row
    pg.execute("UPDATE desks SET last_seen = now() - interval '2 minutes'")
    before = pg.execute("SELECT last_seen FROM desks").fetchone()[0]
    store.connect(config.load())
    assert pg.execute("SELECT last_seen FROM desks").fetchone()[0] > before
    pg.execute("UPDATE desks SET last_seen = now() - interval '40 days'")
    assert postgres.desks(pg) == []  # not "recently"


def test_db_status_unreachable_server(run, monkeypatch):
    monkeypatch.setenv("ONESTOP_DATABASE_URL", "postgresql://desk:s3cret@127.0.0.1:1/onestop")
    r = run("db", "status")
    assert r.exit_code == errors.DATABASE_UNREACHABLE, r.output
    assert "s3cret" not in r.output + r.stderr and "desk:***@127.0.0.1:1" in r.stderr


def test_search_ranks_in_the_same_order_as_fts5_bm25(cfg, pg_url):
    """PostgreSQL ranks as FTS5's bm25 does (term frequency, idf, document length), not only the same
    best hit: on a corpus where ts_rank and bm25 disagree, the first 20 hits come in the same order."""
    import random

    from onestop.store.sqlite import connect as sqlite_connect, transaction
    from onestop.store import postgres, search

    lite, pg = sqlite_connect(cfg.db_path), postgres.connect(pg_url)
    vocab = [f"tu{i}" for i in range(120)]
    weights = [1 / (i + 1) for i in range(120)]
    r = random.Random(7)
    pages = [" ".join(r.choices(vocab, weights, k=r.randint(10, 200))) for _ in range(300)]
    for db in (lite, pg):
        with transaction(db):
            for pid, text in enumerate(pages, 1):
                search.index_page(db, pid, 1, text)
    queries = [" ".join(r.sample(vocab[:40], r.randint(1, 3))) for _ in range(40)]
    queries += ['"tu1 tu0"', 'tu2 "tu0 tu1"']
    for q in queries:
        a, b = search.matches(lite, q, 20), search.matches(pg, q, 20)
        assert [m["id"] for m in b] == [m["id"] for m in a], q
        assert [m["score"] for m in b] == pytest.approx([m["score"] for m in a], abs=1e-6), q
    search.unindex_pages(pg, [1, 2, 3])  # the counts bm25 uses follow the index
    search.unindex_pages(lite, [1, 2, 3])
    for q in queries[:10]:
        assert [m["id"] for m in search.matches(pg, q, 20)] == [m["id"] for m in search.matches(lite, q, 20)], q
    pg.close()


def test_an_office_receive_does_not_load_the_sqlite_driver(pg_url, home):
    """An office desk pays for psycopg; it must not pay for sqlite3 (and sqlite-utils) as well (P11)."""
    code = ("import sys; from onestop.common import config; from onestop.intake import dossiers; from onestop import store; cfg = config.load(); db = store.connect(cfg); "
            "from onestop.intake import catalog; catalog.ensure_loaded(db, cfg.catalog_file); "
            "r = dossiers.receive(db, cfg, dossiers.ReceiveRequest('1.003584', "
            "dossiers.Applicant('Nguyễn Văn An', '001085012345'))); "
            "print(r['code'], 'sqlite3' in sys.modules, 'sqlite_utils' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=_env(ONESTOP_DATABASE_URL=pg_url), capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[0].endswith("-0001") and out[1:] == ["False", "False"]


def test_office_commands_keep_their_exit_codes_and_output(pg_url, home):
    """Office commands end with os._exit once their work is done (psycopg's teardown costs ~40 ms):
    the exit code, the whole output and the server session still end as they should."""
    onestop = [sys.executable, "-m", "onestop"]
    env = _env(ONESTOP_DATABASE_URL=pg_url, ONESTOP_NOW="2026-11-30 10:00")
    ok = subprocess.run([*onestop, "receive", "-p", "1.003584", "--name", "Nguyễn Văn An", "--id", "001085012345",
                         "--all-components", "--json"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["code"].endswith("-0001"), ok.stderr
    bad = subprocess.run([*onestop, "receive", "-p", "1.003584", "--name", "An", "--id", "12", "--all-components"],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 4 and "onestop: lỗi:" in bad.stderr
    many = subprocess.run([*onestop, "list", "--json"], env=env, capture_output=True, text=True)
    assert many.returncode == 0 and len(json.loads(many.stdout)) == 1
    missing = subprocess.run([*onestop, "show", "9999"], env=env, capture_output=True, text=True)
    assert missing.returncode == 3
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as c:  # every desk session has ended
        left = c.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND pid <> pg_backend_pid() AND application_name LIKE 'onestop%'").fetchone()[0]
    assert left == 0


def test_office_fast_exit_runs_the_exit_handlers(pg_url, home, tmp_path):
    """The fast exit skips Python's teardown, not what a program registered to run at exit (the log
    handlers' flush, a scan's engines): those run, then the command's exit code is kept."""
    mark = tmp_path / "ran"
    code = ("import atexit, sys; from pathlib import Path; "
            f"atexit.register(lambda: Path({str(mark)!r}).write_text('ran')); "
            "sys.argv = ['onestop', 'show', '9999']; from onestop.entry import main; main()")
    p = subprocess.run([sys.executable, "-c", code], env=_env(ONESTOP_DATABASE_URL=pg_url), capture_output=True,
                       text=True)
    assert p.returncode == 3, p.stderr
    assert mark.read_text() == "ran"


@pytest.mark.parametrize("desk", ["Máy đồng bộ", "Quầy số 2 — Bộ phận Một cửa Sở Khoa học và Công nghệ tỉnh Hưng Yên"])
def test_the_sync_lock_names_a_vietnamese_desk_as_written(pg_url, desk):
    """Issue 17: the holder was shown "M??y ?????ng b???" (PostgreSQL keeps only ASCII in application_name)."""
    from onestop.common.errors import SyncLocked
    from onestop.store import postgres

    with postgres.sync_lock(pg_url, desk=desk):
        with pytest.raises(SyncLocked) as refused:
            with postgres.sync_lock(pg_url, desk="Quầy 3"):
                pass
    shown = refused.value.vi
    assert "?" not in shown.split("(", 1)[1].split("Chờ")[0]
    assert desk[:10] in shown and f"pid {os.getpid()}" in shown

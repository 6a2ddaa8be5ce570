"""A throwaway PostgreSQL server for the tests (and the benchmarks), from Debian's ``postgresql``.

No mocks: ``initdb`` + ``pg_ctl`` in a temporary folder, the unix socket in that folder, TCP on a free
port of 127.0.0.1 only, password (scram) auth over TCP so the wrong-password path is real. PostgreSQL
refuses to run as root (CI runs as root): then the server runs as the ``postgres`` system user that
the Debian package creates (its own uid, gid and no supplementary groups), in a folder handed to it.
That folder must be reachable by that user: a ``TMPDIR`` under /root (mode 0700) is not, so the
folder is made in the first temp folder whose every parent the user can traverse (/tmp otherwise),
and its path is kept short (a unix socket path has at most 107 bytes). Tuned for throwaway data
(fsync off). The libpq variables of the caller's environment (PGHOST, PGSSLMODE…) are removed for
the session: a CI runner's PostgreSQL service settings must not redirect or break these tests.

Nothing here skips: a missing or failing server is an error of every test that uses it.

Fixtures (tests/conftest.py imports them for every test module; do not import them again in a module:
that would register a second session fixture and start a second server):
- ``pg_server`` (session): the running server, stopped at the end of the session;
- ``pg_url``: a fresh, empty database per test, made from a template (fast), dropped afterwards
  unless it is still exactly as made (most tests never open it: the next test gets it);
- ``new_database``: ``new_database(copy_of=None)`` makes one more database for the test (another
  office's, or a copy of the database at the URL ``copy_of``) and returns its URL; the server starts
  only when it is first called, so SQLite runs may request it.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

SUPERUSER = "onestop_test"


def pg_bin() -> Path:
    """The newest /usr/lib/postgresql/*/bin holding pg_ctl; skip-free: a missing server is an error."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's `postgresql` package")
    return Path(found[-1]).parent


SOCKET_MAX = 107  # sizeof(sun_path) - 1 on Linux
_SOCKET_TAIL = "/sock/.s.PGSQL.65535"


def reachable(path: str, uid: int, gids: set[int]) -> bool:
    """Whether a process of ``uid``/``gids`` can traverse every folder of ``path`` (mode bits; root's
    own temp folder under /root is the case this catches)."""
    p = Path(path).resolve()
    for folder in [*reversed(p.parents), p]:
        try:
            st = folder.stat()
        except OSError:
            return False
        bit = (stat.S_IXUSR if st.st_uid == uid else stat.S_IXGRP if st.st_gid in gids else stat.S_IXOTH)
        if not st.st_mode & bit:
            return False
    return True


def base_dir(uid: int, gids: set[int]) -> str:
    """The folder to make the server's folder in: TMPDIR if the server's user can reach it and the
    socket path fits, else /tmp (then /var/tmp)."""
    for c in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        if (os.path.isdir(c) and reachable(c, uid, gids)
                and len(c) + len("/onestop-pg-XXXXXXXX") + len(_SOCKET_TAIL) <= SOCKET_MAX):
            return c
    raise RuntimeError(f"no temporary folder that the PostgreSQL user (uid {uid}) can reach: "
                       "tried TMPDIR, /tmp and /var/tmp")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One postmaster in its own temporary folder."""

    def __init__(self, *, tls: bool = False):
        self.tls = tls  # TLS on TCP with a throwaway self-signed certificate (openssl, from Debian)
        self.bin = pg_bin()
        self.password = secrets.token_urlsafe(16)
        self.port = 0
        self._loaded: dict[Path, str] = {}  # catalog file -> its loaded template database (load())
        self._spare: list[str] = []  # empty databases no test changed (empty_database())
        self._new_look = None
        self._user = self._group = None
        uid, gids = os.geteuid(), set(os.getgroups()) | {os.getegid()}
        if uid == 0:
            # initdb: "cannot be run as root". Hand the folder to the Debian package's system user.
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root needs the `postgres` system user of Debian's postgresql "
                                   "package (`make test` installs it)") from None
            self._user, self._group = pw.pw_uid, pw.pw_gid
            uid, gids = pw.pw_uid, {pw.pw_gid}
        self.root = Path(tempfile.mkdtemp(prefix="onestop-pg-", dir=base_dir(uid, gids)))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        if self._user is not None:
            os.chown(self.root, self._user, self._group)
        self.root.chmod(0o700)

    def _run(self, *args, check=True, **kw):
        extra = {} if self._user is None else {"user": self._user, "group": self._group, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if self._user is not None:
            env["HOME"] = pwd.getpwuid(self._user).pw_dir
        p = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=self.root, env=env,
                           **extra, **kw)
        if check and p.returncode:
            raise RuntimeError(f"{Path(str(args[0])).name} failed ({p.returncode}): {p.stderr or p.stdout}")
        return p

    def start(self) -> "PgServer":
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if self._user is not None:
            os.chown(pwfile, self._user, self._group)
        pwfile.chmod(0o600)
        self._run(self.bin / "initdb", "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile, "-E", "UTF8",
                  "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
        pwfile.unlink()
        self.sock.mkdir()
        if self._user is not None:
            os.chown(self.sock, self._user, self._group)
        opts = (f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={self.sock} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
                "-c shared_buffers=32MB")
        if self.tls:
            opts += " " + self._certificate()
        for attempt in range(5):  # a port taken between _free_port() and bind: try another
            self.port = _free_port()
            p = self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.root / "log", "-w", "-t", "60",
                          "-o", f"-p {self.port} {opts}", "start", check=False)
            if p.returncode == 0:
                break
        else:
            raise RuntimeError(f"PostgreSQL did not start: {p.stderr}\n{self.log()}")
        atexit.register(self.stop)
        return self

    def _certificate(self) -> str:
        """A self-signed certificate for 127.0.0.1 in the data folder; the server options that use it."""
        crt, key = self.data / "server.crt", self.data / "server.key"
        self._run("openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-newkey", "rsa:2048",
                  "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", crt)
        key.chmod(0o600)  # PostgreSQL refuses a key others can read
        return f"-c ssl=on -c ssl_cert_file={crt} -c ssl_key_file={key}"

    def log(self) -> str:
        try:
            return (self.root / "log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (the postmaster, its ended backends and its live
        processes): `time make test` does not count it, the postmaster being a daemon."""
        def times(pid, fields):
            with open(f"/proc/{pid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
            return sum(int(st[i]) for i in fields), int(st[1])

        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        total = times(pid, (11, 12, 13, 14))[0]  # utime, stime, cutime, cstime
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    t, ppid = times(d, (11, 12))
                except (OSError, IndexError):
                    continue
                if ppid == pid:
                    total += t
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        log = os.environ.get("ONESTOP_TEST_PG_CPU_LOG")  # measuring `make test`: append the server's CPU
        if log and self.data.exists():
            try:
                with open(log, "a") as f:
                    f.write(f"{self.cpu_seconds():.2f}\n")
            except OSError:
                pass
        if self.data.exists():
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres", *, user: str = SUPERUSER, password: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{user}:{pw}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        """Run one statement as the superuser (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as c:
            c.execute(statement)

    # What an empty database looks like to the next test: its objects (tables, sequences, functions,
    # types, schemas and their grants, extensions, triggers, large objects), the database's own grants
    # and settings, and whether a session is still connected to it.
    _LOOK = ("SELECT (SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_proc), (SELECT count(*) FROM pg_type), "
             "(SELECT string_agg(nspname || coalesce(nspacl::text, ''), ',' ORDER BY nspname) FROM pg_namespace), "
             "(SELECT count(*) FROM pg_extension), (SELECT count(*) FROM pg_trigger), "
             "(SELECT count(*) FROM pg_largeobject_metadata), "
             "(SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
             " WHERE d.datname = current_database()), "
             "(SELECT concat_ws(' ', datacl::text, datallowconn, datconnlimit, datdba) FROM pg_database "
             " WHERE datname = current_database()), "
             "EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid())")

    def _look(self, name: str) -> tuple:
        import psycopg

        with psycopg.connect(self.url(name), autocommit=True) as c:
            return c.execute(self._LOOK).fetchone()

    def empty_database(self) -> str:
        """The name of an empty database (a copy of onestop_template) for one test: one that an earlier
        test was given and left exactly as it was made, or a new one. Most tests never open theirs:
        keeping it saves a DROP and a CREATE DATABASE per test."""
        if self._spare:
            return self._spare.pop()
        name = f"t{os.getpid()}_{next(_counter)}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE onestop_template")
        if self._new_look is None:
            self._new_look = self._look(name)
        return name

    def release(self, name: str) -> None:
        """The test that was given ``name`` has ended: kept for the next test if it is still as made,
        else dropped."""
        import psycopg

        try:
            if self._look(name) == self._new_look:
                self._spare.append(name)
                return
        except psycopg.Error:
            pass  # e.g. the test dropped it
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def load(self, url: str, catalog_file: Path) -> bool:
        """Make the database at ``url``, if still empty, a copy of one migrated and holding the catalog
        of ``catalog_file``: an ``onestop_loaded_N`` template, built at the first call (migrations and
        catalog import once per server instead of once per test). Only the schema and the catalog are
        in it: no desk and no office settings (the test's first connect records its own). Whether it was
        copied."""
        import psycopg

        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.url(name), autocommit=True) as c:
            if c.execute("SELECT to_regclass('onestop_schema') IS NOT NULL OR EXISTS (SELECT FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid())").fetchone()[0]:
                return False  # already used (or open) in the test: left as it is
        if self._loaded.get(catalog_file) is None:
            from onestop.intake import catalog
            from onestop.store import postgres

            loaded = f"onestop_loaded_{len(self._loaded)}"
            self.sql(f"CREATE DATABASE {loaded} TEMPLATE onestop_template")
            store = postgres.connect(self.url(loaded), register=False)
            try:
                catalog.ensure_loaded(store, catalog_file)
            finally:
                store.close()  # a template is copied only while no session is connected to it
            self._loaded[catalog_file] = loaded
        self.sql(f"DROP DATABASE {name} WITH (FORCE)")
        self.sql(f"CREATE DATABASE {name} TEMPLATE {self._loaded[catalog_file]}")
        return True


@pytest.fixture(scope="session")
def pg_server():
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PG")}
    try:
        server = PgServer().start()
        try:
            # The template every test database is copied from: empty, with the extensions the schema
            # uses (creating them once here saves the per-test cost; the migration says IF NOT EXISTS).
            server.sql("CREATE DATABASE onestop_template")
            server.sql("CREATE EXTENSION IF NOT EXISTS pg_trgm", "onestop_template")
            yield server
        finally:
            server.stop()
    finally:
        os.environ.update(saved)


_counter = iter(range(1, 1 << 30))


@pytest.fixture
def pg_url(pg_server, monkeypatch):
    """A fresh empty database for this test; its URL (with the password) is returned."""
    name = pg_server.empty_database()
    yield pg_server.url(name)
    pg_server.release(name)


@pytest.fixture
def new_database(request):
    """``new_database(copy_of=None)``: the URL of one more database for this test, dropped afterwards.

    Empty (with the template's extensions), or a copy of the database at URL ``copy_of`` (PostgreSQL
    copies a database only while no other session is connected to it: close those first).
    """
    made: list[str] = []

    def _new(copy_of: str | None = None) -> str:
        server = request.getfixturevalue("pg_server")
        name = f"t{os.getpid()}_{next(_counter)}"
        source = "onestop_template" if copy_of is None else copy_of.rsplit("/", 1)[1].split("?", 1)[0]
        server.sql(f"CREATE DATABASE {name} TEMPLATE {source}")
        made.append(name)
        return server.url(name)

    yield _new
    if made:
        server = request.getfixturevalue("pg_server")
        for name in made:
            server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

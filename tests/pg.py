"""A throwaway PostgreSQL server for the tests (and the benchmarks), from Debian's ``postgresql``.

No mocks: ``initdb`` + ``pg_ctl`` in a temporary folder, the unix socket in that folder, TCP on a free
port of 127.0.0.1 only, password (scram) auth over TCP so the wrong-password path is real. PostgreSQL
refuses to run as root (CI runs as root): then the server runs as the ``postgres`` system user that
the Debian package creates, in a folder handed to it. Tuned for throwaway data (fsync off).

Fixtures (tests/conftest.py imports them for every test module; do not import them again in a module:
that would register a second session fixture and start a second server):
- ``pg_server`` (session): the running server, stopped at the end of the session;
- ``pg_url``: a fresh, empty database per test, made from a template (fast), dropped afterwards.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import secrets
import shutil
import socket
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One postmaster in its own temporary folder."""

    def __init__(self):
        self.bin = pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="onestop-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.password = secrets.token_urlsafe(16)
        self.port = 0
        self._user = None
        if os.geteuid() == 0:
            # initdb: "cannot be run as root". Hand the folder to the Debian package's system user.
            pw = pwd.getpwnam("postgres")
            self._user = pw.pw_uid
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.root.chmod(0o700)

    def _run(self, *args, check=True, **kw):
        return subprocess.run([str(a) for a in args], check=check, capture_output=True, text=True,
                              user=self._user, cwd=self.root, **kw)

    def start(self) -> "PgServer":
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if self._user is not None:
            os.chown(pwfile, self._user, -1)
        pwfile.chmod(0o600)
        self._run(self.bin / "initdb", "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile, "-E", "UTF8",
                  "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
        pwfile.unlink()
        self.sock.mkdir()
        if self._user is not None:
            os.chown(self.sock, self._user, -1)
        opts = (f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={self.sock} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
                "-c shared_buffers=32MB")
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

    def log(self) -> str:
        try:
            return (self.root / "log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
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


@pytest.fixture(scope="session")
def pg_server():
    server = PgServer().start()
    # The template every test database is copied from: empty, with the extensions the schema uses
    # (creating them once here saves the per-test cost; the migration still says IF NOT EXISTS).
    server.sql("CREATE DATABASE onestop_template")
    server.sql("CREATE EXTENSION IF NOT EXISTS pg_trgm", "onestop_template")
    yield server
    server.stop()


_counter = iter(range(1, 1 << 30))


@pytest.fixture
def pg_url(pg_server, monkeypatch):
    """A fresh empty database for this test; its URL (with the password) is returned."""
    name = f"t{os.getpid()}_{next(_counter)}"
    pg_server.sql(f"CREATE DATABASE {name} TEMPLATE onestop_template")
    yield pg_server.url(name)
    pg_server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

"""Issue 9 (P11): psycopg loaded the cheap way (onestop/store/pgdriver.py) is psycopg all the same:
the same versions, TLS to the office server still works, and ``ssl`` imports normally afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pg
from onestop.store import pgdriver

REPO = Path(__file__).resolve().parent.parent


def _python(code: str, **env) -> dict:
    """Run ``code`` in a fresh interpreter (nothing of psycopg, asyncio or ssl loaded yet); its JSON."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(REPO), **env))
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_loader_gives_psycopg_its_own_versions_and_leaves_ssl_importable():
    out = _python(
        "import json, sys\n"
        "from onestop.store import pgdriver\n"
        "psycopg = pgdriver.load()\n"
        "skipped = {m: m in sys.modules for m in ('importlib.metadata', 'ssl')}\n"
        "import psycopg_binary, importlib.metadata as md\n"
        "import ssl, urllib.request, http.client\n"
        "ssl.create_default_context()\n"
        "print(json.dumps({'skipped': skipped, 'psycopg': [psycopg.__version__, psycopg.version.__version__,"
        " md.version('psycopg')], 'binary': [psycopg_binary.__version__, md.version('psycopg-binary')],"
        " 'https': [hasattr(urllib.request, 'HTTPSHandler'), hasattr(http.client, 'HTTPSConnection')]}))\n")
    assert out["skipped"] == {"importlib.metadata": False, "ssl": False}  # the two costs were not paid
    assert len(set(out["psycopg"])) == 1 and len(set(out["binary"])) == 1, out
    assert out["https"] == [True, True]  # the ministry client's HTTPS is untouched


def test_installed_version_reads_one_metadata_file_or_gives_up(tmp_path):
    (tmp_path / "psycopg-3.9.1.dist-info").mkdir()
    (tmp_path / "psycopg-3.9.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: psycopg\nVersion: 3.9.1\n\nVersion: not this\n")
    (tmp_path / "psycopg_binary-3.9.1.dist-info").mkdir()  # no METADATA
    (tmp_path / "psycopg_pool-1.0.dist-info").mkdir()

    def version(dist):
        return pgdriver.installed_version(str(tmp_path), os.listdir(tmp_path), dist)

    assert version("psycopg") == "3.9.1"
    assert version("psycopg_binary") is None  # unreadable: psycopg's own look-up decides
    assert version("psycopg_c") is None
    (tmp_path / "psycopg-3.8.0.dist-info").mkdir()  # two copies installed: no guess
    assert version("psycopg") is None


def test_office_connection_over_tls_after_the_cheap_import(tmp_path):
    """docs/office.md puts TLS on the LAN: an office command loads psycopg without Python's ssl and
    still talks TLS to the server (libpq does TLS itself), and the CLI works with sslmode=require."""
    server = pg.PgServer(tls=True).start()
    try:
        server.sql("CREATE DATABASE office")
        url = server.url("office") + "?sslmode=require"
        out = _python(
            "import json, os, sys\n"
            "from onestop.store import postgres\n"
            "s = postgres.connect(os.environ['U'])\n"
            "row = s.execute('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()').fetchone()\n"
            "print(json.dumps({'ssl': row[0], 'tls': row[1], 'python_ssl': 'ssl' in sys.modules}))\n", U=url)
        assert out["ssl"] is True and out["tls"].startswith("TLS"), out
        assert out["python_ssl"] is False  # the cheap path was the one taken
        home = tmp_path / "desk"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        p = subprocess.run([sys.executable, "-m", "onestop", "db", "status", "--json"], capture_output=True,
                           text=True, timeout=120, env=dict(env, ONESTOP_HOME=str(home), ONESTOP_DATABASE_URL=url,
                                                            PYTHONPATH=str(REPO)))
        assert p.returncode == 0, p.stderr
        info = json.loads(p.stdout)
        assert info["backend"] == "postgresql" and server.password not in p.stdout + p.stderr
    finally:
        server.stop()


def test_onestop_never_runs_asyncio():
    """pgdriver loads asyncio without ssl (psycopg imports it; onestop's driver is synchronous), which is
    safe only while no onestop code uses asyncio."""
    users = [p for p in (REPO / "onestop").rglob("*.py") if "asyncio" in p.read_text(encoding="utf-8")
             and p.name != "pgdriver.py"]
    assert users == []

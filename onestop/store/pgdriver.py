"""Import psycopg for an office command at the lowest cost (P11: every office command pays it).

``import psycopg`` costs ~60 ms on a counter PC, and two parts of that buy an office command nothing:

- ``psycopg.version`` and ``psycopg_binary.version`` ask ``importlib.metadata`` for their own
  version, which imports ``importlib.metadata``, ``email``, ``zipfile`` and scans ``sys.path``
  (~9 ms). Here the version is read from the same ``METADATA`` file directly (its ``Version:``
  line, the value ``importlib.metadata.version`` returns) and the two modules are put in
  ``sys.modules`` first. Any doubt (not found, two copies installed) leaves psycopg's own way.
- psycopg imports ``asyncio`` (for ``CancelledError`` and its async classes), and asyncio imports
  Python's ``ssl`` (~4 ms), which onestop's synchronous driver never uses: libpq does TLS itself.
  While psycopg loads, ``ssl`` is marked absent, so asyncio takes its own no-ssl path; the mark is
  removed at once, so ``ssl`` imports normally afterwards (the ministry client's HTTPS). Two
  modules keep ``ssl = None``: asyncio's, which onestop never runs, and psycopg's libpq wrapper,
  whose ``import ssl`` only lets Python set OpenSSL's locking callbacks before libpq would: a
  no-op since OpenSSL 1.1, and psycopg-binary bundles its own OpenSSL 3 anyway. TLS to the office
  server is tested (tests/test_pgdriver.py, ``sslmode=require``).

Measured in BENCHMARKS.md (P11). Nothing here changes what psycopg does once loaded.
"""

from __future__ import annotations

import os
import sys
import types


def load():
    """The ``psycopg`` module, imported the cheap way if it is not loaded yet."""
    if "psycopg" in sys.modules:
        return sys.modules["psycopg"]
    seeded = _seed_versions()
    hide_ssl = "ssl" not in sys.modules and "asyncio" not in sys.modules
    if hide_ssl:
        sys.modules["ssl"] = None  # makes `import ssl` raise ImportError (asyncio: ssl = None)
    try:
        import psycopg
    except BaseException:
        for name in seeded:
            sys.modules.pop(name, None)
        raise
    finally:
        if hide_ssl and "ssl" in sys.modules and sys.modules["ssl"] is None:
            del sys.modules["ssl"]
    for name in seeded:  # as the import system does for a submodule it loads itself
        package, _, attr = name.rpartition(".")
        if package in sys.modules and not hasattr(sys.modules[package], attr):
            setattr(sys.modules[package], attr, sys.modules[name])
    return psycopg


def _seed_versions() -> list[str]:
    """Put the version modules in ``sys.modules``; the names put there."""
    import importlib.util

    seeded: list[str] = []
    spec = importlib.util.find_spec("psycopg")
    if spec is None or not spec.origin:
        return seeded
    site = os.path.dirname(os.path.dirname(spec.origin))
    try:
        names = os.listdir(site)
    except OSError:
        return seeded
    for module, dist in (("psycopg.version", "psycopg"), ("psycopg_binary.version", "psycopg_binary")):
        version = None if module in sys.modules else installed_version(site, names, dist)
        if version is None:
            continue  # psycopg's own look-up decides
        m = types.ModuleType(module, f"{dist} distribution version (read by onestop.store.pgdriver)")
        m.__version__ = version
        sys.modules[module] = m
        seeded.append(module)
    return seeded


def installed_version(site: str, names: list[str], dist: str) -> str | None:
    """The version of ``dist`` installed in the folder ``site`` (whose entries are ``names``), from its
    one ``<dist>-<version>.dist-info/METADATA``; None when there is none, or more than one."""
    found = [n for n in names if n.endswith(".dist-info") and n[: -len(".dist-info")].rpartition("-")[0] == dist]
    if len(found) != 1:
        return None
    return _version_of(os.path.join(site, found[0], "METADATA"))


def _version_of(metadata: str) -> str | None:
    """The ``Version:`` header of a dist-info ``METADATA`` file (headers end at the first blank line)."""
    try:
        with open(metadata, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    return None
                if line.startswith("Version:"):
                    return line[len("Version:"):].strip() or None
    except OSError:
        return None
    return None

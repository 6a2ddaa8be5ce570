"""Every test gets its own data home (ONESTOP_HOME) and a fixed agency config."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("ONESTOP_HOME", str(h))
    monkeypatch.setenv("ONESTOP_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("ONESTOP_OFFICER", "Trần Thị Cán Bộ")
    monkeypatch.delenv("ONESTOP_LANG", raising=False)
    monkeypatch.delenv("ONESTOP_SYNC_URL", raising=False)
    monkeypatch.delenv("ONESTOP_DATABASE_URL", raising=False)  # a developer's office URL must not leak in
    from onestop import i18n

    i18n.set_lang(None)
    return h


@pytest.fixture
def cfg(home):
    from onestop import config

    return config.load()


@pytest.fixture
def db(cfg):
    from onestop import catalog
    from onestop.db import connect

    d = connect(cfg.db_path)
    catalog.ensure_loaded(d, cfg.catalog_file)
    return d


@pytest.fixture
def run():
    """Invoke the CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from onestop.cli import app, state

    def _run(*args, input=None):
        state.update(debug=False, officer=None)
        return CliRunner().invoke(app, [str(a) for a in args], input=input)

    return _run

"""The console entry point builds only the command being run, and forgives typos."""

import os
import subprocess
import sys

import pytest

from onestop.cli import _command_name, app, app_for


@pytest.mark.parametrize("argv,name", [
    (["receive", "--json"], "receive"),
    (["--lang", "en", "show", "X"], "show"),
    (["--officer", "Vũ Lan", "list"], "list"),
    (["--debug", "procedures", "list"], "procedures"),
    (["--help"], None), (["--version"], None), ([], None),
])
def test_command_name(argv, name):
    assert _command_name(argv) == name


def test_app_for_holds_one_command_or_everything():
    assert [c.callback.__name__ for c in app_for(["receive"]).registered_commands] == ["receive"]
    assert [g.name for g in app_for(["sync", "status"]).registered_groups] == ["sync"]
    assert app_for(["recieve"]) is app and app_for(["--help"]) is app


def _run(*args):
    return subprocess.run([sys.executable, "-m", "onestop", *args], capture_output=True, text=True,
                          env=dict(os.environ))


def test_typo_gets_one_suggestion():
    r = _run("recieve")
    assert r.returncode == 2 and r.stderr.count("Did you mean 'receive'?") == 1


def test_entry_point_runs_commands_and_groups(home):
    assert _run("db", "path").stdout.strip() == str(home / "onestop.db")
    r = _run("--lang", "en", "show", "nothing-here")
    assert r.returncode == 3 and r.stderr.startswith("onestop: error: No dossier")
    assert "receive" in _run("--help").stdout

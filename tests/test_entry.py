"""The console entry point builds only the command being run, and forgives typos."""

import os
import subprocess
import sys

import pytest

from onestop.cli import COMMAND_MODULES, app, app_for, load_commands
from onestop.entry import command_name as _command_name

load_commands()


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
    assert [c.callback.__name__ for c in app_for(_command_name(["receive"])).registered_commands] == ["receive"]
    assert [g.name for g in app_for(_command_name(["sync", "status"])).registered_groups] == ["sync"]
    assert app_for(_command_name(["recieve"])) is app and app_for(_command_name(["--help"])) is app


def _run(*args):
    return subprocess.run([sys.executable, "-m", "onestop", *args], capture_output=True, text=True,
                          env=dict(os.environ))


def test_typo_gets_one_suggestion():
    r = _run("recieve")
    assert r.returncode == 2 and r.stderr.count("Có phải: onestop receive?") == 1 and "Did you mean" not in r.stderr


@pytest.mark.sqlite_only
def test_entry_point_runs_commands_and_groups(home):
    assert _run("db", "path").stdout.strip() == str(home / "onestop.db")
    r = _run("--lang", "en", "show", "nothing-here")
    assert r.returncode == 3 and r.stderr.startswith("onestop: error: No dossier")
    assert "receive" in _run("--help").stdout


def test_receive_through_the_entry_point_with_the_early_helper(home, monkeypatch):
    import json

    import pypdf

    env = dict(os.environ, ONESTOP_NOW="2026-11-30 10:00")
    args = ["receive", "-p", "1.003584", "--name", "Nguyễn Văn An", "--id", "001085012345", "--all-components"]
    r = subprocess.run([sys.executable, "-m", "onestop", *args, "--json"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["code"] in "".join(p.extract_text() for p in pypdf.PdfReader(out["receipt"]).pages)
    # an early helper that is not used (refusal) is released: the command ends, no receipt is written
    r = subprocess.run([sys.executable, "-m", "onestop", *args, "--refuse", "Sai thẩm quyền", "--json"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "3"
    # invalid input: the helper is released and the error is the usual one
    r = subprocess.run([sys.executable, "-m", "onestop", "receive", "-p", "1.003584", "--name", "A", "--id", "12",
                        "--all-components"], capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 4 and r.stderr.startswith("onestop: lỗi:")


def test_each_command_is_loaded_from_its_own_module():
    """COMMAND_MODULES names the module of every top-level command (a counter command imports only
    its own module), and a command run as a program loads no other command module."""
    import typer

    found = {}
    for info in app.registered_commands:
        name = info.name if isinstance(info.name, str) else typer.main.get_command_name(info.callback.__name__)
        found[name] = info.callback.__module__.rsplit(".", 1)[1]
    for g in app.registered_groups:
        found[g.name] = g.typer_instance.registered_commands[0].callback.__module__.rsplit(".", 1)[1]
    assert found == COMMAND_MODULES
    code = ("import sys; sys.argv = ['onestop', 'receive', '--help']\n"
            "from onestop import entry\n"
            "try:\n    entry.main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('onestop.cli.')))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stdout.strip().splitlines()[-1] == "['onestop.cli.common', 'onestop.cli.intake']", p.stdout[-300:]


def test_debug_adds_the_traceback_and_keeps_the_exit_code(home):
    """A script that runs with --debug still reads the documented exit code (it was 1, "unexpected",
    for every failure), with the traceback before the usual message."""
    plain = _run("--lang", "en", "show", "000.00.12.H26-261130-9999")
    debug = _run("--lang", "en", "--debug", "show", "000.00.12.H26-261130-9999")
    assert plain.returncode == debug.returncode == 3, (plain.stderr, debug.stderr)
    assert "Traceback" in debug.stderr and "NotFound" in debug.stderr and "Traceback" not in plain.stderr
    assert debug.stderr.rstrip().splitlines()[-1] == plain.stderr.rstrip().splitlines()[-1]

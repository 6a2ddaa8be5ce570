"""Docs and help are part of the product: every command has help with an example."""

import re
from pathlib import Path

import click
import pytest
import typer

from onestop.common import errors
from onestop.cli import app, load_commands

load_commands()

REPO = Path(__file__).resolve().parent.parent


def _commands():
    root = typer.main.get_command(app)
    out = []

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, path + [name])
        else:
            out.append(path)

    walk(root, [])
    return out


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(run, path):
    r = run(*path, "--help")
    assert r.exit_code == 0
    assert "Ví dụ" in r.stdout or "Example" in r.stdout, f"onestop {' '.join(path)} --help has no example"
    assert "onestop " in r.stdout.split("Ví dụ")[-1]


def test_exit_code_table_lists_every_code():
    doc = (REPO / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", doc, re.M)}
    codes = {v for k, v in vars(errors).items() if k.isupper() and isinstance(v, int)}
    assert codes == documented


def test_readme_starts_with_the_two_setup_commands():
    head = (REPO / "README.md").read_text(encoding="utf-8")[:1500]
    assert "make demo" in head and "make test" in head


def test_ci_runs_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_version(run):
    r = run("--version")
    assert r.exit_code == 0 and r.stdout.startswith("onestop ")

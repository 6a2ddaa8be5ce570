"""Shell completion: commands, options, procedure codes and today's dossier codes, in a real bash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.fixture
def env(home, monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 10:00")
    return dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}")


def complete(env, *words) -> list[str]:
    *done, _ = words
    p = subprocess.run([sys.executable, "-m", "onestop", "__complete", str(len(done)), *words],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return p.stdout.splitlines()


def test_commands_options_and_values(run, env):
    r = run("receive", "-p", "1.003584", "--name", "Lê Văn Tám", "--id", "001085012345", "--all-components",
            "--at", "2026-11-30 09:00", "--json")
    assert r.exit_code == 0, r.stderr
    code = json.loads(r.stdout)["code"]
    assert complete(env, "rec") == ["receive"]
    assert "procedures" in complete(env, "") and "generate" not in complete(env, "")  # hidden stays hidden
    assert complete(env, "procedures", "s") == ["show"]
    assert complete(env, "receive", "--proc") == ["--procedure"]
    assert "--status" in complete(env, "list", "--")
    assert "1.003584" in complete(env, "receive", "-p", "1.0035")
    assert "1.003584" in complete(env, "procedures", "show", "")
    assert complete(env, "show", "") == [code, code[-4:]]
    assert complete(env, "move", code, "--note", "x", "--at", "") == []
    assert complete(env, "--lang", "") == ["vi", "en"]


def test_bash_script_completes_in_a_real_bash(run, env):
    if not shutil.which("bash"):
        pytest.skip("bash not installed")
    r = run("receive", "-p", "1.003584", "--name", "Lê Văn Tám", "--id", "001085012345", "--all-components",
            "--at", "2026-11-30 09:00", "--json")
    code = json.loads(r.stdout)["code"]
    script = subprocess.run([sys.executable, "-m", "onestop", "completion", "bash"], capture_output=True, text=True,
                            env=env).stdout
    probe = script + (
        'COMP_WORDS=(onestop show ""); COMP_CWORD=2; _onestop_complete; printf "%s\\n" "${COMPREPLY[@]}"\n'
        'COMP_WORDS=(onestop rep); COMP_CWORD=1; _onestop_complete; printf "%s\\n" "${COMPREPLY[@]}"\n')
    p = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [code, code[-4:], "report"]


def test_zsh_script_and_install(run, env, tmp_path, monkeypatch):
    r = run("completion", "zsh")
    assert r.exit_code == 0 and "compdef _onestop onestop" in r.stdout and "__complete" in r.stdout
    assert run("completion", "fish").exit_code == 4
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    r = run("completion", "bash", "--install")
    assert r.exit_code == 0, r.stderr
    installed = tmp_path / "data" / "bash-completion" / "completions" / "onestop"
    assert "_onestop_complete" in installed.read_text()


def test_other_commands_do_not_load_completion(env):
    code = ("import sys; sys.argv = ['onestop', '--version']\n"
            "from onestop import entry\n"
            "try:\n    entry.main()\nexcept SystemExit:\n    pass\n"
            "print('onestop.cli.completer' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.stdout.strip().splitlines()[-1] == "False", p.stderr


def test_zsh_script_completes_in_a_real_zsh(run, env):
    """The zsh function's word handling (${(@f)…}, words[2,-1], CURRENT) run by a real zsh; compadd,
    which only works inside the completion system, is replaced by a function printing the candidates."""
    r = run("receive", "-p", "1.003584", "--name", "Lê Văn Tám", "--id", "001085012345", "--all-components",
            "--at", "2026-11-30 09:00", "--json")
    code = json.loads(r.stdout)["code"]
    script = subprocess.run([sys.executable, "-m", "onestop", "completion", "zsh"], capture_output=True, text=True,
                            env=env).stdout
    probe = ("autoload -Uz compinit && compinit -u -D\n" + script +
             'compadd() { [[ $1 == -a ]] && print -rl -- "${(@P)2}" }\n'
             'words=(onestop show ""); CURRENT=3; _onestop\n'
             'words=(onestop rep); CURRENT=2; _onestop\n')
    p = subprocess.run(["zsh", "-f", "-c", probe], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [code, code[-4:], "report"]


def test_move_code_tab_offers_the_status_words_allowed_not_file_names(run, env):
    from onestop.domain import states

    r = run("receive", "-p", "1.003584", "--name", "Lê Văn Tám", "--id", "001085012345", "--all-components",
            "--at", "2026-11-30 09:00", "--json")
    code = json.loads(r.stdout)["code"]
    got = complete(env, "move", code, "")
    assert got == ["4", "5", "6", "7", "8", "9", "dang-xu-ly", "bo-sung", "nghia-vu-tai-chinh", "rut-ho-so",
                   "dung-xu-ly", "da-xu-ly"]                     # from 2: not 10 (tra ket qua)
    assert all(states.resolve_status(w) for w in got)            # each one is taken by `move`
    assert complete(env, "move", code[-4:], "--note", "x", "d") == ["dang-xu-ly", "dung-xu-ly", "da-xu-ly"]
    assert run("move", code, "da-xu-ly", "--yes").exit_code == 0
    assert complete(env, "move", code, "") == ["10", "tra-ket-qua"]
    assert "10" in complete(env, "move", "9999", "")             # unknown code: every target

"""Shell completion: ``onestop completion bash|zsh`` prints the script; the script asks
``onestop __complete CWORD WORDS…`` for candidates, one per line.

The console entry point (entry.py) hands ``__complete`` straight here, so ordinary commands pay
one string comparison. Completing builds the whole click tree (commands and options stay in step
with the code, no hand-kept list) and reads the store read-only (the SQLite file, or the office database
with a 1 s connect timeout) for procedure codes and today's
dossier codes; any failure completes nothing rather than printing an error into the prompt.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

BASH = r'''# onestop completion for bash: eval "$(onestop completion bash)" in ~/.bashrc
_onestop_complete() {
    local IFS=$'\n' cur="${COMP_WORDS[COMP_CWORD]}"
    COMPREPLY=( $(compgen -W "$("${COMP_WORDS[0]}" __complete "$((COMP_CWORD - 1))" "${COMP_WORDS[@]:1}" 2>/dev/null)" -- "$cur") )
}
complete -o default -F _onestop_complete onestop
'''

ZSH = r'''#compdef onestop
# onestop completion for zsh: eval "$(onestop completion zsh)" in ~/.zshrc (after compinit)
_onestop() {
    local -a candidates
    candidates=("${(@f)$("${words[1]}" __complete "$((CURRENT - 2))" "${(@)words[2,-1]}" 2>/dev/null)}")
    compadd -a candidates
}
compdef _onestop onestop
'''

SCRIPTS = {"bash": BASH, "zsh": ZSH}
_ROOT_WITH_VALUE = {"--lang", "--officer"}
_PROCEDURE_OPTIONS = {"-p", "--procedure"}


def script(shell: str) -> str:
    return SCRIPTS[shell]


# A completion runs at every Tab: an office server that does not answer within this gives no candidates
# rather than a frozen prompt (a counter command waits the full ONESTOP_DB_CONNECT_TIMEOUT).
OFFICE_CONNECT_TIMEOUT_S = 1


@contextmanager
def _db():
    """A read-only connection to the store (None when there is none), closed after: the data home's
    SQLite file, or the office database when a URL is set (never migrated, the desk not recorded)."""
    from onestop.common import config
    from onestop import store

    cfg = config.load()
    url = store.database_url(cfg)
    if url is not None:
        from onestop.store import postgres
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        if "connect_timeout" not in conninfo_to_dict(url):
            url = make_conninfo(url, connect_timeout=OFFICE_CONNECT_TIMEOUT_S)
        db = postgres.connect(url, migrate=False, register=False)
        try:
            db.execute("SET default_transaction_read_only = on")  # a completion never writes
            yield db
        finally:
            db.close()
        return
    import sqlite3

    from onestop.store.sqlite import Database

    path = cfg.db_path
    if not path.exists():
        yield None
        return
    # dialect: sqlite-only (read-only URI: a completion never creates nor migrates a database)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
    try:
        yield Database(conn)
    finally:
        conn.close()


def procedure_codes() -> list[str]:
    from onestop.store.catalog import procedure_codes as codes

    with _db() as db:
        return codes(db) if db is not None else []


def todays_codes() -> list[str]:
    """Today's dossier codes, newest first, and their short tails ("0007") that commands accept."""
    from datetime import timedelta

    from onestop.common import config
    from onestop.intake.clock import now
    from onestop.store.dossiers import codes_received_between

    day = now(config.load()).date()
    with _db() as db:
        if db is None:
            return []
        codes = codes_received_between(db, day.isoformat(), (day + timedelta(days=1)).isoformat())
    return codes + [c.rsplit("-", 1)[-1] for c in codes]


def _value_candidates(option: str) -> list[str]:
    if option in _PROCEDURE_OPTIONS:
        return procedure_codes()
    if option == "--status":
        from onestop.domain.states import STATUS_NAMES_VI

        return list(STATUS_NAMES_VI)
    if option == "--lang":
        return ["vi", "en"]
    return []


def complete(cword: int, words: list[str]) -> list[str]:
    """Candidates for ``words[cword]`` (``words`` without the program name)."""
    import click
    import typer

    from onestop.cli import app, load_commands

    load_commands()
    root = typer.main.get_command(app)
    words = list(words) + [""] * (cword + 1 - len(words))
    cur = words[cword]
    ctx = click.Context(root)
    cmd: click.Command = root
    path: list[str] = []
    skip = False
    positional = 0
    for w in words[:cword]:
        if skip:
            skip = False
            continue
        if w.startswith("-"):
            opt = _find_option(cmd, w)
            skip = opt is not None and not opt.is_flag and not opt.count and "=" not in w
            continue
        if isinstance(cmd, click.Group) and w in cmd.list_commands(ctx):
            cmd = cmd.get_command(ctx, w)
            path.append(w)
            positional = 0
        else:
            positional += 1
    if skip:  # the word before is an option waiting for its value
        return _value_candidates(words[cword - 1])
    if cur.startswith("-"):
        opts = [o for p in cmd.params if isinstance(p, click.Option) and not p.hidden for o in p.opts + p.secondary_opts]
        return sorted(set(opts + ["--help"]))
    if isinstance(cmd, click.Group):
        return [n for n in cmd.list_commands(ctx) if not getattr(cmd.get_command(ctx, n), "hidden", False)]
    args = [p for p in cmd.params if isinstance(p, click.Argument)]
    if positional < len(args) or (args and args[-1].nargs == -1):
        arg = args[min(positional, len(args) - 1)]
        if arg.name == "code" and path[:1] == ["procedures"]:
            return procedure_codes()
        if arg.name == "code":
            return todays_codes()
        if arg.name == "status" and path == ["move"]:
            return move_targets(_typed_code(cmd, words[len(path):cword]))
    return []


def _typed_code(cmd, words: list[str]) -> str | None:
    """The dossier code typed before the status in ``move CODE STATUS`` (options skipped)."""
    skip = False
    for w in words:
        if skip:
            skip = False
        elif w.startswith("-"):
            opt = _find_option(cmd, w)
            skip = opt is not None and not opt.is_flag and not opt.count and "=" not in w
        else:
            return w
    return None


def move_targets(code: str | None) -> list[str]:
    """What ``move CODE <Tab>`` offers: the status numbers and words `move` takes ("4", "dang-xu-ly",
    …), only the moves allowed from the dossier's status when its code is known (else every target)."""
    from onestop.domain import states

    allowed = list(states.MOVE_WORDS)
    if code:
        try:
            from onestop.store.dossiers import dossier_by_code, dossiers_ending_with

            with _db() as db:
                if db is not None:
                    rows = [r for r in [dossier_by_code(db, code)] if r] or dossiers_ending_with(db, code, 2)
                    if len(rows) == 1:
                        allowed = [k for k in states.MOVE_WORDS if k in states.TRANSITIONS.get(rows[0]["status"], ())]
        except Exception:  # noqa: BLE001 - an unreadable store: offer every target
            pass
    return allowed + ["-".join(states.MOVE_WORDS[k][0].split()) for k in allowed]


def _find_option(cmd, word: str):
    import click

    name = word.split("=", 1)[0]
    for p in cmd.params:
        if isinstance(p, click.Option) and name in p.opts + p.secondary_opts:
            return p
    return None


def main(argv: list[str]) -> int:
    """``onestop __complete CWORD WORDS…``: print the candidates; never fails loudly."""
    try:
        cword = int(argv[0])
        words = argv[1:]
        cur = words[cword] if cword < len(words) else ""
        out = [c for c in complete(cword, words) if c.startswith(cur)]
    except Exception:  # noqa: BLE001 - a completion must never break the prompt
        return 0
    sys.stdout.write("".join(f"{c}\n" for c in out))
    return 0

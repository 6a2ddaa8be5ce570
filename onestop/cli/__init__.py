"""The command line: parse, call the library, render. Logic lives in the modules it calls.

One module per group of commands (``intake``, ``archive``, ``reports``, ``sync``, ``admin``,
``completion``), shared options in ``common``, prompts in ``prompts``, click's usage errors in ``usage``,
Tab completion in ``completer``. May import every part below it; nothing imports it but the console
entry point (onestop/entry.py), which hands ``main`` the command's name.

Every failure is an ``OnestopError`` with its exit code (docs/exit-codes.md), handled once in
``OnestopGroup.invoke``: a line ``onestop: lỗi: …`` on stderr, a traceback before it only with
``--debug`` (the exit code is the same either way).
"""

from __future__ import annotations

import signal
import sys

import typer
import click
from typer.core import TyperGroup

from onestop.common import errors
from onestop.common.i18n import set_lang, t

state = {"debug": False, "officer": None}


class OnestopGroup(TyperGroup):
    """The top-level group: one place turns errors into messages and exit codes."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as e:  # the root's own options: `onestop --lang`
            from onestop.cli.usage import translate

            raise translate(e) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `onestop db`: the group's help, as asked
        except click.UsageError as e:  # unknown command, missing option, extra argument, bad value
            from onestop.cli.usage import translate

            if ctx.parent is None:
                set_lang(ctx.params.get("lang"))  # the root callback has not run when the command is unknown
            raise translate(e, ctx, ctx.invoked_subcommand) from None
        except (click.exceptions.Exit, click.exceptions.ClickException):
            raise  # typer/click's own exits keep their codes
        except errors.Cancelled as e:  # a "no" at a confirmation: said calmly, not as an error
            click.echo(f"onestop: {e.message}", err=True)
            ctx.exit(e.exit_code)
        except errors.OnestopError as e:
            _trace()  # --debug: the traceback too, and still the documented exit code a script relies on
            click.echo(f"onestop: {t('lỗi', 'error')}: {e.message}", err=True)
            ctx.exit(e.exit_code)
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo(t("onestop: đã dừng theo yêu cầu (Ctrl-C). Dữ liệu đã lưu không bị mất.",
                         "onestop: stopped on request (Ctrl-C). Stored data is safe."), err=True)
            ctx.exit(errors.INTERRUPTED)
        except BrokenPipeError:
            ctx.exit(0)
        except Exception as e:  # noqa: BLE001 - the last line of defence
            _trace()
            known = _known_failure(e)
            if known is not None:
                click.echo(f"onestop: {t('lỗi', 'error')}: {known.message}", err=True)
                ctx.exit(known.exit_code)
            click.echo(t(f"onestop: lỗi không mong đợi: {type(e).__name__}: {e}. Chạy lại với --debug để xem chi tiết.",
                         f"onestop: unexpected error: {type(e).__name__}: {e}. Run again with --debug for details."),
                       err=True)
            ctx.exit(errors.UNEXPECTED)


def _trace() -> None:
    """With ``--debug``, the traceback of the error being handled, on stderr."""
    if state["debug"]:
        import traceback

        traceback.print_exc()


def _known_failure(e: BaseException) -> errors.OnestopError | None:
    """Failures of the machine rather than bugs, wherever they surface: a damaged database
    (sqlite3 "malformed" / "not a database"), a full disk or a file-size limit. Mapped here, once,
    so no command can end in "unexpected error" for them."""
    import errno
    import sqlite3

    if isinstance(e, sqlite3.DatabaseError):
        from onestop.common import config
        from onestop.store.sqlite import translate_error

        try:
            path = config.load().db_path
        except Exception:  # noqa: BLE001 - the message can do without the path
            path = None
        return translate_error(e, path)
    pg = _office_failure(e)
    if pg is not None:
        return pg
    if isinstance(e, OverflowError):
        # A typed number beyond what SQLite stores (--limit, --year 99999999999999999999…); the
        # transaction it was in has rolled back.
        return errors.InvalidInput(
            f"Một số đã nhập quá lớn ({e}). Kiểm tra lại các số trong lệnh.",
            f"A number given is too large ({e}). Check the numbers in the command.")
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        where = f" ({e.filename})" if e.filename else ""
        return errors.StorageError(
            f"Ổ đĩa đã đầy hoặc tệp vượt giới hạn kích thước{where}: {e.strerror}. "
            "Giải phóng dung lượng rồi chạy lại; dữ liệu đã lưu không bị mất.",
            f"The disk is full or a file exceeds the size limit{where}: {e.strerror}. "
            "Free some space and run again; stored data is safe.")
    if isinstance(e, OSError) and e.filename and e.errno in _FILE_ERRNOS:
        # A folder given as a file (or the reverse), a read-only or forbidden folder: the machine's
        # files, named, with what to do: exit 7 (docs/exit-codes.md).
        vi, en = _FILE_ERRNOS[e.errno]
        return errors.StorageError(
            f"Không ghi/đọc được {e.filename}: {vi}. Chưa có gì được lưu từ thao tác này; sửa rồi chạy lại.",
            f"Cannot write/read {e.filename}: {en}. Nothing of this operation was stored; fix it and run again.")
    return None


_FILE_ERRNOS = {
    20: ("một phần của đường dẫn là tệp, không phải thư mục (cần một thư mục)",  # ENOTDIR
         "a part of the path is a file, not a folder (a folder is needed)"),
    21: ("đó là một thư mục, cần một tệp", "it is a folder, a file is needed"),  # EISDIR
    13: ("không có quyền (sửa quyền của thư mục hoặc chạy với đúng người dùng)",  # EACCES
         "permission denied (fix the folder's permissions or run as the right user)"),
    1: ("không được phép (sửa quyền hoặc chạy với đúng người dùng)", "operation not permitted (fix the permissions "
        "or run as the right user)"),  # EPERM
    30: ("ổ đĩa hoặc thư mục chỉ đọc", "the disk or folder is read-only"),  # EROFS
}


def _office_failure(e: BaseException) -> errors.OnestopError | None:
    """A PostgreSQL refusal that is the office's set-up, not a bug: the role lacks a privilege
    (a desk role running an owner's or supervisor's command, a read-only role) -> exit 18, saying
    which role may. psycopg is looked at only when it is loaded (office mode)."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None or not isinstance(e, psycopg.errors.InsufficientPrivilege):
        return None
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    return errors.DatabaseAuth(
        f"Người dùng CSDL văn phòng này không có quyền làm việc này ({msg}). Lệnh này dành cho người sở hữu CSDL "
        "(nâng cấp, sao lưu, db migrate-to) hoặc vai trò giám sát (office set, procedures import); quầy dùng "
        "vai trò onestop_desk với các quyền ở docs/office.md mục 1.3. Hỏi quản trị văn phòng; chưa có gì được lưu.",
        f"This office database user may not do this ({msg}). The command is for the database owner (upgrades, "
        "backups, db migrate-to) or the supervisor role (office set, procedures import); desks use the "
        "onestop_desk role with the grants of docs/office.md section 1.3. Ask the office admin; nothing was stored.")


_APP_SETTINGS = dict(
    cls=OnestopGroup,
    help="onestop — phần mềm Bộ phận Một cửa: tiếp nhận, số hóa, đồng bộ, báo cáo.\n\n"
         "Counter tool of a Vietnamese one-stop office.\n\n"
         "Ví dụ / Example:  onestop receive --procedure 1.003584 --name \"Nguyễn Văn An\" --id 001085012345 --all-components",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    suggest_commands=False,  # click already suggests; typer would repeat it
    context_settings={"help_option_names": ["-h", "--help"]},
)
app = typer.Typer(**_APP_SETTINGS)


def _version(value: bool):
    if value:
        from onestop import __version__

        click.echo(f"onestop {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    lang: str = typer.Option(None, "--lang", help="Ngôn ngữ: vi (mặc định) hoặc en. Env: ONESTOP_LANG."),
    debug: bool = typer.Option(False, "--debug", help="In traceback khi có lỗi."),
    officer: str = typer.Option(None, "--officer", help="Tên cán bộ ghi vào nhật ký (mặc định: cấu hình)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="In phiên bản."),
):
    set_lang(lang)
    state["debug"] = debug
    state["officer"] = officer


def app_for(name: str | None) -> typer.Typer:
    """An app holding only the command ``name`` (the one being run).

    typer inspects the signature of every command to build its click tree (~25 ms for all of
    them), which an officer would pay at every command; building just the one invoked is ~1 ms.
    None or an unknown name gets the whole app, so click can suggest the command meant.
    """
    if name is None:
        return app
    sub = typer.Typer(**_APP_SETTINGS)
    sub.registered_callback = app.registered_callback
    for info in app.registered_commands:
        if (info.name if isinstance(info.name, str) else typer.main.get_command_name(info.callback.__name__)) == name:
            sub.registered_commands = [info]
            return sub
    for info in app.registered_groups:
        if isinstance(info.name, str) and info.name == name:
            sub.registered_groups = [info]
            return sub
    return app


def main(command: str | None = None) -> None:
    """Run the command line in ``sys.argv``. ``command`` is the top-level command it names, found by the
    console entry point (onestop/entry.py ``command_name``, which imports nothing); None loads them all."""
    from onestop.common import interrupt

    interrupt.install()
    try:
        try:
            load_commands(command)
            try:
                app_for(command)()
            except SystemExit as e:
                _office_exit(e.code)
                raise
        except KeyboardInterrupt:  # Ctrl-C during parsing or start-up
            sys.exit(errors.INTERRUPTED)
    except SystemExit as e:
        if e.code == errors.INTERRUPTED:
            _interrupted_exit()
        raise
    finally:
        # The command has ended (its exit code is set): a Ctrl-C now, while worker threads finish
        # and the interpreter shuts down, must not turn that code into death by SIGINT (-2).
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupted_exit() -> None:
    """End a command stopped by Ctrl-C with exit 130, whatever Python remembers of the interrupt.

    CPython 3.11 run as ``python -m onestop`` (as the tests and some schedulers start it) turns any
    exit into death by SIGINT (-2) once a KeyboardInterrupt has passed through code it compiled from
    a string (a dataclass or namedtuple being built by an import when Ctrl-C landed), even though
    onestop caught it and said so. The interrupted command has stored what it stores: run the
    ``atexit`` handlers (the log's flush, the scan engines' stop), flush, and leave with 130."""
    _leave_now(errors.INTERRUPTED, even_unflushed=True)


def _leave_now(code: int, *, even_unflushed: bool) -> None:
    """Leave with ``code`` as a normal exit would, without the interpreter's teardown: the ``atexit``
    handlers (the log handlers' flush, the scan engines' stop), the output flushed, ``os._exit``.
    An output that cannot be flushed (a closed pipe) returns to Python's own exit, which reports
    it, unless ``even_unflushed``."""
    import atexit
    import os

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        if not even_unflushed:
            return
    os._exit(code)


def _office_exit(code) -> None:
    """End an office-mode command at once: its work is stored and its output written.

    Tearing down psycopg (and the OpenSSL it bundles) at interpreter exit costs an office command
    ~30-50 ms that the officer and the citizen wait for (P11). So when the driver is loaded, the
    command has ended and no other thread runs: close the office connections (the server sees a
    clean goodbye), run the ``atexit`` handlers as a normal exit would (the log handlers' flush, the
    scan engines' stop), flush the output, then ``os._exit`` with the command's exit code. Anything
    else (SQLite, threads still running, an output that cannot be flushed) exits the normal way.
    """
    if "psycopg" not in sys.modules:
        return
    import threading

    from onestop import store

    store.close_office_stores()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if threading.active_count() > 1:
        return
    if code is None:
        code = 0
    elif not isinstance(code, int):
        return  # sys.exit("message"): Python prints it
    _leave_now(code, even_unflushed=False)


# Command modules register themselves on ``app``; heavy imports stay inside the commands.
# Which module defines each top-level command: a counter command imports only its own module
# (the five others cost ~5-10 ms at every `receive`). tests/test_entry.py checks this map against
# the commands the modules register.
COMMAND_MODULES = {
    "receive": "intake", "show": "dossiers", "list": "dossiers", "move": "dossiers", "reschedule": "dossiers",
    "amend": "dossiers", "print": "dossiers",
    "scan": "archive", "search": "archive", "check": "archive",
    "backlog": "reports", "report": "reports", "book": "reports", "generate": "reports",
    "demo": "admin", "procedures": "admin", "db": "admin", "office": "admin",
    "sync": "sync", "completion": "completion",
    "pay": "fees", "fees": "fees", "papers": "papers", "sign": "signing", "online": "online",
}
_MODULES = ("intake", "dossiers", "admin", "archive", "sync", "reports", "completion", "fees", "papers", "signing",
            "online")


def load_commands(name: str | None = None) -> None:
    """Register the command ``name`` on ``app`` (every command when None or unknown)."""
    import importlib

    for module in ([COMMAND_MODULES[name]] if name in COMMAND_MODULES else _MODULES):
        importlib.import_module(f"onestop.cli.{module}")

"""Errors of the command line itself (an unknown command or option, a missing or extra argument, a
value of the wrong type), said like every other failure: one line ``onestop: lỗi: …`` in the
officer's language, the closest command or option suggested, exit 2 (USAGE, docs/exit-codes.md).

click raises them in English from deep inside its parser; ``OnestopGroup`` turns each into a
``UsageProblem`` here, built from the exception's fields rather than from its English text.
"""

from __future__ import annotations

import difflib
import re

import click

from onestop.common import errors
from onestop.common.i18n import t


class UsageProblem(click.ClickException):
    """A usage error already worded for the officer; click's handler calls ``show`` and exits 2."""

    exit_code = errors.USAGE

    def __init__(self, vi: str, en: str):
        super().__init__(en)
        self.vi, self.en = vi, en

    def format_message(self) -> str:
        return t(self.vi, self.en)

    def show(self, file=None) -> None:
        click.echo(f"onestop: {t('lỗi', 'error')}: {self.format_message()}", err=True)


def _hint(e: click.BadParameter) -> str:
    if e.param_hint is not None:
        hint = e.param_hint
        return " / ".join(f"'{h}'" for h in hint) if isinstance(hint, (list, tuple)) else str(hint)
    if e.param is not None:
        return e.param.get_error_hint(e.ctx)
    return ""


def _value_problem(message: str) -> tuple[str, str]:
    """A type's complaint about a value (click's English wording) in both languages."""
    m = re.match(r"^(.*) is not a valid (integer|float|boolean|UUID)\.?$", message)
    if m:
        kind = {"integer": "số nguyên", "float": "số", "boolean": "có/không (true/false)", "UUID": "UUID"}[m[2]]
        return f"{m[1]} không phải {kind}.", message
    m = re.match(r"^(.*) is not in the range (.*)\.$", message)
    if m:
        return f"{m[1]} nằm ngoài khoảng {m[2]}.", message
    m = re.match(r"^(.*) is not one of (.*)\.$", message) or re.match(r"^(.*) is not (.*)\.$", message)
    if m and "'" in message:
        return f"{m[1]} không thuộc các giá trị: {m[2]}.", message
    m = re.match(r"^(File|Directory|Path|file|directory|path) (.*) does not exist\.$", message)
    if m:
        return f"Không có tệp/thư mục {m[2]}.", message
    return message, message


def _closest(word: str, choices) -> str | None:
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _path(ctx: click.Context | None, sub: str | None = None) -> str:
    """'onestop db backup' as the officer types it (not 'python -m onestop …', nor a script's path)."""
    names = [sub] if sub else []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return " ".join(["onestop", *reversed(names)])


def translate(e: click.UsageError, ctx: click.Context | None = None, sub: str | None = None) -> UsageProblem:
    """The officer's wording of one of click's usage errors, with where to look next (``ctx`` and
    ``sub``: the command being parsed, when click did not attach it to the error)."""
    path = _path(e.ctx) if e.ctx is not None else _path(ctx, sub)
    ctx = e.ctx
    see_vi, see_en = f" Xem: {path} --help", f" See: {path} --help"
    if isinstance(e, click.exceptions.NoSuchCommand):
        name = e.command_name
        group = ctx.command if ctx is not None else None
        names = group.list_commands(ctx) if isinstance(group, click.Group) else (e.possibilities or [])
        near = _closest(name, names)
        if near:
            return UsageProblem(f"Không có lệnh '{name}'. Có phải: {path} {near}?" + see_vi,
                                f"No such command '{name}'. Did you mean: {path} {near}?" + see_en)
        return UsageProblem(f"Không có lệnh '{name}'." + see_vi, f"No such command '{name}'." + see_en)
    if isinstance(e, click.exceptions.NoSuchOption):
        near = e.possibilities[0] if e.possibilities else None
        vi, en = f"Không có tùy chọn '{e.option_name}'.", f"No such option '{e.option_name}'."
        if near:
            vi, en = vi + f" Có phải '{near}'?", en + f" Did you mean '{near}'?"
        return UsageProblem(vi + see_vi, en + see_en)
    if isinstance(e, click.exceptions.MissingParameter):
        hint = _hint(e)
        kind = e.param_type or (e.param.param_type_name if e.param is not None else "parameter")
        if kind == "option":
            return UsageProblem(f"Thiếu tùy chọn {hint}." + see_vi, f"Missing option {hint}." + see_en)
        return UsageProblem(f"Thiếu {hint}." + see_vi, f"Missing argument {hint}." + see_en)
    if isinstance(e, click.BadParameter):
        hint = _hint(e)
        vi, en = _value_problem(e.message)
        return UsageProblem(f"Giá trị không hợp lệ cho {hint}: {vi}" + see_vi,
                            f"Invalid value for {hint}: {en}" + see_en)
    message = e.message
    m = re.match(r"^Got unexpected extra arguments? \((.*)\)$", message)
    if m:
        return UsageProblem(f"Thừa tham số: {m[1]}. Đặt trong ngoặc kép nếu là một giá trị có dấu cách." + see_vi,
                            f"Unexpected extra argument(s): {m[1]}. Quote a value that has spaces." + see_en)
    m = re.match(r"^Option '(.*)' requires (an argument|\d+ arguments)\.$", message)
    if m:
        return UsageProblem(f"Tùy chọn '{m[1]}' cần một giá trị." + see_vi, message + see_en)
    m = re.match(r"^Option '(.*)' does not take a value\.$", message)
    if m:
        return UsageProblem(f"Tùy chọn '{m[1]}' không nhận giá trị." + see_vi, message + see_en)
    return UsageProblem(message + see_vi, message + see_en)

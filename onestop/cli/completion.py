"""``onestop completion bash|zsh``: the shell completion script (see onestop/cli/completer.py)."""

from __future__ import annotations

import typer

from onestop.cli import app
from onestop.common.i18n import t


@app.command()
def completion(shell: str = typer.Argument(..., help="bash hoặc zsh."),
               install: bool = typer.Option(False, "--install", help="Cài cho người dùng hiện tại (bash: thư mục "
                                            "của bash-completion; zsh: ~/.zfunc/_onestop).")):
    """In (hoặc cài) đoạn mã gợi ý lệnh bằng phím Tab: lệnh, tùy chọn, mã thủ tục, mã hồ sơ hôm nay.

    Shell completion of commands, options, procedure codes and today's dossier codes.

    Ví dụ / Example:  eval "$(onestop completion bash)"   # or: onestop completion bash --install
    """
    import os
    from pathlib import Path

    from onestop.cli import completer as comp
    from onestop.common.errors import InvalidInput
    from onestop.common.output import info

    if shell not in comp.SCRIPTS:
        raise InvalidInput(f"Shell '{shell}' chưa hỗ trợ: dùng bash hoặc zsh.",
                           f"Shell '{shell}' is not supported: use bash or zsh.")
    text = comp.script(shell)
    if not install:
        typer.echo(text, nl=False)
        return
    home = Path(os.path.expanduser("~"))
    if shell == "bash":
        data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local/share")
        target = data / "bash-completion" / "completions" / "onestop"
        after = t("Mở terminal mới là dùng được.", "Open a new terminal to use it.")
    else:
        target = home / ".zfunc" / "_onestop"
        after = t("Thêm 'fpath=(~/.zfunc $fpath); autoload -U compinit; compinit' vào ~/.zshrc nếu chưa có.",
                  "Add 'fpath=(~/.zfunc $fpath); autoload -U compinit; compinit' to ~/.zshrc if missing.")
    from onestop.common.errors import StorageError
    from onestop.common.files import write_atomic

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text.encode("utf-8"))
    except OSError as e:
        raise StorageError(f"Không ghi được {target}: {e}.", f"Cannot write {target}: {e}.") from e
    info(t(f"Đã cài gợi ý lệnh cho {shell}: {target}. ", f"Completion for {shell} installed: {target}. ") + after)

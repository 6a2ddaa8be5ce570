"""``onestop sign``: the agency's digital signature on files archived before signing was set up."""

from __future__ import annotations

from typing import Optional

import typer

from onestop.cli import app
from onestop.cli.common import JSON, context
from onestop.common.i18n import t


@app.command()
def sign(code: Optional[str] = typer.Argument(None, help="Mã hồ sơ (hoặc phần cuối của mã) có tệp chưa ký số."),
         all_unsigned: bool = typer.Option(False, "--all-unsigned", help="Ký mọi tệp hiện hành chưa ký số của kho."),
         json_: bool = JSON):
    """Ký số các tệp lưu trữ chưa ký (lưu trước khi cấu hình [signing]); mỗi tệp ký là một phiên bản mới,
    tệp cũ được giữ nguyên.

    Sign the current unsigned archive files of a dossier (or every dossier's with --all-unsigned)
    with this desk's [signing] key: each signed file is a new version, the old one is kept (the
    archive is write-once). Exit 27 when the key cannot be used (docs/signing.md).

    Ví dụ / Example:  onestop sign 0007 ; ONESTOP_SIGN_PIN=… onestop sign --all-unsigned --json
    """
    from onestop.archive import resign
    from onestop.common.errors import InvalidInput
    from onestop.common.output import emit_json, info

    if bool(code) == all_unsigned:
        raise InvalidInput("Cho một mã hồ sơ, hoặc --all-unsigned (không cả hai).",
                           "Give a dossier code, or --all-unsigned (not both).")
    cfg, db = context()
    res = resign.sign_stored(db, cfg, code)
    if json_:
        emit_json(res)
        return
    for s in res["signed"]:
        typer.echo(s["new_path"])
    for s in res["recorded"]:
        info(t(f"{s['path']}: PDF có chữ ký số của công dân, giữ nguyên; đã ghi nhận {s['signatures']} chữ ký.",
               f"{s['path']}: a citizen's signed PDF, kept as it is; {s['signatures']} signature(s) recorded."))
    for s in res["skipped"]:
        info(t(f"{s['path']}: tệp bị thiếu hoặc đã thay đổi, không ký. Chạy 'onestop check'.",
               f"{s['path']}: the file is missing or changed, not signed. Run 'onestop check'."))
    info(t(f"Đã ký {len(res['signed'])} tệp (phiên bản mới).", f"Signed {len(res['signed'])} files (new versions)."))
    if res["skipped"]:
        from onestop.common.errors import CheckFailed

        raise CheckFailed(f"{len(res['skipped'])} tệp không ký được vì thiếu hoặc đã thay đổi (xem ở trên).",
                          f"{len(res['skipped'])} files were not signed: missing or changed (see above).")

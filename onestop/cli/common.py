"""Options and helpers shared by the command modules."""

from __future__ import annotations

import typer

JSON = typer.Option(False, "--json", help="In JSON ra stdout (tên trường ổn định, xem docs/output.md).")
CSV = typer.Option(False, "--csv", help="In CSV ra stdout.")


def fmt(json_: bool, csv_: bool) -> str:
    return "json" if json_ else "csv" if csv_ else "table"


def status_label(code) -> str:
    """The status name in the session's language ('Yêu cầu bổ sung giấy tờ')."""
    from onestop.common.i18n import t
    from onestop.domain.states import status_name

    return status_name(str(code), t("vi", "en")) if code not in (None, "") else ""


def context():
    """The configuration and the open, migrated store: the SQLite file of the data home, or the
    office's PostgreSQL database when a URL is set (``onestop.store.connect``)."""
    from onestop.common import config
    from onestop import store
    from onestop.cli import state

    cfg = config.load(officer=state.get("officer"))
    store.refuse_office_mode(cfg)  # until store.COMMANDS_ON_POSTGRESQL: never fall back to a local file silently
    return cfg, store.connect(cfg)


def context_with_catalog():
    from onestop.intake import catalog

    cfg, db = context()
    catalog.ensure_loaded(db, cfg.catalog_file)
    return cfg, db


def code_for_change(db, cfg, code: str, interactive: bool) -> str:
    """The full code of the dossier a command will change. A short code matching several dossiers
    is asked about at a terminal (newest first) and refused in scripts (exit 16, listing them)."""
    from onestop.intake import lookup
    from onestop.common.errors import AmbiguousCode

    try:
        return lookup.resolve_for_change(db, cfg, code)["code"]
    except AmbiguousCode:
        if not interactive:
            raise
    from onestop.cli.prompts import Prompter, say
    from onestop.common.i18n import t

    rows = lookup.matching_dossiers(db, cfg, code)[:9]
    say(t(f"Mã '{code}' khớp nhiều hồ sơ:", f"Code '{code}' matches several dossiers:"))
    for i, r in enumerate(rows, 1):
        say(f"  {i}. {r['code']}  {r['applicant_name']}  {r['procedure_code']}  {r['received_at'][:16].replace('T', ' ')}")
    return rows[Prompter().number(t("Chọn số", "Pick a number"), 1, len(rows)) - 1]["code"]


def confirm_or_stop(question: str) -> None:
    """Ask a yes/no question at the terminal; "no" stops the command (exit 130) with nothing changed."""
    from onestop.cli.prompts import Prompter
    from onestop.common.errors import Cancelled

    if not Prompter().yes_no(question, default=False):
        raise Cancelled("đã hủy theo yêu cầu, hồ sơ không thay đổi.", "cancelled on request, the dossier is unchanged.")


def at_terminal() -> bool:
    """A person at a terminal (questions may be asked)."""
    import sys

    return sys.stdin.isatty()


def print_pdf(path: str) -> None:
    """Send a PDF to the default printer (CUPS ``lp``); a missing or failing printer is said, never fatal."""
    import shutil
    import subprocess

    from onestop.common.i18n import t
    from onestop.common.output import info

    if not shutil.which("lp"):
        info(t("Không có lệnh 'lp' (CUPS): chưa in. Mở tệp PDF để in tay.", "No 'lp' command (CUPS): not printed."))
        return
    r = subprocess.run(["lp", path], capture_output=True, text=True)
    if r.returncode != 0:
        err = r.stderr.strip().rstrip(".")
        info(t(f"In không thành công: {err}. Tệp vẫn ở {path}.", f"Printing failed: {err}. File kept at {path}."))

"""Catalog, data-home and demo commands."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, context, context_with_catalog, fmt
from onestop.i18n import t

procedures_app = typer.Typer(help="Danh mục thủ tục hành chính (procedure catalog).\n\nVí dụ / Example:  onestop procedures list dang ky khcn",
                             no_args_is_help=True)
app.add_typer(procedures_app, name="procedures")
db_app = typer.Typer(help="Cơ sở dữ liệu và thư mục dữ liệu (the data home).\n\nVí dụ / Example:  onestop db status --json",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")

_PROC_COLS = ["code", "name", "field_name", "limit"]


def _limit_text(limits_json: str) -> str:
    import json

    lim = json.loads(limits_json).get("1") or next(iter(json.loads(limits_json).values()), None)
    if not lim:
        return ""
    unit = {"working_days": t("ngày làm việc", "working days"), "days": t("ngày", "days"),
            "hours": t("giờ", "hours"), "months": t("tháng", "months")}[lim["unit"]]
    v = lim["value"]
    return f"{int(v) if float(v).is_integer() else v} {unit}"


@procedures_app.command("list")
def procedures_list(query: list[str] = typer.Argument(None, help="Từ khóa (không cần dấu, chấp nhận gõ sai nhẹ)."),
                    field: Optional[str] = typer.Option(None, "--field", help="Mã hoặc tên lĩnh vực."),
                    json_: bool = JSON, csv_: bool = CSV):
    """Liệt kê / tìm thủ tục; "dang ky to chuc khcn" tìm được "Đăng ký … tổ chức khoa học và công nghệ".

    List or search procedures without diacritics.

    Ví dụ / Example:  onestop procedures list dang ky to chuc khcn
    """
    from onestop import catalog
    from onestop.output import emit

    cfg, db = context_with_catalog()
    rows = catalog.search(db, " ".join(query or []), limit=0 if not query else 50, field=field)
    for r in rows:
        r["limit"] = _limit_text(r.pop("limits"))
        r.pop("search_text", None)
    emit(rows, _PROC_COLS + (["score"] if query else []), fmt=fmt(json_, csv_),
         headers={"code": t("Mã", "Code"), "name": t("Tên thủ tục", "Name"), "field_name": t("Lĩnh vực", "Field"),
                  "limit": t("Thời hạn", "Time limit"), "score": t("Độ khớp", "Score")})


@procedures_app.command("show")
def procedures_show(code: str = typer.Argument(..., help="Mã thủ tục N.NNNNNN (hoặc từ khóa)."), json_: bool = JSON):
    """Xem một thủ tục: thời hạn theo kênh, phí, thành phần hồ sơ.

    Show one procedure.

    Ví dụ / Example:  onestop procedures show 1.003584 --json
    """
    import dataclasses

    from onestop import catalog
    from onestop.output import console, emit_json

    cfg, db = context_with_catalog()
    if not catalog.PROCEDURE_CODE.match(code.strip()):
        hits = catalog.search(db, code, limit=1)
        if hits:
            code = hits[0]["code"]
    p = catalog.get(db, code)
    if json_:
        emit_json(dict(dataclasses.asdict(p), cases=[{"n": i, "name": name, "components": [x.n for x in p.case_components(name)]}
                                                     for i, name in enumerate(p.cases(), 1)]))
        return
    c = console()
    c.print(f"[bold]{p.code}[/bold] {p.name}" + (t("  (dữ liệu mẫu)", "  (sample data)") if p.sample else ""))
    c.print(f"{t('Lĩnh vực', 'Field')}: {p.field_code} {p.field_name}")
    from onestop.output import limit_text, money

    for ch, lim in sorted(p.limits.items()):
        c.print(f"{t('Kênh', 'Channel')} {ch}: {limit_text(lim['value'], lim['unit'])}")
    if p.fees:
        c.print(t("Phí, lệ phí: ", "Fees: ") + "; ".join(f"{f['name']}: {money(f['amount'], f['unit'])}" for f in p.fees))
    if p.next_day_after_cutoff:
        c.print(t("Nhận sau 15:00 tính từ ngày làm việc tiếp theo.", "Received after 15:00: counts from the next working day."))
    cases = p.cases()
    case = None
    for comp in p.components:
        if comp.case_name != case:
            case = comp.case_name
            # Numbered when there are several: `receive --case N` takes this number.
            head = f"{t('Trường hợp', 'Case')} {cases.index(case) + 1} (--case {cases.index(case) + 1}): " if len(cases) > 1 else ""
            c.print(f"[bold]{head}{case or t('Thành phần hồ sơ', 'Components')}[/bold]")
        c.print(f"  {comp.n}. {comp.name} — {comp.originals} {t('bản chính', 'orig.')}, {comp.copies} {t('bản sao', 'copies')}"
                + ("" if not comp.conditional else t(" (có điều kiện: chỉ khi áp dụng)", " (conditional: only when it applies)")))


@procedures_app.command("import")
def procedures_import(file: Path = typer.Argument(..., help="Tệp JSON dạng LayThuTuc của Cổng DVCQG.")):
    """Nhập / cập nhật danh mục từ tệp JSON dạng LayThuTuc.

    Import or update the catalog from a LayThuTuc JSON export.

    Ví dụ / Example:  onestop procedures import lay-thu-tuc.json
    """
    from onestop import catalog

    cfg, db = context()
    n = catalog.import_file(db, file)
    typer.echo(t(f"Đã nhập {n} thủ tục từ {file}.", f"Imported {n} procedures from {file}."), err=True)


@db_app.command("path")
def db_path():
    """In đường dẫn cơ sở dữ liệu.

    Print the database path.

    Ví dụ / Example:  onestop db path
    """
    from onestop import config

    typer.echo(str(config.load().db_path))


@db_app.command("status")
def db_status(json_: bool = JSON):
    """Tình trạng thư mục dữ liệu: số hồ sơ, hàng đợi đồng bộ, phiên bản lược đồ.

    Describe the data home.

    Ví dụ / Example:  onestop db status --json
    """
    from onestop.output import emit_json
    from onestop.store import office

    cfg, db = context()
    info = {"home": str(cfg.home), "database": str(cfg.db_path), "size_bytes": cfg.db_path.stat().st_size,
            **office.sqlite_settings(db), **office.counts(db)}
    if json_:
        emit_json(info)
    else:
        for k, v in info.items():
            typer.echo(f"{k}: {v}")


@db_app.command("backup")
def db_backup(dest: Path = typer.Argument(..., help="Tệp sao lưu (.db).")):
    """Sao lưu nóng cơ sở dữ liệu (an toàn khi quầy đang làm việc).

    Online backup of the database (SQLite backup API); the file is readable by its owner only.

    Ví dụ / Example:  onestop db backup /mnt/usb/onestop-$(date +%F).db
    """
    from onestop import db as store

    cfg, db = context()
    typer.echo(str(store.backup(db, dest)))


@db_app.command("restore")
def db_restore(backup: Path = typer.Argument(..., help="Tệp sao lưu (từ 'onestop db backup').")):
    """Khôi phục cơ sở dữ liệu từ bản sao lưu; tệp cũ (hỏng) được giữ lại bên cạnh.

    Restore the database from a backup: the backup's integrity is checked first, the current
    files (also -wal, -shm) are kept aside under a timestamped name, and code counters stay
    above every code already issued from this home. Stop the other counters first.

    Ví dụ / Example:  onestop db restore /mnt/usb/onestop-2026-11-29.db
    """
    from onestop import config
    from onestop import db as store
    from onestop.cli import state

    cfg = config.load(officer=state.get("officer"))
    res = store.restore(cfg, backup)
    for p in res["kept_aside"]:
        typer.echo(t(f"Đã giữ tệp cũ: {p}", f"Kept the old file: {p}"), err=True)
    typer.echo(t(f"Đã khôi phục {res['database']} từ {backup} ({res['dossiers']} hồ sơ). Chạy 'onestop check' để đối chiếu kho lưu trữ.",
                 f"Restored {res['database']} from {backup} ({res['dossiers']} dossiers). Run 'onestop check' to compare with the archive."),
               err=True)
    typer.echo(res["database"])


@app.command()
def demo(home: Optional[Path] = typer.Option(None, "--home", help="Thư mục dữ liệu demo (mặc định: ./.onestop-demo, làm mới)."),
         keep: bool = typer.Option(False, "--keep", help="Không xóa thư mục demo cũ.")):
    """Chạy thử công việc chính của quầy trên dữ liệu mẫu.

    Play the counter's main job on sample data in a fresh demo home.

    Ví dụ / Example:  onestop demo --home /tmp/onestop-demo
    """
    from onestop.demo import run

    run(home or Path(".onestop-demo"), fresh=not keep)

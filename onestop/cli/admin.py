"""Catalog, data-home and demo commands."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, context, context_with_catalog, fmt
from onestop.common.i18n import t

procedures_app = typer.Typer(help="Danh mục thủ tục hành chính (procedure catalog).\n\nVí dụ / Example:  onestop procedures list dang ky khcn",
                             no_args_is_help=True)
app.add_typer(procedures_app, name="procedures")
db_app = typer.Typer(help="Cơ sở dữ liệu và thư mục dữ liệu (the data home).\n\nVí dụ / Example:  onestop db status --json",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")
office_app = typer.Typer(help="Thiết lập chung của văn phòng nhiều quầy (PostgreSQL): cơ quan, quy tắc mã, giờ làm việc, "
                              "lịch, kho lưu trữ chung.\n\nVí dụ / Example:  onestop office show",
                         no_args_is_help=True)
app.add_typer(office_app, name="office")

_PROC_COLS = ["code", "name", "field_name", "limit"]


def _limit_text(limits_json: str) -> str:
    import json

    lim = json.loads(limits_json).get("1") or next(iter(json.loads(limits_json).values()), None)
    if not lim:
        return ""
    if float(lim["value"]) == 0:
        from onestop.common.output import zero_limit_text

        return zero_limit_text(lim["unit"], lim.get("description", ""))
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
    from onestop.intake import catalog
    from onestop.common.output import emit

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

    from onestop.intake import catalog
    from onestop.common.output import console, emit_json

    cfg, db = context_with_catalog()
    if not catalog.PROCEDURE_CODE.match(code.strip()):
        from onestop.common.errors import AmbiguousCode

        # Words that do not single out one procedure list the close ones rather than show the top
        # match: the officer would read another procedure's papers, limits and fees as this one's.
        try:
            code = catalog.single_out(db, code) or code
        except AmbiguousCode as e:
            listing = "; ".join(e.candidates[:9]) + ("; …" if len(e.candidates) > 9 else "")
            raise AmbiguousCode(
                f"Từ khóa '{code}' khớp {len(e.candidates)} thủ tục gần như nhau ({listing}). Xem danh sách: "
                f"onestop procedures list {code}; rồi: onestop procedures show MÃ_THỦ_TỤC.",
                f"The words '{code}' match {len(e.candidates)} procedures about equally ({listing}). See them: "
                f"onestop procedures list {code}; then: onestop procedures show PROCEDURE_CODE.",
                candidates=e.candidates) from None
    p = catalog.get(db, code)
    if json_:
        emit_json(dict(dataclasses.asdict(p), cases=[{"n": i, "name": name, "components": [x.n for x in p.case_components(name)]}
                                                     for i, name in enumerate(p.cases(), 1)]))
        return
    c = console()
    c.print(f"[bold]{p.code}[/bold] {p.name}" + (t("  (dữ liệu mẫu)", "  (sample data)") if p.sample else ""))
    c.print(f"{t('Lĩnh vực', 'Field')}: {p.field_code} {p.field_name}")
    from onestop.common.output import limit_text, money

    for ch, lim in sorted(p.limits.items()):
        c.print(f"{t('Kênh', 'Channel')} {ch}: {limit_text(lim['value'], lim['unit'], lim.get('description', ''))}")
    def fee_text(f):  # an amount the catalog leaves open is shown in its words (asked for at receive)
        return money(f["amount"], f["unit"]) if f["amount"] is not None else (f.get("amount_text") or t("theo quy định", "as regulated"))

    channels = sorted({f["channel"] for f in p.fees if "channel" in f})
    for ch in channels or [""]:
        fees = p.fees_for(ch) if ch else p.fees
        if fees:
            c.print(t(f"Phí, lệ phí{' kênh ' + ch if ch else ''}: ", f"Fees{' channel ' + ch if ch else ''}: ")
                    + "; ".join(f"{f['name']}: {fee_text(f)}" for f in fees))
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
    from onestop.intake import catalog

    cfg, db = context()
    n = catalog.import_file(db, file)
    typer.echo(t(f"Đã nhập {n} thủ tục từ {file}.", f"Imported {n} procedures from {file}."), err=True)


def _sqlite_file_only(command: str, server_way_vi: str, server_way_en: str):
    """The config, after refusing a command about the desk's SQLite file when an office URL is set.

    On the office database there is no file to print, copy or replace: acting on the desk's old
    SQLite file instead would back up or overwrite data that is not the office's (exit 2).
    """
    from onestop.common import config
    from onestop import store
    from onestop.cli import state
    from onestop.common.errors import USAGE, OnestopError
    from onestop.store.redact import redact_url

    cfg = config.load(officer=state.get("officer"))
    url = store.database_url(cfg)
    if url is not None:
        raise OnestopError(
            f"'onestop {command}' dành cho tệp SQLite của một quầy; máy này dùng cơ sở dữ liệu văn phòng "
            f"{redact_url(url)} ({store.ENV} / [database] url). {server_way_vi} Xem docs/office.md.",
            f"'onestop {command}' is about a desk's SQLite file; this desk uses the office database "
            f"{redact_url(url)} ({store.ENV} / [database] url). {server_way_en} See docs/office.md.",
            exit_code=USAGE)
    return cfg


@db_app.command("path")
def db_path():
    """In đường dẫn tệp cơ sở dữ liệu SQLite (không dùng với CSDL văn phòng PostgreSQL).

    Print the SQLite database path (refused with an office database: see `db status`).

    Ví dụ / Example:  onestop db path
    """
    cfg = _sqlite_file_only("db path", "Xem nơi lưu bằng 'onestop db status'.",
                            "'onestop db status' shows where the data lives.")
    typer.echo(str(cfg.db_path))


@db_app.command("status")
def db_status(json_: bool = JSON):
    """Tình trạng cơ sở dữ liệu: nơi lưu (SQLite / PostgreSQL), số hồ sơ, hàng đợi đồng bộ, phiên bản lược đồ;
    với PostgreSQL thêm phiên bản máy chủ và các máy (quầy) đã kết nối gần đây.

    Describe the database: backend, counts, sync queue, schema version; for PostgreSQL also the server
    version and the desks seen recently.

    Ví dụ / Example:  onestop db status --json
    """
    from onestop.common import config
    from onestop import store
    from onestop.cli import state
    from onestop.common.output import emit_json
    from onestop.store import office

    cfg = config.load(officer=state.get("officer"))
    if store.backend(cfg) == "postgresql":
        info = _pg_status(cfg)
    else:
        cfg, db = context()
        info = {"backend": "sqlite", "home": str(cfg.home), "database": str(cfg.db_path),
                "size_bytes": cfg.db_path.stat().st_size, **office.sqlite_settings(db), **office.counts(db)}
    if json_:
        emit_json(info)
        return
    for k, v in info.items():
        if k != "desks":
            typer.echo(f"{k}: {v}")
    if "desks" in info:
        typer.echo(t("desks (30 ngày gần đây):", "desks (last 30 days):"))
        for d in info["desks"]:
            typer.echo(f"  {d['name']}  {d['host']}  {d['officer'] or '-'}  {d['version']}  {d['last_seen']}")


def _pg_status(cfg) -> dict:
    """``db status`` of the office database; no password in any field."""
    from zoneinfo import ZoneInfo

    from onestop import store
    from onestop.store import office, postgres

    from onestop.intake import catalog

    pg = store.connect(cfg)  # registers this desk: it is one of those seen
    # The owner's first run (docs/office.md section 1.2) also loads the catalog, which desks may only read.
    catalog.ensure_loaded(pg, cfg.catalog_file)
    tz = ZoneInfo(cfg.timezone)
    return {
        "backend": "postgresql", "home": str(cfg.home), "database": pg.url,
        "server_version": pg.server_version, "schema_version": postgres.schema_version(pg),
        "size_bytes": office.pg_database_size(pg), **office.counts(pg),
        "desks": [dict(d, last_seen=d["last_seen"].astimezone(tz).isoformat(timespec="seconds"))
                  for d in postgres.desks(pg)],
    }


@db_app.command("backup")
def db_backup(dest: Path = typer.Argument(..., help="Tệp sao lưu (.db).")):
    """Sao lưu nóng cơ sở dữ liệu (an toàn khi quầy đang làm việc).

    Online backup of the database (SQLite backup API); the file is readable by its owner only.

    With an office database (PostgreSQL) the backup is pg_dump on the server (docs/office.md §5).

    Ví dụ / Example:  onestop db backup /mnt/usb/onestop-$(date +%F).db
    """
    from onestop.store import sqlite as store

    _sqlite_file_only("db backup", "Sao lưu trên máy chủ bằng pg_dump (cùng với thư mục lưu trữ), mục 5.",
                      "Back it up on the server with pg_dump (together with the archive folder), section 5.")
    cfg, db = context()
    typer.echo(str(store.backup(db, dest)))


@db_app.command("restore")
def db_restore(backup: Path = typer.Argument(..., help="Tệp sao lưu (từ 'onestop db backup').")):
    """Khôi phục cơ sở dữ liệu từ bản sao lưu; tệp cũ (hỏng) được giữ lại bên cạnh.

    Restore the database from a backup: the backup's integrity is checked first, the current
    files (also -wal, -shm) are kept aside under a timestamped name, and code counters stay
    above every code already issued from this home. Stop the other counters first.

    With an office database (PostgreSQL) restore a pg_dump with pg_restore (docs/office.md §6).

    Ví dụ / Example:  onestop db restore /mnt/usb/onestop-2026-11-29.db
    """
    from onestop.store import sqlite as store

    cfg = _sqlite_file_only("db restore", "Khôi phục trên máy chủ bằng pg_restore từ bản pg_dump, rồi chạy "
                            "'onestop office after-restore', mục 6.",
                            "Restore it on the server with pg_restore from a pg_dump file, then run "
                            "'onestop office after-restore', section 6.")
    res = store.restore(cfg, backup)
    for p in res["kept_aside"]:
        typer.echo(t(f"Đã giữ tệp cũ: {p}", f"Kept the old file: {p}"), err=True)
    for r in res["lifted"]:  # the backup is behind codes already printed: numbering continues above them
        typer.echo(t(f"Đã nâng {r['table']} {r['agency']} {r['key']}: {r['from']} → {r['to']} (mã đã in).",
                     f"Lifted {r['table']} {r['agency']} {r['key']}: {r['from']} → {r['to']} (codes already printed)."),
                   err=True)
    typer.echo(t(f"Đã khôi phục {res['database']} từ {backup} ({res['dossiers']} hồ sơ). Chạy 'onestop check' để đối chiếu kho lưu trữ.",
                 f"Restored {res['database']} from {backup} ({res['dossiers']} dossiers). Run 'onestop check' to compare with the archive."),
               err=True)
    typer.echo(res["database"])


@db_app.command("migrate-to")
def db_migrate_to(url: Optional[str] = typer.Argument(
        None, help="CSDL PostgreSQL trống đích, postgresql://người_dùng@máy:5432/tên_csdl (mặc định: "
                   "ONESTOP_DATABASE_URL). Mật khẩu: ~/.pgpass, đừng gõ trên dòng lệnh."),
        json_: bool = JSON):
    """Chuyển văn phòng một quầy (tệp SQLite của thư mục dữ liệu) sang một CSDL PostgreSQL trống.

    Chép mọi bảng trong một giao dịch (hồ sơ, thành phần, sự kiện, hàng đợi đồng bộ giữ nguyên trạng thái,
    lưu trữ, nhật ký, danh mục, bộ đếm mã), đối chiếu số dòng với nguồn; tệp SQLite giữ nguyên.
    Từ chối CSDL đích không trống (mã thoát 19).

    Move a one-desk office (the data home's SQLite file) into an empty PostgreSQL database, in one
    transaction, with counts checked against the source; the SQLite file is left untouched.

    Ví dụ / Example:  onestop db migrate-to postgresql://onestop_owner@db.office.lan/onestop
    """
    import sys

    from onestop.common import config
    from onestop import store
    from onestop.cli import state
    from onestop.common.errors import InvalidInput
    from onestop.common.output import emit, info
    from onestop.store import migrate

    cfg = config.load(officer=state.get("officer"))
    target = store.check_url(url.strip()) if url and url.strip() else store.database_url(cfg)
    if not target:
        raise InvalidInput(
            f"Cần địa chỉ CSDL đích: onestop db migrate-to postgresql://người_dùng@máy/tên_csdl (hoặc đặt {store.ENV}).",
            f"Give the target database: onestop db migrate-to postgresql://user@host/dbname (or set {store.ENV}).")
    shown = sys.stderr.isatty() and not json_
    report = migrate.migrate_to(cfg.db_path, target, cfg=cfg, desk=store.desk_name(cfg), officer=cfg.officer,
                                progress=(lambda t_, n: info(f"  {t_}: {n}")) if shown else None)
    rows = [{"table": r["table"] + ("" if r["table"] == r["source_table"] else f" ← {r['source_table']}"),
             "source": r["source"], "copied": r["copied"], "ok": "✓" if r["source"] == r["copied"] else "✗"}
            for r in report["tables"]]
    emit(rows, ["table", "source", "copied", "ok"], fmt="json" if json_ else "table", json_data=report,
         headers={"table": t("Bảng", "Table"), "source": t("Nguồn (SQLite)", "Source (SQLite)"),
                  "copied": t("Đã chép", "Copied"), "ok": ""})
    ob = report["outbox"]
    for r in report["raised_to_high_water"]:
        info(t(f"{r['table']} {r['agency']} {r['key']}: nâng từ {r['from']} lên {r['to']} (mã đã in, codes-issued.json).",
               f"{r['table']} {r['agency']} {r['key']}: raised from {r['from']} to {r['to']} (codes already printed, "
               "codes-issued.json)."))
    info(t(f"Đã chuyển {report['source']} sang {report['target']} (lược đồ {report['schema_version']}); hàng đợi "
           f"đồng bộ: {ob.get('pending', 0)} chờ gửi, {ob.get('done', 0)} đã gửi, {ob.get('failed', 0)} lỗi. "
           f"Tệp SQLite giữ nguyên (làm bản lưu). Tiếp theo: đặt {store.ENV} trên các quầy (docs/office.md).",
           f"Moved {report['source']} to {report['target']} (schema {report['schema_version']}); sync queue: "
           f"{ob.get('pending', 0)} pending, {ob.get('done', 0)} sent, {ob.get('failed', 0)} failed. The SQLite "
           f"file is unchanged (keep it as a backup). Next: set {store.ENV} on the desks (docs/office.md)."))


def _office_context():
    """The config and the office database; on SQLite a ConfigError (the desk's config is the office's)."""
    from onestop.common import config
    from onestop.intake import office
    from onestop.cli import state
    from onestop.common.errors import ConfigError

    cfg = config.load(officer=state.get("officer"))
    if not office.is_office(cfg):
        raise ConfigError(
            "Quầy này dùng tệp SQLite riêng: thiết lập nằm trong onestop.toml và calendar.toml của quầy. "
            "Lệnh 'onestop office' dành cho văn phòng nhiều quầy (ONESTOP_DATABASE_URL, xem docs/office.md).",
            "This desk uses its own SQLite file: its settings are its onestop.toml and calendar.toml. "
            "'onestop office' is for an office of several desks (ONESTOP_DATABASE_URL, see docs/office.md).")
    from onestop import store
    from onestop.store import postgres, settings

    # Not store.connect: a desk whose [agency] code disagrees is refused there, and this is how it is put right.
    pg = postgres.connect(store.database_url(cfg), desk=store.desk_name(cfg), officer=cfg.officer,
                          limits=store.session_limits(cfg))
    try:
        settings.apply(cfg, pg, strict=False)
    except BaseException:
        pg.close()
        raise
    return cfg, pg


@office_app.command("show")
def office_show(json_: bool = JSON, csv_: bool = CSV):
    """Thiết lập chung của văn phòng trong CSDL văn phòng, và giá trị khác (nếu có) trong cấu hình của quầy này.

    The office-wide settings stored in the office database, with this desk's own value where it differs.

    Ví dụ / Example:  onestop office show --json
    """
    from onestop.intake import office
    from onestop.common.output import emit

    cfg, db = _office_context()
    rows = office.show(cfg, db)
    table = [{"key": r["key"], "value": _setting_text(r["key"], r["value"]),
              "desk": "" if r["desk"] is None else _setting_text(r["key"], r["desk"]),
              "updated_at": r["updated_at"]} for r in rows]
    emit(table, ["key", "value", "desk", "updated_at"], fmt=fmt(json_, csv_), json_data=rows,
         headers={"key": t("Thiết lập", "Setting"), "value": t("Văn phòng", "Office"),
                  "desk": t("Quầy này (khác)", "This desk (differs)"), "updated_at": t("Cập nhật", "Updated")})


def _setting_text(key: str, value) -> str:
    import hashlib

    if key == "calendar":
        lines = sum(1 for ln in str(value).splitlines() if ln.strip().startswith("date"))
        return t(f"{lines} ngày quyết định", f"{lines} decided days") + \
            f" (sha1 {hashlib.sha1(str(value).encode()).hexdigest()[:8]})"
    return ",".join(value) if isinstance(value, list) else str(value)


@office_app.command("set")
def office_set(key: str = typer.Argument(..., help="agency.code, agency.name, counter.code_rule, counter.sessions, "
                                                     "counter.cutoff, calendar, archive.root… (onestop office show)."),
               value: str = typer.Argument(..., help="Giá trị mới; với calendar: đường dẫn tệp calendar.toml; với "
                                                     "counter.sessions: 07:00-11:30,13:30-17:00.")):
    """Đổi một thiết lập chung cho mọi quầy của văn phòng (ghi vào CSDL văn phòng).

    Change one office-wide setting for every desk (stored in the office database). The calendar is
    given as a calendar.toml file and checked before it is stored.

    Ví dụ / Example:  onestop office set calendar /etc/onestop/calendar.toml
    """
    from onestop.intake import office

    cfg, db = _office_context()
    res = office.set_value(cfg, db, key, value)
    typer.echo(t(f"Đã đặt {key} cho cả văn phòng: {_setting_text(key, res['old']) if res['old'] is not None else '-'} "
                 f"→ {_setting_text(key, res['new'])}.",
                 f"Set {key} for the whole office: {_setting_text(key, res['old']) if res['old'] is not None else '-'} "
                 f"→ {_setting_text(key, res['new'])}."), err=True)


@office_app.command("after-restore")
def office_after_restore(
        desk: Optional[list[str]] = typer.Option(None, "--desk", help="Một quầy nữa phải báo mã đã in (lặp lại được): "
                                                                     "quầy lắp sau bản sao lưu."),
        forget: Optional[list[str]] = typer.Option(None, "--forget", help="Thôi chờ một quầy không còn dùng (lặp lại được)."),
        scan: Optional[list[Path]] = typer.Option(None, "--scan", help="Thư mục nữa để tìm mã đã in (spool trên USB…)."),
        json_: bool = JSON):
    """Sau khi khôi phục CSDL văn phòng (pg_restore): nâng bộ đếm mã và số sổ lên trên mọi mã đã in.

    After the office database was restored: lift the code and book counters above every code found in
    the shared archive, this machine's forms, sync log and spool (and --scan folders), and hold new codes
    until every desk has reported its own high-water mark (codes-issued.json) by connecting once.
    Prints what was lifted and the desks still waited for. docs/office.md section 6.

    Ví dụ / Example:  onestop office after-restore --scan /media/usb/spool
    """
    from onestop.common.output import emit, info
    from onestop.store import home

    cfg, db = _office_context()
    if forget:
        res = home.forget(db, forget)
        res["lifted"] = []
    else:
        res = home.start_restore(cfg, db, desks=desk or (), scan=scan or ())
        res["lifted"] += home.report(cfg, db)
        res["waiting"] = home.waiting(db)  # this machine reported: it is no longer waited for
    rows = [dict(r, key=str(r["key"])) for r in res["lifted"]]
    emit(rows, ["table", "agency", "key", "from", "to", "source"], fmt="json" if json_ else "table", json_data=res,
         headers={"table": t("Bộ đếm", "Counter"), "agency": t("Cơ quan", "Agency"), "key": t("Ngày/năm", "Day/year"),
                  "from": t("Từ", "From"), "to": t("Lên", "To"), "source": t("Nguồn", "Source")})
    if not forget:
        info(t(f"Đã nâng {len(rows)} bộ đếm lên trên các mã đã in." if rows else "Không bộ đếm nào cần nâng.",
               f"Lifted {len(rows)} counters above the codes printed." if rows else "No counter needed lifting."))
    if res["waiting"]:
        info(t(f"Chưa cấp mã mới cho đến khi các quầy này kết nối một lần (lệnh bất kỳ): {', '.join(res['waiting'])}. "
               "Quầy không còn dùng: onestop office after-restore --forget \"TÊN QUẦY\".",
               f"No new code is issued until these desks connect once (any command): {', '.join(res['waiting'])}. "
               "A desk no longer in use: onestop office after-restore --forget \"DESK NAME\"."))
    else:
        info(t("Mọi quầy đã báo mã đã in: cấp mã tiếp được.", "Every desk has reported: codes are issued again."))


@app.command()
def demo(home: Optional[Path] = typer.Option(None, "--home", help="Thư mục dữ liệu demo (mặc định: ./.onestop-demo, làm mới)."),
         keep: bool = typer.Option(False, "--keep", help="Không xóa thư mục demo cũ.")):
    """Chạy thử công việc chính của quầy trên dữ liệu mẫu.

    Play the counter's main job on sample data in a fresh demo home.

    Ví dụ / Example:  onestop demo --home /tmp/onestop-demo
    """
    from onestop.samples.demo import run

    run(home or Path(".onestop-demo"), fresh=not keep)


@db_app.command("relocate-archive")
def db_relocate_archive(
    new: Path = typer.Argument(..., help="Thư mục mới của kho (đã chép đủ tệp vào đó)."),
    old: Optional[Path] = typer.Option(None, "--from", help="Thư mục cũ (mặc định: thư mục kho đang dùng)."),
    json_: bool = JSON,
):
    """Trỏ các bản số hóa sang thư mục kho mới sau khi đã chép kho sang đó (ví dụ thư mục chung của văn phòng).

    Point every archive row at the archive's new folder, after the files were copied there
    (rsync -a OLD/ NEW/). Every file must be there with its size, else nothing changes (exit 10).
    In an office the shared archive.root changes too (owner or supervisor); on one desk set
    [archive] root in onestop.toml afterwards. Then run 'onestop check'.

    Ví dụ / Example:  onestop db relocate-archive /srv/onestop-archive --from /home/canbo/.local/share/onestop/archive
    """
    from onestop.archive import files as archive
    from onestop.common.output import emit_json, info

    cfg, db = context()
    res = archive.relocate(db, cfg, new, old)
    if json_:
        emit_json(res)
    info(t(f"Đã trỏ {res['files']} bản số hóa từ {res['old']} sang {res['new']}.",
           f"Pointed {res['files']} archive files from {res['old']} to {res['new']}."))
    if res["config_to_change"]:
        info(t(f"Tiếp theo: đặt [archive] root = \"{res['new']}\" trong onestop.toml của quầy, rồi chạy 'onestop check'.",
               f"Next: set [archive] root = \"{res['new']}\" in the desk's onestop.toml, then run 'onestop check'."))
    else:
        info(t("Thiết lập chung archive.root của văn phòng đã đổi theo; chạy 'onestop check'.",
               "The office's archive.root setting changed with it; run 'onestop check'."))

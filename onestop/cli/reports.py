"""Supervisor commands: backlog, report, book (Mẫu 06), and the bench database generator."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, context, fmt
from onestop.common.i18n import t

SHOW_PERSONAL = typer.Option(False, "--show-personal",
                             help="Hiện đủ số giấy tờ và điện thoại (mặc định che); việc xem được ghi lại.")


def _day(text: str | None, cfg, opt: str):
    from onestop.common.errors import InvalidInput

    if not text:
        from onestop.intake.dossiers import now

        return now(cfg).date()
    from onestop.common.dates import DAY_FORMATS_EN, DAY_FORMATS_VI, parse_day

    day = parse_day(text)
    if day is None:
        raise InvalidInput(f"{opt} '{text}' không hợp lệ: dùng {DAY_FORMATS_VI}.",
                           f"{opt} '{text}' is invalid: use {DAY_FORMATS_EN}.")
    return day


XLSX = typer.Option(None, "--xlsx", help="Ghi ra tệp Excel (.xlsx) này: tiêu đề tiếng Việt, ngày giờ và số thật.")


def _written(path) -> None:
    from onestop.common.output import info

    info(t(f"Đã ghi tệp Excel: {path}", f"Excel file written: {path}"))


def _tsv(cells) -> None:
    sys.stdout.write("\t".join("" if c is None else str(c) for c in cells) + "\n")


@app.command()
def backlog(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Ngày tính (YYYY-MM-DD hoặc dd/mm/yyyy); mặc định hôm nay."),
    procedure: Optional[str] = typer.Option(None, "--procedure", "-p", help="Chỉ một thủ tục (mã N.NNNNNN)."),
    field: Optional[str] = typer.Option(None, "--field", help="Chỉ một lĩnh vực (mã, vd. G13-KH01)."),
    officer: Optional[str] = typer.Option(None, "--officer", help="Chỉ hồ sơ do cán bộ này tiếp nhận."),
    overdue: bool = typer.Option(False, "--overdue", help="Với --csv: in danh sách hồ sơ quá hạn thay cho số liệu tổng hợp."),
    limit: int = typer.Option(0, "--limit", help="Số hồ sơ quá hạn tối đa trong danh sách (0 = tất cả)."),
    fees_outstanding: bool = typer.Option(False, "--fees-outstanding", help="Thay cho số liệu: danh sách hồ sơ còn phí, lệ phí chưa nộp (docs/fees.md)."),
    show_personal: bool = SHOW_PERSONAL,
    xlsx: Optional[str] = XLSX,
    json_: bool = JSON, csv_: bool = CSV,
):
    """Hồ sơ tồn đọng: chưa kết thúc (2, 4, 5, 6) theo trạng thái; quá hạn, đến hạn hôm nay, sắp đến hạn.

    The backlog: open dossiers by status, counts overdue / due today / due within 3 working days,
    and the overdue ones oldest first with days late (working days). Fields: docs/reports.md.

    Ví dụ / Example:  onestop backlog --as-of 2026-11-30 --json | jq .overdue
    """
    from onestop.reports import figures as reports
    from onestop.common.output import console, emit_csv, emit_json

    cfg, db = context()
    if fees_outstanding:  # the dossiers still owing fees, newest first (the list's columns + fees_outstanding)
        from onestop.common.output import emit
        from onestop.intake.lookup import LIST_COLUMNS, list_dossiers

        emit(list_dossiers(db, cfg, limit=limit, fees_outstanding=True), [*LIST_COLUMNS, "fees_outstanding"],
             fmt=fmt(json_, csv_),
             title=t("Hồ sơ còn phí, lệ phí chưa nộp", "Dossiers owing fees"))
        return
    day = _day(as_of, cfg, "--as-of")
    b = reports.backlog(db, cfg, day, reports.BacklogFilter(procedure, field, officer),
                        show_personal=show_personal, list_limit=limit)
    if show_personal and b["overdue_list"]:
        reports.record_personal_access(db, cfg, "backlog", f"as_of={b['as_of']} rows={len(b['overdue_list'])}")
    if xlsx:
        from onestop.common import xlsx as xlsx_

        path = xlsx_.write(xlsx, [
            (t("Theo trạng thái", "By status"), xlsx_.BACKLOG_STATUS, b["by_status"]),
            (t("Theo thủ tục", "By procedure"), xlsx_.BACKLOG_PROCEDURE, b["by_procedure"]),
            (t("Quá hạn", "Overdue"), xlsx_.OVERDUE, b["overdue_list"]),
        ])
        _written(path)
        if not (json_ or csv_):
            return
    mode = fmt(json_, csv_)
    if mode == "json":
        emit_json(b)
    elif mode == "csv":
        if overdue:
            emit_csv(b["overdue_list"], reports.OVERDUE_COLUMNS)
        else:
            emit_csv(reports.backlog_figures(b), ["figure", "key", "value"])
    elif sys.stdout.isatty():
        reports.render_backlog(b, console(), list_rows=limit or 20)
    else:
        _tsv(["status", t("Trạng thái", "Status"), t("Số hồ sơ", "Count"), t("Quá hạn", "Overdue"),
              t("Đến hạn hôm nay", "Due today"), t("Sắp đến hạn", "Due soon")])
        for s in b["by_status"]:
            _tsv([s[k] for k in reports.BACKLOG_STATUS_COLUMNS])
        _tsv(["", t("Tổng", "Total"), b["total"], b["overdue"], b["due_today"], b["due_soon"]])
        _tsv([])
        _tsv([t("Mã TTHC", "Procedure"), t("Tên thủ tục", "Name"), t("Số hồ sơ", "Count"), t("Quá hạn", "Overdue"),
              t("Đến hạn hôm nay", "Due today"), t("Sắp đến hạn", "Due soon")])
        for p in b["by_procedure"]:
            _tsv([p[k] for k in reports.BACKLOG_PROCEDURE_COLUMNS])
        _tsv([])
        _tsv(reports.OVERDUE_COLUMNS)
        for r in b["overdue_list"]:
            _tsv([r[k] for k in reports.OVERDUE_COLUMNS])
        if b["rescan"]:
            _tsv([])
            _tsv(["code", "component", "page", "reasons"])
            for r in b["rescan"]:
                _tsv([r["code"], r["component"], r["page"], ",".join(r["reasons"])])


@app.command()
def report(
    period: Optional[str] = typer.Option(None, "--period", help="Kỳ báo cáo: YYYY-MM (tháng) hoặc YYYY (năm)."),
    from_: Optional[str] = typer.Option(None, "--from", help="Từ ngày (YYYY-MM-DD hoặc dd/mm/yyyy), dùng cùng --to."),
    to: Optional[str] = typer.Option(None, "--to", help="Đến ngày (YYYY-MM-DD hoặc dd/mm/yyyy), tính cả ngày này."),
    html: Optional[str] = typer.Option(None, "--html", help="Ghi trang HTML tự chứa (bảng + biểu đồ SVG, in khổ A4) vào tệp này."),
    xlsx: Optional[str] = XLSX,
    json_: bool = JSON, csv_: bool = CSV,
):
    """Báo cáo tình hình giải quyết TTHC trong kỳ (mẫu quốc gia, QĐ 766/QĐ-TTg).

    The period report: carried over, received by channel, resolved early / on time / late,
    in progress at the end, stopped, digitization and sync rates, average working days per procedure.

    Ví dụ / Example:  onestop report --period 2026-11 --html bao-cao-11-2026.html
    """
    from onestop.reports import figures as reports
    from onestop.common.output import console, emit_csv, emit_json, info

    cfg, db = context()
    # --from/--to in any of the day forms (onestop/common/dates.py), handed on as ISO
    first, last = reports.parse_period(period, _day(from_, cfg, "--from").isoformat() if from_ else from_,
                                       _day(to, cfg, "--to").isoformat() if to else to)
    r = reports.period_report(db, cfg, first, last)
    if html:
        from pathlib import Path

        from onestop.intake.dossiers import iso, now
        from onestop.common.errors import StorageError

        from onestop.common.files import write_atomic

        p = Path(html)
        try:
            write_atomic(p, reports.report_html(r, cfg, generated_at=iso(now(cfg))).encode("utf-8"))
        except OSError as e:
            raise StorageError(f"Không ghi được {p}: {e}. Kiểm tra thư mục và dung lượng đĩa.",
                               f"Cannot write {p}: {e}. Check the folder and free disk space.") from e
        info(t(f"Đã ghi báo cáo HTML: {p}", f"HTML report written: {p}"))
        if not (json_ or csv_ or xlsx):
            return
    if xlsx:
        from onestop.common import xlsx as xlsx_
        from onestop.common.dates import show_day

        def raw(k):  # the number behind a formatted line ("received_by_channel.1" → its count)
            if k.startswith("fees."):  # the fee figures (onestop/reports/fees.py): đồng, counts, shares
                from onestop.reports import fees

                return fees.raw(r["fees"], k[5:])
            return r["received_by_channel"][k.split(".", 1)[1]] if k.startswith("received_by_channel.") else r[k]

        # The period first (a workbook passed on by mail must say what it covers), then the figures;
        # sub-rows indented in their cell so the two "Quá hạn" read as parts of different figures.
        summary = [{"figure": "from", "label": t("Từ ngày", "From"), "value": r["from"]},
                   {"figure": "to", "label": t("Đến ngày", "To"), "value": r["to"]}]
        summary += [{"figure": k, "label": label.strip(), "value": raw(k), "_indent": len(label) - len(label.lstrip()),
                     "_percent": k.endswith("_rate") or k.endswith("_target")} for k, label, _ in reports.report_lines(r)]
        path = xlsx_.write(xlsx, [
            (t("Tổng hợp", "Summary"), [("label", "Chỉ tiêu", "Figure"), ("value", "Giá trị", "Value"),
                                        ("figure", "Mã chỉ tiêu", "Key")], summary),
            (t("Theo thủ tục", "By procedure"), xlsx_.REPORT_PROCEDURE, r["by_procedure"]),
        ], caption=t(f"Báo cáo tình hình giải quyết TTHC từ {show_day(r['from'])} đến {show_day(r['to'])}",
                     f"Processing report {show_day(r['from'])} – {show_day(r['to'])}"))
        _written(path)
        if not (json_ or csv_):
            return
    mode = fmt(json_, csv_)
    if mode == "json":
        emit_json(r)
    elif mode == "csv":
        emit_csv(reports.report_figures(r), ["figure", "key", "value"])
    elif sys.stdout.isatty():
        reports.render_report(r, console())
    else:
        for k, label, v in reports.report_lines(r):
            _tsv([k, label.strip(), v])
        _tsv([])
        _tsv(reports.REPORT_PROCEDURE_COLUMNS)
        for p in r["by_procedure"]:
            _tsv([reports.fmt_value(k, p[k]) for k in reports.REPORT_PROCEDURE_COLUMNS])


@app.command()
def book(
    year: Optional[int] = typer.Option(None, "--year", help="Năm của sổ (mặc định năm nay)."),
    from_: Optional[str] = typer.Option(None, "--from", help="Từ ngày nhận (YYYY-MM-DD hoặc dd/mm/yyyy)."),
    to: Optional[str] = typer.Option(None, "--to", help="Đến ngày nhận (YYYY-MM-DD hoặc dd/mm/yyyy)."),
    pdf: Optional[str] = typer.Option(None, "--pdf", help="Ghi sổ ra tệp PDF khổ A4 này."),
    show_personal: bool = SHOW_PERSONAL,
    json_: bool = JSON, csv_: bool = CSV,
):
    """Sổ theo dõi hồ sơ (Mẫu 06): mỗi hồ sơ một dòng, theo số thứ tự trong năm.

    The tracking book (Mẫu 06) for a year or a range of receipt dates, as rows or an A4 PDF.

    Ví dụ / Example:  onestop book --year 2026 --pdf so-theo-doi-2026.pdf
    """
    from onestop.reports import book as book_mod
    from onestop.reports import figures as reports
    from onestop.common.output import emit, info

    cfg, db = context()
    if year is None and not from_:
        from onestop.intake.dossiers import now

        year = now(cfg).year
    first = _day(from_, cfg, "--from") if from_ else None
    last = _day(to, cfg, "--to") if to else None
    rows = book_mod.book_rows(db, cfg, year=year, first=first, last=last, show_personal=show_personal)
    if show_personal and rows:
        reports.record_personal_access(db, cfg, "book", f"year={year} from={from_} to={to} rows={len(rows)}")
    if pdf:
        path = book_mod.render_book(rows, cfg, pdf, year=year, first=first, last=last)
        info(t(f"Đã ghi sổ theo dõi (Mẫu 06): {path} — {len(rows)} hồ sơ", f"Tracking book (Mẫu 06): {path} — {len(rows)} dossiers"))
        if not (json_ or csv_):
            return
    emit(rows, book_mod.BOOK_COLUMNS, fmt=fmt(json_, csv_), headers=book_mod.BOOK_HEADERS,
         title=t("Sổ theo dõi hồ sơ", "Tracking book"))


@app.command(hidden=True)
def generate(
    path: str = typer.Argument(..., help="Tệp cơ sở dữ liệu mới (bị ghi đè), hoặc URL postgresql:// của một CSDL mới, trống."),
    dossiers_: int = typer.Option(1_000_000, "--dossiers", help="Số hồ sơ."),
    events: int = typer.Option(5_000_000, "--events", help="Số sự kiện (xấp xỉ)."),
    end: str = typer.Option("2026-11-30", "--end", help="Ngày tiếp nhận cuối cùng."),
    months: int = typer.Option(24, "--months", help="Số tháng dữ liệu."),
    seed: int = typer.Option(7, "--seed"),
):
    """Sinh cơ sở dữ liệu lớn để đo hiệu năng (P7): hồ sơ, sự kiện, outbox, thành phần.

    Generate a large test database for the P7 bench.

    Ví dụ / Example:  onestop generate /tmp/p7.db --dossiers 1000000 --events 5000000
    """
    from datetime import date

    from onestop.common import config
    from onestop.samples import generate as gen
    from onestop.common.output import info

    cfg = config.load()
    stats = gen.generate(path, cfg, dossiers=dossiers_, events=events, end=date.fromisoformat(end),
                         months=months, seed=seed, progress=info)
    info(t(f"Đã sinh {stats['dossiers']} hồ sơ, {stats['events']} sự kiện trong {stats['seconds']:.1f} s: {stats['path']}",
           f"Generated {stats['dossiers']} dossiers, {stats['events']} events in {stats['seconds']:.1f} s: {stats['path']}"))

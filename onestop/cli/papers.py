"""``onestop papers ID``: a person's or a business's papers and results already digitized in this
office (issue 21, docs/reuse.md), and the offer of them at an interactive ``receive``."""

from __future__ import annotations

from typing import List, Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, fmt
from onestop.common.i18n import t

COLUMNS = ["id_number", "ref", "kind", "name", "component_code", "result_code", "document_number", "date",
           "valid_until", "expiry_source", "valid", "pages"]


def _describe(p, day) -> str:
    """One offered paper on a line: reference, name, number, date and validity."""
    number = f", {t('số', 'no.')} {p.document_number}" if p.document_number else ""
    until = (t(f"hiệu lực đến {p.valid_until}", f"valid until {p.valid_until}") if p.valid_until
             else t("không thời hạn", "no expiry known"))
    kind = t("kết quả", "result") if p.kind == "2" else t("giấy tờ", "paper")
    return f"{p.ref}  [{kind}] {p.name}{number}, {t('ngày', 'dated')} {p.day}, {until}"


def offers_at_counter(db, cfg, proc, id_number: str, day) -> dict:
    """What each component of ``proc`` may reuse for this applicant (intake.reuse.offers); {} when
    the applicant has nothing digitized here. The receive prompt asks about them."""
    from onestop.intake import reuse

    return reuse.offers(db, cfg, id_number, proc.components, day)


def ask_reuse(comp, offered: list, ask, day) -> str | None:
    """Offer a component's digitized papers at the prompt; the reference picked, or None (take the paper)."""
    from onestop.cli.prompts import say

    say(t("     Đã số hóa trước đây tại cơ quan:", "     Digitized here before:"))
    for i, p in enumerate(offered[:9], 1):
        say(f"       {i}) {_describe(p, day)}")
    pick = ask.number(t("     Dùng lại bản số (0 = không, nhận bản giấy)", "     Reuse number (0 = no, take the paper)"),
                      0, min(len(offered), 9), default=1)
    return offered[pick - 1].ref if pick else None


@app.command()
def papers(
    id_: str = typer.Argument(..., metavar="ID", help="Số định danh cá nhân, CMND, mã số doanh nghiệp hoặc hộ chiếu."),
    id_type: Optional[str] = typer.Option(None, "--id-type", help="cccd | cmnd | mst | passport (mặc định: tự nhận)."),
    expiry: List[str] = typer.Option([], "--expiry", help="Ghi ngày hết hạn của giấy tờ: MÃHỒSƠ/N=YYYY-MM-DD (hoặc =none để xóa); lặp lại được."),
    valid_only: bool = typer.Option(False, "--valid", help="Chỉ giấy tờ còn hiệu lực (những gì receive sẽ đề nghị dùng lại)."),
    json_: bool = JSON, csv_: bool = CSV,
):
    """Giấy tờ và kết quả đã số hóa của một người / doanh nghiệp tại cơ quan (số giấy tờ được che; việc tra cứu được ghi lại).

    A person's or business's digitized papers and results in this office, each with its reference
    (for receive --reuse), date, document number and validity. The ID is masked in the output; the
    look-up is recorded in personal_access like --show-personal.

    Ví dụ / Example:  onestop papers 001085012345 --json

      onestop papers 001085012345 --expiry 000.00.12.H26-261122-0001/2=2031-08-15
    """
    from onestop.cli.common import context
    from onestop.common.dates import DAY_FORMATS_EN, DAY_FORMATS_VI, parse_day
    from onestop.common.errors import InvalidInput
    from onestop.common.output import console, emit_csv, emit_json, info
    from onestop.domain.masking import mask_id
    from onestop.intake import reuse
    from onestop.intake.applicants import check_applicant_field
    from onestop.intake.clock import now
    from onestop.reports.figures import record_personal_access

    cfg, db = context()
    today = now(cfg).date()
    number = check_applicant_field("id", id_, id_type=id_type, today_year=today.year)
    masked = mask_id(number)
    for item in expiry:
        ref, sep, value = item.rpartition("=")
        if not sep or not ref.strip():
            raise InvalidInput(f"--expiry '{item}' cần dạng MÃHỒSƠ/N=YYYY-MM-DD.", f"--expiry '{item}' must be CODE/N=YYYY-MM-DD.")
        until = None if value.strip().lower() == "none" else parse_day(value)
        if until is None and value.strip().lower() != "none":
            raise InvalidInput(f"--expiry '{item}': ngày '{value}' không hợp lệ, dùng {DAY_FORMATS_VI}.",
                               f"--expiry '{item}': the day '{value}' is invalid, use {DAY_FORMATS_EN}.")
        p = reuse.set_expiry(db, cfg, number, ref, until)
        info(t(f"Đã ghi ngày hết hạn của {p.ref}: {until or 'không'}", f"Expiry of {p.ref} set: {until or 'none'}"))
    found = reuse.papers(db, cfg, number)
    if valid_only:
        found = [p for p in found if p.valid_on(today)]
    rows = [dict(p.public(today), id_number=masked) for p in found]
    record_personal_access(db, cfg, "papers", f"id={masked} rows={len(rows)}")
    mode = fmt(json_, csv_)
    if mode == "json":
        emit_json({"id_number": masked, "papers": rows})
        return
    if mode == "csv":
        emit_csv(rows, COLUMNS)
        return
    if not rows:
        info(t(f"Chưa có giấy tờ nào đã số hóa của {masked} tại cơ quan.", f"Nothing digitized for {masked} in this office."))
        return
    from rich.markup import escape
    from rich.table import Table

    from onestop.common.output import cell

    tb = Table(title=t(f"Giấy tờ đã số hóa của {masked}", f"Digitized papers of {masked}"))
    for h in (t("Tham chiếu", "Reference"), t("Loại", "Kind"), t("Tên giấy tờ", "Name"), t("Số ký hiệu", "Number"),
              t("Ngày", "Date"), t("Hiệu lực đến", "Valid until"), t("Trang", "Pages")):
        tb.add_column(h)
    for r in rows:
        tb.add_row(escape(r["ref"]), t("kết quả", "result") if r["kind"] == "result" else t("giấy tờ", "paper"),
                   escape(cell(r["name"])), escape(cell(r["document_number"])), r["date"],
                   (r["valid_until"] or "—") + ("" if r["valid"] else t(" (hết hạn)", " (expired)")), str(r["pages"]))
    console().print(tb)

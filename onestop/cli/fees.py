"""Fee commands (issue 20, docs/fees.md): ``pay`` (a payment or, with --refund, a refund) and
``fees report`` (the ledger an accountant reconciles with the receipt books)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, context, fmt
from onestop.common.i18n import t

fees_app = typer.Typer(help="Sổ thu phí, lệ phí (the fee ledger).\n\nVí dụ / Example:  onestop fees report --period 2026-11 --csv",
                       no_args_is_help=True, rich_markup_mode=None)
app.add_typer(fees_app, name="fees")


@app.command()
def pay(code: str = typer.Argument(..., help="Mã hồ sơ (hoặc phần cuối)."),
        method: str = typer.Option("tien-mat", "--method", help="Hình thức thu: tien-mat | chuyen-khoan | truc-tuyen."),
        amount: Optional[str] = typer.Option(None, "--amount", help="Số tiền (đồng); mặc định: toàn bộ số còn phải nộp (khi hoàn: toàn bộ số đã nộp)."),
        receipt: str = typer.Option("", "--receipt", help="Số biên lai như in trên biên lai: \"mẫu số/ký hiệu/số\" (bắt buộc khi thu tiền mặt, chuyển khoản)."),
        fee: Optional[str] = typer.Option(None, "--fee", help="Chỉ một khoản phí (số thứ tự hoặc mã như 'show' liệt kê)."),
        refund: Optional[str] = typer.Option(None, "--refund", help="Hoàn tiền với lý do này (thay cho thu tiền)."),
        at: Optional[str] = typer.Option(None, "--at", help="Thời điểm \"YYYY-MM-DD HH:MM\" hoặc \"dd/mm/yyyy HH:MM\"; mặc định: bây giờ."),
        json_: bool = JSON):
    """Ghi nhận nộp phí, lệ phí của hồ sơ (hoặc hoàn tiền với --refund): dòng sổ thu và sự kiện lịch sử.

    Record a payment of a dossier's fees (or a refund with --refund "reason"): amount (default: what
    is owed), method, the official receipt's number, unique in its series. Refused (exit 25): more than
    owed, fees already paid, a refund above what was paid; a receipt number already used: exit 26.
    A dossier waiting in status 6 for its fees moves on to 4 once they are paid.

    Ví dụ / Example:  onestop pay 0007 --method tien-mat --receipt "01BLP2-001/AA-26P/0000123"
    """
    from onestop.common.output import emit_json, info, money
    from onestop.domain.fees import money_input
    from onestop.domain.states import status_name
    from onestop.intake import fees
    from onestop.intake.clock import parse_when

    cfg, db = context()
    from onestop.cli.common import at_terminal

    if not receipt and refund is None and method != "truc-tuyen" and at_terminal() and not json_:
        from onestop.cli.prompts import Prompter
        from onestop.domain.fees import parse_receipt

        receipt = Prompter().text(t("Số biên lai (mẫu số/ký hiệu/số, như in trên biên lai)",
                                    "Receipt number (form/symbol/number, as printed)"),
                                  required=True, check=lambda v: parse_receipt(v)[2])
    res = fees.pay(db, cfg, code, method=method, amount=money_input(amount, "--amount", "--amount") if amount else None,
                   receipt=receipt, fee=fee, refund=refund, at=parse_when(at, cfg) if at else None)
    if json_:
        emit_json(res)
        return
    typer.echo(res["code"])
    if res["entry"] == "refund":
        info(t(f"Đã hoàn {money(res['amount'])} ({res['reason']}). Còn phải nộp: {money(res['outstanding'])}.",
               f"Refunded {money(res['amount'])} ({res['reason']}). Still owed: {money(res['outstanding'])}."))
    else:
        info(t(f"Đã thu {money(res['amount'])}" + (f", biên lai {res['receipt']}" if res["receipt"] else "")
               + f". Còn phải nộp: {money(res['outstanding'])}.",
               f"Collected {money(res['amount'])}" + (f", receipt {res['receipt']}" if res["receipt"] else "")
               + f". Still owed: {money(res['outstanding'])}."))
    if res["status"] != res["previous_status"]:
        info(t(f"Hồ sơ chuyển sang trạng thái {res['status']} ({status_name(res['status'])}).",
               f"The dossier moved to status {res['status']} ({status_name(res['status'], 'en')})."))


@fees_app.command("report")
def report(period: Optional[str] = typer.Option(None, "--period", help="Kỳ: YYYY-MM (tháng) hoặc YYYY (năm)."),
           from_: Optional[str] = typer.Option(None, "--from", help="Từ ngày (YYYY-MM-DD hoặc dd/mm/yyyy), dùng cùng --to."),
           to: Optional[str] = typer.Option(None, "--to", help="Đến ngày (YYYY-MM-DD hoặc dd/mm/yyyy), tính cả ngày này."),
           xlsx: Optional[str] = typer.Option(None, "--xlsx", help="Ghi sổ ra tệp Excel (.xlsx) này: các dòng và tổng theo ngày."),
           json_: bool = JSON, csv_: bool = CSV):
    """Sổ thu phí, lệ phí trong kỳ: mọi khoản thu và hoàn theo thứ tự, kèm số biên lai; tổng theo ngày.

    The fee ledger of a period: every payment and refund in order with its receipt number (a refund
    negative), the totals per day and for the period; the accountant reconciles it with the receipt
    books. Its totals equal the fee figures of `onestop report` to the đồng.

    Ví dụ / Example:  onestop fees report --period 2026-11 --xlsx so-thu-phi-11-2026.xlsx
    """
    from onestop.common.output import console, emit_csv, emit_json, money
    from onestop.reports import fees
    from onestop.reports.figures import parse_period

    cfg, db = context()
    first, last = parse_period(period, _iso_day(from_, "--from"), _iso_day(to, "--to"))
    led = fees.ledger(db, cfg, first, last)
    if xlsx:
        from onestop.common import xlsx as xlsx_
        from onestop.common.output import info

        path = xlsx_.write(xlsx, [(t("Sổ thu", "Ledger"), fees.LEDGER_COLUMNS, led["lines"]),
                                  (t("Theo ngày", "By day"), fees.DAY_COLUMNS,
                                   led["days"] + [dict(led["total"], day=t("Tổng", "Total"))])],
                           caption=t(f"Sổ thu phí, lệ phí từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}",
                                     f"Fee ledger {first:%Y-%m-%d} – {last:%Y-%m-%d}"))
        info(t(f"Đã ghi tệp Excel: {path}", f"Excel file written: {path}"))
        if not (json_ or csv_):
            return
    mode = fmt(json_, csv_)
    if mode == "json":
        emit_json(led)
    elif mode == "csv":
        emit_csv(led["lines"], [c for c, _, _ in fees.LEDGER_COLUMNS])
    else:
        c = console() if sys.stdout.isatty() else None
        rows = [[r["at"][:16].replace("T", " "), r["code"], r["fee_code"], r["entry"], r["method"], r["receipt"],
                 money(r["amount"])] for r in led["lines"]]
        days = [[d["day"], money(d["collected"]), money(d["refunded"]), money(d["net"])] for d in led["days"]]
        total = [t("Tổng", "Total"), money(led["total"]["collected"]), money(led["total"]["refunded"]),
                 money(led["total"]["net"])]
        if c is not None:
            from rich.table import Table

            tb = Table(title=t(f"Sổ thu phí, lệ phí {first:%d/%m/%Y} – {last:%d/%m/%Y}",
                               f"Fee ledger {first:%Y-%m-%d} – {last:%Y-%m-%d}"))
            for h in (t("Thời điểm", "Time"), t("Mã hồ sơ", "Code"), t("Mã phí", "Fee"), t("Nghiệp vụ", "Entry"),
                      t("Hình thức", "Method"), t("Biên lai", "Receipt"), t("Số tiền", "Amount")):
                tb.add_column(h)
            for r in rows:
                tb.add_row(*r)
            c.print(tb)
            td = Table(title=t("Theo ngày", "By day"))
            for h in (t("Ngày", "Day"), t("Đã thu", "Collected"), t("Hoàn trả", "Refunded"), t("Thực thu", "Net")):
                td.add_column(h, justify="right")
            for r in days + [total]:
                td.add_row(*r)
            c.print(td)
        else:  # a pipe: tab-separated lines under their headers, as every table of onestop
            heads = [t("Thời điểm", "Time"), t("Mã hồ sơ", "Code"), t("Mã phí", "Fee"), t("Nghiệp vụ", "Entry"),
                     t("Hình thức", "Method"), t("Biên lai", "Receipt"), t("Số tiền", "Amount")]
            day_heads = [t("Ngày", "Day"), t("Đã thu", "Collected"), t("Hoàn trả", "Refunded"), t("Thực thu", "Net")]
            for r in [heads] + rows + [[]] + [day_heads] + days + [total]:
                sys.stdout.write("\t".join(r) + "\n")



def _iso_day(text: str | None, opt: str) -> str | None:
    """A day typed in any of the day forms (onestop/common/dates.py), as ISO; None stays None."""
    if not text:
        return text
    from onestop.common.dates import DAY_FORMATS_EN, DAY_FORMATS_VI, parse_day
    from onestop.common.errors import InvalidInput

    day = parse_day(text)
    if day is None:
        raise InvalidInput(f"{opt} '{text}' không hợp lệ: dùng {DAY_FORMATS_VI}.", f"{opt} '{text}' is invalid: use {DAY_FORMATS_EN}.")
    return day.isoformat()

"""Counter commands on a received dossier: show, list, move, reschedule, amend, print."""

from __future__ import annotations

from typing import List, Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, code_for_change, confirm_or_stop, context, fmt, at_terminal, print_pdf
from onestop.common.i18n import t


@app.command()
def show(code: str = typer.Argument(..., help="Mã hồ sơ, hoặc phần cuối của mã (vd. 0007 cho hồ sơ số 7 hôm nay)."),
         json_: bool = JSON,
         show_personal: bool = typer.Option(False, "--show-personal/--mask",
                                            help="Hiện đủ số giấy tờ và điện thoại (mặc định: che); việc xem được ghi lại.")):
    """Xem một hồ sơ: thông tin, thành phần, lịch sử xử lý (số giấy tờ, điện thoại được che).

    Show a dossier with its components and history; ID and phone numbers are masked unless
    --show-personal, which is recorded in personal_access.

    Ví dụ / Example:  onestop show 000.00.12.H26-261122-0001 --json
    """
    from rich.markup import escape

    from onestop.intake import lookup
    from onestop.cli.common import status_label
    from onestop.common.output import cell, console, emit_json, local_time

    cfg, db = context()
    d = lookup.show(db, cfg, code)
    from onestop.intake.fees import fees_of

    ledger = fees_of(db, d["id"])  # issue 20: due, paid, method, receipt, exemption per fee (docs/fees.md)
    if ledger["items"]:
        d["fees"], d["fee_entries"] = ledger.pop("items"), ledger.pop("entries")
        d["fee_totals"] = ledger
    if show_personal:
        from onestop.reports.figures import record_personal_access

        record_personal_access(db, cfg, "show", d["code"])
    else:
        from onestop.domain.masking import mask_id, mask_phone

        d["id_number"], d["phone"] = mask_id(d["id_number"]), mask_phone(d["phone"])
        d["events"] = lookup.mask_history(d["events"])
    if json_:
        emit_json(d)
        return
    c = console()
    s = lambda v: escape(cell(v))  # noqa: E731 - stored text is never markup, nor escape codes
    c.print(f"[bold]{s(d['code'])}[/bold]  {s(d['procedure_code'])} {s(d['procedure_name'])}")
    c.print(f"{t('Người nộp', 'Applicant')}: {s(d['applicant_name'])} ({s(d['id_number'])})  {s(d['phone'])}  {s(d['address'])}")
    if d.get("case_name"):
        c.print(f"{t('Trường hợp', 'Case')}: {s(d['case_name'])}")
    c.print(f"{t('Trạng thái', 'Status')}: {status_label(d['status'])}")
    if d.get("portal_id"):
        c.print(f"{t('Kênh', 'Channel')}: {t('trực tuyến', 'online')} ({t('mã trên cổng', 'portal id')} {s(d['portal_id'])})")
    c.print(f"{t('Tiếp nhận', 'Received')}: {local_time(d['received_at'])}   {t('Hẹn trả', 'Due')}: {local_time(d['due_at'])}"
            + (f"  ({t('hẹn ban đầu', 'originally')} {local_time(d['original_due_at'])})"
               if d["original_due_at"] != d["due_at"] else ""))
    from rich.table import Table

    tb = Table(title=t("Thành phần hồ sơ", "Components"))
    for h in ("#", t("Tên giấy tờ", "Name"), t("Chính", "Orig."), t("Sao", "Copies"), t("Trang", "Pages"), t("Đã nhận", "Received"), t("Số hóa", "Digitized")):
        tb.add_column(h)
    for r in d["components"]:
        # A conditional paper that does not apply is not missing: say so rather than ✗.
        got = "✓" if r["received"] else t("không áp dụng", "n/a") if r.get("applies") == 0 else "✗"
        tb.add_row(str(r["n"]), s(r["name"]), str(r["originals"]), str(r["copies"]), str(r["pages"]),
                   got, "✓" if r["digitized"] else "")
    c.print(tb)
    if d.get("fee_totals"):
        _print_fees(c, d, s)
    for r in d.get("results") or []:
        gone = "" if r["state"] == "current" else t(" (đã thay)", " (replaced)")
        c.print(t(f"Kết quả {r['n']}: {s(r['result_name'])} — {r['pages']} trang — {s(r['path'])}{gone}",
                  f"Result {r['n']}: {s(r['result_name'])} — {r['pages']} page(s) — {s(r['path'])}{gone}"))
        if r.get("signature") and r["state"] == "current":
            c.print(f"  {t('Kết quả', 'Result')} {r['n']}: {_signature_line(r['signature'])}")
    reusing = {r["n"] for r in d["components"] if r["digitized"] in (2, 3)}  # not since replaced by a scan
    for u in d.get("reused") or []:
        if u["n"] in reusing:
            src = f"{u['source_code']}/" + (f"KQ{-u['source_n']}" if u["source_n"] < 0 else str(u["source_n"]))
            c.print(t(f"  TP {u['n']}: dùng lại {s(src)} — {s(u['path'])}", f"  #{u['n']}: reuses {s(src)} — {s(u['path'])}"))
    for r in d["components"]:
        for f in r.get("files") or []:
            if f["state"] == "current":
                c.print(f"  TP {r['n']}: {_signature_line(f['signature'])}")
        if r.get("document_number"):
            c.print(t(f"  TP {r['n']}: số ký hiệu {s(r['document_number'])}, ngày {s(r['document_date'] or '?')}, "
                      f"cơ quan {s(r['issuer'])}", f"  #{r['n']}: document number {s(r['document_number'])}, dated "
                      f"{s(r['document_date'] or '?')}, issuer {s(r['issuer'])}"))
        if r.get("document_check"):
            c.print(f"  TP {r['n']}: [yellow]{s(r['document_check'])}[/yellow]")
        if r.get("rescan_pages"):
            c.print(t(f"  TP {r['n']}: [yellow]trang {', '.join(map(str, r['rescan_pages']))} khó đọc, cần quét lại[/yellow]",
                      f"  #{r['n']}: [yellow]page(s) {', '.join(map(str, r['rescan_pages']))} hard to read, to rescan[/yellow]"))
    te = Table(title=t("Lịch sử", "History"))
    for h in (t("Thời điểm", "When"), t("Cán bộ", "Officer"), t("Nội dung", "What"), t("Trạng thái", "Status")):
        te.add_column(h)
    for e in d["events"]:
        moved = (f"{status_label(e['status_from'])} → {status_label(e['status_to'])}" if e["status_from"]
                 and e["status_from"] != e["status_to"] else status_label(e["status_to"]))
        te.add_row(local_time(e["at"]), s(e["officer"]), s(e["note"] or e["action"]), moved)
    c.print(te)


def _print_fees(c, d: dict, s) -> None:
    """The fee lines of `show`: each fee due, paid, how, receipts, exemption; the totals."""
    from rich.table import Table

    from onestop.common.output import money
    from onestop.domain.fees import KINDS, METHODS

    tf = Table(title=t("Phí, lệ phí", "Fees"))
    for h in (t("Mã", "Code"), t("Khoản thu", "Fee"), t("Loại", "Kind"), t("Phải nộp", "Due"), t("Đã nộp", "Paid"),
              t("Hình thức", "Method"), t("Biên lai", "Receipt"), t("Miễn", "Exempt")):
        tf.add_column(h)
    for f in d["fees"]:
        tf.add_row(s(f["code"]), s(f["name"]), t(*KINDS.get(f["kind"], (f["kind"], f["kind"]))), money(f["amount"]),
                   money(f["paid"]), ", ".join(t(*METHODS[m][:2]) for m in f["methods"]), s(", ".join(f["receipts"])),
                   s(f["exempt_reason"]))
    c.print(tf)
    tot = d["fee_totals"]
    c.print(t(f"Phải nộp {money(tot['due'])}, đã nộp {money(tot['paid'])}, đã hoàn {money(tot['refunded'])}, "
              f"còn phải nộp {money(tot['outstanding'])}.",
              f"Due {money(tot['due'])}, paid {money(tot['paid'])}, refunded {money(tot['refunded'])}, "
              f"still owed {money(tot['outstanding'])}."))
def _signature_line(sig: dict) -> str:
    """One stored file's signature state for `show` (docs/signing.md)."""
    from rich.markup import escape

    if not sig["signed"]:
        return t("tệp chưa ký số", "file not digitally signed")
    parts = []
    for g in sig["signatures"]:
        who = t("cơ quan", "agency") if g["kind"] == "agency" else t("công dân", "citizen")
        parts.append(t(f"ký số ({who}) bởi {escape(g['signer'])}, {g['signed_at']}"
                       + (", có dấu thời gian" if g["timestamp"] else "") + f", {g['status']}",
                       f"signed ({who}) by {escape(g['signer'])}, {g['signed_at']}"
                       + (", timestamped" if g["timestamp"] else "") + f", {g['status']}"))
    return "; ".join(parts)


@app.command("list")
def list_(today: bool = typer.Option(False, "--today", help="Chỉ hồ sơ nhận hôm nay."),
          status: Optional[str] = typer.Option(None, "--status", help="Lọc theo trạng thái: mã (2, 4, 5…) hoặc tên, có dấu hay không (\"bo sung\", \"dang xu ly\")."),
          limit: int = typer.Option(200, "--limit", help="Số dòng tối đa (0 = tất cả)."),
          fees_outstanding: bool = typer.Option(False, "--fees-outstanding", help="Chỉ hồ sơ còn phí, lệ phí chưa nộp (cột fees_outstanding, đồng)."),
          xlsx: Optional[str] = typer.Option(None, "--xlsx", help="Ghi danh sách ra tệp Excel (.xlsx) này."),
          json_: bool = JSON, csv_: bool = CSV):
    """Danh sách hồ sơ của quầy, mới nhất trước.

    The counter's dossiers, newest first.

    Ví dụ / Example:  onestop list --today --csv > hom-nay.csv
    """
    from onestop.intake import lookup
    from onestop.domain import states
    from onestop.cli.common import status_label
    from onestop.common.output import emit, local_time

    st = None
    if status is not None:
        st = states.parse_status(status)
        if st is None:
            from onestop.common.errors import InvalidInput

            raise InvalidInput(
                f"Trạng thái '{status}' không có. Dùng mã hoặc tên: {states.status_choices('vi')}.",
                f"Unknown status '{status}'. Use a code or a name: {states.status_choices('en')}.")
    cfg, db = context()
    columns = list(lookup.LIST_COLUMNS)
    rows = lookup.list_dossiers(db, cfg, today=today, status=st, limit=limit, fees_outstanding=fees_outstanding)
    if fees_outstanding:
        columns.append("fees_outstanding")
    if xlsx:
        from onestop.common import xlsx as xlsx_
        from onestop.common.output import info

        path = xlsx_.write(xlsx, [(t("Hồ sơ", "Dossiers"), xlsx_.LIST_COLUMNS,
                                   [dict(r, status_name=status_label(r["status"])) for r in rows])])
        info(t(f"Đã ghi tệp Excel: {path} — {len(rows)} hồ sơ", f"Excel file written: {path} — {len(rows)} dossiers"))
        if not (json_ or csv_):
            return
    mode = fmt(json_, csv_)
    if mode == "table":  # for people: local dates and status names (JSON and CSV keep ISO and codes)
        rows = [dict(r, received_at=local_time(r["received_at"]), due_at=local_time(r["due_at"]),
                     status=status_label(r["status"])) for r in rows]
    emit(rows, columns, fmt=mode,
         headers={"code": t("Mã hồ sơ", "Code"), "received_at": t("Tiếp nhận", "Received"),
                  "procedure_code": t("Thủ tục", "Procedure"), "applicant_name": t("Người nộp", "Applicant"),
                  "status": t("Trạng thái", "Status"), "due_at": t("Hẹn trả", "Due"), "officer": t("Cán bộ", "Officer"),
                  "fees_outstanding": t("Còn phải nộp (đồng)", "Owed (đồng)")})


def _move_help() -> str:
    from onestop.domain.states import move_words

    return ("Trạng thái mới: mã hoặc tên, có dấu hay không dấu — " + move_words("vi")
            + "; hoặc tiếng Anh: " + move_words("en") + ". 5 → 4 khi đã nhận đủ giấy tờ bổ sung.")


@app.command()
def move(code: str = typer.Argument(..., help="Mã hồ sơ (hoặc phần cuối)."),
         status: str = typer.Argument(..., help=_move_help()),
         note: str = typer.Option("", "--note", help="Nội dung / lý do."),
         missing: List[str] = typer.Option([], "--missing", help="Giấy tờ cần bổ sung (với trạng thái 5), lặp lại được; 'TÊN: LÝ DO'."),
         at: Optional[str] = typer.Option(None, "--at", help="Thời điểm \"YYYY-MM-DD HH:MM\" hoặc \"dd/mm/yyyy HH:MM\"; mặc định: bây giờ."),
         yes: bool = typer.Option(False, "--yes", "-y", help="Không hỏi xác nhận (cho script) khi chuyển sang trạng thái không quay lại được (3, 7, 8, 9, 10)."),
         json_: bool = JSON):
    """Chuyển trạng thái hồ sơ (ghi nhật ký, không sửa lịch sử).

    Trạng thái (mã hoặc tên, có dấu hay không dấu): 4 dang xu ly, 5 bo sung, 6 nghia vu tai chinh,
    7 rut ho so, 8 dung xu ly, 9 da xu ly, 10 tra ket qua (hoặc handover, request, fees, withdraw,
    stop, done, return).

    Move a dossier to a new status; each move is an appended event and is queued for the sync.
    Moves that cannot be undone (7 rút, 8 dừng, 9 đã xử lý, 10 trả kết quả) are confirmed at a
    terminal unless --yes.

    Ví dụ / Example:  onestop move 0001 "bo sung" --missing "Bản sao điều lệ: chưa chứng thực"

      onestop move 000.00.12.H26-261122-0001 "da xu ly" --yes
    """
    from onestop.intake import changes, clock
    from onestop.domain import states
    from onestop.common.i18n import lang
    from onestop.common.output import emit_json, info

    cfg, db = context()
    interactive = at_terminal() and not json_
    code = code_for_change(db, cfg, code, interactive)
    target = states.resolve_status(status)
    when = clock.parse_when(at, cfg) if at else None
    if target in states.IRREVERSIBLE and interactive and not yes:
        d = changes.check_move(db, cfg, code, target, when)  # "not allowed" is said before the question
        confirm_or_stop(t(
            f"Chuyển hồ sơ {d['code']} ({d['applicant_name']}) từ '{states.label(d['status'])}' sang "
            f"'{states.label(target)}'? Không quay lại được.",
            f"Move dossier {d['code']} ({d['applicant_name']}) from '{states.label(d['status'], 'en')}' to "
            f"'{states.label(target, 'en')}'? This cannot be undone."))
    items = []
    for m in missing:
        n, _, r = m.partition(":")
        items.append({"name": n.strip(), "reason": r.strip()})
    res = changes.move(db, cfg, code, target or status, note=note, missing=items, at=when)
    if res["status"] in ("9", "10"):  # fees collected at result time ([fees] collect = "sau"): say what is owed
        from onestop.intake.fees import owed_warning

        warning = owed_warning(db, res["code"])
        if warning:
            info(warning)
    if json_:
        emit_json(res)
    else:
        typer.echo(f"{res['code']}: {states.label(res['previous_status'], lang())} → {states.label(res['status'], lang())}")
        if res.get("form") and res["status"] == "4":
            info(t(f"Phiếu kiểm soát quá trình giải quyết (Mẫu 05), gửi kèm hồ sơ: {res['form']}",
                   f"Process-control slip (Mẫu 05), to travel with the papers: {res['form']}"))
        elif res.get("form"):
            info(t(f"Phiếu yêu cầu bổ sung (Mẫu 02): {res['form']}", f"Request for papers (Mẫu 02): {res['form']}"))
        if res["due_at"] != res["original_due_at"]:
            from onestop.common.output import local_time

            info(t(f"Hẹn trả mới: {local_time(res['due_at'])} (ban đầu {local_time(res['original_due_at'])})",
                   f"New due date: {local_time(res['due_at'])} (originally {local_time(res['original_due_at'])})"))


@app.command()
def reschedule(code: str = typer.Argument(...),
               to: str = typer.Option(..., "--to", help="Ngày giờ hẹn mới \"YYYY-MM-DD HH:MM\" hoặc \"dd/mm/yyyy HH:MM\", trong giờ làm việc của một ngày làm việc."),
               reason: str = typer.Option(..., "--reason", help="Lý do chậm trả."),
               yes: bool = typer.Option(False, "--yes", "-y", help="Không hỏi xác nhận ngày mới (cho script)."),
               json_: bool = JSON):
    """Hẹn lại ngày trả kết quả một lần, kèm Phiếu xin lỗi (Mẫu 04).

    Reschedule once, at least one day before the due date, with the apology form. The new time
    must be in working hours of a working day; at a terminal it is read back in words to confirm.

    Ví dụ / Example:  onestop reschedule 0001 --to "2026-12-10 16:00" --reason "Cần xác minh thực tế"
    """
    from onestop.intake import changes, clock, lookup
    from onestop.common.output import emit_json, info
    from onestop.domain.workdays import in_words

    cfg, db = context()
    interactive = at_terminal() and not json_
    code = code_for_change(db, cfg, code, interactive)
    new_due = clock.parse_when(to, cfg)
    changes.check_reschedule(db, cfg, lookup.resolve_code(db, cfg, code), new_due, clock.now(cfg))
    if interactive and not yes:
        confirm_or_stop(t(f"Hẹn trả mới: {in_words(new_due)}. Chỉ được hẹn lại một lần. Đúng không?",
                          f"New appointment: {in_words(new_due, 'en')}. Only one reschedule is allowed. Correct?"))
    res = changes.reschedule(db, cfg, code, new_due, reason)
    if json_:
        emit_json(res)
    else:
        from onestop.common.output import local_time

        typer.echo(f"{res['code']}: {local_time(res['previous_due_at'])} → {local_time(res['due_at'])}")
        info(t(f"Hẹn trả mới: {in_words(new_due)}.", f"New appointment: {in_words(new_due, 'en')}."))
        info(t(f"Phiếu xin lỗi và hẹn lại (Mẫu 04): {res['form']}", f"Apology form (Mẫu 04): {res['form']}"))


@app.command()
def amend(code: str = typer.Argument(..., help="Mã hồ sơ (hoặc phần cuối)."),
          name: Optional[str] = typer.Option(None, "--name", help="Họ tên đúng của người nộp."),
          id_: Optional[str] = typer.Option(None, "--id", help="Số giấy tờ đúng."),
          id_type: Optional[str] = typer.Option(None, "--id-type", help="cccd | cmnd | mst | passport (mặc định: tự nhận)."),
          phone: Optional[str] = typer.Option(None, "--phone", help="Số điện thoại đúng."),
          address: Optional[str] = typer.Option(None, "--address", help="Địa chỉ đúng."),
          component: Optional[int] = typer.Option(None, "--component", "-c",
                                                  help="Thành phần có số ký hiệu cần sửa hoặc xác nhận (với --document-number)."),
          document_number: Optional[str] = typer.Option(None, "--document-number",
                                                        help="Số ký hiệu đúng trên giấy (vd. 1205/QĐ-BKHCN); số đã đọc được: xác nhận."),
          document_date: Optional[str] = typer.Option(None, "--document-date", help="Ngày văn bản YYYY-MM-DD hoặc dd/mm/yyyy."),
          issuer: Optional[str] = typer.Option(None, "--issuer", help="Cơ quan ban hành (viết tắt, trong config/agencies.toml)."),
          as_printed: bool = typer.Option(False, "--as-printed",
                                          help="Lưu số ký hiệu đúng như trên giấy, kể cả khi không khớp danh sách."),
          reason: Optional[str] = typer.Option(None, "--reason", help="Lý do sửa (ghi vào lịch sử); bắt buộc khi sửa thông tin người nộp."),
          json_: bool = JSON):
    """Sửa họ tên, số giấy tờ, điện thoại hoặc địa chỉ nhập sai; hoặc sửa/xác nhận số ký hiệu của một thành phần.

    Correct a mistyped applicant field. The history keeps an event with the old and new values,
    who, when and why; the receipt is rendered again as a new version file (…_Mau01_v2.pdf);
    an update is queued for the nightly sync.

    With --component N --document-number: correct or confirm the document number (số ký hiệu),
    date and issuer read from that component's first page (listed by `check` when read with
    doubts). The number is checked against the same lists as a scan; the one read, given again,
    is confirmed as it is. The flag clears and an event keeps the old and new values.

    Ví dụ / Example:  onestop amend 0001 --name "Nguyễn Thị Hường" --reason "Nhập sai dấu"

      onestop amend 0001 --component 2 --document-number "1205/QĐ-BKHCN" --document-date 2025-03-12
    """
    from onestop.common.errors import InvalidInput
    from onestop.common.output import emit_json, info

    applicant = {"name": name, "id": id_, "phone": phone, "address": address}
    document = component is not None or any(v is not None for v in (document_number, document_date, issuer))
    if document:
        # One kind of correction per command: the applicant's record (a new receipt, a sync update)
        # or a paper's metadata (neither).
        if any(v is not None for v in applicant.values()) or id_type is not None:
            raise InvalidInput("Sửa thông tin người nộp và số ký hiệu bằng hai lệnh amend riêng.",
                               "Correct the applicant and a document number with two separate amend commands.")
        if component is None or document_number is None:
            raise InvalidInput(
                "Sửa số ký hiệu cần cả --component N và --document-number (số đọc được, để xác nhận, hoặc số đúng).",
                "A document number correction needs both --component N and --document-number (the one read, to "
                "confirm it, or the right one).")
    elif reason is None:
        import click

        raise click.exceptions.MissingParameter(param_hint="'--reason'", param_type="option")
    cfg, db = context()
    code = code_for_change(db, cfg, code, at_terminal() and not json_)
    if document:
        from onestop.archive import digitization

        res = digitization.amend_document(db, cfg, code, component, document_number, day=document_date,
                                          issuer=issuer, reason=reason, as_printed=as_printed)
        for w in res["warnings"]:
            info(t("Cảnh báo: ", "Warning: ") + w)
        if json_:
            emit_json(res)
            return
        typer.echo(f"{res['code']} {t('thành phần', 'component')} {res['component']}: {res['document_number']}")
        labels = {"document_number": t("Số ký hiệu", "Number"), "document_date": t("Ngày", "Date"),
                  "issuer": t("Cơ quan", "Issuer")}
        for k, v in res["changes"].items():
            info(f"  {labels[k]}: {v['old'] or '—'} → {v['new'] or '—'}")
        if res["confirmed"]:
            info(t(f"Đã xác nhận số ký hiệu {res['document_number']} ({res['officer']}).",
                   f"Document number {res['document_number']} confirmed ({res['officer']})."))
        return
    from onestop.intake import changes
    from onestop.domain.masking import mask_id, mask_phone

    res = changes.amend(db, cfg, code, applicant, reason, id_type=id_type)
    if json_:
        emit_json(res)
        return
    typer.echo(res["code"])
    labels = {"applicant_name": t("Họ tên", "Name"), "id_number": t("Số giấy tờ", "ID"),
              "phone": t("Điện thoại", "Phone"), "address": t("Địa chỉ", "Address")}
    masks = {"id_number": mask_id, "phone": mask_phone}
    for k, v in res["changes"].items():
        m = masks.get(k, lambda x: x)
        info(f"  {labels[k]}: {m(v['old'])} → {m(v['new'])}")
    info(t(f"Giấy tiếp nhận (bản sửa): {res['receipt']}", f"Corrected receipt: {res['receipt']}"))


@app.command("print")
def print_(code: str = typer.Argument(...), send: bool = typer.Option(False, "--send", help="Gửi tới máy in (lp).")):
    """In lại Giấy tiếp nhận (Mẫu 01) của một hồ sơ.

    Re-render the receipt of a dossier and print its path.

    Ví dụ / Example:  onestop print 0001 --send
    """
    from onestop.intake import form_files

    cfg, db = context()
    path = form_files.reprint_receipt(db, cfg, code)
    typer.echo(str(path))
    if send:
        print_pdf(str(path))

"""Counter commands: receive, refuse, show, list, move, reschedule, print."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, context, context_with_catalog, fmt
from onestop.i18n import t


def _interactive() -> bool:
    return sys.stdin.isatty()


def _pick_procedure(db, query: str | None) -> str:
    from onestop import catalog

    while True:
        q = query or typer.prompt(t("Thủ tục (mã hoặc từ khóa, vd. 'dang ky to chuc khcn')",
                                    "Procedure (code or keywords)"), err=True)
        query = None
        if catalog.PROCEDURE_CODE.match(q.strip()):
            return q.strip()
        hits = catalog.search(db, q, limit=9)
        if not hits:
            typer.echo(t("Không tìm thấy thủ tục nào. Thử từ khóa khác.", "No procedure found. Try other words."), err=True)
            continue
        for i, h in enumerate(hits, 1):
            typer.echo(f"  {i}. {h['code']}  {h['name']}", err=True)
        choice = typer.prompt(t("Chọn số", "Pick a number"), default="1", err=True)
        if choice.isdigit() and 1 <= int(choice) <= len(hits):
            return hits[int(choice) - 1]["code"]
        typer.echo(t("Lựa chọn không hợp lệ.", "Invalid choice."), err=True)


@app.command()
def receive(
    procedure: Optional[str] = typer.Option(None, "--procedure", "-p", help="Mã thủ tục (N.NNNNNN) hoặc từ khóa tìm kiếm."),
    name: Optional[str] = typer.Option(None, "--name", help="Họ tên người nộp / tên tổ chức (giữ nguyên dấu)."),
    id_: Optional[str] = typer.Option(None, "--id", help="Số định danh cá nhân (12 số), CMND (9 số), mã số doanh nghiệp, hoặc hộ chiếu."),
    id_type: Optional[str] = typer.Option(None, "--id-type", help="cccd | cmnd | mst | passport (mặc định: tự nhận)."),
    qr: Optional[str] = typer.Option(None, "--qr", help="Dòng QR của CCCD gắn chip (dán hoặc quét): điền họ tên, số, địa chỉ."),
    phone: str = typer.Option("", "--phone"),
    email: str = typer.Option("", "--email"),
    address: str = typer.Option("", "--address"),
    authorised: str = typer.Option("", "--authorised", help="Người được ủy quyền nộp (nếu có)."),
    all_components: bool = typer.Option(False, "--all-components", help="Đã nhận đủ mọi thành phần hồ sơ."),
    component: List[int] = typer.Option([], "--component", "-c", help="Số thứ tự thành phần đã nhận (lặp lại được)."),
    pages: List[str] = typer.Option([], "--pages", help="Số trang của thành phần, dạng N=TRANG (vd. 1=3)."),
    at: Optional[str] = typer.Option(None, "--at", help="Thời điểm tiếp nhận \"YYYY-MM-DD HH:MM\" (nhập lại hồ sơ giấy); mặc định: bây giờ."),
    channel: str = typer.Option("1", "--channel", help="Kênh: 1 trực tiếp, 2 trực tuyến, 3 bưu chính."),
    post: bool = typer.Option(False, "--post", help="Trả kết quả qua bưu chính (mặc định: tại quầy)."),
    sets: int = typer.Option(1, "--sets", help="Số lượng hồ sơ (bộ)."),
    refuse: Optional[str] = typer.Option(None, "--refuse", help="Từ chối tiếp nhận với lý do này (Mẫu 03); không cấp mã."),
    print_: bool = typer.Option(False, "--print", help="Gửi giấy tiếp nhận tới máy in mặc định (lp)."),
    ask: bool = typer.Option(False, "--ask", help="Hỏi từng trường còn thiếu kể cả khi không có terminal."),
    json_: bool = JSON,
):
    """Tiếp nhận hồ sơ: cấp mã hồ sơ, ngày hẹn trả và in Giấy tiếp nhận (Mẫu 01).

    Register a dossier: issues its code, the appointment date and the receipt PDF. Missing
    required papers give the guidance form (Mẫu 02) and no code; --refuse gives Mẫu 03.
    Without options it asks for each field.

    Ví dụ / Example:

      onestop receive -p 1.003584 --name "Nguyễn Văn An" --id 001085012345 --all-components --json

      onestop receive -p "dang ky to chuc khcn" --qr "001085012345||Nguyễn Văn An|01011985|Nam|Hà Nội|01012022"
    """
    from contextlib import nullcontext

    from onestop.prerender import Renderer, take_early

    # Warm the PDF engine in a helper process while we validate and allocate the code (P1);
    # the console entry point may have started it already, before the CLI framework loaded.
    early = take_early()
    warm = (json_ or not _interactive()) and refuse is None
    if early is not None and not warm:
        early.close()
        early = None
    with early or (Renderer.start() if warm else nullcontext()) as renderer:
        from onestop import catalog, dossiers
        from onestop.errors import InvalidInput
        from onestop.output import emit_json, info

        cfg, db = context_with_catalog()
        interactive = ask or (_interactive() and not json_)
        if qr:
            from onestop.identifiers import InvalidId, parse_chip_qr

            try:
                card = parse_chip_qr(qr)
            except InvalidId as e:
                raise InvalidInput(e.message_vi, e.message_en) from None
            name = name or card.name
            id_ = id_ or card.cccd
            id_type = id_type or "cccd"
            address = address or card.address
        if procedure and not catalog.PROCEDURE_CODE.match(procedure.strip()):
            if interactive:
                procedure = _pick_procedure(db, procedure)
            else:
                hits = catalog.search(db, procedure, limit=2)
                if len(hits) == 1 or (hits and hits[0].get("score", 0) > hits[1].get("score", 0)):
                    procedure = hits[0]["code"]
        if not procedure:
            if not interactive:
                raise InvalidInput("Thiếu mã thủ tục (--procedure).", "The procedure is missing (--procedure).")
            procedure = _pick_procedure(db, None)
        if not name:
            if not interactive:
                raise InvalidInput("Thiếu họ tên người nộp (--name).", "The applicant's name is missing (--name).")
            name = typer.prompt(t("Họ tên người nộp", "Applicant name"), err=True)
        if not id_:
            if not interactive:
                raise InvalidInput("Thiếu số giấy tờ của người nộp (--id).", "The applicant's ID number is missing (--id).")
            id_ = typer.prompt(t("Số định danh / CMND / MST", "ID number"), err=True)
            if not phone:
                phone = typer.prompt(t("Điện thoại", "Phone"), default="", show_default=False, err=True)
            if not address:
                address = typer.prompt(t("Địa chỉ", "Address"), default="", show_default=False, err=True)
        applicant = dossiers.Applicant(name=name, id_number=id_, id_type=id_type, phone=phone, email=email,
                                       address=address, authorised_name=authorised)
        when = dossiers.parse_when(at, cfg) if at else None
        if refuse is not None:
            res = dossiers.refuse(db, cfg, procedure, applicant, refuse, when)
            if json_:
                emit_json(res)
            else:
                info(t(f"Đã lập Phiếu từ chối (Mẫu 03): {res['form']}", f"Refusal form written (Mẫu 03): {res['form']}"))
            return
        page_map = {}
        for p in pages:
            k, _, v = p.partition("=")
            if not (k.strip().isdecimal() and v.strip().isdecimal()):
                raise InvalidInput(f"--pages '{p}' cần dạng N=TRANG, vd. 1=3.", f"--pages '{p}' must be N=PAGES, e.g. 1=3.")
            page_map[int(k)] = int(v)
        comps = None if all_components else list(component)
        if comps == [] and interactive:
            proc = catalog.get(db, procedure)
            comps = []
            typer.echo(t(f"Thành phần hồ sơ của {proc.code} {proc.name}:", f"Components of {proc.code}:"), err=True)
            first_case = proc.components[0].case_name if proc.components else ""
            for c in proc.components:
                if c.case_name != first_case:
                    continue
                got = typer.confirm(f"  {c.n}. {c.name} ({c.originals} {t('bản chính', 'orig.')}, {c.copies} {t('bản sao', 'copies')})",
                                    default=True, err=True)
                if got:
                    comps.append(c.n)
                    n_pages = typer.prompt(t("     số trang", "     pages"), default=str(page_map.get(c.n, 1)), err=True)
                    if n_pages.isdigit():
                        page_map[c.n] = int(n_pages)
        elif comps == []:
            comps = []
        req = dossiers.ReceiveRequest(procedure_code=procedure, applicant=applicant, components=comps, pages=page_map,
                                      at=when, channel=channel, delivery="1" if post else "0", sets=sets)
        res = dossiers.receive(db, cfg, req, renderer=renderer)
        from onestop.cli import state

        if state["debug"] and renderer is not None and renderer.outcome:
            info(f"onestop: debug: {t('giấy tiếp nhận được tạo bởi', 'receipt rendered by')} {renderer.outcome}")
        if res["status"] == "2" and print_:
            _print_pdf(res["receipt"])
        if json_:
            emit_json(res)
            return
        if res["status"] == "incomplete":
            info(t("Hồ sơ chưa đủ, chưa cấp mã. Thiếu: ", "Dossier incomplete, no code issued. Missing: ")
                 + "; ".join(res["missing"]))
            info(t(f"Phiếu hướng dẫn (Mẫu 02): {res['form']}", f"Guidance form (Mẫu 02): {res['form']}"))
            return
        typer.echo(res["code"])
        info(t(f"Hẹn trả: {res['due_at'][:16].replace('T', ' ')} — Giấy tiếp nhận: {res['receipt']}",
               f"Due: {res['due_at'][:16].replace('T', ' ')} — Receipt: {res['receipt']}"))


def _print_pdf(path: str) -> None:
    import shutil
    import subprocess

    from onestop.output import info

    if not shutil.which("lp"):
        info(t("Không có lệnh 'lp' (CUPS): chưa in. Mở tệp PDF để in tay.", "No 'lp' command (CUPS): not printed."))
        return
    r = subprocess.run(["lp", path], capture_output=True, text=True)
    if r.returncode != 0:
        err = r.stderr.strip().rstrip(".")
        info(t(f"In không thành công: {err}. Tệp vẫn ở {path}.", f"Printing failed: {err}. File kept at {path}."))


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

    from onestop import dossiers, states
    from onestop.output import cell, console, emit_json

    cfg, db = context()
    d = dossiers.show(db, cfg, code)
    if show_personal:
        from onestop.reports import record_personal_access

        record_personal_access(db, cfg, "show", d["code"])
    else:
        from onestop.identifiers import mask_id, mask_phone

        d["id_number"], d["phone"] = mask_id(d["id_number"]), mask_phone(d["phone"])
    if json_:
        emit_json(d)
        return
    c = console()
    s = lambda v: escape(cell(v))  # noqa: E731 - stored text is never markup, nor escape codes
    c.print(f"[bold]{s(d['code'])}[/bold]  {s(d['procedure_code'])} {s(d['procedure_name'])}")
    c.print(f"{t('Người nộp', 'Applicant')}: {s(d['applicant_name'])} ({s(d['id_number'])})  {s(d['phone'])}  {s(d['address'])}")
    c.print(f"{t('Trạng thái', 'Status')}: {d['status']} {states.status_name(d['status'], 'en' if t('vi', 'en') == 'en' else 'vi')}")
    c.print(f"{t('Tiếp nhận', 'Received')}: {d['received_at']}   {t('Hẹn trả', 'Due')}: {d['due_at']}"
            + (f"  ({t('hẹn ban đầu', 'originally')} {d['original_due_at']})" if d["original_due_at"] != d["due_at"] else ""))
    from rich.table import Table

    tb = Table(title=t("Thành phần hồ sơ", "Components"))
    for h in ("#", t("Tên giấy tờ", "Name"), t("Chính", "Orig."), t("Sao", "Copies"), t("Trang", "Pages"), t("Đã nhận", "Received"), t("Số hóa", "Digitized")):
        tb.add_column(h)
    for r in d["components"]:
        tb.add_row(str(r["n"]), s(r["name"]), str(r["originals"]), str(r["copies"]), str(r["pages"]),
                   "✓" if r["received"] else "✗", str(r["digitized"]))
    c.print(tb)
    te = Table(title=t("Lịch sử", "History"))
    for h in (t("Thời điểm", "When"), t("Cán bộ", "Officer"), t("Nội dung", "What"), t("Trạng thái", "Status")):
        te.add_column(h)
    for e in d["events"]:
        te.add_row(s(e["at"]), s(e["officer"]), s(e["note"] or e["action"]), f"{e['status_from'] or ''}→{e['status_to'] or ''}")
    c.print(te)


@app.command("list")
def list_(today: bool = typer.Option(False, "--today", help="Chỉ hồ sơ nhận hôm nay."),
          status: Optional[str] = typer.Option(None, "--status", help="Lọc theo mã trạng thái (2, 4, 5…)."),
          limit: int = typer.Option(200, "--limit", help="Số dòng tối đa (0 = tất cả)."),
          json_: bool = JSON, csv_: bool = CSV):
    """Danh sách hồ sơ của quầy, mới nhất trước.

    The counter's dossiers, newest first.

    Ví dụ / Example:  onestop list --today --csv > hom-nay.csv
    """
    from onestop import dossiers, states
    from onestop.output import emit

    cfg, db = context()
    st = states.resolve_status(status) if status else None
    rows = dossiers.list_dossiers(db, cfg, today=today, status=st or status, limit=limit)
    emit(rows, dossiers.LIST_COLUMNS, fmt=fmt(json_, csv_),
         headers={"code": t("Mã hồ sơ", "Code"), "received_at": t("Tiếp nhận", "Received"),
                  "procedure_code": t("Thủ tục", "Procedure"), "applicant_name": t("Người nộp", "Applicant"),
                  "status": t("TT", "St."), "due_at": t("Hẹn trả", "Due"), "officer": t("Cán bộ", "Officer")})


@app.command()
def move(code: str = typer.Argument(..., help="Mã hồ sơ (hoặc phần cuối)."),
         status: str = typer.Argument(..., help="Trạng thái mới: 4 handover, 5 request, 6 fees, 7 withdraw, 8 stop, 9 done, 10 return; 5→4 khi đã nhận đủ giấy tờ bổ sung."),
         note: str = typer.Option("", "--note", help="Nội dung / lý do."),
         missing: List[str] = typer.Option([], "--missing", help="Giấy tờ cần bổ sung (với trạng thái 5), lặp lại được; 'TÊN: LÝ DO'."),
         at: Optional[str] = typer.Option(None, "--at", help="Thời điểm \"YYYY-MM-DD HH:MM\"; mặc định: bây giờ."),
         json_: bool = JSON):
    """Chuyển trạng thái hồ sơ (ghi nhật ký, không sửa lịch sử).

    Move a dossier to a new status; each move is an appended event and is queued for the sync.

    Ví dụ / Example:  onestop move 0001 5 --missing "Bản sao điều lệ: chưa chứng thực"
    """
    from onestop import dossiers
    from onestop.output import emit_json, info

    cfg, db = context()
    items = []
    for m in missing:
        n, _, r = m.partition(":")
        items.append({"name": n.strip(), "reason": r.strip()})
    res = dossiers.move(db, cfg, code, status, note=note, missing=items,
                        at=dossiers.parse_when(at, cfg) if at else None)
    if json_:
        emit_json(res)
    else:
        typer.echo(f"{res['code']}: {res['previous_status']} → {res['status']}")
        if res.get("form"):
            info(t(f"Phiếu yêu cầu bổ sung (Mẫu 02): {res['form']}", f"Request for papers (Mẫu 02): {res['form']}"))
        if res["due_at"] != res["original_due_at"]:
            info(t(f"Hẹn trả mới: {res['due_at']} (ban đầu {res['original_due_at']})",
                   f"New due date: {res['due_at']} (originally {res['original_due_at']})"))


@app.command()
def reschedule(code: str = typer.Argument(...),
               to: str = typer.Option(..., "--to", help="Ngày giờ hẹn mới \"YYYY-MM-DD HH:MM\"."),
               reason: str = typer.Option(..., "--reason", help="Lý do chậm trả."),
               json_: bool = JSON):
    """Hẹn lại ngày trả kết quả một lần, kèm Phiếu xin lỗi (Mẫu 04).

    Reschedule once, at least one day before the due date, with the apology form.

    Ví dụ / Example:  onestop reschedule 0001 --to "2026-12-10 16:00" --reason "Cần xác minh thực tế"
    """
    from onestop import dossiers
    from onestop.output import emit_json, info

    cfg, db = context()
    res = dossiers.reschedule(db, cfg, code, dossiers.parse_when(to, cfg), reason)
    if json_:
        emit_json(res)
    else:
        typer.echo(f"{res['code']}: {res['previous_due_at']} → {res['due_at']}")
        info(t(f"Phiếu xin lỗi và hẹn lại (Mẫu 04): {res['form']}", f"Apology form (Mẫu 04): {res['form']}"))


@app.command("print")
def print_(code: str = typer.Argument(...), send: bool = typer.Option(False, "--send", help="Gửi tới máy in (lp).")):
    """In lại Giấy tiếp nhận (Mẫu 01) của một hồ sơ.

    Re-render the receipt of a dossier and print its path.

    Ví dụ / Example:  onestop print 0001 --send
    """
    from onestop import dossiers

    cfg, db = context()
    d = dossiers.show(db, cfg, code)
    path = dossiers._render_receipt(cfg, d, dossiers.datetime.fromisoformat(d["received_at"]))
    typer.echo(str(path))
    if send:
        _print_pdf(str(path))

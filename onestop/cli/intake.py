"""Counter commands: receive, refuse, show, list, move, reschedule, print."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, code_for_change, confirm_or_stop, context, context_with_catalog, fmt
from onestop.common.i18n import t


def _interactive() -> bool:
    return sys.stdin.isatty()


def _pick_procedure(db, query: str | None, ask=None) -> str:
    from onestop.intake import catalog
    from onestop.cli.prompts import Prompter, say

    ask = ask or Prompter()
    while True:
        q = query or ask.text(t("Thủ tục (mã hoặc từ khóa, vd. 'dang ky to chuc khcn')", "Procedure (code or keywords)"),
                              required=True)
        query = None
        if catalog.PROCEDURE_CODE.match(q.strip()):
            return q.strip()
        hits = catalog.search(db, q, limit=9)
        if not hits:
            say(t("Không tìm thấy thủ tục nào. Thử từ khóa khác.", "No procedure found. Try other words."))
            continue
        for i, h in enumerate(hits, 1):
            say(f"  {i}. {h['code']}  {h['name']}")
        return hits[ask.number(t("Chọn số", "Pick a number"), 1, len(hits), default=1) - 1]["code"]


ID_KINDS = [("", "tự nhận theo số", "detect from the number"), ("cccd", "CCCD / số định danh", "CCCD / personal ID"),
            ("cmnd", "CMND cũ", "old CMND"), ("mst", "mã số thuế / doanh nghiệp", "tax / business code"),
            ("passport", "hộ chiếu", "passport")]


class _Answers:
    """What the officer has given so far (options, then answers); a scanned QR fills the applicant."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def take_qr(self, card) -> dict:
        self.name, self.id_, self.id_type = card.name, card.cccd, "cccd"
        self.address = self.address or card.address
        return {"name": card.name, "id": card.cccd, "address": self.address}


def _ask_applicant(a: _Answers, ask, year: int) -> None:
    """Name, ID kind and number, phone, address: each checked at its prompt (receive's own rules)."""
    from onestop.cli.prompts import say
    from onestop.intake.dossiers import check_applicant_field
    from onestop.common.errors import OnestopError
    from onestop.domain.names import name_warning, warning_text
    from onestop.common.text import clean_field

    # Values given as options are checked too: a wrong one is asked for instead of failing at the end.
    for attr, field in (("name", "name"), ("id_", "id"), ("phone", "phone"), ("email", "email")):
        value = getattr(a, attr)
        if value:
            try:
                check_applicant_field(field, value, id_type=a.id_type, today_year=year)
            except OnestopError as e:
                say(e.message)
                setattr(a, attr, "")
    while not a.name:
        name = ask.text(t("Họ tên người nộp (hoặc quét QR CCCD)", "Applicant name (or scan the ID card QR)"),
                        check=lambda v: check_applicant_field("name", v, today_year=year), field="name")
        kind = None if a.id_ else name_warning(name)  # a name from the card's QR is as issued
        if kind:
            say(t(*warning_text(kind, name)))
            if not ask.yes_no(t("Vẫn dùng họ tên này?", "Keep this name?"), default=False):
                continue
        a.name = name
    while not a.id_:
        if not a.id_type:
            say("  " + ", ".join(f"{i} {t(vi, en)}" for i, (_k, vi, en) in enumerate(ID_KINDS)))
            kind = ID_KINDS[ask.number(t("Loại giấy tờ", "ID kind"), 0, len(ID_KINDS) - 1, default=0)][0]
        else:
            kind = a.id_type
        number = ask.text(t("Số giấy tờ", "ID number"), field="id", required=True)
        if a.id_:  # a QR scanned at this prompt filled it
            break
        try:
            a.id_ = check_applicant_field("id", number, id_type=kind or None, today_year=year)
            a.id_type = kind or None
        except OnestopError as e:
            say(e.message + t(" Nhập lại.", " Try again."))
    if not a.phone:
        a.phone = ask.text(t("Điện thoại", "Phone"), default="",
                           check=lambda v: check_applicant_field("phone", v, today_year=year) if v.strip() else "")
    if not a.address:
        a.address = ask.text(t("Địa chỉ", "Address"), default="",
                             check=lambda v: check_applicant_field("address", v, today_year=year))
    # Optional, as on Mẫu 01: Enter skips (and the receipt then prints no empty line for them).
    if not a.email:
        a.email = ask.text(t("Email (Enter để bỏ qua)", "Email (Enter to skip)"), default="",
                           check=lambda v: check_applicant_field("email", v, today_year=year) if v.strip() else "")
    if not a.authorised:
        a.authorised = ask.text(t("Người được ủy quyền nộp (Enter nếu người nộp tự đến)",
                                  "Authorised person submitting (Enter if the applicant came in person)"), default="",
                                check=lambda v: clean_field(v, "Người được ủy quyền", "The authorised person"))


def _ask_components(proc, a: _Answers, ask) -> None:
    """The case (when the procedure has several), then each paper of it: received? pages?
    Conditional papers ("nếu có", "trường hợp…") are asked whether they apply first."""
    from onestop.cli.prompts import say
    from onestop.intake.dossiers import select_case

    cases = proc.cases()
    if a.case is None and len(cases) > 1:
        say(t(f"Thủ tục {proc.code} có {len(cases)} trường hợp:", f"Procedure {proc.code} has {len(cases)} cases:"))
        for i, c in enumerate(cases, 1):
            say(f"  {i}. {c}")
        a.case = ask.number(t("Trường hợp số", "Case number"), 1, len(cases), default=1)
    case = select_case(proc, a.case)
    say(t(f"Thành phần hồ sơ của {proc.code} {proc.name}", f"Components of {proc.code}")
        + (f" — {case}:" if len(cases) > 1 else ":"))
    comps, applies = [], []
    for c in proc.case_components(case):
        label = f"  {c.n}. {c.name} ({c.originals} {t('bản chính', 'orig.')}, {c.copies} {t('bản sao', 'copies')})"
        if c.conditional:
            if not ask.yes_no(label + t(" — có áp dụng cho hồ sơ này?", " — applies to this dossier?"), default=False):
                continue
            applies.append(c.n)
            got = ask.yes_no(t("     đã nhận?", "     received?"), default=True)
        else:
            got = ask.yes_no(label, default=True)
        if got:
            comps.append(c.n)
            a.pages[c.n] = ask.number(t("     số trang", "     pages"), 1, 9999, default=a.pages.get(c.n, 1))
    a.components, a.applies = comps, applies


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
    case: Optional[int] = typer.Option(None, "--case", help="Trường hợp của thủ tục (số thứ tự như 'procedures show' in); mặc định: trường hợp chứa các thành phần đã chọn, hoặc trường hợp 1."),
    applies: List[int] = typer.Option([], "--applies", help="Giấy tờ có điều kiện ('nếu có', 'trường hợp…') áp dụng cho hồ sơ này: thiếu thì hồ sơ chưa đủ (lặp lại được)."),
    pages: List[str] = typer.Option([], "--pages", help="Số trang của thành phần, dạng N=TRANG (vd. 1=3)."),
    at: Optional[str] = typer.Option(None, "--at", help="Thời điểm tiếp nhận \"YYYY-MM-DD HH:MM\" hoặc \"dd/mm/yyyy HH:MM\" (nhập lại hồ sơ giấy); mặc định: bây giờ."),
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

    from onestop.intake.prerender import Renderer, take_early

    # Warm the PDF engine in a helper process while we validate and allocate the code (P1);
    # the console entry point may have started it already, before the CLI framework loaded.
    early = take_early()
    warm = (json_ or not _interactive()) and refuse is None
    if early is not None and not warm:
        early.close()
        early = None
    with early or (Renderer.start() if warm else nullcontext()) as renderer:
        from onestop.intake import catalog, dossiers
        from onestop.common.errors import InvalidInput
        from onestop.common.output import emit_json, info

        cfg, db = context_with_catalog()
        from onestop.cli.prompts import Prompter, say

        interactive = ask or (_interactive() and not json_)
        if qr:
            from onestop.domain.identifiers import InvalidId, parse_chip_qr

            try:
                card = parse_chip_qr(qr)
            except InvalidId as e:
                raise InvalidInput(e.message_vi, e.message_en) from None
            name = name or card.name
            id_ = id_ or card.cccd
            id_type = id_type or "cccd"
            address = address or card.address
        page_map = _page_map(pages)
        a = _Answers(name=name, id_=id_, id_type=id_type, phone=phone, email=email, authorised=authorised,
                     address=address, case=case,
                     components=None if all_components else list(component), applies=list(applies), pages=page_map)
        prompter = Prompter(on_qr=a.take_qr)
        if interactive:
            dossiers.form_officer(cfg)  # check first, ask after: no questions for a form that cannot be signed
        if procedure and not catalog.PROCEDURE_CODE.match(procedure.strip()):
            if interactive:
                procedure = _pick_procedure(db, procedure, prompter)
            else:
                procedure = catalog.single_out(db, procedure) or procedure  # several close: refused, listed
        if not procedure:
            if not interactive:
                raise InvalidInput("Thiếu mã thủ tục (--procedure).", "The procedure is missing (--procedure).")
            procedure = _pick_procedure(db, None, prompter)
        when = dossiers.parse_when(at, cfg) if at else None
        year = (when or dossiers.now(cfg)).year
        proc = None
        if interactive:
            proc = catalog.get(db, procedure)  # an unknown procedure is said before the applicant is asked
            if a.case is not None:
                dossiers.select_case(proc, a.case)  # and so is a --case the procedure does not have
            _ask_applicant(a, prompter, year)
        elif not a.name:
            raise InvalidInput("Thiếu họ tên người nộp (--name).", "The applicant's name is missing (--name).")
        elif not a.id_:
            raise InvalidInput("Thiếu số giấy tờ của người nộp (--id).", "The applicant's ID number is missing (--id).")
        warnings = []
        if not qr:
            from onestop.domain.names import name_warning, warning_text

            kind = name_warning(a.name) if not interactive else None  # interactive: confirmed at the prompt
            if kind:
                warnings.append(t(*warning_text(kind, a.name)))
        applicant = dossiers.Applicant(name=a.name, id_number=a.id_, id_type=a.id_type, phone=a.phone, email=a.email,
                                       address=a.address, authorised_name=a.authorised)
        if refuse is not None:
            res = dossiers.refuse(db, cfg, procedure, applicant, refuse, when)
            if json_:
                emit_json(res)
            else:
                info(t(f"Đã lập Phiếu từ chối (Mẫu 03): {res['form']}", f"Refusal form written (Mẫu 03): {res['form']}"))
            return
        if interactive:
            dups = dossiers.recent_duplicates(db, cfg, dossiers.check_applicant_field("id", a.id_, id_type=a.id_type,
                                                                                        today_year=year),
                                              proc.code, when or dossiers.now(cfg))
            if dups:
                say(t(f"Cảnh báo: người nộp này vừa được tiếp nhận thủ tục {proc.code}: {', '.join(dups)}. Có thể là nhập trùng.",
                      f"Warning: this applicant was just received for {proc.code}: {', '.join(dups)}. Possibly a double entry."))
                if not prompter.yes_no(t("Vẫn tiếp nhận hồ sơ mới?", "Receive a new dossier anyway?"), default=False):
                    from onestop.common.errors import Cancelled

                    raise Cancelled("đã hủy, không tiếp nhận hồ sơ trùng.", "cancelled, the double entry was not received.")
            if not a.components and not all_components:
                _ask_components(proc, a, prompter)
        req = dossiers.ReceiveRequest(procedure_code=procedure, applicant=applicant, components=a.components,
                                      pages=a.pages, at=when, channel=channel, delivery="1" if post else "0", sets=sets,
                                      case=a.case, applies=a.applies)
        from onestop.common.errors import ReceiptNotPrinted

        not_printed = None
        try:
            res = dossiers.receive(db, cfg, req, renderer=renderer)
        except ReceiptNotPrinted as e:  # registered all the same: print the code like any receive, then fail
            res, not_printed = e.result, e
        from onestop.cli import state

        if state["debug"] and renderer is not None and renderer.outcome:
            info(f"onestop: debug: {t('giấy tiếp nhận được tạo bởi', 'receipt rendered by')} {renderer.outcome}")
        if res["status"] == "2" and print_ and not not_printed:
            _print_pdf(res["receipt"])
        if res.get("possible_duplicates") and not interactive:
            warnings.append(t(
                f"Cùng người nộp và thủ tục vừa được tiếp nhận: {', '.join(res['possible_duplicates'])}. Kiểm tra có nhập trùng không.",
                f"Same applicant and procedure just received: {', '.join(res['possible_duplicates'])}. Check for a double entry."))
        for w in warnings:
            info(t("Cảnh báo: ", "Warning: ") + w)
        if json_:
            emit_json(dict(res, warnings=warnings))
            if not_printed:
                raise not_printed
            return
        if res["status"] == "incomplete":
            info(t("Hồ sơ chưa đủ, chưa cấp mã. Thiếu: ", "Dossier incomplete, no code issued. Missing: ")
                 + "; ".join(res["missing"]))
            info(t(f"Phiếu hướng dẫn (Mẫu 02): {res['form']}", f"Guidance form (Mẫu 02): {res['form']}"))
            return
        typer.echo(res["code"])
        from onestop.common.output import local_time

        if not_printed:
            info(t(f"Hẹn trả: {local_time(res['due_at'])}", f"Due: {local_time(res['due_at'])}"))
            raise not_printed
        info(t(f"Hẹn trả: {local_time(res['due_at'])} — Giấy tiếp nhận: {res['receipt']}",
               f"Due: {local_time(res['due_at'])} — Receipt: {res['receipt']}"))


def _page_map(pages: list[str]) -> dict[int, int]:
    from onestop.common.errors import InvalidInput

    page_map = {}
    for p in pages:
        k, _, v = p.partition("=")
        if not (k.strip().isdecimal() and v.strip().isdecimal()):
            raise InvalidInput(f"--pages '{p}' cần dạng N=TRANG, vd. 1=3.", f"--pages '{p}' must be N=PAGES, e.g. 1=3.")
        page_map[int(k)] = int(v)
    return page_map


def _print_pdf(path: str) -> None:
    import shutil
    import subprocess

    from onestop.common.output import info

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

    from onestop.intake import dossiers
    from onestop.cli.common import status_label
    from onestop.common.output import cell, console, emit_json, local_time

    cfg, db = context()
    d = dossiers.show(db, cfg, code)
    if show_personal:
        from onestop.reports.figures import record_personal_access

        record_personal_access(db, cfg, "show", d["code"])
    else:
        from onestop.domain.identifiers import mask_id, mask_phone

        d["id_number"], d["phone"] = mask_id(d["id_number"]), mask_phone(d["phone"])
        d["events"] = dossiers.mask_history(d["events"])
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
    for r in d.get("results") or []:
        gone = "" if r["state"] == "current" else t(" (đã thay)", " (replaced)")
        c.print(t(f"Kết quả {r['n']}: {s(r['result_name'])} — {r['pages']} trang — {s(r['path'])}{gone}",
                  f"Result {r['n']}: {s(r['result_name'])} — {r['pages']} page(s) — {s(r['path'])}{gone}"))
    for r in d["components"]:
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


@app.command("list")
def list_(today: bool = typer.Option(False, "--today", help="Chỉ hồ sơ nhận hôm nay."),
          status: Optional[str] = typer.Option(None, "--status", help="Lọc theo trạng thái: mã (2, 4, 5…) hoặc tên, có dấu hay không (\"bo sung\", \"dang xu ly\")."),
          limit: int = typer.Option(200, "--limit", help="Số dòng tối đa (0 = tất cả)."),
          xlsx: Optional[str] = typer.Option(None, "--xlsx", help="Ghi danh sách ra tệp Excel (.xlsx) này."),
          json_: bool = JSON, csv_: bool = CSV):
    """Danh sách hồ sơ của quầy, mới nhất trước.

    The counter's dossiers, newest first.

    Ví dụ / Example:  onestop list --today --csv > hom-nay.csv
    """
    from onestop.intake import dossiers
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
    rows = dossiers.list_dossiers(db, cfg, today=today, status=st, limit=limit)
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
    emit(rows, dossiers.LIST_COLUMNS, fmt=mode,
         headers={"code": t("Mã hồ sơ", "Code"), "received_at": t("Tiếp nhận", "Received"),
                  "procedure_code": t("Thủ tục", "Procedure"), "applicant_name": t("Người nộp", "Applicant"),
                  "status": t("Trạng thái", "Status"), "due_at": t("Hẹn trả", "Due"), "officer": t("Cán bộ", "Officer")})


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
    from onestop.intake import dossiers
    from onestop.domain import states
    from onestop.common.i18n import lang
    from onestop.common.output import emit_json, info

    cfg, db = context()
    interactive = _interactive() and not json_
    code = code_for_change(db, cfg, code, interactive)
    target = states.resolve_status(status)
    when = dossiers.parse_when(at, cfg) if at else None
    if target in states.IRREVERSIBLE and interactive and not yes:
        d = dossiers.check_move(db, cfg, code, target, when)  # "not allowed" is said before the question
        confirm_or_stop(t(
            f"Chuyển hồ sơ {d['code']} ({d['applicant_name']}) từ '{states.label(d['status'])}' sang "
            f"'{states.label(target)}'? Không quay lại được.",
            f"Move dossier {d['code']} ({d['applicant_name']}) from '{states.label(d['status'], 'en')}' to "
            f"'{states.label(target, 'en')}'? This cannot be undone."))
    items = []
    for m in missing:
        n, _, r = m.partition(":")
        items.append({"name": n.strip(), "reason": r.strip()})
    res = dossiers.move(db, cfg, code, target or status, note=note, missing=items, at=when)
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
    from onestop.intake import dossiers
    from onestop.common.output import emit_json, info
    from onestop.domain.workdays import in_words

    cfg, db = context()
    interactive = _interactive() and not json_
    code = code_for_change(db, cfg, code, interactive)
    new_due = dossiers.parse_when(to, cfg)
    dossiers.check_reschedule(db, cfg, dossiers.resolve_code(db, cfg, code), new_due, dossiers.now(cfg))
    if interactive and not yes:
        confirm_or_stop(t(f"Hẹn trả mới: {in_words(new_due)}. Chỉ được hẹn lại một lần. Đúng không?",
                          f"New appointment: {in_words(new_due, 'en')}. Only one reschedule is allowed. Correct?"))
    res = dossiers.reschedule(db, cfg, code, new_due, reason)
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
    code = code_for_change(db, cfg, code, _interactive() and not json_)
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
    from onestop.intake import dossiers
    from onestop.domain.identifiers import mask_id, mask_phone

    res = dossiers.amend(db, cfg, code, applicant, reason, id_type=id_type)
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
    from onestop.intake import dossiers

    cfg, db = context()
    path = dossiers.reprint_receipt(db, cfg, code)
    typer.echo(str(path))
    if send:
        _print_pdf(str(path))

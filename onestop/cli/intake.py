"""The counter's receive command (and --refuse): options parsed, or each field asked at a terminal, into
one ``ReceiveRequest`` handed to ``onestop.intake.receiving.receive``. The commands on a received
dossier (show, list, move, reschedule, amend, print) are in onestop/cli/dossiers.py."""

from __future__ import annotations

from typing import List, Optional

import typer

from onestop.cli import app
from onestop.cli.common import JSON, at_terminal, context_with_catalog, print_pdf
from onestop.common.i18n import t


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
    from onestop.intake.applicants import check_applicant_field
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


def _ask_components(proc, a: _Answers, ask, offers: dict | None = None, day=None) -> None:
    """The case (when the procedure has several), then each paper of it: received? pages?
    Conditional papers ("nếu có", "trường hợp…") are asked whether they apply first. A paper the
    applicant has already digitized here (``offers``) is offered for reuse first (docs/reuse.md)."""
    from onestop.cli.prompts import say
    from onestop.intake.receiving import select_case

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
        elif c.n in a.reuse or (offers and c.n in offers):
            say(label)
        if c.n in a.reuse or (offers and c.n in offers and _reuse_one(c, offers[c.n], a, ask, day)):
            comps.append(c.n)  # received as the archived paper: no pages to count, nothing to scan
            continue
        if c.conditional:
            got = ask.yes_no(t("     đã nhận?", "     received?"), default=True)
        elif offers and c.n in offers:
            got = ask.yes_no(t("     đã nhận bản giấy?", "     paper received?"), default=True)
        else:
            got = ask.yes_no(label, default=True)
        if got:
            comps.append(c.n)
            a.pages[c.n] = ask.number(t("     số trang", "     pages"), 1, 9999, default=a.pages.get(c.n, 1))
    a.components, a.applies = comps, applies


def _reuse_one(c, offered: list, a: _Answers, ask, day) -> bool:
    from onestop.cli.papers import ask_reuse

    ref = ask_reuse(c, offered, ask, day)
    if ref:
        a.reuse[c.n] = ref
    return bool(ref)


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
    reuse: List[str] = typer.Option([], "--reuse", help="Dùng lại giấy tờ đã số hóa (docs/reuse.md): N=MÃHỒSƠ/M, N=MÃHỒSƠ/KQM (kết quả), N=auto, hoặc auto cho mọi thành phần có giấy tờ còn hiệu lực; xem 'onestop papers SỐ'."),
    at: Optional[str] = typer.Option(None, "--at", help="Thời điểm tiếp nhận \"YYYY-MM-DD HH:MM\" hoặc \"dd/mm/yyyy HH:MM\" (nhập lại hồ sơ giấy); mặc định: bây giờ."),
    channel: str = typer.Option("1", "--channel", help="Kênh: 1 trực tiếp, 2 trực tuyến, 3 bưu chính."),
    post: bool = typer.Option(False, "--post", help="Trả kết quả qua bưu chính (mặc định: tại quầy)."),
    sets: int = typer.Option(1, "--sets", help="Số lượng hồ sơ (bộ)."),
    refuse: Optional[str] = typer.Option(None, "--refuse", help="Từ chối tiếp nhận với lý do này (Mẫu 03); không cấp mã."),
    exempt: Optional[str] = typer.Option(None, "--exempt", help="Miễn phí, lệ phí với lý do này (ghi 0 đồng; docs/fees.md)."),
    fee_amount: List[str] = typer.Option([], "--fee-amount", help="Số tiền của khoản phí danh mục để ngỏ ('theo quy định'): MÃ=SỐ hoặc SỐ (đồng)."),
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
    warm = json_ or not at_terminal()  # Mẫu 01, 02 or 03: each is drawn by the helper
    if early is not None and not warm:
        early.close()
        early = None
    with early or (Renderer.start() if warm else nullcontext()) as renderer:
        from onestop.common.errors import InvalidInput
        from onestop.common.output import emit_json, info
        from onestop.intake import catalog
        from onestop.intake.applicants import Applicant, check_applicant_field, form_officer
        from onestop.intake.clock import now, parse_when
        from onestop.intake.receiving import ReceiveRequest, receive as receive_dossier, recent_duplicates, select_case

        cfg, db = context_with_catalog()
        from onestop.cli.prompts import Prompter, say

        interactive = ask or (at_terminal() and not json_)
        if qr:
            from onestop.domain.chip_qr import InvalidId, parse_chip_qr

            try:
                card = parse_chip_qr(qr)
            except InvalidId as e:
                raise InvalidInput(e.message_vi, e.message_en) from None
            name = name or card.name
            id_ = id_ or card.cccd
            id_type = id_type or "cccd"
            address = address or card.address
        if channel.strip() == "2":
            # An online dossier is the portal's until the counter takes it there: received here, it would
            # never be taken on the portal, and the ministry refuses its record (docs/online.md).
            raise InvalidInput(
                "Hồ sơ trực tuyến (kênh 2) không tiếp nhận bằng 'receive': lấy về bằng 'onestop online pull', "
                "rồi 'onestop online accept MÃ_HỒ_SƠ_DVC' (cổng được báo đã tiếp nhận).",
                "An online dossier (channel 2) is not received with 'receive': fetch it with 'onestop online pull', "
                "then 'onestop online accept DVC_ID' (the portal is told it was taken).")
        page_map = _page_map(pages)
        from onestop.intake.reuse import parse_option

        reuse_map = parse_option(reuse)
        a = _Answers(name=name, id_=id_, id_type=id_type, phone=phone, email=email, authorised=authorised,
                     address=address, case=case,
                     components=None if all_components else list(component), applies=list(applies), pages=page_map,
                     reuse=reuse_map)
        prompter = Prompter(on_qr=a.take_qr)
        if interactive:
            form_officer(cfg)  # check first, ask after: no questions for a form that cannot be signed
        if procedure and not catalog.PROCEDURE_CODE.match(procedure.strip()):
            if interactive:
                procedure = _pick_procedure(db, procedure, prompter)
            else:
                procedure = catalog.single_out(db, procedure) or procedure  # several close: refused, listed
        if not procedure:
            if not interactive:
                raise InvalidInput("Thiếu mã thủ tục (--procedure).", "The procedure is missing (--procedure).")
            procedure = _pick_procedure(db, None, prompter)
        when = parse_when(at, cfg) if at else None
        year = (when or now(cfg)).year
        proc = None  # read here only to ask about it; then handed down, never read again
        if interactive:
            proc = catalog.get(db, procedure)  # an unknown procedure is said before the applicant is asked
            if a.case is not None:
                select_case(proc, a.case)  # and so is a --case the procedure does not have
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
        if interactive and refuse is None:
            dups = recent_duplicates(db, cfg, check_applicant_field("id", a.id_, id_type=a.id_type, today_year=year),
                                     proc.code, when or now(cfg))
            if dups:
                say(t(f"Cảnh báo: người nộp này vừa được tiếp nhận thủ tục {proc.code}: {', '.join(dups)}. Có thể là nhập trùng.",
                      f"Warning: this applicant was just received for {proc.code}: {', '.join(dups)}. Possibly a double entry."))
                if not prompter.yes_no(t("Vẫn tiếp nhận hồ sơ mới?", "Receive a new dossier anyway?"), default=False):
                    from onestop.common.errors import Cancelled

                    raise Cancelled("đã hủy, không tiếp nhận hồ sơ trùng.", "cancelled, the double entry was not received.")
            if not a.components and not all_components:
                from onestop.cli.papers import offers_at_counter

                day = (when or now(cfg)).date()
                number = check_applicant_field("id", a.id_, id_type=a.id_type, today_year=year)
                _ask_components(proc, a, prompter, offers_at_counter(db, cfg, proc, number, day), day)
        amounts = _fee_amounts(proc if interactive and refuse is None and exempt is None else None, channel,
                               fee_amount, prompter)
        req = ReceiveRequest(
            procedure_code=procedure, procedure=proc,
            applicant=Applicant(name=a.name, id_number=a.id_, id_type=a.id_type, phone=a.phone, email=a.email,
                                address=a.address, authorised_name=a.authorised),
            components=a.components, pages=a.pages, at=when, channel=channel, delivery="1" if post else "0",
            sets=sets, case=a.case, applies=a.applies, refuse=refuse, exempt=exempt, fee_amounts=amounts,
            reuse=a.reuse)
        from onestop.common.errors import ReceiptNotPrinted

        not_printed = None
        try:
            res = receive_dossier(db, cfg, req, renderer=renderer)
        except ReceiptNotPrinted as e:  # registered all the same: print the code like any receive, then fail
            res, not_printed = e.result, e
        from onestop.cli import state

        if state["debug"] and renderer is not None and renderer.outcome:
            form = {"3": "Mẫu 03", "incomplete": "Mẫu 02"}.get(res["status"], "Mẫu 01")
            info(f"onestop: debug: {form} {t('được tạo bởi', 'rendered by')} {renderer.outcome}")
        if res["status"] == "3":  # refused (Mẫu 03): no code
            if json_:
                emit_json(res)
            else:
                info(t(f"Đã lập Phiếu từ chối (Mẫu 03): {res['form']}", f"Refusal form written (Mẫu 03): {res['form']}"))
            return
        if res["status"] in ("2", "6") and print_ and not not_printed:
            print_pdf(res["receipt"])
        for f in res.get("estimated_fees") or []:
            from onestop.common.output import money

            warnings.append(t(
                f"Phí '{f['name']}' tùy hồ sơ; đã ghi {money(f['amount'])} theo danh mục. Nếu số tiền khác, "
                f"tiếp nhận với --fee-amount {f['code']}=SỐ_TIỀN.",
                f"The fee '{f['name']}' depends on the dossier; {money(f['amount'])} recorded from the catalog. "
                f"If the amount differs, receive with --fee-amount {f['code']}=AMOUNT."))
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
        for u in res.get("reused", []):
            info(t(f"Thành phần {u['component']}: dùng lại giấy tờ đã số hóa {u['ref']} (không cần quét)",
                   f"Component {u['component']}: reuses the digitized paper {u['ref']} (no scan needed)"))


def _fee_amounts(proc, channel: str, given: list[str], ask) -> dict[str, int]:
    """``--fee-amount`` values; at a terminal, each fee the catalog leaves open is asked for."""
    from onestop.domain.fees import money_input
    from onestop.intake.fees import open_fees, parse_fee_amounts

    from onestop.common.output import money
    from onestop.intake.fees import varying_fees

    amounts = parse_fee_amounts(given)
    for i, f in enumerate(open_fees(proc, channel) if proc is not None and not amounts else [], 1):
        text = ask.text(t(f"Số tiền '{f['name']}' ({f.get('amount_text') or 'theo quy định'}), đồng",
                          f"Amount of '{f['name']}' ({f.get('amount_text') or 'as regulated'}), đồng"),
                        required=True, check=lambda v: money_input(v))
        amounts[f["code"] or str(i)] = money_input(text)
    # A fee set by a rate, a floor and a ceiling or per item: the catalog's figure is offered, Enter keeps it.
    for f in varying_fees(proc, channel) if proc is not None and not amounts else []:
        text = ask.text(t(f"Số tiền '{f['name']}', đồng", f"Amount of '{f['name']}', đồng"),
                        default=money(int(f["amount"])), required=True, check=lambda v: money_input(v))
        amounts[f["code"] or str(proc.fees_for(channel).index(f) + 1)] = money_input(text)
    return amounts


def _page_map(pages: list[str]) -> dict[int, int]:
    from onestop.common.errors import InvalidInput

    page_map = {}
    for p in pages:
        k, _, v = p.partition("=")
        if not (k.strip().isdecimal() and v.strip().isdecimal()):
            raise InvalidInput(f"--pages '{p}' cần dạng N=TRANG, vd. 1=3.", f"--pages '{p}' must be N=PAGES, e.g. 1=3.")
        page_map[int(k)] = int(v)
    return page_map

"""Online dossier commands (channel 2): ``online pull``, ``online list``, ``online show``,
``online accept``, ``online refuse`` (docs/online.md)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Optional

import typer

from onestop.cli import app
from onestop.cli.common import CSV, JSON, context, context_with_catalog, fmt
from onestop.common.i18n import t

online_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)
app.add_typer(online_app, name="online", help="Hồ sơ nộp trực tuyến trên cổng dịch vụ công (kênh 2).")

PERSONAL = typer.Option(False, "--show-personal/--mask",
                        help="Hiện đủ số giấy tờ (mặc định: che); việc xem được ghi lại.")


def portal_connect(cfg, *, counter: bool = False):
    from onestop.sync.portal import connect

    return connect(cfg, counter=counter)


@contextmanager
def _logged(cfg):
    """The command's log lines go to the sync log (<home>/logs/sync.log, numbers masked), as a sync's do."""
    from onestop import sync as sync_mod

    handler = sync_mod._setup_log(cfg)
    try:
        yield
    finally:
        if handler:
            sync_mod.log.removeHandler(handler)
            handler.close()


def _personal(db, cfg, show_personal: bool, what: str) -> None:
    if show_personal:
        from onestop.reports.figures import record_personal_access

        record_personal_access(db, cfg, "online " + what, what)


@online_app.command("pull")
def pull(json_: bool = JSON):
    """Lấy các hồ sơ trực tuyến đang chờ trên cổng (kèm tệp, kiểm tra SHA-256) vào hàng đợi.

    Pull the portal's waiting online dossiers with their files (checked by SHA-256) into the local
    queue. Safe to run again and from several desks (one pull at a time per office). Exit 75 when
    the portal is unreachable, 12 when another pull or sync runs.

    Ví dụ / Example:  onestop online pull
    """
    from onestop.common.output import emit_json, info
    from onestop.sync import online

    cfg, db = context_with_catalog()
    with _logged(cfg):
        st = online.pull(db, cfg, connect=portal_connect(cfg))
    info(t(f"Cổng có {st['listed']} hồ sơ chờ: mới vào hàng đợi {st['new']}, bị giữ lại {st['blocked']}, "
           f"đã có {st['already']}; tải {st['files']} tệp ({st['bytes']} byte).",
           f"The portal lists {st['listed']} waiting dossiers: new in the queue {st['new']}, blocked {st['blocked']}, "
           f"already here {st['already']}; downloaded {st['files']} files ({st['bytes']} bytes)."))
    if json_:
        emit_json(st)


@online_app.command("list")
def list_(json_: bool = JSON, csv_: bool = CSV, show_personal: bool = PERSONAL):
    """Hàng đợi hồ sơ trực tuyến, cũ nhất trước: mã DVC, thủ tục, người nộp, thời điểm nộp, đã chờ bao lâu,
    tệp, lệ phí đã nộp trực tuyến; hồ sơ bị giữ lại kèm lý do.

    The online queue, oldest first (blocked dossiers with their reason).

    Ví dụ / Example:  onestop online list --json
    """
    if not (json_ or csv_):  # an officer reading the queue (a script asks for --json/--csv): the accept that
        from onestop.sync import portal_early  # usually follows finds the archive's modules loaded

        portal_early.prewarm()
    from onestop.common.output import age_text, emit, local_time
    from onestop.sync import online

    cfg, db = context()
    rows = online.listing(db, cfg, show_personal=show_personal)
    _personal(db, cfg, show_personal, "list")
    flat = [dict(r, files=len(r["files"]), waited=age_text(r["waited_seconds"]),
                 submitted=local_time(r["submitted_at"]),
                 paid=t("có", "yes") if r["paid_online"] else t("không", "no"),
                 state=(t("bị giữ", "blocked") if r["state"] == "blocked" else t("chờ", "waiting")))
            for r in rows]
    cols = ["dvc", "procedure", "applicant", "id_number", "submitted", "waited", "files", "paid", "state", "reason"]
    if csv_:
        cols = ["dvc", "procedure", "applicant", "id_number", "submitted_at", "waited_seconds", "files",
                "paid_online", "state", "reason"]
        flat = [dict(r, files=len(r["files"])) for r in rows]
    emit(flat, cols, fmt=fmt(json_, csv_), json_data=rows, title=t("Hồ sơ trực tuyến chờ tiếp nhận", "Online dossiers waiting"),
         headers={"dvc": "MaHoSoDVC", "procedure": t("Thủ tục", "Procedure"), "applicant": t("Người nộp", "Applicant"),
                  "id_number": t("Số giấy tờ", "ID"), "submitted": t("Nộp lúc", "Submitted"),
                  "waited": t("Đã chờ", "Waited"), "files": t("Tệp", "Files"), "paid": t("Đã nộp phí", "Paid online"),
                  "state": t("Tình trạng", "State"), "reason": t("Lý do", "Reason")})


@online_app.command("show")
def show(dvc: str = typer.Argument(..., help="Mã hồ sơ trên cổng (MaHoSoDVC)."), json_: bool = JSON,
         open_: bool = typer.Option(False, "--open", help="Mở các tệp đính kèm bằng trình xem mặc định (xdg-open)."),
         show_personal: bool = PERSONAL):
    """Xem một hồ sơ trực tuyến: người nộp, tệp đính kèm (đường dẫn), lệ phí, tình trạng.

    Show one online dossier with its files (their paths; --open opens them) and fees.

    Ví dụ / Example:  onestop online show DVC-2026-000123 --open
    """
    if not json_:
        from onestop.sync import portal_early

        portal_early.prewarm()
    from onestop.common.output import age_text, emit_json, local_time
    from onestop.sync import online

    cfg, db = context()
    r = online.show(db, cfg, dvc, show_personal=show_personal)
    _personal(db, cfg, show_personal, dvc)
    if json_:
        emit_json(r)
    else:
        typer.echo(f"{r['dvc']}  {r['procedure']} {r['procedure_name']}")
        typer.echo(f"{t('Người nộp', 'Applicant')}: {r['applicant']} ({r['id_number']})")
        typer.echo(f"{t('Nộp lúc', 'Submitted')}: {local_time(r['submitted_at'])}  "
                   f"({t('đã chờ', 'waited')} {age_text(r['waited_seconds'])})")
        state = {"waiting": t("chờ tiếp nhận", "waiting"), "blocked": t("bị giữ lại", "blocked"),
                 "taken": t("đã tiếp nhận", "taken"), "refused": t("đã từ chối", "refused")}[r["state"]]
        typer.echo(f"{t('Tình trạng', 'State')}: {state}" + (f" — {r['reason']}" if r["reason"] else "")
                   + (f" ({r['code']}, {r['taken_by']})" if r["code"] else ""))
        paid = t("đã nộp trực tuyến", "paid online") if r["paid_online"] else t("chưa nộp trực tuyến", "not paid online")
        fees = ", ".join(f"{f.get('TenPhiLePhi', '')} {f.get('SoTien', f.get('Gia', ''))}" for f in r["fees"])
        typer.echo(f"{t('Lệ phí', 'Fees')}: {paid}" + (f" ({fees})" if fees else ""))
        for f in r["files"]:
            typer.echo(f"  {f['n']}. [{f['component']}] {f['name']} ({f['size']} B) {f['path']}")
    if open_:
        import shutil
        import subprocess

        from onestop.sync.online_take import open_files

        viewer = shutil.which("xdg-open")
        paths = open_files(db, cfg, dvc)
        if viewer is None:
            from onestop.common.output import info

            info(t("Không có xdg-open; mở các tệp trên bằng trình xem PDF.", "No xdg-open; open the files above in a PDF viewer."))
        for p in paths if viewer else []:
            subprocess.Popen([viewer, p], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@online_app.command("accept")
def accept(dvc: str = typer.Argument(..., help="Mã hồ sơ trên cổng (MaHoSoDVC)."), json_: bool = JSON,
           no_print: bool = typer.Option(False, "--no-receipt", help="Không in giấy tiếp nhận (Mẫu 01).")):
    """Tiếp nhận hồ sơ trực tuyến: cấp mã hồ sơ, hẹn trả theo thời hạn kênh trực tuyến, lưu tệp vào kho,
    in Mẫu 01 và báo cổng (CapNhatDaNhanHoSo).

    Take an online dossier: a dossier code from the office's sequence, status 2, the channel-2 time
    limit from now, its files archived, Mẫu 01, and the portal told (or queued when unreachable).
    Exit 29 blocked or papers missing, 30 another desk took it first (named), 31 the portal refused.

    Ví dụ / Example:  onestop online accept DVC-2026-000123 --json
    """
    from contextlib import nullcontext

    from onestop.common.output import emit_json, info, local_time
    from onestop.intake.prerender import Renderer, take_early
    from onestop.sync import portal_early
    from onestop.sync.online_take import accept as take

    # Forked before the database is opened: archives the files once told the take is stored.
    teller = portal_early.start()
    early = take_early()  # the PDF engine warmed in a helper since the entry point (onestop/entry.py)
    if early is not None and no_print:
        early.close()
        early = None
    with early or (nullcontext() if no_print else Renderer.start()) as renderer:
        cfg, db = context_with_catalog()
        try:
            with _logged(cfg):
                res = take(db, cfg, dvc, render=not no_print, connect=portal_connect(cfg, counter=True), renderer=renderer,
                           teller=teller)
        finally:
            if teller is not None:
                teller.close()
    p = res["portal"]
    told = (t("đã báo cổng", "portal told") if p["sent"] else
            t("chưa báo được cổng, sẽ gửi lại ở lần lấy/đồng bộ sau", "portal not told yet, sent again by the next pull/sync"))
    info(t(f"Đã tiếp nhận {dvc}: mã hồ sơ {res['code']}", f"Taken {dvc}: dossier code {res['code']}")
         + (f", {t('hẹn trả', 'due')} {local_time(res['due_at'])}" if res.get("due_at") else "")
         + f"; {len(res['files'])} {t('tệp đã lưu', 'files archived')}; {told}.")
    from onestop.cli import state

    if state["debug"] and teller is not None and teller.outcome:
        info(f"onestop: debug: {t('tệp được lưu bởi', 'files stored by')} {teller.outcome}")
    if p.get("login_refused"):  # the take stands; this is for whoever keeps the desk's settings
        info("onestop: " + t("cảnh báo", "warning") + ": " + p["unreachable"])
    if json_:
        emit_json(res)
    else:
        typer.echo(res["code"])


@online_app.command("refuse")
def refuse(dvc: str = typer.Argument(..., help="Mã hồ sơ trên cổng (MaHoSoDVC)."),
           reason: Optional[str] = typer.Option(None, "--reason", help="Lý do từ chối (ghi vào Mẫu 03, gửi cổng)."),
           missing: bool = typer.Option(False, "--missing",
                                        help="Từ chối kèm danh sách giấy tờ bắt buộc còn thiếu (yêu cầu bổ sung)."),
           json_: bool = JSON,
           no_print: bool = typer.Option(False, "--no-form", help="Không in Mẫu 03.")):
    """Từ chối hồ sơ trực tuyến (Mẫu 03, không cấp mã) và báo cổng (TuChoiTiepNhanHoSo).

    Refuse an online dossier (Mẫu 03, no code) with --reason, or --missing to list the required
    papers not attached (how more papers are asked of an online applicant).

    Ví dụ / Example:  onestop online refuse DVC-2026-000123 --reason "Sai thủ tục"
    """
    from contextlib import nullcontext

    from onestop.common.output import emit_json, info
    from onestop.intake.prerender import take_early
    from onestop.sync.online_take import refuse as do_refuse

    early = take_early()  # Mẫu 03's PDF engine, warmed in a helper since the entry point (onestop/entry.py)
    if early is not None and no_print:
        early.close()
        early = None
    with early or nullcontext() as renderer:
        cfg, db = context_with_catalog()
        with _logged(cfg):
            res = do_refuse(db, cfg, dvc, reason=reason or "", missing=missing, render=not no_print,
                            connect=portal_connect(cfg, counter=True), renderer=renderer)
    told = t("đã báo cổng", "portal told") if res["portal"]["sent"] else t("sẽ báo cổng ở lần sau", "portal told later")
    info(t(f"Đã từ chối {dvc}: {res['reason']}; {told}.", f"Refused {dvc}: {res['reason']}; {told}."))
    if res["portal"].get("login_refused"):
        info("onestop: " + t("cảnh báo", "warning") + ": " + res["portal"]["unreachable"])
    if json_:
        emit_json(res)
    elif res["form"]:
        typer.echo(res["form"])

"""Sync commands: ``onestop sync`` (send the outbox), ``sync status``, ``sync retry``, ``sync acks``."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from onestop.cli import app
from onestop.cli.common import JSON, context
from onestop.common.i18n import t

sync_app = typer.Typer(no_args_is_help=False, rich_markup_mode=None)
app.add_typer(sync_app, name="sync")


@sync_app.callback(invoke_without_command=True)
def sync(
    ctx: typer.Context,
    dry_run: Optional[str] = typer.Option(None, "--dry-run", metavar="DIR",
                                          help="Ghi đúng nội dung sẽ gửi vào thư mục DIR, không gửi gì."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Gửi tối đa N mục của hàng đợi."),
    dossier: Optional[str] = typer.Option(None, "--dossier", metavar="CODE", help="Chỉ gửi các mục của hồ sơ này."),
    spool: Optional[str] = typer.Option(None, "--spool", metavar="PATH",
                                        help="Ghi vào thư mục spool PATH thay vì gửi qua mạng."),
    from_spool: Optional[str] = typer.Option(None, "--from-spool", metavar="PATH",
                                             help="Gửi thư mục spool PATH (mang từ máy không có mạng) lên hệ thống của Bộ."),
    json_: bool = JSON,
):
    """Gửi hàng đợi đồng bộ (hồ sơ mới, cập nhật, tiến độ, tệp quét) lên hệ thống của Bộ.

    Send the outbox to the ministry system (ONESTOP_SYNC_URL / [sync] url), or to a spool folder
    (--spool PATH, or [sync] spool when no URL is set; neither: exit 8)
    (spooled entries count as synced only after 'onestop sync acks').
    Exit codes: 0 all sent, 11 some entries are refused and held for a fix (every run, until
    'onestop sync retry CODE' and a successful send), 12 another sync is running, 75 the server
    is unreachable (try later).

    Ví dụ / Example:

      onestop sync

      onestop sync --dry-run /tmp/payloads --limit 100

      onestop sync --from-spool /media/usb/spool
    """
    if ctx.invoked_subcommand is not None:
        return
    from onestop import sync as sync_mod

    cfg, db = context()
    with stick_files(from_spool or spool):
        res = sync_mod.run_sync(cfg, db, spool=spool, dry_run=dry_run, from_spool=from_spool, limit=limit,
                                dossier=dossier)
    _report(res, json_)


def _report(res, json_: bool) -> None:
    """A run's summary on stderr (and --json on stdout), then its exit: 75 unreachable, 11 held or overdue."""
    from onestop import sync as sync_mod
    from onestop.common import errors
    from onestop.common.output import emit_json, info

    for line in sync_mod.summary_lines(res):
        info(line)
    if json_:
        emit_json({"target": res.target, "kind": res.kind, "exit_code": res.exit_code, **res.stats})
    if res.exit_code == errors.SYNC_UNREACHABLE:
        raise errors.SyncUnreachable(
            "Không kết nối được hệ thống của Bộ; các mục chưa gửi vẫn nằm trong hàng đợi, hãy chạy lại sau.",
            "The ministry system is unreachable; unsent entries stay queued, run again later.")
    if res.exit_code == errors.SYNC_PARTIAL:
        _raise_held(res.stats)


@contextmanager
def stick_files(folder):
    """A spool folder's file that does not read as onestop wrote it (damaged, truncated, edited, not
    UTF-8) ends the command with exit 4 naming the file, whichever part of the sync read it; never
    "unexpected error". ``folder``: the spool folder the command reads (None: nothing to map)."""
    if not folder:
        yield
        return
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        from onestop.common.errors import InvalidInput

        bad = damaged_files(Path(folder))
        named = ", ".join(str(p) for p in bad) or str(folder)
        raise InvalidInput(
            f"Tệp trong thư mục spool bị hỏng hoặc bị sửa, không đọc được: {named} ({type(e).__name__}: {e}). "
            "Chưa nhận/gửi gì từ tệp đó. Chép lại thư mục từ máy đã ghi nó (onestop sync --spool), hoặc chuyển "
            "tệp hỏng ra ngoài rồi chạy lại; 'onestop sync status' cho biết các mục còn chờ.",
            f"A file in the spool folder is damaged or edited and cannot be read: {named} ({type(e).__name__}: {e}). "
            "Nothing was taken or sent from it. Copy the folder again from the machine that wrote it (onestop "
            "sync --spool), or move the damaged file out and run again; 'onestop sync status' shows what waits.",
        ) from None


def damaged_files(folder: Path) -> list[Path]:
    """The JSON files of a spool folder (batches, office.json, acks/) that are not a JSON object in UTF-8."""
    import json

    out = []
    for p in sorted([*folder.glob("*.json"), *folder.glob("acks/*.json")]):
        try:
            if not isinstance(json.loads(p.read_bytes().decode("utf-8")), dict):
                out.append(p)
        except (OSError, ValueError):
            out.append(p)
    return out


def _raise_held(s: dict) -> None:
    from onestop.common import errors

    n = max(s.get("held_for_fix", 0), s.get("failed", 0))
    if not n and s.get("spooled_overdue"):  # nothing refused: a stick whose acknowledgements never came back
        raise errors.SyncPartial(
            f"{s['spooled_overdue']} mục đã ghi vào spool từ {s.get('spooled_overdue_since')} chưa được xác nhận sau "
            f"{s.get('spool_ack_days', 7):g} ngày. Mang thư mục về chạy 'onestop sync acks PATH', hoặc nếu mất thẻ nhớ: "
            "'onestop sync resend-spooled' (qua mạng) / 'onestop sync resend-spooled --spool THƯ_MỤC_MỚI'.",
            f"{s['spooled_overdue']} entries spooled since {s.get('spooled_overdue_since')} are not acknowledged after "
            f"{s.get('spool_ack_days', 7):g} days. Bring the folder back and run 'onestop sync acks PATH', or if the "
            "stick is lost: 'onestop sync resend-spooled' (over the line) / 'onestop sync resend-spooled --spool NEW_FOLDER'.")
    since = s.get("held_oldest_at") or "?"
    raise errors.SyncPartial(
        f"{n} mục bị từ chối đang giữ chờ sửa (cũ nhất từ {since}, hồ sơ {s.get('held_oldest_code') or '?'}). "
        "Xem 'onestop sync status', sửa dữ liệu rồi 'onestop sync retry MÃ_HỒ_SƠ'.",
        f"{n} refused entries are held for a fix (oldest since {since}, dossier {s.get('held_oldest_code') or '?'}). "
        "See 'onestop sync status', fix the data, then 'onestop sync retry CODE'.")


@sync_app.command("status")
def status(json_: bool = JSON):
    """Hàng đợi đồng bộ: mục chờ gửi, mục bị từ chối đang giữ chờ sửa, mục trong spool chưa được xác nhận.

    Sync queue: pending entries by kind, entries held for a fix (and the oldest), spooled entries
    not yet acknowledged (and their age), the last run and the last success. --json for monitoring.

    Ví dụ / Example:  onestop sync status --json
    """
    from onestop import sync as sync_mod
    from onestop.common.output import age_text, emit_json, emit_table

    cfg, db = context()
    st = sync_mod.status(db, cfg)
    if json_:
        emit_json(st)
        return
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(st["pending"].items()))
    typer.echo(t(f"Chờ gửi: {st['pending_total']}", f"Pending: {st['pending_total']}") + (f" ({kinds})" if kinds else ""))
    if st["spooled_unacknowledged"]:
        age = age_text(st["spooled_age_seconds"])
        typer.echo(t(f"Đã ghi vào spool, chưa được Bộ xác nhận: {st['spooled_unacknowledged']} mục, cũ nhất từ "
                     f"{st['spooled_oldest']} ({age}); chạy 'onestop sync acks PATH' khi mang thư mục về.",
                     f"Spooled, not acknowledged by the ministry: {st['spooled_unacknowledged']} entries, oldest since "
                     f"{st['spooled_oldest']} ({age}); run 'onestop sync acks PATH' when the folder is back."))
    if st.get("spooled_overdue"):
        typer.echo(t(f"Quá {st['spool_ack_days']:g} ngày chưa được xác nhận: {st['spooled_overdue']} mục (từ "
                     f"{st['spooled_overdue_since']}); mất thẻ nhớ thì chạy 'onestop sync resend-spooled'.",
                     f"Not acknowledged after {st['spool_ack_days']:g} days: {st['spooled_overdue']} entries (since "
                     f"{st['spooled_overdue_since']}); if the stick is lost, run 'onestop sync resend-spooled'."))
    if st["oldest_held"]:
        oh = st["oldest_held"]
        typer.echo(t(f"Đang giữ chờ sửa: {st['held']} mục (+{st['held_waiting']} chờ sau), cũ nhất từ {oh['since']} "
                     f"({age_text(oh['age_seconds'])}, hồ sơ {oh['code']})",
                     f"Held for a fix: {st['held']} entries (+{st['held_waiting']} waiting), oldest since {oh['since']} "
                     f"({age_text(oh['age_seconds'])}, dossier {oh['code']})"))
    on = st["online"]
    if any(on.values()):
        typer.echo(t(f"Hồ sơ trực tuyến: chờ tiếp nhận {on['waiting']}, bị giữ lại {on['blocked']}, chưa báo cổng "
                     f"{on['portal_pending']} (xem 'onestop online list').",
                     f"Online dossiers: waiting {on['waiting']}, blocked {on['blocked']}, portal not told yet "
                     f"{on['portal_pending']} (see 'onestop online list')."))
    ls = st["last_success"]
    typer.echo(t(f"Lần gửi thành công gần nhất: {ls['at']} ({ls['target']})" if ls else "Chưa có lần gửi thành công nào.",
                 f"Last success: {ls['at']} ({ls['target']})" if ls else "No successful send yet."))
    lr = st["last_run"]
    if lr:
        typer.echo(t(f"Lần chạy gần nhất: {lr['started_at']} → {lr['target']}: đã gửi {lr['sent']}, có sẵn {lr['already']}, "
                     f"lỗi {lr['failed']}, mã thoát {lr['exit_code']}",
                     f"Last run: {lr['started_at']} → {lr['target']}: sent {lr['sent']}, already {lr['already']}, "
                     f"failed {lr['failed']}, exit {lr['exit_code']}"))
    else:
        typer.echo(t("Chưa chạy đồng bộ lần nào.", "No sync has run yet."))
    if st["failed"]:
        typer.echo(t(f"Lỗi chờ sửa ({st['failed_total']}):", f"Failures waiting for a fix ({st['failed_total']}):"))
        emit_table(st["failed"], ["code", "kind", "attempts", "error"])


@sync_app.command("retry")
def retry(code: str = typer.Argument(..., help="Mã hồ sơ."), json_: bool = JSON):
    """Đưa lại các mục lỗi của hồ sơ vào hàng đợi sau khi đã sửa dữ liệu.

    Requeue a dossier's failed entries after its data was corrected.

    Ví dụ / Example:  onestop sync retry 000.00.12.H26-261122-0007
    """
    from onestop import sync as sync_mod
    from onestop.common.output import emit_json, info

    cfg, db = context()
    res = sync_mod.retry(db, cfg, code)
    if json_:
        emit_json(res)
    else:
        info(t(f"Hồ sơ {res['code']}: {res['requeued']} mục được đưa lại hàng đợi; chạy 'onestop sync'.",
               f"Dossier {res['code']}: {res['requeued']} entries requeued; run 'onestop sync'."))


@sync_app.command("acks")
def acks(path: str = typer.Argument(..., metavar="PATH", help="Thư mục spool đã chạy --from-spool."), json_: bool = JSON):
    """Nhận xác nhận của hệ thống của Bộ từ thư mục spool: đánh dấu đã đồng bộ đúng các mục được xác nhận.

    Import the ministry's acknowledgements from a spool folder (written there by
    'onestop sync --from-spool' on the connected machine): exactly the acknowledged entries become
    synced, refused ones are held for a fix. Safe to run twice; refuses another office's spool
    (exit 4). Exits 11 while entries are held for a fix.

    Ví dụ / Example:  onestop sync acks /media/usb/spool
    """
    from onestop import sync as sync_mod
    from onestop.common.output import emit_json, info

    cfg, db = context()
    with stick_files(path):
        res = sync_mod.acks(db, cfg, path)
    info(t(f"Xác nhận từ {res['folder']}: {res['acknowledged']} mục đã đồng bộ, {res['refused']} mục bị từ chối, "
           f"còn {res['spooled_left']} mục trong spool chưa được xác nhận.",
           f"Acknowledgements from {res['folder']}: {res['acknowledged']} entries synced, {res['refused']} refused, "
           f"{res['spooled_left']} spooled entries still unacknowledged."))
    if res.get("in_progress"):
        info(t(f"{res['in_progress']} lô đang gửi dở (máy có mạng chưa chạy xong): chạy lại 'onestop sync --from-spool' rồi 'sync acks'.",
               f"{res['in_progress']} batches were being delivered (not finished): run 'onestop sync --from-spool' again, then 'sync acks'."))
    if not res["batches"]:
        info(t("Thư mục chưa có xác nhận nào (acks/): chạy 'onestop sync --from-spool' trên máy có mạng trước.",
               "The folder has no acknowledgements yet (acks/): run 'onestop sync --from-spool' on a connected machine first."))
    if json_:
        emit_json(res)
    if res.get("held_for_fix") or res.get("spooled_overdue"):
        _raise_held(res)


@sync_app.command("resend-spooled")
def resend_spooled(
    spool: Optional[str] = typer.Option(None, "--spool", metavar="PATH",
                                        help="Ghi vào thư mục spool mới PATH (thẻ nhớ mới) thay vì gửi qua mạng."),
    all_: bool = typer.Option(False, "--all", help="Mọi mục trong spool chưa được xác nhận, không chỉ mục quá hạn."),
    json_: bool = JSON,
):
    """Gửi lại các mục đã ghi vào spool mà chưa được xác nhận (mất thẻ nhớ), qua mạng hoặc vào thẻ mới.

    Send again the spooled entries not acknowledged after [sync] spool_ack_days (--all: every
    spooled entry), over the line or to a new spool folder (--spool). Nothing goes twice: the
    server is asked before a step is resent, a create found there is sent as an update, files are
    kept by SHA-256. Exit codes as 'onestop sync'.

    Ví dụ / Example:  onestop sync resend-spooled --spool /media/usb2/spool
    """
    from onestop import sync as sync_mod

    cfg, db = context()
    res = sync_mod.run_sync(cfg, db, spool=spool, resend_spooled="all" if all_ else "overdue")
    _report(res, json_)

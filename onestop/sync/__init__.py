"""Nightly sync to the ministry system (docs/sync.md): ``run_sync``, ``status``, ``retry``, ``acks``.

The outbox (written with every change) is sent to an HTTP(S) endpoint, or written to a spool
folder; ``--from-spool`` delivers such a folder from a connected machine and writes the server's
acknowledgements into it; ``acks`` brings them back into the office's outbox. One run at a time:
per office on PostgreSQL (an advisory lock every desk sees), per data home on SQLite (sync/lock.py).
Every run exits 11 while an entry is held for a fix, so the scheduler keeps hearing of it.

Where things are: outbox.py sends the database's outbox (the loop: order per dossier, ack before
done); sending.py the rules that send nothing twice (each item's outcome, "already exists" versus
another dossier's code, steps in doubt looked up); payloads.py builds the ministry's records;
transport.py is the HTTP client; spool.py writes a spool (the office side), spool_seals.py seals it
and checks everything read from a stick, spool_delivery.py delivers it (``--from-spool``),
spool_acks.py imports its acknowledgements (``sync acks``); redact.py masks server messages;
lock.py is the one-run-at-a-time lock. SQL stays in onestop/store/. May import onestop.common,
onestop.domain, onestop.store, onestop.intake and onestop.archive, never the CLI.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from onestop.common import errors
from onestop.common.i18n import t

log = logging.getLogger("onestop.sync")


@dataclass
class SyncResult:
    target: str
    kind: str                      # url / spool / dry-run / from-spool
    stats: dict = field(default_factory=dict)
    exit_code: int = 0
    run_id: int | None = None

    @property
    def sent(self) -> int:
        return self.stats.get("sent", 0)


def _setup_log(cfg) -> logging.Handler | None:
    from onestop.store.sqlite import ensure_private_dir

    try:
        ensure_private_dir(cfg.logs_dir)
        h = logging.FileHandler(cfg.logs_dir / "sync.log", encoding="utf-8")
    except OSError:
        return None
    from onestop.sync.redact import RedactFilter

    h.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    h.addFilter(RedactFilter())  # server messages may quote the citizen's ID or phone number
    log.addHandler(h)
    log.setLevel(logging.INFO)
    log.propagate = False
    return h


def http_transport(cfg, url: str | None = None):
    """The ministry's HTTP transport from the settings (sync/transport.py ``from_config``)."""
    from onestop.sync.transport import from_config

    return from_config(cfg, url)


def make_transport(cfg, *, spool: str | Path | None = None, dry_run: str | Path | None = None,
                   office_id: str = "", secret: str = ""):
    """The transport chosen by the options and the config (url, else the spool folder, sealed with
    the office's ``secret``)."""
    from onestop.sync.spool import SpoolTransport

    if dry_run:
        return SpoolTransport(Path(dry_run), agency=cfg.agency_code, dry_run=True)
    if spool:
        return SpoolTransport(Path(spool), agency=cfg.agency_code, office_id=office_id, secret=secret)
    url = os.environ.get("ONESTOP_SYNC_URL") or cfg.get("sync.url", "")
    if not url:
        folder = cfg.get("sync.spool", "")
        if not folder:
            # Spooling by default would let a whole office's nightly sync "succeed" for months
            # without a byte leaving (e.g. a cron line that does not export ONESTOP_SYNC_URL).
            raise errors.ConfigError(
                "Chưa có địa chỉ hệ thống của Bộ (ONESTOP_SYNC_URL hoặc [sync] url) và không chọn thư mục spool: "
                "không gửi gì. Đặt ONESTOP_SYNC_URL (với cron/systemd: biến phải được export, xem docs/sync.md), "
                "hoặc với văn phòng không có mạng: onestop sync --spool THƯ_MỤC (hoặc [sync] spool).",
                "No ministry system address (ONESTOP_SYNC_URL or [sync] url) and no spool folder chosen: nothing "
                "is sent. Set ONESTOP_SYNC_URL (under cron/systemd it must be exported, see docs/sync.md), or for "
                "an office without a line: onestop sync --spool FOLDER (or [sync] spool).")
        return SpoolTransport(Path(folder), agency=cfg.agency_code, office_id=office_id, secret=secret)
    return http_transport(cfg, url)


def run_sync(cfg, db=None, *, spool=None, dry_run=None, from_spool=None, limit: int | None = None,
             dossier: str | None = None, transport=None, resend_spooled: str | None = None) -> SyncResult:
    """Send the outbox (or deliver ``from_spool``); returns the result with its exit code.

    Exit codes: 0 all sent, 11 some items failed or spooled entries overdue (see ``sync status``),
    75 server unreachable (try later). Raises SyncLocked when another run holds the lock.
    ``resend_spooled`` ("overdue" or "all"): first put back in the queue the spooled entries not
    acknowledged after ``[sync] spool_ack_days`` (or all of them): a lost stick."""
    from onestop.sync.lock import run_lock

    handler = _setup_log(cfg)
    own = db is None
    try:
        if own:
            from onestop.store import connect

            db = connect(cfg)  # the configured store: the data home's SQLite file or the office database
        with run_lock(cfg, db):
            return _run_locked(cfg, db, spool=spool, dry_run=dry_run, from_spool=from_spool, limit=limit,
                               dossier=dossier, transport=transport, resend_spooled=resend_spooled)
    finally:
        if own and db is not None and db.backend == "postgresql":
            db.close()
        if handler:
            log.removeHandler(handler)
            handler.close()


def _run_locked(cfg, db, *, spool, dry_run, from_spool, limit, dossier, transport, resend_spooled=None) -> SyncResult:
    from onestop.intake.dossiers import iso, now
    from onestop.store import sync_runs
    from onestop.sync.outbox import OutboxSync
    from onestop.sync.sending import Stats, Unreachable
    from onestop.store.sync_runs import office_secret
    from onestop.sync.spool import office_id
    from onestop.sync.spool_delivery import send_spool
    from onestop.sync.transport import LoginFailed, refused_login

    if from_spool:
        transport = transport or http_transport(cfg)
        kind = "from-spool"
    else:
        transport = transport or make_transport(cfg, spool=spool, dry_run=dry_run, office_id=office_id(db),
                                                secret=office_secret(db))
        kind = transport.kind
    target = transport.describe()
    dossier_id = None
    if dossier:
        from onestop.intake.dossiers import resolve_code

        dossier_id = resolve_code(db, cfg, dossier)["id"]
    started = iso(now(cfg))
    run_id = None
    if kind != "dry-run":
        run_id = sync_runs.start_run(db, started, kind + ":" + _safe_target(target))
    log.info("sync start (%s → %s)%s%s", kind, _safe_target(target),
             f" dossier {dossier}" if dossier else "", f" limit {limit}" if limit else "")
    stats = Stats()
    summary_extra: dict = {}
    resent = 0
    if resend_spooled and not from_spool and kind != "dry-run":
        resent = requeue_spooled(db, cfg, everything=resend_spooled == "all")
        log.info("resend-spooled: %d spooled entries back in the queue", resent)
    try:
        if from_spool:
            # this machine checks the seals' MAC too when the spool is its own office's
            send_spool(Path(from_spool), transport, stats, keys={office_id(db): office_secret(db)})
        else:
            if kind == "url":  # online dossiers (channel 2): the portal is told first, then pulled
                _online(db, cfg, transport, summary_extra)
            OutboxSync(db, cfg, transport, batch_size=int(cfg.get("sync.batch_size", 50)),
                       dry_run=kind == "dry-run", dossier_id=dossier_id, limit=limit, stats=stats).run()
    except Unreachable as e:
        stats.unreachable = str(e)[:200]
        log.error("server unreachable: %s", stats.unreachable)
    except LoginFailed as e:
        raise refused_login(e) from None  # exit 8: the password, or a certificate not trusted
    finally:
        transport.close()
    summary = stats.as_dict()
    summary.update(summary_extra)
    if resend_spooled:
        summary["resent_spooled"] = resent
    if kind != "dry-run":
        summary.update(held_summary(db, cfg))
        summary.update(overdue_summary(db, cfg))
    code = (errors.SYNC_UNREACHABLE if stats.unreachable
            else errors.SYNC_PARTIAL if summary["failed"] or summary.get("held_for_fix")
            or summary.get("spooled_overdue") else 0)
    for reason, n in stats.failed.items():
        log.warning("failed %d: %s", n, reason)
    log.info("sync end: sent %d, already there %d, failed %d, held %d, held for a fix %d (oldest %s), exit %d",
             summary["sent"], summary["already"], summary["failed"], summary["held"],
             summary.get("held_for_fix", 0), summary.get("held_oldest_at") or "-", code)
    if run_id is not None:
        sync_runs.finish_run(db, run_id, iso(now(cfg)), summary, code)
    return SyncResult(target=_safe_target(target), kind=kind, stats=summary, exit_code=code, run_id=run_id)


def _online(db, cfg, transport, out: dict) -> None:
    """The online dossiers' part of a run over the line: the takes and refusals the portal has not
    confirmed yet, then with ``[online] pull = true`` the pull (docs/online.md)."""
    from onestop.sync.portal import send_acks

    acks = send_acks(db, cfg, transport)
    out["online_acks_sent"] = acks["sent"]
    if acks["unreachable"]:
        from onestop.sync.sending import Unreachable

        raise Unreachable(acks["unreachable"])
    if acks["refused"]:
        out["online_acks_refused"] = len(acks["refused"])
    if cfg.get("online.pull", False) is True:
        from onestop.sync.online import pull

        st = pull(db, cfg, transport=transport, locked=True)
        out["online_pulled"] = st["new"]
        out["online_blocked"] = st["blocked"]


def _safe_target(target: str) -> str:
    """A URL without any user:password part."""
    if "@" in target and "://" in target:
        scheme, rest = target.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return target


def _age_seconds(cfg, stamp: str | None) -> int | None:
    from datetime import datetime

    from onestop.intake.dossiers import now

    if not stamp:
        return None
    try:
        return max(0, int((now(cfg) - datetime.fromisoformat(stamp)).total_seconds()))
    except (TypeError, ValueError):
        return None


def held_summary(db, cfg) -> dict:
    """Entries refused by the server and waiting for a fix (state failed), the pending entries of
    their dossiers that wait behind them, and the oldest refusal."""
    from onestop.store import outbox

    n, oldest = outbox.held_for_fix(db)
    out = {"held_for_fix": n, "held_waiting": 0, "held_oldest_at": None, "held_oldest_code": None,
           "held_oldest_age_seconds": None}
    if not n:
        return out
    out["held_waiting"] = outbox.held_waiting(db)
    out["held_oldest_at"] = oldest
    out["held_oldest_code"] = outbox.oldest_held_code(db)
    out["held_oldest_age_seconds"] = _age_seconds(cfg, oldest)
    return out


def spool_ack_days(cfg) -> float:
    """``[sync] spool_ack_days``: after how long a spooled entry without acknowledgement is overdue."""
    try:
        days = float(cfg.get("sync.spool_ack_days", 7))
    except (TypeError, ValueError):
        days = -1
    if days <= 0:
        raise errors.ConfigError(
            "[sync] spool_ack_days phải là số ngày lớn hơn 0 (ví dụ 7).",
            "[sync] spool_ack_days must be a number of days above 0 (e.g. 7).")
    return days


def _overdue_cutoff(cfg) -> str:
    from datetime import timedelta

    from onestop.intake.dossiers import iso, now

    return iso(now(cfg) - timedelta(days=spool_ack_days(cfg)))


def overdue_summary(db, cfg) -> dict:
    """Spooled entries not acknowledged after ``[sync] spool_ack_days`` (a lost stick?): how many
    and since when."""
    from onestop.store import outbox

    n, oldest = outbox.spooled_overdue(db, _overdue_cutoff(cfg))
    return {"spooled_overdue": n, "spooled_overdue_since": oldest if n else None,
            "spool_ack_days": spool_ack_days(cfg)}


def requeue_spooled(db, cfg, *, everything: bool = False) -> int:
    """Put the overdue spooled entries (``everything``: all spooled entries) back in the queue, in
    doubt, so the next send finds on the server what the lost stick may have delivered after all."""
    from onestop.store import outbox, transaction
    from onestop.sync.payloads import SPOOL_URL

    cutoff = "9999" if everything else _overdue_cutoff(cfg)  # "9999": after every ISO stamp
    with transaction(db):
        return outbox.requeue_spooled(db, cutoff, SPOOL_URL)


def summary_lines(res: SyncResult) -> list[str]:
    """The summary an operator reads (stderr)."""
    s = res.stats
    if res.kind == "spool":  # spooled is not synced: do not say "sent"
        lines = [t(f"Đồng bộ (spool → {res.target}): đã ghi vào spool {s['sent']} mục (chưa gửi lên Bộ), lỗi {s['failed']}.",
                   f"Sync (spool → {res.target}): spooled {s['sent']} entries (not sent to the ministry yet), "
                   f"failed {s['failed']}.")]
    else:
        lines = [t(f"Đồng bộ ({res.kind} → {res.target}): đã gửi {s['sent']}, đã có sẵn {s['already']}, lỗi {s['failed']}.",
                   f"Sync ({res.kind} → {res.target}): sent {s['sent']}, already there {s['already']}, "
                   f"failed {s['failed']}.")]
    if s.get("sent_by_kind"):
        lines.append("  " + (t("đã ghi", "spooled") if res.kind == "spool" else t("đã gửi", "sent")) + ": " + ", ".join(f"{k} {v}" for k, v in sorted(s["sent_by_kind"].items())))
    for reason, n in sorted(s.get("failed_by_reason", {}).items(), key=lambda x: -x[1]):
        lines.append(f"  {t('lỗi', 'failed')} ×{n}: {reason}")
    if s.get("held"):
        lines.append(t(f"  {s['held']} mục chờ mục trước của cùng hồ sơ được sửa (xem 'onestop sync status').",
                       f"  {s['held']} entries wait for an earlier entry of their dossier (see 'onestop sync status')."))
    if s.get("held_for_fix"):
        n, w, code_, since = s["held_for_fix"], s.get("held_waiting", 0), s["held_oldest_code"], s["held_oldest_at"]
        from onestop.common.output import age_text

        age = age_text(s.get("held_oldest_age_seconds"))
        lines.append(t(f"  Đang giữ chờ sửa: {n} mục bị từ chối (+{w} mục chờ sau chúng), cũ nhất từ {since} "
                       f"({age}, hồ sơ {code_}). Sửa dữ liệu rồi 'onestop sync retry MÃ_HỒ_SƠ'.",
                       f"  Held for a fix: {n} refused entries (+{w} waiting behind them), oldest since {since} "
                       f"({age}, dossier {code_}). Fix the data, then 'onestop sync retry CODE'."))
    if s.get("spooled_overdue"):
        days = s.get("spool_ack_days")
        lines.append(t(f"  {s['spooled_overdue']} mục đã ghi vào spool từ {s['spooled_overdue_since']}, quá {days:g} ngày "
                       "chưa được xác nhận (mất thẻ nhớ?). Gửi lại: 'onestop sync resend-spooled' (qua mạng) hoặc "
                       "'onestop sync resend-spooled --spool THƯ_MỤC_MỚI' (thẻ mới); không gửi trùng.",
                       f"  {s['spooled_overdue']} entries spooled since {s['spooled_overdue_since']} are not acknowledged "
                       f"after {days:g} days (a lost stick?). Send them again: 'onestop sync resend-spooled' (over the "
                       "line) or 'onestop sync resend-spooled --spool NEW_FOLDER' (a new stick); nothing goes twice."))
    if s.get("resent_spooled"):
        lines.append(t(f"  Đã đưa lại hàng đợi {s['resent_spooled']} mục của spool chưa được xác nhận.",
                       f"  {s['resent_spooled']} unacknowledged spooled entries were put back in the queue."))
    if s.get("waiting_spool"):
        lines.append(t(f"  {s['waiting_spool']} mục chờ xác nhận của thư mục spool (onestop sync acks PATH).",
                       f"  {s['waiting_spool']} entries wait for a spool's acknowledgements (onestop sync acks PATH)."))
    if res.kind == "spool" and s.get("sent"):
        lines.append(t("  Đã ghi vào spool, CHƯA đồng bộ: mang thư mục sang máy có mạng, chạy 'onestop sync --from-spool', "
                       "rồi mang về chạy 'onestop sync acks'.",
                       "  Written to the spool, NOT synced yet: carry the folder to a connected machine, run "
                       "'onestop sync --from-spool', bring it back and run 'onestop sync acks'."))
    if s.get("unreachable"):
        lines.append(t(f"  Không kết nối được hệ thống của Bộ ({s['unreachable']}); phần còn lại sẽ gửi ở lần chạy sau.",
                       f"  The ministry system is unreachable ({s['unreachable']}); the rest goes in the next run."))
    return lines


def status(db, cfg) -> dict:
    """What a monitoring script needs: pending entries by kind, entries held for a fix and the
    oldest, spooled entries not yet acknowledged and their age, the last run and the last success."""
    from onestop.store import outbox, sync_runs

    pending = outbox.pending_by_kind(db)
    in_doubt = outbox.steps_in_doubt(db)
    failed = outbox.failed_entries(db, 500)
    spooled, spooled_oldest = outbox.spooled_unacknowledged(db)
    success = sync_runs.last_success(db)
    held = held_summary(db, cfg)
    last_run = sync_runs.last_run(db)
    if last_run:
        last_run["unreachable"] = json.loads(last_run.pop("summary") or "{}").get("unreachable", "")
    from onestop.sync.online import queue_status

    return {"pending": pending, "pending_total": sum(pending.values()), "in_doubt_steps": in_doubt,
            "online": queue_status(db),
            "held": held["held_for_fix"], "held_waiting": held["held_waiting"],
            "oldest_held": None if not held["held_for_fix"] else {
                "code": held["held_oldest_code"], "since": held["held_oldest_at"],
                "age_seconds": held["held_oldest_age_seconds"]},
            "spooled_unacknowledged": spooled, "spooled_oldest": spooled_oldest,
            "spooled_age_seconds": _age_seconds(cfg, spooled_oldest), **overdue_summary(db, cfg),
            "failed": failed, "failed_total": held["held_for_fix"], "last_run": last_run,
            "last_success": success}


def retry(db, cfg, code: str) -> dict:
    """Put the failed entries of a dossier back in the queue (after the data was corrected)."""
    from onestop.store import transaction
    from onestop.intake.dossiers import iso, now, resolve_code
    from onestop.store import outbox

    d = resolve_code(db, cfg, code)
    with transaction(db):
        n = outbox.requeue_failed(db, d["id"])
        if n:  # the corrected data goes out as a fresh record
            outbox.queue_update_if_created(db, d["id"], iso(now(cfg)))
    return {"code": d["code"], "requeued": n}


def acks(db, cfg, folder) -> dict:
    """Import a spool's acknowledgements (``onestop sync acks PATH``), under the sync lock."""
    from onestop.sync.lock import run_lock
    from onestop.sync.spool_acks import import_acks

    handler = _setup_log(cfg)
    try:
        with run_lock(cfg, db):
            res = import_acks(db, cfg, Path(folder))
        res.update(held_summary(db, cfg))
        res.update(overdue_summary(db, cfg))
        return res
    finally:
        if handler:
            log.removeHandler(handler)
            handler.close()

"""Nightly sync to the ministry system (docs/sync.md): ``run_sync``, ``status``, ``retry``.

The outbox (written with every change) is sent to an HTTP(S) endpoint, or written to a spool
folder; ``--from-spool`` delivers such a folder from a connected machine. One run at a time.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from onestop import errors
from onestop.i18n import t

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
    from onestop.db import ensure_private_dir

    try:
        ensure_private_dir(cfg.logs_dir)
        h = logging.FileHandler(cfg.logs_dir / "sync.log", encoding="utf-8")
    except OSError:
        return None
    h.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    log.addHandler(h)
    log.setLevel(logging.INFO)
    log.propagate = False
    return h


def make_transport(cfg, *, spool: str | Path | None = None, dry_run: str | Path | None = None):
    """The transport chosen by the options and the config (url, else the spool folder)."""
    from onestop.sync.spool import SpoolTransport

    if dry_run:
        return SpoolTransport(Path(dry_run), agency=cfg.agency_code, dry_run=True)
    if spool:
        return SpoolTransport(Path(spool), agency=cfg.agency_code)
    url = os.environ.get("ONESTOP_SYNC_URL") or cfg.get("sync.url", "")
    if not url:
        folder = cfg.get("sync.spool", "") or (cfg.home / "spool")
        return SpoolTransport(Path(folder), agency=cfg.agency_code)
    return http_transport(cfg, url)


def http_transport(cfg, url: str | None = None):
    from onestop.sync.transport import HttpTransport

    url = url or os.environ.get("ONESTOP_SYNC_URL") or cfg.get("sync.url", "")
    if not url:
        raise errors.ConfigError(
            "Chưa cấu hình địa chỉ hệ thống của Bộ ([sync] url hoặc ONESTOP_SYNC_URL).",
            "No ministry system address configured ([sync] url or ONESTOP_SYNC_URL).")
    if url.startswith("http://") and not url.startswith(("http://127.0.0.1", "http://localhost")):
        log.warning("sync url is not HTTPS")
    return HttpTransport(
        url, username=os.environ.get("ONESTOP_SYNC_USER") or cfg.get("sync.username", ""),
        password=os.environ.get("ONESTOP_SYNC_PASSWORD") or "", agency=cfg.agency_code,
        dstcode=cfg.get("sync.dstcode", ""), timeout=float(cfg.get("sync.timeout", 30)),
        retries=int(cfg.get("sync.retries", 5)), backoff=float(cfg.get("sync.backoff", 1.0)),
        ca_file=cfg.get("sync.ca_file", ""), session_codes=cfg.get("sync.session_error_codes", [-2, 401, -401]))


def run_sync(cfg, db=None, *, spool=None, dry_run=None, from_spool=None, limit: int | None = None,
             dossier: str | None = None, transport=None) -> SyncResult:
    """Send the outbox (or deliver ``from_spool``); returns the result with its exit code.

    Exit codes: 0 all sent, 11 some items failed (see ``sync status``), 75 server unreachable
    (try later). Raises SyncLocked when another run holds the lock."""
    from onestop.sync.lock import sync_lock

    handler = _setup_log(cfg)
    try:
        with sync_lock(cfg.home):
            return _run_locked(cfg, db, spool=spool, dry_run=dry_run, from_spool=from_spool, limit=limit,
                               dossier=dossier, transport=transport)
    finally:
        if handler:
            log.removeHandler(handler)
            handler.close()


def _run_locked(cfg, db, *, spool, dry_run, from_spool, limit, dossier, transport) -> SyncResult:
    from onestop.db import connect
    from onestop.dossiers import iso, now
    from onestop.sync.outbox import OutboxSync, Stats, Unreachable
    from onestop.sync.spool import send_spool
    from onestop.sync.transport import LoginFailed

    db = db if db is not None else connect(cfg.db_path)
    if from_spool:
        transport = transport or http_transport(cfg)
        kind = "from-spool"
    else:
        transport = transport or make_transport(cfg, spool=spool, dry_run=dry_run)
        kind = transport.kind
    target = transport.describe()
    dossier_id = None
    if dossier:
        from onestop.dossiers import resolve_code

        dossier_id = resolve_code(db, cfg, dossier)["id"]
    started = iso(now(cfg))
    run_id = None
    if kind != "dry-run":
        run_id = db.conn.execute("INSERT INTO sync_runs (started_at, target) VALUES (?, ?)",
                                 [started, kind + ":" + _safe_target(target)]).lastrowid
    log.info("sync start (%s → %s)%s%s", kind, _safe_target(target),
             f" dossier {dossier}" if dossier else "", f" limit {limit}" if limit else "")
    stats = Stats()
    try:
        if from_spool:
            send_spool(Path(from_spool), transport, stats)
        else:
            OutboxSync(db, cfg, transport, batch_size=int(cfg.get("sync.batch_size", 50)),
                       dry_run=kind == "dry-run", dossier_id=dossier_id, limit=limit, stats=stats).run()
    except Unreachable as e:
        stats.unreachable = str(e)[:200]
        log.error("server unreachable: %s", stats.unreachable)
    except LoginFailed as e:
        log.error("login refused: %s", e)
        raise errors.ConfigError(
            f"Hệ thống của Bộ từ chối đăng nhập ({e}). Kiểm tra ONESTOP_SYNC_USER / ONESTOP_SYNC_PASSWORD.",
            f"The ministry system refused the login ({e}). Check ONESTOP_SYNC_USER / ONESTOP_SYNC_PASSWORD.",
        ) from None
    finally:
        transport.close()
    summary = stats.as_dict()
    code = (errors.SYNC_UNREACHABLE if stats.unreachable else errors.SYNC_PARTIAL if summary["failed"] else 0)
    for reason, n in stats.failed.items():
        log.warning("failed %d: %s", n, reason)
    log.info("sync end: sent %d, already there %d, failed %d, held %d, exit %d", summary["sent"],
             summary["already"], summary["failed"], summary["held"], code)
    if run_id is not None:
        db.conn.execute("UPDATE sync_runs SET finished_at = ?, sent = ?, already = ?, failed = ?, exit_code = ?, "
                        "summary = ? WHERE id = ?", [iso(now(cfg)), summary["sent"], summary["already"],
                                                     summary["failed"], code,
                                                     json.dumps(summary, ensure_ascii=False), run_id])
    return SyncResult(target=_safe_target(target), kind=kind, stats=summary, exit_code=code, run_id=run_id)


def _safe_target(target: str) -> str:
    """A URL without any user:password part."""
    if "@" in target and "://" in target:
        scheme, rest = target.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return target


def summary_lines(res: SyncResult) -> list[str]:
    """The summary an operator reads (stderr)."""
    s = res.stats
    lines = [t(f"Đồng bộ ({res.kind} → {res.target}): đã gửi {s['sent']}, đã có sẵn {s['already']}, lỗi {s['failed']}.",
               f"Sync ({res.kind} → {res.target}): sent {s['sent']}, already there {s['already']}, failed {s['failed']}.")]
    if s.get("sent_by_kind"):
        lines.append("  " + t("đã gửi", "sent") + ": " + ", ".join(f"{k} {v}" for k, v in sorted(s["sent_by_kind"].items())))
    for reason, n in sorted(s.get("failed_by_reason", {}).items(), key=lambda x: -x[1]):
        lines.append(f"  {t('lỗi', 'failed')} ×{n}: {reason}")
    if s.get("held"):
        lines.append(t(f"  {s['held']} mục chờ mục trước của cùng hồ sơ được sửa (xem 'onestop sync status').",
                       f"  {s['held']} entries wait for an earlier entry of their dossier (see 'onestop sync status')."))
    if s.get("unreachable"):
        lines.append(t(f"  Không kết nối được hệ thống của Bộ ({s['unreachable']}); phần còn lại sẽ gửi ở lần chạy sau.",
                       f"  The ministry system is unreachable ({s['unreachable']}); the rest goes in the next run."))
    return lines


def status(db, cfg) -> dict:
    """Pending entries by kind, failures waiting for a fix, the last run."""
    pending = dict(db.conn.execute(
        "SELECT kind, count(*) FROM outbox WHERE state = 'pending' GROUP BY kind").fetchall())
    in_doubt = db.conn.execute(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND kind = 'step' AND attempts > 0").fetchone()[0]
    failed = [{"code": c, "kind": k, "attempts": a, "error": e, "since": at} for c, k, a, e, at in db.conn.execute(
        "SELECT d.code, o.kind, o.attempts, o.last_error, o.created_at FROM outbox o JOIN dossiers d ON d.id = o.dossier_id "
        "WHERE o.state = 'failed' ORDER BY o.id LIMIT 500")]
    last = db.conn.execute("SELECT started_at, finished_at, target, sent, already, failed, exit_code, summary "
                           "FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()
    last_run = None
    if last:
        last_run = dict(zip(("started_at", "finished_at", "target", "sent", "already", "failed", "exit_code"), last[:7]))
        last_run["unreachable"] = json.loads(last[7] or "{}").get("unreachable", "")
    return {"pending": pending, "pending_total": sum(pending.values()), "in_doubt_steps": in_doubt,
            "failed": failed, "failed_total": db.conn.execute(
                "SELECT count(*) FROM outbox WHERE state = 'failed'").fetchone()[0], "last_run": last_run}


def retry(db, cfg, code: str) -> dict:
    """Put the failed entries of a dossier back in the queue (after the data was corrected)."""
    from onestop.db import transaction
    from onestop.dossiers import iso, now, resolve_code

    d = resolve_code(db, cfg, code)
    with transaction(db):
        n = db.conn.execute("UPDATE outbox SET state = 'pending', last_error = '' WHERE dossier_id = ? "
                            "AND state = 'failed'", [d["id"]]).rowcount
        if n:  # the corrected data goes out as a fresh record
            db.conn.execute("INSERT INTO outbox (dossier_id, kind, created_at) SELECT ?, 'update', ? "
                            "WHERE EXISTS (SELECT 1 FROM outbox WHERE dossier_id = ? AND kind = 'create' AND state = 'done')",
                            [d["id"], iso(now(cfg)), d["id"]])
    return {"code": d["code"], "requeued": n}


def demo_step(db, cfg, result: dict) -> None:
    """Demo: sync the demo home to its spool folder and show the summary."""
    from onestop.demo import _say

    _say(t("\n[bold]Đồng bộ về hệ thống của Bộ[/bold] (chưa cấu hình địa chỉ: ghi vào thư mục spool)",
           "\n[bold]Sync to the ministry system[/bold] (no address configured: writing to the spool folder)"))
    res = run_sync(cfg, db, spool=cfg.get("sync.spool", "") or cfg.home / "spool")
    for line in summary_lines(res):
        _say("  " + line)
    _say(t(f"  Mang thư mục {res.target} sang máy có mạng rồi chạy: onestop sync --from-spool {res.target}",
           f"  Carry {res.target} to a connected machine and run: onestop sync --from-spool {res.target}"))
    result["sync"] = {"target": res.target, **res.stats, "exit_code": res.exit_code}

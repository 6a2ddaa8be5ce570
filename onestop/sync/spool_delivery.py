"""Delivering a spool (``onestop sync --from-spool FOLDER``, on a connected machine): safe to interrupt
and run again, nothing sent twice.

The whole folder is checked first (spool_seals.py: ``check_spool``); the requests carry the stick's
agency code. Each batch is delivered in order: uploads first (the server's IdTepTin / DuongDan put in
place of the records' ``spool:sha256:<hex>``), records, progress lines (each checked against the
server first, as an interrupted delivery may have sent it). The server's answers go to
``acks/<batch>`` (``Ack``): written as begun before anything is sent, then final with the answers.
"""

from __future__ import annotations

import json
from pathlib import Path

from onestop.sync.payloads import SPOOL_URL
from onestop.sync.sending import ALREADY, SENT, Stats, Unreachable, send_items, send_steps
from onestop.sync.spool import write_file
from onestop.sync.spool_seals import Plan, Sealed, check_spool
from onestop.sync.transport import Rejected, Temporary


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def send_spool(folder: Path, transport, stats: Stats | None = None, *, keys: dict[str, str] | None = None) -> Stats:
    """Deliver a spool folder through ``transport``; safe to interrupt and run again.

    Everything is checked first (``check_spool``); the requests carry the stick's agency code
    (``madonvi`` of the office that wrote it), whatever this machine's own configuration says."""
    folder = Path(folder)
    stats = stats or Stats()
    if not folder.is_dir():
        from onestop.common.errors import NotFound

        raise NotFound(f"Không thấy thư mục spool {folder}.", f"No spool folder {folder}.")
    plan = check_spool(folder, keys or {})
    transport.agency = plan.office["agency"]
    for b in plan.batches:
        if b.name in plan.delivered:
            continue
        started = b.name in plan.started
        ack = Ack(folder, b, plan.office)
        if not started:  # from now on the server may hold what this batch carries
            ack.write(final=False)
        if b.service == "upload":
            _send_uploads(plan, b, transport, stats, ack)
        elif b.service == "CapNhatTienDoHoSoMC":
            _send_steps(plan, b, transport, stats, ack)
        else:
            _send_records(plan, b, transport, stats, ack, started)
    return stats


class Ack:
    """The server's answers to one batch, written to ``acks/<batch>``: first as begun (``final``
    false: an attempt may reach the server), then with the answers (``final`` true) before the batch
    counts as delivered, so a crash in between only repeats the delivery, which sends nothing twice.
    It names the batch's exact content (SHA-256 and the seal's nonce); items by their index."""

    def __init__(self, folder: Path, b: Sealed, office: dict):
        self.path = Path(folder) / "acks" / b.name
        self.body = {"office_id": office["office_id"], "agency": office["agency"], "batch": b.name,
                     "sha256": b.sha256, "nonce": b.seal["nonce"], "final": False,
                     "acked_items": [], "refused": [], "files": {}}

    def ok(self, i: int) -> None:
        self.body["acked_items"].append(i)

    def refused(self, i: int, code: str, reason: str) -> None:
        from onestop.sync.redact import redact

        self.body["refused"].append({"item": i, "MaHoSo": code, "reason": redact(reason)})

    def file(self, sha: str, remote_id: str, url: str) -> None:
        self.body["files"][sha] = [remote_id, url]

    def file_refused(self, sha: str, reason: str) -> None:
        from onestop.sync.redact import redact

        self.body.setdefault("files_refused", {})[sha] = redact(reason)

    def write(self, *, final: bool = True) -> None:
        self.body["final"] = final
        self.body["at"] = _now()
        write_file(self.path, json.dumps(self.body, ensure_ascii=False, indent=1).encode())


def _send_uploads(plan: Plan, b: Sealed, transport, stats, ack) -> None:
    for item in b.data:
        sha, code = item["sha256"], item.get("MaHoSo", "?")
        known = plan.uploaded.get(sha)
        if known:
            ack.file(sha, *known)
            stats.already["file"] += 1
            continue
        try:
            ans = transport.upload(plan.files[sha], sha, str(code))
        except Temporary as e:
            raise Unreachable(str(e)) from None
        except (Rejected, OSError) as e:
            reason = getattr(e, "message", str(e))
            stats.fail(code, "file", reason)
            ack.file_refused(sha, reason)
            continue
        if str(ans.get("error_code", 0)) != "0" or (ans.get("sha256") and str(ans["sha256"]).lower() != sha):
            reason = f"[{ans.get('error_code')}] {ans.get('message', '')}" if str(ans.get("error_code", 0)) != "0" \
                else "máy chủ nhận tệp khác mã SHA-256"
            stats.fail(code, "file", reason)
            ack.file_refused(sha, reason)
            continue
        plan.uploaded[sha] = (str(ans.get("IdTepTin", "")), str(ans.get("DuongDan", "")))
        ack.file(sha, *plan.uploaded[sha])
        stats.sent["file"] += 1
    ack.write()


def _resolve_files(plan: Plan, rec: dict) -> dict:
    """The record with the server's file ids in place of the spool's; a file whose upload was
    refused is left out (TaiLieuNop lists only uploaded files), so the record itself still goes."""
    docs = rec.get("TaiLieuNop") or []
    if not any(str(d.get("DuongDanTaiTepTin", "")).startswith(SPOOL_URL) for d in docs):
        return rec
    new_docs = []
    for d in docs:
        url = str(d.get("DuongDanTaiTepTin", ""))
        if url.startswith(SPOOL_URL):
            row = plan.uploaded.get(url[len(SPOOL_URL):])
            if not row:
                continue
            d = dict(d, TepDinhKemId=row[0], DuongDanTaiTepTin=row[1])
        new_docs.append(d)
    return dict(rec, TaiLieuNop=new_docs, HoSoCoThanhPhanSoHoa="1" if new_docs else "0")


def _send_records(plan: Plan, b: Sealed, transport, stats, ack, started: bool) -> None:
    updating = str(b.body.get("isUpdating", "False")) == "True"
    kind = "update" if updating else "create"
    for i in range(0, len(b.data), 50):
        part = [_resolve_files(plan, r) for r in b.data[i:i + 50]]
        # a create is ours on the server only if it may have gone before: sent or spooled earlier
        # by the office, or this batch's delivery begun before
        doubt = [started or b.in_doubt(j) for j in range(i, i + len(part))]
        outs = send_items(transport, "DongBoHoSoMC", part, updating=updating, in_doubt=doubt)
        for j, (rec, o) in enumerate(zip(part, outs), i):
            if o[0] == SENT:
                stats.sent[kind] += 1
                ack.ok(j)
            elif o[0] == ALREADY:
                stats.already[kind] += 1
                ack.ok(j)
            else:
                stats.fail(rec.get("MaHoSo", "?"), kind, o[1])
                ack.refused(j, rec.get("MaHoSo", "?"), o[1])
    ack.write()


def _send_steps(plan: Plan, b: Sealed, transport, stats, ack) -> None:
    data = b.data
    codes = list({r["MaHoSo"] for r in data})

    def done_by_code():
        return {c: list(plan.steps_done.get(c, [])) for c in codes}

    # Every line is checked against the server first: the batch may be a copy written again after
    # a crash of the writer, or sent already by a delivery that died before its answer.
    outs = send_steps(transport, data, mark_attempt=lambda idx: None, is_doubtful=[True] * len(data),
                      done_by_code=done_by_code, on_applied=lambda i: None, stats=stats)
    for j, (rec, o) in enumerate(zip(data, outs)):
        if o[0] in (SENT, ALREADY):
            (stats.sent if o[0] == SENT else stats.already)["step"] += 1
            plan.steps_done.setdefault(rec["MaHoSo"], []).append(rec)
            ack.ok(j)
        else:
            stats.fail(rec.get("MaHoSo", "?"), "step", o[1])
            ack.refused(j, rec.get("MaHoSo", "?"), o[1])
    ack.write()

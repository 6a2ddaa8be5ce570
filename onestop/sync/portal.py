"""The portal's online-dossier services over the sync's transport (same base URL, login, session and
``madonvi``; MINISTRY_API.md "Online dossiers (channel 2)"): the waiting list, the records, a file's
download checked by SHA-256, and the acknowledgements (``CapNhatDaNhanHoSo`` for a take,
``TuChoiTiepNhanHoSo`` for a refusal) sent from ``online_dossiers`` once the local commit is done;
``EarlyLogin``, the login made on a thread while ``online accept`` waits for its helpers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

from onestop.sync.redact import redact
from onestop.sync.sending import Unreachable
from onestop.sync.transport import Rejected, Temporary, failure

log = logging.getLogger("onestop.sync")

DETAIL_BATCH = 25  # records per LayChiTietHoSo; the next batch's files download while one is stored


class FileProblem(Exception):
    """A file that cannot go into the queue (missing on the portal, wrong SHA-256): the dossier is blocked."""


def _result(body: dict, service: str) -> list:
    if str(body.get("error_code", 0)) != "0":
        raise Rejected(redact(str(body.get("message") or service)), body.get("error_code"))
    res = body.get("result") or []
    return [r for r in res if isinstance(r, dict)] if isinstance(res, list) else []


def waiting(t) -> list[dict]:
    """``LayDanhSachHoSo``: the online dossiers still waiting at the portal."""
    try:
        return _result(t.service("LayDanhSachHoSo", [{}]), "LayDanhSachHoSo")
    except Temporary as e:
        raise Unreachable(str(e)) from None


def details(t, dvcs: list[str]) -> list[dict]:
    """``LayChiTietHoSo`` for ``dvcs`` (in batches): their records with ``TaiLieuNop``."""
    out: list[dict] = []
    for i in range(0, len(dvcs), DETAIL_BATCH):
        part = dvcs[i:i + DETAIL_BATCH]
        try:
            out += _result(t.service("LayChiTietHoSo", [{"MaHoSoDVC": d} for d in part]), "LayChiTietHoSo")
        except Temporary as e:
            raise Unreachable(str(e)) from None
    return out


def download(t, url: str, dest: Path, sha256: str) -> int:
    """``GET url`` into ``dest`` (written under a temporary name, renamed when whole, owner-only),
    checked against ``sha256``; the size. A file already there with this SHA-256 is kept as it is.
    Not fsynced: until the take the portal holds the file, and the take checks the queue's copy
    against its SHA-256 again (downloading it anew if a power cut lost it) before archiving it; the
    archive's copy is the one written durably (P14: an fsync per file halved the pull's speed).
    FileProblem when the portal has no such file or sends other bytes; Unreachable when it cannot
    be reached."""
    if dest.is_file():
        h = hashlib.sha256()
        with open(dest, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() == sha256.lower():
            return dest.stat().st_size
    part = dest.with_name(dest.name + ".part")
    httpx = t._httpx

    def once() -> int:
        h, size = hashlib.sha256(), 0
        try:
            with t.client.stream("GET", url) as r:
                if r.status_code == 404 or 400 <= r.status_code < 500:
                    raise FileProblem(f"HTTP {r.status_code}")
                if r.status_code >= 500:
                    raise Temporary(f"HTTP {r.status_code}")
                fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as f:
                    for chunk in r.iter_bytes(1 << 20):
                        h.update(chunk)
                        size += len(chunk)
                        f.write(chunk)
        except (httpx.TimeoutException, httpx.TransportError) as e:
            raise failure(e) from None
        if h.hexdigest() != sha256.lower():
            part.unlink(missing_ok=True)
            raise FileProblem("SHA-256")
        os.replace(part, dest)
        return size

    try:
        return t.retrying(once)
    except Temporary as e:
        raise Unreachable(str(e)) from None


def take_item(row: dict, dossier: dict, vn_time, tzname: str) -> dict:
    """The ``CapNhatDaNhanHoSo`` item of a taken online dossier."""
    return {"MaHoSoDVC": row["dvc"], "MaHoSo": dossier["code"], "NgayTiepNhan": vn_time(dossier["received_at"], tzname),
            "NgayHenTra": vn_time(dossier["due_at"], tzname), "NguoiXuLy": row["taken_by"]}


def refuse_item(row: dict, vn_time, tzname: str) -> dict:
    """The ``TuChoiTiepNhanHoSo`` item of a refused online dossier."""
    return {"MaHoSoDVC": row["dvc"], "LyDoTuChoi": row["reason"], "NgayTuChoi": vn_time(row["taken_at"], tzname),
            "NguoiXuLy": row["taken_by"]}


def send_acks(db, cfg, t) -> dict:
    """Tell the portal every take (once its files are archived) and refusal not yet answered; an
    entry becomes done only on the portal's answer (a lost answer: sent again, the portal answers 0
    for the same code). Returns {"sent", "refused": [(dvc, message)], "unreachable"}."""
    from onestop.intake.clock import iso, now
    from onestop.store import online as store
    from onestop.store import payload_data, transaction
    from onestop.sync.payloads import vn_time

    out = {"sent": 0, "refused": [], "unreachable": ""}
    rows = store.acks_to_send(db)
    if not rows:
        return out
    tz = cfg.timezone
    ids = [r["dossier_id"] for r in rows if r["state"] == "taken"]
    dossiers = {d["id"]: d for d in payload_data.dossier_rows(db, ids)} if ids else {}
    for service, items in (("CapNhatDaNhanHoSo", [(r, take_item(r, dossiers[r["dossier_id"]], vn_time, tz))
                                                  for r in rows if r["state"] == "taken"]),
                           ("TuChoiTiepNhanHoSo", [(r, refuse_item(r, vn_time, tz))
                                                   for r in rows if r["state"] == "refused"])):
        if not items:
            continue
        try:
            body = t.service(service, [it for _r, it in items])
        except Temporary as e:
            out["unreachable"] = str(e)[:200]
            log.warning("%s: portal unreachable (%s)", service, out["unreachable"])
            return out
        except Rejected as e:
            body = {"error_code": e.code, "message": e.message}
        answers = {str(a.get("MaHoSoDVC")): a for a in (body.get("results") or []) if isinstance(a, dict)}
        whole_ok = str(body.get("error_code", 0)) == "0"
        at = iso(now(cfg))
        with transaction(db):
            for r, _it in items:
                a = answers.get(r["dvc"])
                ok = (str(a.get("error_code", 0)) == "0") if a is not None else whole_ok
                if ok:
                    store.mark_ack(db, r["id"], at)
                    out["sent"] += 1
                    log.info("%s %s: done", service, r["dvc"])
                else:
                    msg = redact(str((a or body).get("message") or "bị từ chối"))
                    store.mark_ack_failed(db, r["id"], msg)
                    out["refused"].append((r["dvc"], msg))
                    log.warning("%s %s refused: %s", service, r["dvc"], msg)
    return out


def connect(cfg, *, counter: bool = False):
    """How the online commands reach the portal: a factory of the nightly sync's transport (URL,
    login, session). ``counter``: an officer waits (accept, refuse): one retry, not the nightly run's
    five; what is not answered waits for the next pull or sync."""
    def make():
        from onestop.sync.transport import from_config

        tr = from_config(cfg)
        if counter:
            tr.retries = min(tr.retries, 1)
        return tr

    return make


class EarlyLogin:
    """The portal's transport made and logged in on a thread of the command, started once the take is
    committed: it runs while the command only waits (for the receipt from its helper, for the files
    from the other), so the acknowledgement goes as soon as the files are stored. ``connect`` hands
    it over once (a failed login is tried again by the call that needs the session, as without it)."""

    def __init__(self, connect):
        self._connect = connect
        self._tr = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="onestop-portal-login", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._tr = self._connect()
        except BaseException as e:  # noqa: BLE001 - raised again by connect(), where it was before
            self._error = e
            return
        try:
            self._tr.login()
            from onestop.store import payload_data  # noqa: F401  (what send_acks loads)
            from onestop.sync import payloads  # noqa: F401
        except BaseException:  # noqa: BLE001, S110 - send_acks logs in again and says what fails
            pass

    def connect(self):
        """The logged-in transport the first time, a new one after (each is closed by its user)."""
        self._thread.join()
        tr, self._tr = self._tr, None
        if tr is not None:
            return tr
        if self._error is not None:
            e, self._error = self._error, None
            raise e
        return self._connect()

    def close(self) -> None:
        """Not used after all (the command failed): wait for the thread, close what it made."""
        self._thread.join()
        if self._tr is not None:
            self._tr.close()
            self._tr = None

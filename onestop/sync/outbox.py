"""Send the outbox: bounded batches, order per dossier, ack before done, no duplicates.

Per chunk of pending entries (in id order): files are uploaded first, then creates
(``DongBoHoSoMC`` isUpdating False), updates (True) and steps (``CapNhatTienDoHoSoMC``).
An entry is marked done only after the server acknowledged it. Steps are the only
non-idempotent call: before a step goes out its ``attempts`` is raised and committed, so a step
with ``attempts > 0`` that is still pending may have been applied by the server (lost answer,
kill -9); such steps are looked up with ``TraCuuHoSo`` and only the missing ones are resent.
Creates answered "đã tồn tại" are checked with ``TraCuuHoSo`` first: the same dossier (a lost
answer) is resent as an update (a full record, idempotent); another dossier under the same code
(two offices configured with one agency code) is never overwritten, the entry is held with an
error. Files are kept by SHA-256 on the server, so a re-upload returns the same IdTepTin.

Written to a spool, entries become ``spooled``, not ``done``: only the server's acknowledgement,
brought back by ``onestop sync acks``, makes them done (onestop/sync/spool.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from collections import Counter
from dataclasses import dataclass, field

from onestop.store import outbox as store
from onestop.store.payload_data import dossier_codes, files_table, has_state_column
from onestop.sync.payloads import SPOOL_URL, dossier_records, step_key, step_records
from onestop.sync.redact import redact
from onestop.sync.transport import Rejected, Temporary

log = logging.getLogger("onestop.sync")

SENT, ALREADY, FAILED = "sent", "already", "failed"

# The reason stored on a create whose code the server already holds for another dossier.
COLLISION = "mã hồ sơ đã được dùng cho hồ sơ khác: kiểm tra mã cơ quan"


@dataclass
class Stats:
    """What a run did, for the summary on stderr and the sync_runs row."""

    sent: Counter = field(default_factory=Counter)      # by kind
    already: Counter = field(default_factory=Counter)   # by kind
    failed: Counter = field(default_factory=Counter)    # by reason
    failures: list = field(default_factory=list)        # (code, kind, reason), capped
    held: int = 0
    waiting_spool: int = 0       # entries of dossiers with entries still on a spool (url runs)
    resent_in_doubt: int = 0
    unreachable: str = ""

    def fail(self, code: str, kind: str, reason: str) -> None:
        reason = redact(reason)
        self.failed[reason] += 1
        if len(self.failures) < 200:
            self.failures.append((code, kind, reason))

    def as_dict(self) -> dict:
        return {"sent": sum(self.sent.values()), "already": sum(self.already.values()),
                "failed": sum(self.failed.values()), "sent_by_kind": dict(self.sent),
                "already_by_kind": dict(self.already), "failed_by_reason": dict(self.failed),
                "failures": [{"code": c, "kind": k, "reason": r} for c, k, r in self.failures],
                "held": self.held, "waiting_spool": self.waiting_spool, "resent_in_doubt": self.resent_in_doubt,
                "unreachable": redact(self.unreachable)}


class Unreachable(Exception):
    """The server stayed unreachable after the retries: stop the run, try again later."""


def _ok(code) -> bool:
    return str(code if code is not None else 0) == "0"


def _exists(item: dict) -> bool:
    msg = str(item.get("message", "")).lower()
    return str(item.get("error_code")) in ("3", "-3") or "đã tồn tại" in msg or "already exist" in msg


def _call(transport, service: str, items: list[dict], *, updating: bool) -> tuple[dict, bool]:
    """One request with the transport's retries; also says whether an earlier attempt of it went
    unanswered (a timeout, a dropped connection: the server may have applied it)."""
    lost = False
    for attempt in range(transport.retries + 1):
        try:
            return transport.service_once(service, items, updating=updating), lost
        except Rejected as e:
            return {"error_code": e.code or 1, "message": e.message}, lost
        except Temporary as e:
            lost = True
            if attempt >= transport.retries:
                raise Unreachable(str(e)) from None
            log.warning("temporary failure (%s), retry %d", e, attempt + 1)
            transport.pause(attempt)
    raise AssertionError("unreachable")


def send_items(transport, service: str, items: list[dict], *, updating: bool,
               in_doubt: list[bool] | None = None) -> list[tuple]:
    """Send ``items`` (idempotent service) and return one outcome per item, in order:
    (SENT,) / (ALREADY,) / (FAILED, reason). A whole-request rejection is bisected so one bad item
    does not hold back the others.

    A create answered "đã tồn tại" is ours only if an earlier attempt of it may have reached the
    server without its answer: ``in_doubt[i]`` (an earlier run, a spool) or a retry inside this
    call. Then it is looked up and resent as an update (unless the server shows another dossier).
    On a first attempt the code belongs to another dossier (two offices with one agency code): the
    create is held with ``COLLISION``, nothing is overwritten. ``in_doubt`` None: every item."""
    if not items:
        return []
    doubt = list(in_doubt) if in_doubt is not None else [True] * len(items)
    body, lost = _call(transport, service, items, updating=updating)
    outs = _outcomes(body, items)
    if outs is None:  # the whole request refused
        if len(items) > 1:
            mid = len(items) // 2
            return (send_items(transport, service, items[:mid], updating=updating,
                               in_doubt=[d or lost for d in doubt[:mid]])
                    + send_items(transport, service, items[mid:], updating=updating,
                                 in_doubt=[d or lost for d in doubt[mid:]]))
        return [(FAILED, _reason(body))]
    if service == "DongBoHoSoMC" and not updating:
        again = [i for i, o in enumerate(outs) if o[0] == "exists"]
        first = [i for i in again if not (doubt[i] or lost)]
        for i in first:  # no attempt of ours can have put it there
            outs[i] = (FAILED, f"{COLLISION} ({outs[i][1]})")
            log.warning("create %s: answered 'already exists' on its first attempt; another dossier holds "
                        "this code on the server; held", items[i].get("MaHoSo"))
        again = [i for i in again if i not in first]
        if again:
            verdict = same_on_server(transport, [items[i] for i in again])
            resend = []
            for i, same in zip(again, verdict):
                if same is False:  # another dossier holds the code there: overwriting it would merge two citizens
                    outs[i] = (FAILED, COLLISION)
                    log.warning("create %s: the server holds another dossier under this code; held", items[i].get("MaHoSo"))
                else:
                    if same is None:
                        log.warning("create %s: already on the server after an unanswered attempt of ours, and "
                                    "TraCuuHoSo does not say whose; resent as an update", items[i].get("MaHoSo"))
                    resend.append(i)
            res = send_items(transport, service, [items[i] for i in resend], updating=True)
            for i, o in zip(resend, res):
                outs[i] = (ALREADY,) if o[0] == SENT else o
    return [(FAILED, "đã tồn tại") if o[0] == "exists" else o for o in outs]


# What tells two dossiers apart when the server already holds a code: the applicant, the procedure
# and the receipt time. A lost answer resends exactly the same values.
IDENTITY = ("ChuHoSo", "MaTTHC", "NgayTiepNhan")


def _norm(value) -> str:
    import unicodedata

    return " ".join(unicodedata.normalize("NFC", str(value)).casefold().split())


def same_dossier(ours: dict, theirs: dict) -> bool | None:
    """True when the server's record is ours, False when it is another dossier, None when the
    server's answer carries none of the identifying fields."""
    checks = [_norm(ours.get(k, "")) == _norm(theirs[k]) for k in IDENTITY if str(theirs.get(k) or "").strip()]
    return all(checks) if checks else None


def same_on_server(transport, items: list[dict]) -> list[bool | None]:
    """``same_dossier`` for each item, from one ``TraCuuHoSo`` call (None where it cannot tell)."""
    try:
        known = transport.lookup([str(it.get("MaHoSo")) for it in items])
    except Rejected:
        known = None
    except Temporary as e:
        raise Unreachable(str(e)) from None
    if not known:
        return [None] * len(items)
    return [same_dossier(it, known[str(it.get("MaHoSo"))]) if str(it.get("MaHoSo")) in known else None
            for it in items]


def _reason(body: dict) -> str:
    msg = " ".join(redact(body.get("message") or "").split())[:160]
    return f"[{body.get('error_code')}] {msg}".strip()


def _outcomes(body: dict, items: list[dict]) -> list[tuple] | None:
    results = body.get("results")
    if not results:
        if _ok(body.get("error_code")):
            return [(SENT,)] * len(items)
        return None
    if len(results) == len(items):
        aligned = results
    else:  # by code; a code missing from the results was accepted
        by_code = {}
        for r in results:
            by_code.setdefault(str(r.get("MaHoSo")), r)
        aligned = [by_code.get(str(it.get("MaHoSo")), {"error_code": 0}) for it in items]
    out = []
    for r in aligned:
        if _ok(r.get("error_code")):
            out.append((SENT,))
        elif _exists(r):
            out.append(("exists", _reason(r)))
        else:
            out.append((FAILED, _reason(r)))
    return out


def applied_in_doubt(transport, doubtful: list[dict], done_by_code: dict[str, list[dict]]) -> list[bool | None]:
    """For steps that may already be on the server: True applied, False not, None cannot tell.

    The server's ``TraCuuHoSo`` answer lists the progress lines it holds (``QuaTrinhXuLy``);
    lines already acknowledged to us are subtracted, what remains was applied without an answer."""
    codes = list(dict.fromkeys(r["MaHoSo"] for r in doubtful))
    try:
        known = transport.lookup(codes)
    except Rejected:
        known = None
    except Temporary as e:
        raise Unreachable(str(e)) from None
    if known is None:
        return [None] * len(doubtful)
    remaining: dict[str, Counter] = {}
    out: list[bool | None] = []
    for rec in doubtful:
        code = rec["MaHoSo"]
        item = known.get(code)
        if item is None:
            out.append(False)
            continue
        lines = item.get("QuaTrinhXuLy")
        if not isinstance(lines, list):
            out.append(None)
            continue
        if code not in remaining:
            c = Counter(step_key(dict(l, MaHoSo=code)) for l in lines)
            c.subtract(step_key(d) for d in done_by_code.get(code, []))
            remaining[code] = c
        k = step_key(rec)
        if remaining[code][k] > 0:
            remaining[code][k] -= 1
            out.append(True)
        else:
            out.append(False)
    return out


def send_steps(transport, steps: list[dict], *, mark_attempt, is_doubtful: list[bool], done_by_code,
               on_applied, stats: Stats) -> list[tuple]:
    """Send progress lines without ever sending one twice.

    ``mark_attempt(indexes)`` must durably record that those steps are about to go out;
    ``done_by_code()`` gives the lines already acknowledged, per code, for the doubt check.
    Returns outcomes per step: SENT / ALREADY (found on the server) / FAILED."""
    outs: list[tuple | None] = [None] * len(steps)
    doubt = list(is_doubtful)
    attempt = 0
    while True:
        todo = [i for i in range(len(steps)) if outs[i] is None]
        if not todo:
            return outs
        check = [i for i in todo if doubt[i]]
        if check:
            done = {k: list(v) for k, v in done_by_code().items()}
            for i, o in enumerate(outs):  # resolved earlier in this call, not yet in the database
                if o is not None and o[0] != FAILED:
                    done.setdefault(steps[i]["MaHoSo"], []).append(steps[i])
            verdict = applied_in_doubt(transport, [steps[i] for i in check], done)
            for i, v in zip(check, verdict):
                if v is True:
                    outs[i] = (ALREADY,)
                    on_applied(i)
                elif v is None:
                    stats.resent_in_doubt += 1
                    log.warning("cannot tell whether step of %s reached the server; resending", steps[i]["MaHoSo"])
            todo = [i for i in todo if outs[i] is None]
            if not todo:
                return outs
        mark_attempt(todo)
        for i in todo:
            doubt[i] = True
        try:
            body = transport.service_once("CapNhatTienDoHoSoMC", [steps[i] for i in todo], updating=False)
        except Temporary as e:
            if attempt >= transport.retries:
                raise Unreachable(str(e)) from None
            log.warning("temporary failure sending steps (%s); checking the server before resending", e)
            transport.pause(attempt)
            attempt += 1
            continue
        except Rejected as e:
            body = {"error_code": e.code or 1, "message": e.message}
        res = _outcomes(body, [steps[i] for i in todo])
        if res is None:
            if len(todo) == 1:
                outs[todo[0]] = (FAILED, _reason(body))
                continue
            # refused as a whole: nothing was applied; send halves to find the bad line
            mid = len(todo) // 2
            for part in (todo[:mid], todo[mid:]):
                sub = send_steps(transport, [steps[i] for i in part], mark_attempt=lambda ix, p=part: None,
                                 is_doubtful=[False] * len(part), done_by_code=done_by_code,
                                 on_applied=lambda j, p=part: on_applied(p[j]), stats=stats)
                for i, o in zip(part, sub):
                    outs[i] = o
            continue
        for i, o in zip(todo, res):
            outs[i] = (FAILED, "đã tồn tại") if o[0] == "exists" else o


# ---------------------------------------------------------------- the database outbox

class OutboxSync:
    """Send the pending outbox of one database through ``transport``.

    Outbox rows are dicts (``store.outbox.pending_entries``): id, dossier_id, kind, ref_id, attempts."""

    def __init__(self, db, cfg, transport, *, batch_size: int = 50, dry_run: bool = False,
                 dossier_id: int | None = None, limit: int | None = None, stats: Stats | None = None):
        self.db = db
        self.cfg = cfg
        self.t = transport
        self.batch = max(1, int(batch_size))
        self.dry = dry_run
        self.dossier_id = dossier_id
        self.limit = limit
        self.stats = stats or Stats()
        self.files = files_table(db)
        self._deferred: list = []
        # A spool is not the server: what it took is 'spooled' until the acknowledgement comes back.
        self.spooling = transport.kind == "spool"
        self.ok_states = ("done", "spooled") if self.spooling else ("done",)
        self._mark_ok = store.mark_spooled if self.spooling else store.mark_done

    def _carry(self, pairs, doubt: list[bool] | None = None) -> None:
        """Tell a spool which outbox entries each item of the next batch carries (its acknowledgement
        names them) and which creates may already be on the server; a server needs no such thing."""
        carry = getattr(self.t, "carry", None)
        if carry is not None:
            carry(pairs, doubt)

    # -- writes (none in a dry run)

    def _write(self, ops: list, done: list[tuple[str, int]] = (), failed: list[tuple[int, str, str]] = ()) -> None:
        """Run the store writes ``ops`` (callables), then mark ``done`` (stamp, id) and ``failed``
        (id, reason, stamp), in one transaction."""
        if self.dry:
            return
        from onestop.store import transaction
        from onestop.common.errors import DatabaseBusy

        by_stamp: dict[str, list] = {}
        for stamp, entry_id in done:
            by_stamp.setdefault(stamp, []).append(entry_id)
        # A counter's receive may hold the write lock for a moment: wait longer than one busy
        # timeout rather than stop the night's run (a failed attempt wrote nothing: all is redone).
        for attempt in range(51):
            try:
                with transaction(self.db):
                    for op in ops:
                        op()
                    for stamp, ids in by_stamp.items():
                        self._mark_ok(self.db, ids, stamp)
                    if failed:
                        store.mark_failed(self.db, list(failed))
                return
            except DatabaseBusy:
                if attempt == 50:
                    raise
                import time

                time.sleep(0.1)

    def _now(self) -> str:
        from onestop.intake.dossiers import iso, now

        return iso(now(self.cfg))

    def _flush(self) -> None:
        """Write the deferred outcomes in one transaction."""
        if not self._deferred:
            return
        extra, done, failed = [], [], []
        for e, d, f in self._deferred:
            extra += e
            done += d
            failed += f
        self._deferred = []
        self._write(extra, done, failed)

    def _mark(self, rows: list, outs: list[tuple], kind: str, codes: dict[int, str], extra=(), *,
              defer: bool = False) -> None:
        """Record outcomes: done on ack, failed with the reason otherwise (one transaction)."""
        stamp = self._now()
        done, failed = [], []
        for r, o in zip(rows, outs):
            code = codes.get(r["dossier_id"], "?")
            if o[0] in (SENT, ALREADY):
                done.append((stamp, r["id"]))
                (self.stats.sent if o[0] == SENT else self.stats.already)[kind] += 1
            else:
                reason = redact(o[1])
                failed.append((r["id"], reason, stamp))
                self.stats.fail(code, kind, reason)
                log.warning("%s %s failed: %s", kind, code, reason)
        if defer:
            self._deferred.append((list(extra), done, failed))
            return
        self._write(list(extra), done, failed)

    # -- the loop

    def run(self) -> Stats:
        last, processed = 0, 0
        chunk = self.batch * 10
        while True:
            n = chunk if not self.limit else min(chunk, self.limit - processed)
            rows = store.pending_entries(self.db, last, n, self.dossier_id)
            if not rows:
                break
            last = rows[-1]["id"]
            self._chunk(rows)
            processed += len(rows)
            if self.limit and processed >= self.limit:
                break
        return self.stats

    def _chunk(self, rows: list) -> None:
        ids = sorted({r["dossier_id"] for r in rows})
        codes = dossier_codes(self.db, ids)
        creates = [r for r in rows if r["kind"] == "create"]
        create_ids = {r["dossier_id"] for r in creates}
        not_created = store.dossiers_not_created(self.db, ids, self.ok_states)
        # Over the line, a dossier with entries still on a spool waits for their acknowledgement:
        # sending its later steps first would put them on the server out of order.
        on_spool = set() if self.spooling else store.dossiers_on_spool(self.db, ids)
        blocked = not_created - create_ids - on_spool  # their create failed earlier: wait for `sync retry`
        by_kind: dict[str, list] = {"file": [], "update": [], "step": []}
        for r in rows:
            kind, did = r["kind"], r["dossier_id"]
            if kind in by_kind:
                if kind == "file":  # files may go ahead of their record
                    by_kind["file"].append(r)
                elif did in on_spool:
                    self.stats.waiting_spool += 1
                elif did in blocked:
                    self.stats.held += 1
                else:
                    by_kind[kind].append(r)
            elif kind != "create":
                self._mark([r], [(FAILED, f"loại mục không rõ: {kind}")], kind, codes)
        self._files(by_kind["file"], codes, fresh=create_ids)
        # updates the create carries (it is built from the current state): a spool's acknowledgement
        # of the create acknowledges them too
        carried: dict[int, list] = {}
        for r in by_kind["update"]:
            if r["dossier_id"] in create_ids:
                carried.setdefault(r["dossier_id"], []).append(r["id"])
        failed_creates = self._records(creates, codes, updating=False, carried=carried)
        updates = [r for r in by_kind["update"] if r["dossier_id"] not in failed_creates]
        self.stats.held += len(by_kind["update"]) - len(updates)
        self._records(updates, codes, updating=True, subsumed_by=create_ids - failed_creates)
        steps = [r for r in by_kind["step"] if r["dossier_id"] not in failed_creates]
        self.stats.held += len(by_kind["step"]) - len(steps)
        self._steps(steps, codes)

    # -- files

    def _files(self, rows: list, codes: dict, fresh: set) -> None:
        if not rows:
            return
        if not self.files:
            for r in rows:
                self._mark([r], [(FAILED, "chưa có bảng tệp (archive)")], "file", codes)
            return
        fids = [r["ref_id"] for r in rows]
        meta = store.archive_files_meta(self.db, self.files, fids, has_state=has_state_column(self.db, self.files))
        known = store.uploads_of_files(self.db, fids)
        uploads: dict[str, tuple[Path, str]] = {}  # sha → (path, code): each new file once
        plan = []
        for r in rows:
            fid, did = r["ref_id"], r["dossier_id"]
            code = codes.get(did, "?")
            m = meta.get(fid)
            if m is None:
                plan.append((r, (FAILED, "không tìm thấy tệp trong kho lưu trữ"), None))
                continue
            path, sha, fstate = m["path"], m["sha256"], m["state"]
            if fstate != "current":  # replaced by a rescan before it was sent: the new file goes instead
                plan.append((r, (ALREADY,), None))
                continue
            p = Path(path)
            if not p.is_absolute():
                p = self.cfg.archive_dir / p
            prev = known.get(fid) or store.upload_by_sha(self.db, sha)
            if prev and not (self.t.kind == "url" and str(prev[1]).startswith(SPOOL_URL)):
                plan.append((r, (ALREADY,), (sha, prev[0], prev[1])))
                continue
            if not p.is_file():
                plan.append((r, (FAILED, "tệp quét không còn trên đĩa; chạy 'onestop check'"), None))
                continue
            if sha in uploads:
                plan.append((r, "same", sha))
                continue
            uploads[sha] = (p, code)
            plan.append((r, "upload", sha))
        answers = self._upload_all(uploads)
        try:
            self._mark_files(plan, answers, codes, fresh)
        finally:
            self._flush()

    def _mark_files(self, plan, answers, codes, fresh) -> None:
        db = self.db
        for n, (r, what, ref) in enumerate(plan):
            if n % 16 == 15:
                self._flush()
            entry, fid, did = r["id"], r["ref_id"], r["dossier_id"]
            if isinstance(what, tuple):
                if what[0] == FAILED or ref is None:
                    self._mark([r], [what], "file", codes, defer=True)
                    continue
                sha, rid, url = ref
                outcome = what
            else:
                sha = ref
                kind_, ans = answers[sha]
                if kind_ == "temporary":
                    raise Unreachable(ans)
                if kind_ == "rejected":
                    self._mark([r], [(FAILED, ans)], "file", codes, defer=True)
                    continue
                if not _ok(ans.get("error_code")):
                    self._mark([r], [(FAILED, _reason(ans))], "file", codes, defer=True)
                    continue
                if ans.get("sha256") and str(ans["sha256"]).lower() != sha.lower():
                    self._mark([r], [(FAILED, "máy chủ nhận tệp khác mã SHA-256; sẽ gửi lại")], "file", codes, defer=True)
                    continue
                rid, url = str(ans.get("IdTepTin", "")), str(ans.get("DuongDan", ""))
                outcome = (SENT,) if what == "upload" else (ALREADY,)
            at = self._now()
            extra = [lambda fid=fid, sha=sha, rid=rid, url=url, at=at: store.record_upload(db, fid, sha, rid, url, at),
                     lambda entry=entry, rid=rid: store.set_remote_id(db, entry, rid)]
            if did not in fresh:
                # the dossier is already on the server: its record must now point to the file
                extra.append(lambda did=did, entry=entry, at=at: store.queue_update_after_file(db, did, entry, at))
            self._mark([r], [outcome], "file", codes, extra, defer=True)

    def _upload_all(self, uploads: dict) -> dict:
        """Upload the new files, two at a time over HTTP (the server and the line stay busy)."""
        def one(item):
            sha, (p, code) = item
            try:
                return sha, ("ok", self.t.upload(p, sha, code))
            except Temporary as e:
                return sha, ("temporary", str(e))
            except Rejected as e:
                return sha, ("rejected", e.message)
            except OSError as e:
                return sha, ("rejected", f"không đọc được tệp: {e.strerror}")
        workers = int(self.cfg.get("sync.upload_workers", 2)) if self.t.kind == "url" else 1
        if workers <= 1 or len(uploads) <= 1:
            return dict(map(one, uploads.items()))
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as ex:
            return dict(ex.map(one, uploads.items()))

    # -- dossier records

    def _records(self, rows: list, codes: dict, *, updating: bool, subsumed_by: set = frozenset(),
                 carried: dict | None = None) -> set:
        """Send creates or updates; returns the dossier ids whose record failed."""
        if not rows:
            return set()
        kind = "update" if updating else "create"
        subsumed = [r for r in rows if r["dossier_id"] in subsumed_by]
        if subsumed:  # the create just sent carried the current state
            self._mark(subsumed, [(ALREADY,)] * len(subsumed), kind, codes)
            self.stats.already[kind] -= len(subsumed)
            if self.stats.already[kind] <= 0:
                del self.stats.already[kind]
        rows = [r for r in rows if r["dossier_id"] not in subsumed_by]
        by_dossier: dict[int, list] = {}
        for r in rows:
            by_dossier.setdefault(r["dossier_id"], []).append(r)
        dids = list(by_dossier)
        failed: set = set()
        for i in range(0, len(dids), self.batch):
            part = dids[i:i + self.batch]
            recs = dossier_records(self.db, self.cfg, part)
            part = [d for d in part if d in recs]
            doubt = [any(r.get("unanswered") for r in by_dossier[d]) for d in part]
            self._carry([(recs[d], [r["id"] for r in by_dossier[d]] + (carried or {}).get(d, [])) for d in part],
                        doubt)
            ids = [r["id"] for d in part for r in by_dossier[d]]
            if not updating:  # from now on the server may hold these creates without our knowing
                self._write([lambda ids=ids: store.mark_unanswered(self.db, ids, 1)])
            outs = send_items(self.t, "DongBoHoSoMC", [recs[d] for d in part], updating=updating, in_doubt=doubt)
            flat_rows, flat_outs = [], []
            for d, o in zip(part, outs):
                for r in by_dossier[d]:
                    flat_rows.append(r)
                    flat_outs.append(o)
                if o[0] == FAILED:
                    failed.add(d)
            # a server answered them (a spool did not: what it carries may yet reach the server)
            answered = [] if updating or self.spooling else [lambda ids=ids: store.mark_unanswered(self.db, ids, 0)]
            self._mark(flat_rows, flat_outs, kind, codes, answered)
        return failed

    # -- steps

    def _steps(self, rows: list, codes: dict) -> None:
        if not rows:
            return
        stuck = store.dossiers_with_failed_steps(self.db, list({r["dossier_id"] for r in rows}))
        ready = []
        for r in rows:  # a failed step holds back the later steps of its dossier (order matters)
            if r["dossier_id"] in stuck:
                self.stats.held += 1
            else:
                ready.append(r)
        for i in range(0, len(ready), self.batch):
            part = ready[i:i + self.batch]
            recs = step_records(self.db, self.cfg, [r["ref_id"] for r in part])
            part = [r for r in part if r["ref_id"] in recs]
            steps = [recs[r["ref_id"]] for r in part]
            self._carry([(recs[r["ref_id"]], [r["id"]]) for r in part])
            applied: list[int] = []

            def mark_attempt(idx, part=part):
                ids = [part[j]["id"] for j in idx]
                self._write([lambda: store.count_attempts(self.db, ids)])

            def done_by_code(part=part):
                codes_ = list({recs[r["ref_id"]]["MaHoSo"] for r in part})
                evs = store.acknowledged_step_events(self.db, list({r["dossier_id"] for r in part}), self.ok_states)
                out: dict[str, list] = {c: [] for c in codes_}
                for rec in step_records(self.db, self.cfg, evs).values():
                    out.setdefault(rec["MaHoSo"], []).append(rec)
                return out

            outs = send_steps(self.t, steps, mark_attempt=mark_attempt,
                              is_doubtful=[r["attempts"] > 0 for r in part], done_by_code=done_by_code,
                              on_applied=applied.append, stats=self.stats)
            self._mark(part, outs, "step", codes)

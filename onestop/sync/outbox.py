"""Send the database's outbox: bounded batches, order per dossier, ack before done, no duplicates.

Per chunk of pending entries (in id order): files are uploaded first, then creates
(``DongBoHoSoMC`` isUpdating False), updates (True) and steps (``CapNhatTienDoHoSoMC``).
An entry is marked done only after the server acknowledged it. Before a step goes out its
``attempts`` is raised and committed (and a create is marked unanswered), so a later run knows what
may have reached the server without an answer; the rules that then decide what is resent (steps
looked up with ``TraCuuHoSo``, "đã tồn tại" told apart from another dossier's code) are in
onestop/sync/sending.py. A failed create or step holds back the later entries of its dossier.
Files are kept by SHA-256 on the server, so a re-upload returns the same IdTepTin.

Written to a spool, entries become ``spooled``, not ``done``: only the server's acknowledgement,
brought back by ``onestop sync acks``, makes them done (onestop/sync/spool_acks.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from onestop.store import outbox as store
from onestop.store.payload_data import dossier_codes, files_table, has_state_column
from onestop.sync.payloads import SPOOL_URL, dossier_records, step_records
from onestop.sync.redact import redact
from onestop.sync.sending import (ALREADY, FAILED, SENT, Stats, Unreachable, answer_ok, answer_reason, send_items,
                                  send_steps)
from onestop.sync.transport import Rejected, Temporary

log = logging.getLogger("onestop.sync")


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
        from onestop.store.online import unacknowledged_takes

        # An online dossier waits until the portal confirmed its take (it refuses a channel-2 record
        # never taken, also one delivered from a spool): sync/portal.py sends the takes first.
        untaken = unacknowledged_takes(self.db, sorted({r["dossier_id"] for r in rows}))
        self.stats.held += sum(1 for r in rows if r["dossier_id"] in untaken)
        rows = [r for r in rows if r["dossier_id"] not in untaken]
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
                if not answer_ok(ans.get("error_code")):
                    self._mark([r], [(FAILED, answer_reason(ans))], "file", codes, defer=True)
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

"""Acknowledgements, back at the office (``onestop sync acks FOLDER``): the spooled entries the server
acknowledged become done, those it refused are held for a fix. Nothing on the stick is taken on its
word (spool_seals.py): only acknowledgements of batches this office sealed, with the sealed content.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from onestop.common.errors import InvalidInput
from onestop.sync.payloads import SPOOL_URL
from onestop.sync.spool import office_id
from onestop.sync.spool_seals import (BATCH, bad_file, files_map, item_list, read_json, read_office, read_sealed,
                                      real_dir)

log = logging.getLogger("onestop.sync")


def import_acks(db, cfg, folder: Path) -> dict:
    """Mark done exactly the spooled entries the server acknowledged (``acks/`` of ``folder``), and
    held for a fix those it refused. Idempotent: only entries still ``spooled`` change.

    Nothing on the stick is taken on its word: an acknowledgement counts only for a batch whose
    seal this office's secret verifies, delivered with exactly the sealed content (its SHA-256 and
    nonce); the entries are those of the batch, never a list in the acknowledgement. Anything else
    (another office's folder, a damaged, forged or altered file) is refused with exit 4, naming
    the file, and nothing is imported."""
    from onestop.store import transaction
    from onestop.intake.dossiers import iso, now
    from onestop.common.errors import NotFound
    from onestop.store import outbox, sync_runs
    from onestop.store.payload_data import files_table

    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound(f"Không thấy thư mục spool {folder}.", f"No spool folder {folder}.")
    ours = office_id(db)
    office = read_office(folder)
    if office is None:
        raise InvalidInput(
            f"{folder} không phải thư mục spool của onestop (thiếu office.json).",
            f"{folder} is not an onestop spool folder (no office.json).")
    if office.get("office_id") != ours:
        raise InvalidInput(
            f"Thư mục spool {folder} là của văn phòng khác (mã cơ quan {office.get('agency', '?')}); "
            "không nhận xác nhận nào. Kiểm tra đúng thư mục của văn phòng này.",
            f"The spool folder {folder} belongs to another office (agency {office.get('agency', '?')}); "
            "nothing imported. Check that it is this office's folder.")
    real_dir(folder, "acks")
    real_dir(folder, "seals")
    key = sync_runs.office_secret(db)
    acks = sorted((folder / "acks").iterdir()) if (folder / "acks").is_dir() else []
    acked, files, refused, files_refused, in_progress, n_final = set(), {}, [], {}, 0, 0
    for ap in acks:
        if ap.name.startswith(".") or ap.name.endswith(".tmp"):
            continue  # a write in progress (temporary name)
        if not BATCH.match(ap.name):
            raise bad_file(ap, "không phải tệp xác nhận của onestop", "is not an onestop acknowledgement")
        a = read_json(ap)
        if a.get("office_id") != ours:
            raise bad_file(ap, "là xác nhận của văn phòng khác", "is another office's acknowledgement")
        if not all(isinstance(a.get(k), str) for k in ("batch", "sha256", "nonce")) or not isinstance(a.get("final"), bool):
            raise bad_file(ap, "không phải xác nhận do 'onestop sync --from-spool' ghi (thiếu lô, mã SHA-256, nonce)",
                           "is not an acknowledgement written by 'onestop sync --from-spool' (no batch, SHA-256, nonce)")
        if not a["final"]:
            in_progress += 1  # the delivery began and did not finish: its entries stay spooled
            continue
        n_final += 1
        bp = folder / ap.name
        if not os.path.lexists(bp):
            raise bad_file(ap, "xác nhận một lô không có trong thư mục", "acknowledges a batch that is not in the folder")
        b = read_sealed(folder, office, bp, key=key)  # our own seal, verified with our secret
        if (a["batch"], a["sha256"], a["nonce"]) != (b.name, b.sha256, b.seal["nonce"]):
            raise bad_file(ap, "xác nhận một nội dung khác với lô văn phòng đã ghi",
                           "acknowledges other content than the batch this office wrote")
        for i in item_list(ap, a.get("acked_items"), len(b.data)):
            acked.update(b.entry_ids(i))
        ref = a.get("refused") or []
        if not isinstance(ref, list) or not all(isinstance(r, dict) for r in ref):
            raise bad_file(ap, "bị hỏng (refused)", "is damaged (refused)")
        for r in ref:
            i = item_list(ap, [r.get("item")], len(b.data))[0]
            refused.append((b.entry_ids(i), str(r.get("reason", ""))[:300]))
        files.update(files_map(ap, a.get("files"), b))
        fr = a.get("files_refused") or {}
        shas = {it.get("sha256") for it in b.data} if b.service == "upload" else set()
        if not isinstance(fr, dict) or not all(k in shas and isinstance(v, str) for k, v in fr.items()):
            raise bad_file(ap, "bị hỏng (files_refused)", "is damaged (files_refused)")
        files_refused.update({k: v[:300] for k, v in fr.items()})
    from onestop.sync.redact import redact

    stamp = iso(now(cfg))
    table = files_table(db)
    with transaction(db):
        before = outbox.count_by_state(db)
        outbox.ack_spooled(db, list(acked), stamp)
        if table:
            for sha, (remote_id, url) in files.items():
                outbox.ack_spooled_file(db, table, sha, remote_id, stamp)
                # later records of this office point to the server's file, not to the spool's
                outbox.replace_placeholder_upload(db, sha, remote_id, url, SPOOL_URL)
            for sha, reason in files_refused.items():
                outbox.refuse_spooled_file(db, table, sha, redact(reason), stamp)
        for ids, reason in refused:
            outbox.refuse_spooled(db, ids, redact(reason), stamp)
        after = outbox.count_by_state(db)
        result = {"folder": str(folder), "batches": n_final, "in_progress": in_progress,
                  "acknowledged": after.get("done", 0) - before.get("done", 0),
                  "refused": after.get("failed", 0) - before.get("failed", 0),
                  "spooled_left": after.get("spooled", 0)}
        sync_runs.log_acks(db, stamp, f"acks:{folder}", result["acknowledged"], result["refused"], result)
    log.info("acks imported from %s: %d done, %d refused, %d still spooled", folder, result["acknowledged"],
             result["refused"], result["spooled_left"])
    return result

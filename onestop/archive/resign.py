"""``onestop sign CODE`` / ``--all-unsigned``: the agency's signature on files archived before this
desk signed (issue 22, docs/signing.md).

The archive is write-once, so a file is never signed in place: the signed PDF is a NEW version
(``place``: the next free ``_2``, ``_3``… name), committed in one transaction with the old row marked
``replaced``, the pages (text, search index, quality) moved to the new row, the signature recorded,
an event and an outbox ``file`` entry (the ministry gets the signed version). The old file stays on
disk, checked by ``check`` as a replaced file. A citizen's signed PDF archived before signatures were
recorded gets its signatures verified and recorded, never a new version.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from onestop.archive import pdfa, signing
from onestop.archive.files import discard, intact, place
from onestop.common.config import Config
from onestop.common import errors
from onestop.common.errors import ScanConflict
from onestop.store import archive as store
from onestop.store import signatures as sig_store
from onestop.store.sqlite import transaction


def sign_stored(db, cfg: Config, code: str | None = None) -> dict:
    """Sign the current unsigned files of dossier ``code`` (every dossier's when None); returns
    {"signed": [...], "recorded": [...], "skipped": [...]} (code, component, old path, new path)."""
    from onestop.intake import dossiers

    if not signing.configured(cfg):
        raise errors.ConfigError(
            "Chưa cấu hình ký số ([signing] pkcs12 hoặc pkcs11_lib): xem docs/signing.md. Chưa ký tệp nào.",
            "Signing is not configured ([signing] pkcs12 or pkcs11_lib): see docs/signing.md. Nothing was signed.")
    d = dossiers.resolve_code(db, cfg, code) if code else None
    rows = sig_store.unsigned_current(db, d["id"] if d else None)
    out: dict = {"signed": [], "recorded": [], "skipped": []}
    if not rows:
        return out
    signer = signing.load_signer(cfg)  # once: the PIN is asked once for the whole run
    try:
        for r in rows:
            item = {"code": r["code"], "component": r["component_n"], "path": r["path"]}
            if not intact(r):
                out["skipped"].append(dict(item, reason="damaged"))
                continue
            data = Path(r["path"]).read_bytes()
            if pdfa.signed_fields(data):  # a citizen's signed PDF: kept as it is, its signatures recorded
                sigs = signing.citizen_signatures(data, cfg)
                with transaction(db):
                    sig_store.record(db, r["id"], sigs)
                out["recorded"].append(dict(item, signatures=len(sigs)))
                continue
            signed, sig = signing.sign_archive_pdf(data, signer)
            new = _commit(db, cfg, r, signed, dict(sig, desk=cfg.get("counter.desk") or None))
            out["signed"].append(dict(item, new_path=str(new)))
    finally:
        signer.close()
    return out


def _commit(db, cfg: Config, r: dict, pdf: bytes, sig: dict) -> Path:
    """Write ``pdf`` as the new version of file row ``r`` and commit it (see the module docstring)."""
    from onestop.intake import dossiers

    sha = hashlib.sha256(pdf).hexdigest()
    path, created = place(db, Path(r["path"]), pdf, sha)
    stamp = dossiers.iso(dossiers.now(cfg))
    try:
        with transaction(db):
            store.lock_path(db, str(path))
            store.lock_path(db, r["path"])
            if [f["id"] for f in store.current_files(db, r["dossier_id"], r["component_n"])
                    if f["part"] == r["part"]] != [r["id"]]:
                raise ScanConflict(
                    f"Tệp {r['path']} (hồ sơ {r['code']}) vừa được quét lại hoặc ký ở nơi khác; không ký nữa. "
                    f"Chạy lại 'onestop sign {r['code']}'.",
                    f"The file {r['path']} (dossier {r['code']}) was just rescanned or signed elsewhere; not "
                    f"signed here. Run 'onestop sign {r['code']}' again.")
            store.set_file_state(db, r["id"], "replaced")
            row = {k: v for k, v in r.items() if k not in ("id", "code")}
            row.update(path=str(path), sha256=sha, size=len(pdf), state="current", created_at=stamp)
            fid = store.insert_file(db, row)
            sig_store.move_pages(db, r["id"], fid)
            sig_store.record(db, fid, [sig])
            what = f"kết quả {-r['component_n']}" if r["component_n"] < 0 else f"thành phần {r['component_n']}"
            dossiers._event(db, r["dossier_id"], stamp, dossiers.officer_name(cfg), cfg.unit, "sign",
                            f"Ký số {what} (phiên bản mới)", None, None,
                            {"component": r["component_n"], "file_id": fid, "replaced": r["id"], "sha256": sha,
                             "signer": sig["signer"], "cert_serial": sig["cert_serial"]})
            dossiers._outbox(db, r["dossier_id"], "file", fid, stamp)
    except BaseException:
        if created:
            discard(db, path)
        raise
    return path

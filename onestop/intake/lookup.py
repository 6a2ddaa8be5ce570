"""Finding dossiers: by full code or a tail of one, the one a change is meant for (never a guess),
a dossier with its components, document numbers and history (`show`), and the counter's list."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

from onestop.common.config import Config
from onestop.common.errors import AmbiguousCode, InvalidInput, NotFound
from onestop.domain import states
from onestop.intake.clock import now
from onestop.store import dossiers as store

if TYPE_CHECKING:  # the SQLite module imports sqlite3, which an office command does not need
    from onestop.store.sqlite import Database


def resolve_code(db: Database, cfg: Config, code: str) -> dict:
    """The dossier row for a full code, or a unique tail of one ("0007", "261122-0007")."""
    code = (code or "").strip()
    row = store.dossier_by_code(db, code)
    if row is None and code:
        tail = code if "-" in code else f"{now(cfg):%y%m%d}-{code.zfill(4)}" if code.isdigit() else code
        rows = store.dossiers_ending_with(db, tail, 2)
        if len(rows) == 1:
            row = rows[0]
    if row is None:
        raise NotFound(
            f"Không tìm thấy hồ sơ mã '{code}'. Kiểm tra lại mã trên giấy tiếp nhận, hoặc dùng 'onestop list --today'.",
            f"No dossier with code '{code}'. Check the code on the receipt, or use 'onestop list --today'.",
        )
    return row


def matching_dossiers(db: Database, cfg: Config, code: str, limit: int = 20) -> list[dict]:
    """Every dossier a code may mean: the full code, or all whose code ends with the tail given
    ("0007" on any day, "261122-0007"), newest first."""
    code = (code or "").strip()
    row = store.dossier_by_code(db, code)
    if row is not None or not code:
        return [row] if row else []
    tail = code.zfill(4) if code.isdigit() else code
    return store.dossiers_ending_with(db, tail, limit)


def resolve_for_change(db: Database, cfg: Config, code: str) -> dict:
    """The one dossier ``code`` names, for a command that changes it.

    Unlike :func:`resolve_code` (which reads a bare number as today's), a short code that matches
    several dossiers is refused with AmbiguousCode listing them: a change must never land on the
    wrong citizen's dossier.
    """
    rows = matching_dossiers(db, cfg, code)
    if len(rows) == 1:
        return rows[0]
    if not rows:
        return resolve_code(db, cfg, code)  # its NotFound message
    codes_ = [r["code"] for r in rows]
    listing = "; ".join(f"{r['code']} ({r['applicant_name']}, {r['received_at'][:10]})" for r in rows[:10])
    raise AmbiguousCode(
        f"Mã '{code}' khớp {len(rows)}{'+' if len(rows) >= 20 else ''} hồ sơ: {listing}. Nhập mã đầy đủ của hồ sơ cần sửa.",
        f"Code '{code}' matches {len(rows)}{'+' if len(rows) >= 20 else ''} dossiers: {listing}. Give the full code of the one meant.",
        candidates=codes_,
    )


def add_component_documents(db: Database, dossier: dict) -> None:
    """Each component's document_number, document_date, issuer, document_check,
    document_confirmed_by/_at (the officer who set or confirmed the number; null: OCR's reading) and
    rescan_pages, as the scans recorded them (onestop/archive/digitization.py writes them)."""
    from onestop.store import digitization as digitization_store

    rows = {r["n"]: r for r in digitization_store.component_documents(db, dossier["id"])}
    for c in dossier["components"]:
        r = rows.get(c["n"], {})
        for k in ("document_number", "document_date", "issuer", "document_check", "document_confirmed_by",
                  "document_confirmed_at"):
            c[k] = r.get(k) or (None if k != "document_check" else "")
        c["rescan_pages"] = r.get("rescan_pages", [])


def show(db: Database, cfg: Config, code: str) -> dict:
    """The dossier with its components and its full history."""
    d = resolve_code(db, cfg, code)
    d["fees"] = json.loads(d["fees"] or "[]")
    d["status_name"] = states.status_name(d["status"], "vi")
    d["components"] = [dict(r, received=bool(r["received"])) for r in store.components_of(db, d["id"])]
    add_component_documents(db, d)  # document number, date, issuer; pages needing a rescan
    d["events"] = store.events_of(db, d["id"])
    from onestop.store import results as result_store

    d["results"] = result_store.results_of(db, d["id"])  # result papers scanned (scan --result)
    from onestop.store.reuse import reused_of

    d["reused"] = reused_of(db, d["id"])  # components pointing to an earlier dossier's files (docs/reuse.md)
    from onestop.store import signatures

    # Each stored file with its digital signature state (docs/signing.md): components' files, results'.
    files = signatures.states_of_dossier(db, d["id"])
    for c in d["components"]:
        c["files"] = [{k: f[k] for k in ("path", "part", "state", "signature")} for f in files if f["component_n"] == c["n"]]
    by_path = {f["path"]: f["signature"] for f in files}
    for r in d["results"]:
        r["signature"] = by_path.get(r["path"])
    if d.get("channel") == "2":  # taken from the portal: its id there (MaHoSoDVC), docs/online.md
        from onestop.store.online import by_dossier

        d["portal_id"] = (by_dossier(db, [d["id"]]).get(d["id"]) or {}).get("dvc")
    return d


LIST_COLUMNS = ["code", "received_at", "procedure_code", "applicant_name", "status", "due_at", "officer"]


def list_dossiers(db: Database, cfg: Config, *, today: bool = False, status: str | None = None,
                  day: date | None = None, limit: int = 200, fees_outstanding: bool = False) -> list[dict]:
    """The counter's dossiers, newest first (``limit`` 0: all). ``fees_outstanding``: only those whose
    fees are not all paid, each with ``fees_outstanding`` in đồng (refused, withdrawn and stopped
    dossiers left out; docs/fees.md)."""
    if not 0 <= int(limit) <= 10**9:
        raise InvalidInput(f"--limit phải từ 0 đến 1000000000, không phải {limit}.",
                           f"--limit must be 0 to 1000000000, not {limit}.")
    start = end = None
    if today or day:
        d = day or now(cfg).date()
        start, end = d.isoformat(), (d + timedelta(days=1)).isoformat()
    if fees_outstanding:
        from onestop.store import fees as fee_store

        return fee_store.owing_dossiers(db, LIST_COLUMNS, start=start, end=end, status=status, limit=int(limit))
    return store.list_dossiers(db, LIST_COLUMNS, start=start, end=end, status=status, limit=int(limit))


def mask_history(events: list[dict]) -> list[dict]:
    """Events with the ID and phone numbers inside corrections masked (for `show --mask`)."""
    from onestop.domain.masking import mask_id, mask_phone

    out = []
    for e in events:
        ch = (e.get("data") or {}).get("changes")
        if ch:
            masked = {k: ({"old": mask_id(v["old"]), "new": mask_id(v["new"])} if k == "id_number" else
                          {"old": mask_phone(v["old"]), "new": mask_phone(v["new"])} if k == "phone" else v)
                      for k, v in ch.items()}
            e = dict(e, data=dict(e["data"], changes=masked))
        out.append(e)
    return out

"""The files of printed forms: where each is written (write-once, versioned names), the receipt
(Mẫu 01) written and written again (`onestop print`), and the process-control slip (Mẫu 05) from a
dossier's hand-overs. The drawing itself is onestop/intake/forms.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from onestop.common.config import Config
from onestop.common.errors import NotFound, StorageError
from onestop.intake import catalog
from onestop.intake.clock import iso
from onestop.intake.lookup import show
from onestop.store import dossiers as store

if TYPE_CHECKING:  # the SQLite module imports sqlite3, which an office command does not need
    from onestop.store.sqlite import Database


def form_context(cfg: Config):
    from onestop.intake.forms import FormContext

    return FormContext(
        agency_name=cfg.get("agency.name", ""), parent_name=cfg.get("agency.parent", ""),
        unit_name=cfg.get("agency.unit_title", "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"),
        place=cfg.get("agency.place", ""), system_name=cfg.get("agency.system_name", "onestop"),
        head_title=cfg.get("agency.head_title", "THỦ TRƯỞNG CƠ QUAN"), head_name=cfg.get("agency.head_name", ""),
    )


def form_path(cfg: Config, when: datetime, name: str, since: datetime | str | None = None) -> Path:
    """A new file for a form, in the month folder of ``when``. Printed forms are write-once: the
    first print of a form for a dossier is ``<code>_MauNN.pdf``; every later one (a corrected or
    reprinted receipt, a second request for papers, the slip after the next hand-over, a code issued
    again from a restored database) is the next free version ``<code>_MauNN_v2.pdf``, ``_v3``, …,
    looked for in every month folder from ``since`` (the dossier's receipt) to ``when``, so versions
    never repeat across months. A receipt's name carries its unique code, so two desks never pick
    the same (docs/output.md, "Form files")."""
    from onestop.common.files import ensure_private_dir

    folder = ensure_private_dir(cfg.forms_dir / f"{when:%Y%m}")
    folders = [folder]
    if since is not None:
        start = datetime.fromisoformat(since) if isinstance(since, str) else since
        y, m = start.year, start.month
        while (y, m) < (when.year, when.month):
            folders.append(cfg.forms_dir / f"{y:04d}{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    stem, suffix = Path(name).stem, Path(name).suffix
    version, candidate = 1, name
    while any((f / candidate).exists() for f in folders):
        version += 1
        candidate = f"{stem}_v{version}{suffix}"
    return folder / candidate


def form_version(path: str | Path) -> int:
    """The version of a form file named by ``form_path`` (``…_Mau01.pdf`` 1, ``…_Mau01_v3.pdf`` 3)."""
    import re

    m = re.search(r"_v(\d+)$", Path(path).stem)
    return int(m[1]) if m else 1


def limit_description(proc, channel, value) -> str:
    """The catalog row's wording of a 0 limit ("Trong ngày làm việc"), for the forms; "" otherwise."""
    if proc is None or float(value or 0) != 0:
        return ""
    lim = proc.limits.get(str(channel or "1")) or proc.limits.get("1") or next(iter(proc.limits.values()), {})
    return lim.get("description", "")


def with_limit_description(db: Database, d: dict) -> dict:
    if float(d.get("limit_value") or 0) == 0:
        try:
            proc = catalog.get(db, d["procedure_code"])
        except NotFound:
            proc = None  # left the catalog: the usual same-day wording
        d["limit_description"] = limit_description(proc, d.get("channel"), 0)
    return d


def write_receipt(cfg: Config, dossier: dict, at: datetime, renderer=None, *, stored: bool = False) -> Path:
    """Write the receipt PDF; ``stored``: the dossier is already committed (the message must not say
    "nothing was stored")."""
    # A corrected or reprinted receipt is a new version (…_Mau01_v2.pdf): the one handed to the
    # citizen stays as printed.
    name = f"{dossier['code']}_Mau01.pdf"
    path = cfg.forms_dir / f"{at:%Y%m}" / name
    try:
        path = form_path(cfg, at, name)  # inside: a forms folder that cannot be made is a storage error too
        if renderer is not None:
            return Path(renderer.render("render_receipt", dossier, form_context(cfg), path))
        from onestop.intake.forms import render_receipt

        return render_receipt(dossier, form_context(cfg), path)
    except OSError as e:
        if path.is_file():
            path.unlink()
        raise StorageError(
            f"Không ghi được giấy tiếp nhận {path}: {e}. "
            + ("Kiểm tra ổ đĩa." if stored else "Hồ sơ chưa được lưu; kiểm tra ổ đĩa rồi thử lại."),
            f"Cannot write the receipt {path}: {e}. "
            + ("Check the disk." if stored else "The dossier was not stored; check the disk and try again."),
        ) from e


def reprint_receipt(db: Database, cfg: Config, code: str) -> Path:
    """Render a dossier's receipt again (``onestop print``), e.g. after ``receive`` could not print it
    (ReceiptNotPrinted): a new file, the dossier keeps the first one it printed."""
    d = with_limit_description(db, show(db, cfg, code))
    path = write_receipt(cfg, d, datetime.fromisoformat(d["received_at"]), stored=True)
    if not d.get("receipt_path"):
        store.update_dossier(db, d["id"], {"receipt_path": str(path)})
    return path


HANDOVER_STATUSES = ("4", "5", "9", "10")  # moves that pass the papers from one unit to another


def _timeliness(at: str, due: str) -> str:
    """early / on_time / late of a hand-over against the appointment (by day: the same day is on time)."""
    a, d = datetime.fromisoformat(at), datetime.fromisoformat(due)
    if a.date() < d.date():
        return "early"
    return "on_time" if a <= d or a.date() == d.date() else "late"


def control_slip_rows(db: Database, cfg: Config, d: dict) -> list[dict]:
    """The hand-overs of a dossier for Mẫu 05, oldest first, from its history."""
    counter = cfg.get("agency.unit_title", "Bộ phận tiếp nhận và trả kết quả")
    counter = counter[:1].upper() + counter[1:].lower() if counter.isupper() else counter
    processing = cfg.get("agency.processing_unit", "") or "Cơ quan giải quyết hồ sơ"
    rows = []
    for e in store.status_events(db, d["id"], HANDOVER_STATUSES):
        st = e["status_to"]
        src, dst = {"4": (counter, processing), "5": (processing, counter), "9": (processing, counter),
                    "10": (counter, "Người nộp hồ sơ")}[st]
        due = e["data"].get("new_due_at") or d["due_at"]
        rows.append({"from": src, "to": dst, "at": e["at"], "giver": e["officer"] if st in ("4", "10") else "",
                     "receiver": e["officer"] if st in ("5", "9") else "",
                     "timeliness": _timeliness(e["at"], due), "note": e["note"] or ""})
    return rows


def render_control_slip(db: Database, cfg: Config, code: str, when: datetime, name: str) -> Path:
    """Write Mẫu 05 (Phiếu kiểm soát quá trình giải quyết hồ sơ) for a dossier, dated ``when``."""
    from onestop.intake.forms import render_control_slip as draw

    full = show(db, cfg, code)
    p = form_path(cfg, when, name, full["received_at"])
    return draw(full, control_slip_rows(db, cfg, full), form_context(cfg), p, issued_at=iso(when),
                processing_unit=cfg.get("agency.processing_unit", ""))

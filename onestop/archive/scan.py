"""``onestop scan``: digitize one component (or result) of a dossier into one searchable PDF/A file.

Order of operations (crash safety, STYLE.md "Storage"): the inbox files are claimed (claims.py);
every page is checked, straightened and OCRed (pages.py) in a private work folder; hard-to-read pages
and the document number are reviewed (digitization.py); the PDF is written to a temporary name in its
archive folder, fsynced and renamed, never over an existing file; only then the database rows (file,
pages, component digitized, search index, outbox "file") are committed in one transaction
(files.py); only after the commit are inbox files moved to ``done/``. A scan that fails stores
nothing, removes only its own uncommitted PDF and gives its inbox files back.

A digitally signed PDF is archived unchanged, with its OCRed PDF/A copy beside it (``_signed_input``).
Pages may also come from a SANE scanner (``scan_device``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable

from onestop.archive import imaging, ocr, pdfa, signing
from onestop.archive.claims import claim, in_folder, inbox_dir, recover, work_folder
from onestop.archive.claims import inbox_files  # noqa: F401  (the scan command lists the inbox through here)
from onestop.archive.files import archive_path, commit, current, discard, place, shared_root
from onestop.archive.pages import build_pdf, process_pages
from onestop.common import errors, interrupt
from onestop.common.config import Config
from onestop.common.errors import InvalidInput, NotFound, ScanConflict, ScanRejected
from onestop.store import archive as store
from onestop.store.sqlite import Database

FAULT_ENV = "ONESTOP_FAULT"  # test hook: "scan-after-rename" kills the process between rename and commit


def scan(db: Database, cfg: Config, code: str, files: list[Path], *, component: int | None = None,
         yes: bool = False, allow_low_dpi: bool = False, force_ocr: bool = False, replace: bool = False,
         add: bool = False, confirm: Callable[[str], bool] | None = None,
         progress: Callable[[int, int], None] | None = None, from_inbox: bool = False, result: bool = False) -> dict:
    """Digitize one component of dossier ``code`` from ``files``; returns the JSON contract of ``onestop scan``.

    With ``result`` the files are the dossier's result papers (status 9 or 10), ``component`` the
    result's number (results.py): stored, searched and synced the same way.

    A component that already has a current file is refused (ScanConflict) unless ``replace`` (the
    old files become ``replaced``) or ``add`` (one more current file, e.g. pages brought later).
    ``confirm(question)`` is asked when the page count differs from the declared one (not with ``yes``);
    without it a mismatch is refused. Files in the inbox are claimed first (``claims.claim``), so two
    scans never store the same inbox file. ``from_inbox`` is kept for callers; inbox files are
    recognised by where they are."""
    from onestop.intake import dossiers

    if replace and add:
        raise InvalidInput("Chỉ dùng một trong hai: --replace (thay bản cũ) hoặc --add (thêm một tệp).",
                           "Use either --replace (replace the stored file) or --add (add one more file), not both.")
    recover(cfg)
    shared_root(cfg)  # before the OCR work: an office's shared folder that is not mounted stops the scan now
    d = dossiers.resolve_code(db, cfg, code)
    code = d["code"]
    if result:
        from onestop.archive import results

        comp = results.part(db, cfg, d, component)
    else:
        comp = _component(db, d["id"], component, code)
    before = current(db, d["id"], comp["n"])
    if before and not (replace or add):
        shown = ", ".join(r["path"] for r in before)
        raise ScanConflict(
            f"Thành phần {comp['n']} của hồ sơ {code} đã được số hóa ({shown}). Dùng --replace để quét lại và thay "
            f"thế, hoặc --add để lưu thêm một tệp cho thành phần này. Chưa có gì được lưu.",
            f"Component {comp['n']} of dossier {code} is already digitized ({shown}). Use --replace to rescan it, "
            f"or --add to store one more file for it. Nothing was stored.")
    files = imaging.expand([Path(os.path.abspath(f)) for f in files])
    box = inbox_dir(cfg)
    mine = [f for f in files if in_folder(f, box)]
    _refuse_archive_inputs(cfg, [f for f in files if f not in mine])  # inbox entries: links refused at the claim
    # The signing key is opened before any page is read: no token, a wrong PIN: exit 27, nothing done.
    signer = signing.load_signer(cfg)
    try:
        if not mine:
            return dict(_store(db, cfg, d, comp, files, before, yes=yes, allow_low_dpi=allow_low_dpi,
                               force_ocr=force_ocr, replace=replace, add=add, confirm=confirm, progress=progress,
                               signer=signer), moved=[])
        with claim(box) as taken:
            try:
                taken.take(mine, code)
                res = _store(db, cfg, d, comp, [taken.files.get(f, f) for f in files], before, yes=yes,
                             allow_low_dpi=allow_low_dpi, force_ocr=force_ocr, replace=replace, add=add,
                             confirm=confirm, progress=progress, signer=signer)
            except BaseException:
                taken.release()  # a failed or interrupted scan gives its inbox files back
                raise
            res["moved"] = taken.done()
        return res
    finally:
        if signer is not None:
            signer.close()


def _component(db: Database, dossier_id: int, n: int | None, code: str) -> dict:
    rows = store.scan_components(db, dossier_id)
    if n is None:
        pick = [r for r in rows if r["received"] and not r["digitized"]]
        if not pick:
            raise InvalidInput(f"Hồ sơ {code} không còn thành phần nào chưa số hóa. Chỉ rõ --component N (và --replace để quét lại).",
                               f"Dossier {code} has no component left to digitize. Give --component N (and --replace to rescan).")
        return pick[0]
    for r in rows:
        if r["n"] == n:
            return r
    raise NotFound(f"Hồ sơ {code} không có thành phần số {n}. Xem 'onestop show {code}'.",
                   f"Dossier {code} has no component number {n}. See 'onestop show {code}'.")


def _refuse_archive_inputs(cfg: Config, files: list[Path]) -> None:
    """A file of the archive (or a link to one) is never scanned into a dossier: that misfiles papers."""
    root = cfg.archive_dir.resolve()
    for f in files:
        try:
            real = f.resolve()
        except OSError:
            continue
        if real == root or root in real.parents:
            raise ScanRejected(
                f"{f} là (hoặc trỏ tới) tệp trong kho lưu trữ {real}. Không quét tệp lưu trữ vào một hồ sơ; "
                f"hãy quét bản giấy. Chưa có gì được lưu.",
                f"{f} is (or points to) a file of the archive, {real}. Archive files are not scanned into a "
                f"dossier; scan the paper. Nothing was stored.")


def _store(db: Database, cfg: Config, d: dict, comp: dict, files: list[Path], before: list[dict], *, yes: bool,
           allow_low_dpi: bool, force_ocr: bool, replace: bool, add: bool, confirm, progress, signer=None) -> dict:
    """Check, OCR, write the PDF under a new name and commit; the body of ``scan``."""
    from onestop.archive import digitization
    from onestop.intake import dossiers

    code = d["code"]
    sources = imaging.probe(files, min_dpi=int(cfg.get("scan.min_dpi", 200)), allow_low_dpi=allow_low_dpi,
                            force_ocr=force_ocr, max_pixels=int(cfg.get("scan.max_pixels", imaging.MAX_PIXELS)))
    warnings = [w for s in sources for w in s.warnings]
    original, signed = _signed_input(files)
    declared = int(comp["pages"] or 0)
    if declared and declared != len(sources) and not (add and before):
        q_vi = (f"Thành phần {comp['n']} ({comp['name']}) khai {declared} trang nhưng có {len(sources)} trang quét "
                f"({', '.join(sorted({s.path.name for s in sources}))}).")
        if not yes and confirm is not None:
            imaging.check_decodes(sources)  # check first, ask after: a broken file is said before the question
        ok = (not yes) and confirm is not None and confirm(q_vi + " Vẫn lưu và cập nhật số trang?")
        if not ok:
            raise ScanRejected(
                q_vi + " Quét đủ/đúng các trang (mỗi trang một ảnh, đúng thứ tự) rồi thử lại. Chưa có gì được lưu.",
                f"Component {comp['n']} declares {declared} pages but {len(sources)} were scanned. Scan every page, "
                f"in order, and try again. Nothing was stored.", exit_code=imaging.PAGE_COUNT)
        warnings.append(f"Số trang khác khai báo ({declared} → {len(sources)}), cán bộ đã xác nhận.")
    with work_folder(cfg) as work:
        results = process_pages(sources, timeout=float(cfg.get("scan.ocr_timeout", ocr.DEFAULT_TIMEOUT)),
                                rotate_threshold=float(cfg.get("scan.rotate_threshold", 2.0)), progress=progress,
                                workdir=work)
    # Hard-to-read pages are asked about now, while the citizen is here; the document number is read.
    rv = digitization.review(results, cfg, first_part=not (add and before), confirm=confirm, yes=yes)
    warnings += rv.warnings
    officer = dossiers.officer_name(cfg)
    stamp = dossiers.now(cfg)
    pdf = build_pdf(results, title=f"{code} - {comp['name']}", author=officer)
    interrupt.check()  # a Ctrl-C that Python dropped stops here, before anything is written
    copy = copy_path = None
    sigs: list[dict] = []
    if signed:  # the signed file is the archive file, unchanged; the PDF/A with its text layer goes beside it
        copy, pdf = pdf, original
        sigs = signing.citizen_signatures(original, cfg)
    elif signer is not None:  # the agency's signature, after the PDF/A and its text layer (signing.py)
        pdf, sig = signing.sign_archive_pdf(pdf, signer)
        sigs = [dict(sig, desk=cfg.get("counter.desk") or None)]
    sha = hashlib.sha256(pdf).hexdigest()
    path, created = place(db, archive_path(cfg, code, comp, stamp), pdf, sha)
    if copy is not None:
        try:
            copy_path, copy_created = place(db, path.with_name(f"{path.stem}.ocr.pdf"), copy,
                                            hashlib.sha256(copy).hexdigest())
        except BaseException:
            if created:
                discard(db, path)
            raise
    if os.environ.get(FAULT_ENV) == "scan-after-rename":
        os._exit(70)
    dpis = [r.dpi for r in results if r.dpi]
    confs = [r.confidence for r in results if r.confidence is not None]
    row = {
        "dossier_id": d["id"], "component_n": comp["n"], "path": str(path), "sha256": sha, "size": len(pdf),
        "pages": len(results), "dpi": min(dpis) if dpis else 0, "colour": int(any(r.colour for r in results)),
        "ocr": "tesseract" if any(r.embedded is None for r in results) else "embedded",
        "mean_confidence": round(sum(confs) / len(confs), 1) if confs else None,
        "sources": json.dumps([f.name for f in files], ensure_ascii=False),
        "state": "current", "created_at": dossiers.iso(stamp), "officer": officer,
    }
    if copy_path is not None:
        row.update(ocr_copy=str(copy_path), ocr_copy_sha256=hashlib.sha256(copy).hexdigest())
    if comp.get("result"):
        row.update(result_code=comp["result_code"], result_name=comp["name"])
    written = [(path, False)] if created else []
    if copy_path is not None and copy_created:
        written.append((copy_path, True))
    fid = commit(db, cfg, d, comp, row, results, rv, before=before, replace=replace, add=add, written=written,
                 signatures=sigs)
    pages = [dict(r.public(), quality=rv.pages[r.n].public() if r.n in rv.pages else None) for r in results]
    out = {"code": code, "component": comp["n"], "pdf": str(path), "pages": pages,
           "sha256": sha, "size": len(pdf), "file_id": fid, "warnings": warnings, **digitization.public(rv)}
    if signed:
        out.update(signed=signed, ocr_copy=str(copy_path))
    out["signature"] = signing.public(sigs)
    if comp.get("result"):
        out.update(component=None, result=comp["result"], result_code=comp["result_code"], result_name=comp["name"])
    return out


def _signed_input(files: list[Path]) -> tuple[bytes, list[str]]:
    """(bytes, signed field names) of a digitally signed PDF among ``files``, or (b"", []).

    A signed PDF is archived unchanged, so it must be the scan's only file: merging it with other
    pages would rewrite it and break its signature."""
    for f in files:
        with open(f, "rb") as fh:
            if fh.read(5) != b"%PDF-":
                continue
        data = f.read_bytes()
        names = pdfa.signed_fields(data)
        if not names:
            continue
        if len(files) > 1:
            raise ScanRejected(
                f"{f.name} là PDF có chữ ký số ({', '.join(names)}): nó được lưu nguyên vẹn, không ghép với tệp "
                f"khác. Quét nó riêng (một tệp), rồi lưu các giấy tờ còn lại bằng --add. Chưa có gì được lưu.",
                f"{f.name} is a digitally signed PDF ({', '.join(names)}): it is archived unchanged, never merged "
                f"with other files. Scan it on its own, then store the other papers with --add. Nothing was stored.")
        return data, names
    return b"", []


# ---------------------------------------------------------------- scanner (SANE)

SCANNER_UNAVAILABLE = errors.SCANNER_UNAVAILABLE


def scan_device(cfg: Config, device: str, workdir: Path) -> list[Path]:
    """Pages from a SANE scanner through ``scanimage`` (feeder batch or one flatbed page)."""
    import subprocess

    if not shutil.which("scanimage"):
        raise ScanRejected(
            "Không tìm thấy chương trình scanimage (SANE) nên không điều khiển được máy quét. Cài gói sane-utils "
            "(sudo apt-get install sane-utils), hoặc cho máy quét lưu vào thư mục hộp thư quét rồi dùng --inbox.",
            "scanimage (SANE) is not installed, so the scanner cannot be driven. Install sane-utils, or let the "
            "scanner save to the inbox folder and use --inbox.", exit_code=SCANNER_UNAVAILABLE)
    dev = device if device not in ("", "auto", "default") else cfg.get("scan.device", "")
    dpi = int(cfg.get("scan.dpi", 300))
    mode = cfg.get("scan.mode", "Color")
    source = cfg.get("scan.source", "")
    args = ["scanimage", "--format=tiff", f"--resolution={dpi}", f"--mode={mode}",
            f"--batch={workdir}/page-%04d.tif"]
    if dev:
        args[1:1] = ["-d", dev]
    if source:
        args.append(f"--source={source}")
    else:
        args.append("--batch-count=1")
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    pages = sorted(workdir.glob("page-*.tif"))
    if not pages:
        raise ScanRejected(
            f"Máy quét {dev or '(mặc định)'} không trả về trang nào: {r.stderr.strip()[:200]}. Kiểm tra máy quét đã bật, "
            f"có giấy, và 'scanimage -L' liệt kê được nó.",
            f"Scanner {dev or '(default)'} returned no page: {r.stderr.strip()[:200]}. Check it is on, has paper, "
            f"and 'scanimage -L' lists it.", exit_code=SCANNER_UNAVAILABLE)
    return pages


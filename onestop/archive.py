"""The electronic archive: scan a dossier component into one searchable PDF, and check the archive.

Order of operations (crash safety, STYLE.md "Storage"): every page is checked, straightened and
OCRed first; the PDF is written to a temporary name in its archive folder, fsynced and renamed;
only then the database rows (file, pages, component digitized, search index, outbox "file") are
committed in one transaction; only after the commit are inbox files moved to ``done/``. A crash
between rename and commit leaves an orphan PDF that ``onestop check`` reports and that re-running
the same scan overwrites.

Each PDF page is the scanner's image (JPEG data kept as is; rotation and deskew are applied by the
placement matrix) under an invisible text layer built from tesseract's TSV words in its glyph-less
font, as tesseract's ``textonly_pdf`` renderer and OCRmyPDF write it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from onestop.db import Database

from onestop import imaging, ocr, prepare
from onestop.config import Config
from onestop.db import ensure_private_dir, transaction
from onestop import errors
from onestop.errors import InvalidInput, NotFound, ScanRejected, StorageError

REPO_SCANS = Path(__file__).resolve().parent.parent / "scans"
LOW_CONFIDENCE = 75.0   # below this mean word confidence, ask tesseract's OSD whether the page is turned
FAULT_ENV = "ONESTOP_FAULT"  # test hook: "scan-after-rename" kills the process between rename and commit


@dataclass
class PageResult:
    n: int
    source: str
    text: str
    confidence: float | None
    rotated: int = 0
    deskew: float = 0.0
    dpi: int = 0
    colour: bool = False
    width: int = 0
    height: int = 0
    text_layer: bytes = b""               # the invisible text layer's content stream (ocr.text_layer)
    page_size: tuple[float, float] = (0.0, 0.0)  # points
    image: imaging.Encoded | None = None
    embedded: tuple[Path, int] | None = None  # (pdf, page index) kept as is
    prepared: list[str] | None = None     # what the OCR copy needed (prepare.py): [] for a clean page

    def public(self) -> dict:
        return {"n": self.n, "text": self.text, "confidence": self.confidence, "rotated": self.rotated,
                "deskew": self.deskew, "dpi": self.dpi, "colour": self.colour, "source": self.source,
                "prepared": self.prepared or []}


# ---------------------------------------------------------------- per-page processing

def process_page(src: imaging.PageSource, n: int, workdir: Path, *, timeout: float, rotate_threshold: float,
                 lang: str = ocr.LANG, engine_slots=None, encoder: ThreadPoolExecutor | None = None,
                 prepared: Callable[[], None] | None = None) -> PageResult:
    """Decode, turn upright, deskew and OCR one page."""
    if src.pdf_text is not None:
        return PageResult(n=n, source=src.label, text=ocr.nfc_lines(src.pdf_text), confidence=None,
                          embedded=(src.path, src.index))
    dpi = src.dpi or imaging.RASTER_DPI
    scale = min(1.0, imaging.OCR_MAX_DPI / dpi)
    slots = engine_slots or contextlib.nullcontext()
    # A scanner's JPEG file needs no full decode unless the page must be turned or deskewed:
    # a reduced preview measures it, and tesseract reads the file itself.
    direct = src.fmt == "JPEG" and src.jpeg is not None and src.index == 0 and scale == 1
    if direct:
        im = imaging.preview(src)
        full: list = []
    else:
        im = imaging.decode(src, workdir)
        full = [im]
    small = im.convert("L") if im.mode != "L" else im
    # Photocopies, faint copies, stamps across the text: measured on what is decoded already, and
    # only such pages get an OCR copy prepared (prepare.py); the PDF keeps the scanner's image.
    measured = prepare.measure(im, dpi, reduced=max(1, round((src.width or im.width) / im.width)))

    def gray():
        if not full:
            full.append(imaging.decode(src, workdir))
        if measured.steps and len(full) == 1:
            page, _ = prepare.prepare(full[0], dpi, measured)
            full.append(page)
        g = full[-1]
        return g.convert("L") if g.mode != "L" else g

    def attempt(clockwise: int):
        angle = imaging.deskew_angle(imaging.turn(small, clockwise))
        if direct and clockwise == 0 and angle == 0 and not measured.steps:
            path = src.path
        else:
            page = imaging.straighten(gray(), clockwise, angle)
            if scale < 1:
                from PIL import Image

                page = page.resize((round(page.width * scale), round(page.height * scale)), Image.LANCZOS)
            # Uncompressed TIFF: the fastest format for tesseract to read (PGM parsing is ~10% slower).
            path = workdir / f"p{n:04d}-{clockwise}.tif"
            page.save(path, dpi=(round(dpi * scale), round(dpi * scale)))
        if prepared is not None:
            prepared()  # this page waits for an engine now: the next one may be prepared
        with slots:
            res = ocr.recognise(path, round(dpi * scale), lang=lang, source=src.label, timeout=timeout,
                                workdir=workdir, name=f"p{n:04d}-{clockwise}")
        return clockwise, angle, path, res

    # The PDF image does not depend on the OCR: encode it while the engine runs (not after the last page).
    # (Only for the reduced JPEG preview: a full-size page is encoded after its OCR copy is freed, P4.)
    encoded = encoder.submit(imaging.encode, src, im) if encoder is not None and direct else None
    rot, angle, path, res = attempt(src.rotate)
    if res.confidence is None or res.confidence < LOW_CONFIDENCE or res.vertical > 0.5:
        # Upside-down pages OCR badly and sideways ones come out as vertical lines: only then
        # pay for tesseract's orientation detection (about half a second a page).
        with slots:
            turn_cw, conf = ocr.detect_orientation(path, round(dpi * scale), source=src.label, timeout=timeout)
        if turn_cw and conf >= rotate_threshold:
            alt = attempt((src.rotate + turn_cw) % 360)
            if (alt[3].confidence or 0) >= (res.confidence or 0) or (res.vertical > 0.5 and alt[3].vertical < 0.5):
                rot, angle, path, res = alt
    enc = encoded.result() if encoded is not None else imaging.encode(src, im)
    return PageResult(n=n, source=src.label, text=res.text, confidence=res.confidence, rotated=rot, deskew=angle,
                      dpi=dpi, colour=enc.colour, width=enc.width, height=enc.height, text_layer=res.layer, page_size=res.page_size,
                      image=enc, prepared=list(measured.steps))


def process_pages(sources: list[imaging.PageSource], *, timeout: float, rotate_threshold: float,
                  progress: Callable[[int, int], None] | None = None, jobs: int | None = None) -> list[PageResult]:
    """All pages, in page order: one single-threaded tesseract per core at any time, and as many
    pages again decoded and deskewed ahead, so an engine that finishes starts its next page at once."""
    total = len(sources)
    done = 0
    jobs = jobs or ocr.workers()
    with tempfile.TemporaryDirectory(prefix="onestop-scan-") as tmp:
        # Up to ``jobs`` pages prepared ahead: engines tend to finish together, and each one freed
        # must find its next page ready (one page ahead left a gap of a page's preparation).
        pool = ThreadPoolExecutor(max_workers=2 * jobs)
        encoder = ThreadPoolExecutor(max_workers=jobs)
        try:
            # The engine check (tesseract and its 'vie' data) runs while the first pages are decoded;
            # no engine starts before it has passed, and its error is the scan's error.
            checked = encoder.submit(ocr.check_engine) if any(s.pdf_text is None for s in sources) else None
            slots = _EngineSlots(jobs, checked)
            # At most ``jobs`` pages are being prepared at once: at the start the first pages get the
            # cores, and the engines start sooner; afterwards the extra thread prepares the next page.
            preparing = threading.BoundedSemaphore(jobs)

            def page(s, n):
                preparing.acquire()
                once = threading.Lock()

                def prepared():
                    if once.acquire(blocking=False):
                        preparing.release()
                try:
                    return process_page(s, n, Path(tmp), timeout=timeout, rotate_threshold=rotate_threshold,
                                        engine_slots=slots, encoder=encoder, prepared=prepared)
                finally:
                    prepared()

            futs = [pool.submit(page, s, i + 1) for i, s in enumerate(sources)]
            if checked is not None:
                checked.result()
            results = []
            for f in futs:
                results.append(f.result())
                if not done:
                    import pypdf  # noqa: F401  (build_pdf's import, done while the engines still run)
                done += 1
                if progress:
                    progress(done, total)
            return results
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            encoder.shutdown(wait=True, cancel_futures=True)


class _EngineSlots:
    """At most ``n`` tesseract processes at a time, none before the engine check has passed."""

    def __init__(self, n: int, checked):
        self._sem = threading.BoundedSemaphore(n)
        self._checked = checked

    def __enter__(self):
        if self._checked is not None:
            self._checked.result()
        self._sem.acquire()
        return self

    def __exit__(self, *exc):
        self._sem.release()
        return False


# ---------------------------------------------------------------- the PDF

def _mul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def placement(w: int, h: int, clockwise: int, deskew: float, page_w: float, page_h: float) -> list[float]:
    """The PDF ``cm`` matrix that draws the original w×h image turned ``clockwise`` then rotated
    ``deskew`` degrees counter-clockwise about the centre, on a page_w×page_h point page."""
    m = [[w, 0, 0], [0, -h, h], [0, 0, 1]]  # unit square (y up) → pixels (y down)
    c = clockwise % 360
    if c == 90:
        m = _mul([[0, -1, h], [1, 0, 0], [0, 0, 1]], m)
        w, h = h, w
    elif c == 180:
        m = _mul([[-1, 0, w], [0, -1, h], [0, 0, 1]], m)
    elif c == 270:
        m = _mul([[0, 1, 0], [-1, 0, w], [0, 0, 1]], m)
        w, h = h, w
    if deskew:
        t = math.radians(deskew)
        cx, cy = w / 2, h / 2
        co, si = math.cos(t), math.sin(t)
        m = _mul([[co, si, cx - co * cx - si * cy], [-si, co, cy + si * cx - co * cy], [0, 0, 1]], m)
    sx, sy = page_w / w, page_h / h
    m = _mul([[sx, 0, 0], [0, -sy, page_h], [0, 0, 1]], m)
    return [m[0][0], m[1][0], m[0][1], m[1][1], m[0][2], m[1][2]]


def build_pdf(results: list[PageResult], *, title: str = "", author: str = "") -> bytes:
    """One PDF: each page's image under its invisible text layer; embedded-text pages copied as is."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject,
                               StreamObject)

    writer = PdfWriter()
    readers: dict[Path, PdfReader] = {}
    font = None  # the glyph-less text font, one object shared by every page
    for r in results:
        if r.embedded:
            path, idx = r.embedded
            if path not in readers:
                readers[path] = PdfReader(path)
            writer.add_page(readers[path].pages[idx])
            continue
        pw, ph = r.page_size
        page = writer.add_blank_page(pw, ph)
        enc = r.image
        img = StreamObject()
        img._data = enc.data
        filt = ArrayObject([NameObject(f) for f in enc.filter]) if isinstance(enc.filter, tuple) else NameObject(enc.filter)
        img.update({
            NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(enc.width), NameObject("/Height"): NumberObject(enc.height),
            NameObject("/ColorSpace"): NameObject(enc.colourspace),
            NameObject("/BitsPerComponent"): NumberObject(enc.bpc), NameObject("/Filter"): filt,
        })
        if enc.predictor:
            img[NameObject("/DecodeParms")] = DictionaryObject({
                NameObject("/Predictor"): NumberObject(15), NameObject("/Colors"): NumberObject(3 if enc.colourspace == "/DeviceRGB" else 1),
                NameObject("/BitsPerComponent"): NumberObject(enc.bpc), NameObject("/Columns"): NumberObject(enc.width)})
        ref = writer._add_object(img)
        res = DictionaryObject({NameObject("/XObject"): DictionaryObject({NameObject("/OnestopScan"): ref})})
        if r.text_layer:
            if font is None:
                font = _text_font(writer)
            res[NameObject("/Font")] = DictionaryObject({NameObject("/f-0-0"): font})
        page[NameObject("/Resources")] = res
        pw, ph = float(page.mediabox.width), float(page.mediabox.height)
        cm = placement(enc.width, enc.height, r.rotated, r.deskew, pw, ph)
        content = DecodedStreamObject()
        content.set_data(("q " + " ".join(f"{v:.5f}" for v in cm) + " cm /OnestopScan Do Q\n").encode() + r.text_layer)
        page[NameObject("/Contents")] = writer._add_object(content)
    for page in writer.pages:
        page.compress_content_streams()
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    writer.add_metadata({"/Title": title, "/Author": author, "/Producer": "onestop (tesseract OCR)"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _text_font(writer):
    """The Type0 glyph-less font of the text layer (as tesseract's PDF renderer writes it)."""
    from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject,
                               TextStringObject)

    def stream(data: bytes):
        s = DecodedStreamObject()
        s.set_data(data)
        return s.flate_encode()

    ttf = stream(ocr.GLYPHLESS_TTF)
    ttf[NameObject("/Length1")] = NumberObject(len(ocr.GLYPHLESS_TTF))
    descriptor = DictionaryObject({
        NameObject("/Type"): NameObject("/FontDescriptor"), NameObject("/FontName"): NameObject("/GlyphLessFont"),
        NameObject("/Flags"): NumberObject(5), NameObject("/FontBBox"): ArrayObject(
            [NumberObject(0), NumberObject(0), NumberObject(500), NumberObject(1000)]),
        NameObject("/ItalicAngle"): NumberObject(0), NameObject("/Ascent"): NumberObject(1000),
        NameObject("/Descent"): NumberObject(-1), NameObject("/CapHeight"): NumberObject(1000),
        NameObject("/StemV"): NumberObject(80), NameObject("/FontFile2"): writer._add_object(ttf)})
    cid = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/CIDFontType2"),
        NameObject("/BaseFont"): NameObject("/GlyphLessFont"),
        NameObject("/CIDSystemInfo"): DictionaryObject({
            NameObject("/Registry"): TextStringObject("Adobe"), NameObject("/Ordering"): TextStringObject("Identity"),
            NameObject("/Supplement"): NumberObject(0)}),
        NameObject("/FontDescriptor"): writer._add_object(descriptor), NameObject("/DW"): NumberObject(500),
        NameObject("/CIDToGIDMap"): writer._add_object(stream(_CID_TO_GID))})
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type0"),
        NameObject("/BaseFont"): NameObject("/GlyphLessFont"), NameObject("/Encoding"): NameObject("/Identity-H"),
        NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid)]),
        NameObject("/ToUnicode"): writer._add_object(stream(ocr.TO_UNICODE))})
    return writer._add_object(font)


# Every code (a UTF-16 unit) drawn with glyph 1 of the glyph-less font, as tesseract maps it.
_CID_TO_GID = b"\x00\x01" * 65536


# ---------------------------------------------------------------- storing

def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "x"


def component_code(comp: dict) -> str:
    return _safe(comp.get("code") or "") if comp.get("code") else f"TP{int(comp['n']):02d}"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write the archive PDF crash-safely; a failure is a StorageError that says nothing was stored."""
    from onestop.files import write_atomic

    ensure_private_dir(path.parent)
    try:
        write_atomic(path, data)
    except OSError as e:
        raise StorageError(
            f"Không ghi được tệp lưu trữ {path}: {e.strerror or e}. Kiểm tra dung lượng/quyền thư mục rồi quét lại; "
            f"chưa có gì được lưu, tệp trong hộp thư quét vẫn giữ nguyên.",
            f"Cannot write the archive file {path}: {e}. Check disk space and permissions, then scan again; "
            f"nothing was stored and inbox files are untouched.") from e


def _component(db: Database, dossier_id: int, n: int | None, code: str) -> dict:
    rows = [dict(r) for r in db.query(
        "SELECT n, code, name, pages, received, digitized FROM dossier_components WHERE dossier_id = ? ORDER BY n",
        [dossier_id])]
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


def inbox_dir(cfg: Config) -> Path:
    p = cfg.get("scan.inbox") or ""
    return (Path(os.path.expanduser(p)) if p else cfg.home / "inbox").resolve()


def inbox_files(cfg: Config, *, settle: float | None = None) -> list[Path]:
    """Files a network scanner dropped in the inbox, oldest first, once they have stopped growing."""
    box = inbox_dir(cfg)
    if not box.is_dir():
        return []
    settle = float(cfg.get("scan.settle_seconds", 1.0) if settle is None else settle)

    def listing():
        return {p: (p.stat().st_size, p.stat().st_mtime) for p in box.iterdir()
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in imaging.ALLOWED_SUFFIXES}

    before = listing()
    for _ in range(30):
        if not settle:
            break
        time.sleep(settle)
        after = listing()
        if after == before:
            break
        before = after
    return sorted(before, key=lambda p: (before[p][1], p.name))


def _move_done(files: list[Path], box: Path) -> list[str]:
    done = ensure_private_dir(box / "done")
    moved = []
    for f in files:
        target = done / f.name
        i = 1
        while target.exists():
            i += 1
            target = done / f"{f.stem}_{i}{f.suffix}"
        try:
            shutil.move(str(f), target)
            moved.append(str(target))
        except OSError:
            pass  # the scan is committed; a file left in the inbox is reported, not fatal
    return moved


def scan(db: Database, cfg: Config, code: str, files: list[Path], *, component: int | None = None,
         yes: bool = False, allow_low_dpi: bool = False, force_ocr: bool = False, replace: bool = False,
         confirm: Callable[[str], bool] | None = None, progress: Callable[[int, int], None] | None = None,
         from_inbox: bool = False) -> dict:
    """Digitize one component of dossier ``code`` from ``files``; returns the JSON contract of ``onestop scan``.

    ``confirm(question)`` is asked when the page count differs from the declared one (not with ``yes``);
    without it a mismatch is refused."""
    from onestop import dossiers, search

    d = dossiers.resolve_code(db, cfg, code)
    code = d["code"]
    comp = _component(db, d["id"], component, code)
    current = db.conn.execute("SELECT id, path FROM archive_files WHERE dossier_id = ? AND component_n = ? AND state = 'current'",
                              [d["id"], comp["n"]]).fetchone()
    if current and not replace:
        raise InvalidInput(
            f"Thành phần {comp['n']} của hồ sơ {code} đã được số hóa ({current[1]}). Dùng --replace để quét lại và thay thế.",
            f"Component {comp['n']} of dossier {code} is already digitized ({current[1]}). Use --replace to rescan it.")
    files = [Path(f).resolve() for f in files]
    sources = imaging.probe(files, min_dpi=int(cfg.get("scan.min_dpi", 200)), allow_low_dpi=allow_low_dpi,
                            force_ocr=force_ocr, max_pixels=int(cfg.get("scan.max_pixels", imaging.MAX_PIXELS)))
    warnings = [w for s in sources for w in s.warnings]
    declared = int(comp["pages"] or 0)
    if declared and declared != len(sources):
        q_vi = (f"Thành phần {comp['n']} ({comp['name']}) khai {declared} trang nhưng có {len(sources)} trang quét "
                f"({', '.join(sorted({s.path.name for s in sources}))}).")
        ok = (not yes) and confirm is not None and confirm(q_vi + " Vẫn lưu và cập nhật số trang?")
        if not ok:
            raise ScanRejected(
                q_vi + " Quét đủ/đúng các trang (mỗi trang một ảnh, đúng thứ tự) rồi thử lại. Chưa có gì được lưu.",
                f"Component {comp['n']} declares {declared} pages but {len(sources)} were scanned. Scan every page, "
                f"in order, and try again. Nothing was stored.", exit_code=imaging.PAGE_COUNT)
        warnings.append(f"Số trang khác khai báo ({declared} → {len(sources)}), cán bộ đã xác nhận.")
    results = process_pages(sources, timeout=float(cfg.get("scan.ocr_timeout", ocr.DEFAULT_TIMEOUT)),
                            rotate_threshold=float(cfg.get("scan.rotate_threshold", 2.0)), progress=progress)
    officer = dossiers.officer_name(cfg)
    stamp = dossiers.now(cfg)
    pdf = build_pdf(results, title=f"{code} - {comp['name']}", author=officer)
    sha = hashlib.sha256(pdf).hexdigest()
    folder = cfg.archive_dir.resolve() / _safe(code)
    path = _free_path(db, folder / f"{_safe(code)}_{component_code(comp)}_{stamp:%Y%m%d}.pdf")
    _atomic_write(path, pdf)
    if os.environ.get(FAULT_ENV) == "scan-after-rename":
        os._exit(70)
    dpis = [r.dpi for r in results if r.dpi]
    confs = [r.confidence for r in results if r.confidence is not None]
    row = {
        "dossier_id": d["id"], "component_n": comp["n"], "path": str(path), "sha256": sha, "size": len(pdf),
        "pages": len(results), "dpi": min(dpis) if dpis else 0, "colour": int(any(r.colour for r in results)),
        "ocr": "tesseract" if any(r.embedded is None for r in results) else "embedded",
        "mean_confidence": round(sum(confs) / len(confs), 1) if confs else None,
        "sources": json.dumps([f.name for f in imaging.expand(files)], ensure_ascii=False),
        "state": "current", "created_at": dossiers.iso(stamp), "officer": officer,
    }
    try:
        with transaction(db):
            if replace:
                old = [r[0] for r in db.conn.execute(
                    "SELECT p.id FROM archive_pages p JOIN archive_files f ON f.id = p.file_id "
                    "WHERE f.dossier_id = ? AND f.component_n = ? AND f.state = 'current'", [d["id"], comp["n"]])]
                search.unindex_pages(db, old)
                db.conn.execute("UPDATE archive_files SET state = 'replaced' WHERE dossier_id = ? AND component_n = ? "
                                "AND state = 'current'", [d["id"], comp["n"]])
            fid = db.conn.execute(f"INSERT INTO archive_files ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                  list(row.values())).lastrowid
            for r in results:
                pid = db.conn.execute(
                    "INSERT INTO archive_pages (file_id, n, text, confidence, rotated, deskew, dpi, colour, width, height, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [fid, r.n, r.text, r.confidence, r.rotated, r.deskew, r.dpi, int(r.colour), r.width, r.height,
                     r.source]).lastrowid
                search.index_page(db, pid, d["id"], r.text)
            db.conn.execute("UPDATE dossier_components SET digitized = 1, pages = ? WHERE dossier_id = ? AND n = ?",
                            [len(results), d["id"], comp["n"]])
            dossiers._event(db, d["id"], dossiers.iso(stamp), officer, cfg.unit, "digitize",
                            f"Số hóa thành phần {comp['n']}: {len(results)} trang",
                            None, None, {"component": comp["n"], "file_id": fid, "sha256": sha})
            dossiers._outbox(db, d["id"], "file", fid, dossiers.iso(stamp))
    except BaseException:
        # No row points to the new PDF: remove it, so a failed scan stores nothing.
        path.unlink(missing_ok=True)
        raise
    moved = []
    if from_inbox or any(_inside(f, inbox_dir(cfg)) for f in files):
        moved = _move_done([f for f in imaging.expand(files) if _inside(f, inbox_dir(cfg))], inbox_dir(cfg))
    return {"code": code, "component": comp["n"], "pdf": str(path), "pages": [r.public() for r in results],
            "sha256": sha, "size": len(pdf), "file_id": fid, "warnings": warnings, "moved": moved}


def _inside(f: Path, folder: Path) -> bool:
    try:
        return f.resolve().parent == folder.resolve()
    except OSError:
        return False


def _free_path(db: Database, path: Path) -> Path:
    """``path``, or ``_2``, ``_3``… when a stored file already uses it. A file with no row (left by a
    crash before the commit) is overwritten."""
    cand, i = path, 1
    while db.conn.execute("SELECT 1 FROM archive_files WHERE path = ?", [str(cand)]).fetchone():
        i += 1
        cand = path.with_name(f"{path.stem}_{i}{path.suffix}")
    return cand


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


# ---------------------------------------------------------------- check

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check(db: Database, cfg: Config, *, verify: bool = True) -> dict:
    """Verify the archive against the database; ``{"ok": bool, "files": n, "problems": [...]}``."""
    from pypdf import PdfReader

    problems = []
    known = set()
    rows = db.query("SELECT f.id, f.path, f.sha256, f.size, f.pages, f.component_n, f.state, d.code "
                    "FROM archive_files f JOIN dossiers d ON d.id = f.dossier_id ORDER BY f.id")
    n = 0
    for r in rows:
        n += 1
        p = Path(r["path"])
        known.add(str(p.resolve()))
        base = {"code": r["code"], "component": r["component_n"], "path": r["path"], "file_id": r["id"]}
        if not p.exists():
            problems.append(dict(base, kind="missing",
                                 message=f"Thiếu tệp {p} (hồ sơ {r['code']}, thành phần {r['component_n']}). "
                                         f"Khôi phục từ bản sao lưu hoặc quét lại với --replace."))
            continue
        if p.stat().st_size != r["size"] or (verify and _sha256(p) != r["sha256"]):
            problems.append(dict(base, kind="checksum",
                                 message=f"Tệp {p} đã bị thay đổi (SHA-256 không khớp). Khôi phục từ bản sao lưu "
                                         f"hoặc quét lại thành phần {r['component_n']} với --replace."))
            continue
        if verify:
            try:
                count = len(PdfReader(p).pages)
            except Exception as e:  # noqa: BLE001
                problems.append(dict(base, kind="unreadable", message=f"Không mở được PDF {p}: {e}."))
                continue
            if count != r["pages"]:
                problems.append(dict(base, kind="pages",
                                     message=f"PDF {p} có {count} trang, cơ sở dữ liệu ghi {r['pages']}."))
    root = cfg.archive_dir
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if not p.is_file():
                continue
            if p.name.endswith(".tmp"):
                problems.append({"kind": "temp", "path": str(p),
                                 "message": f"Tệp tạm {p} còn lại sau một lần quét bị ngắt. Có thể xóa; quét lại thành phần đó."})
            elif str(p.resolve()) not in known:
                problems.append({"kind": "orphan", "path": str(p),
                                 "message": f"Tệp {p} không thuộc hồ sơ nào trong cơ sở dữ liệu (lần quét bị ngắt trước khi "
                                            f"ghi nhận?). Chạy lại lệnh 'onestop scan' cho thành phần đó: tệp sẽ được ghi nhận."})
    for r in db.query("SELECT d.code, c.n FROM dossier_components c JOIN dossiers d ON d.id = c.dossier_id "
                      "WHERE c.digitized = 1 AND NOT EXISTS (SELECT 1 FROM archive_files f WHERE f.dossier_id = c.dossier_id "
                      "AND f.component_n = c.n AND f.state = 'current')"):
        problems.append({"kind": "no_file", "code": r["code"], "component": r["n"],
                         "message": f"Thành phần {r['n']} của hồ sơ {r['code']} được đánh dấu đã số hóa nhưng không có tệp. "
                                    f"Quét lại: onestop scan {r['code']} --component {r['n']} …"})
    return {"ok": not problems, "files": n, "problems": problems}


# ---------------------------------------------------------------- demo

def demo_step(db: Database, cfg: Config, result: dict) -> None:
    """Demo: scan the sample pages of ``scans/`` into the first dossiers, then search them."""
    from onestop.demo import _say
    from onestop.i18n import t
    from onestop import search

    samples = sorted(p for p in REPO_SCANS.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    _say(t("\n[bold]3. Số hóa hồ sơ giấy (quét, xoay, chỉnh nghiêng, nhận dạng chữ)[/bold]",
           "\n[bold]3. Digitizing paper (scan, turn upright, deskew, OCR)[/bold]"))
    if not samples or not result.get("dossiers"):
        _say(t(f"  (không có trang mẫu trong {REPO_SCANS}, bỏ qua)", f"  (no sample pages in {REPO_SCANS}, skipped)"))
        return
    try:
        ocr.check_engine()
    except ScanRejected as e:
        _say("  " + e.message)
        return
    codes = [x["code"] for x in result["dossiers"]]
    box = ensure_private_dir(inbox_dir(cfg))
    for p in samples:
        shutil.copy2(p, box / p.name)
    plan = [(codes[0], 1, [box / samples[0].name, box / samples[1].name])]
    if len(samples) > 2 and len(codes) > 1:
        plan.append((codes[1], 1, [box / s.name for s in samples[2:]]))
    result["scans"] = []
    for code, comp, files in plan:
        r = scan(db, cfg, code, files, component=comp, confirm=lambda q: True)
        result["scans"].append(r)
        _say(f"  {code} / {comp}: {len(r['pages'])} " + t("trang", "pages") + f" → {r['pdf']}")
        for pg in r["pages"]:
            _say(t(f"     trang {pg['n']}: xoay {pg['rotated']}°, chỉnh nghiêng {pg['deskew']}°, "
                   f"{pg['dpi']} dpi, độ tin cậy {pg['confidence']}",
                   f"     page {pg['n']}: turned {pg['rotated']}°, deskewed {pg['deskew']}°, {pg['dpi']} dpi, "
                   f"confidence {pg['confidence']}"))
    query = "dang ky hoat dong"
    hits = search.search(db, query, limit=5)
    result["search"] = hits
    _say(t(f"\n  Tìm kiếm '{query}' (không dấu): {len(hits)} kết quả", f"\n  Search '{query}': {len(hits)} hits"))
    for h in hits:
        _say(f"    {h['code']}  TP{h.get('component') or '-'} tr.{h.get('page') or '-'}: {h['snippet']}")

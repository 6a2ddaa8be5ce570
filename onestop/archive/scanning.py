"""The electronic archive: scan a dossier component into one searchable PDF, and check the archive.

Order of operations (crash safety, STYLE.md "Storage"): every page is checked, straightened and
OCRed first; the PDF is written to a temporary name in its archive folder, fsynced and renamed;
only then the database rows (file, pages, component digitized, search index, outbox "file") are
committed in one transaction; only after the commit are inbox files moved to ``done/``. Archive
files are write-once: a new scan never overwrites an existing file (``files.write_new``). A crash
between rename and commit leaves an orphan PDF that ``onestop check`` reports and that re-running
the same scan takes over (same bytes: the OCR and the PDF writer are deterministic).

Races (issue 8): the database allows one current file per component part (a unique index), and
the commit re-reads the component under a lock (SQLite: the write lock; PostgreSQL: a lock on the
file's path, ``store.archive.lock_path``; where the paths differ the unique index refuses the
second row), so of two scans of one component exactly one commits; the other fails with
ScanConflict and removes only its own uncommitted PDF, never one a committed row points to. Inbox
files are claimed by renaming them into a per-scan folder before they are read. A connection to
the office database lost during the commit stores no row; the PDF stays (``check`` calls it an
orphan, the same scan run again takes it over) and the inbox files go back to the inbox.

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

from onestop.store.sqlite import Database

from onestop.archive import imaging, ocr, pdfa, prepare
from onestop.common.config import Config
from onestop.store.sqlite import ensure_private_dir, transaction
from onestop.common import errors
from onestop.common.errors import CheckFailed, InvalidInput, NotFound, ScanConflict, ScanRejected, StorageError
from onestop.store import archive as store

REPO_SCANS = Path(__file__).resolve().parents[2] / "scans"
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
                 prepared: Callable[[], None] | None = None, engines: ocr.EnginePool | None = None) -> PageResult:
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
                                workdir=workdir, name=f"p{n:04d}-{clockwise}", engines=engines)
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
                  progress: Callable[[int, int], None] | None = None, jobs: int | None = None,
                  workdir: Path | None = None) -> list[PageResult]:
    """All pages, in page order: one single-threaded tesseract per core at any time, and as many
    pages again decoded and deskewed ahead, so an engine that finishes starts its next page at once.

    Page images and OCR text go to ``workdir`` (``scan`` passes a private folder in the data home,
    see ``work_folder``); without it, to a temporary folder of the system."""
    total = len(sources)
    done = 0
    jobs = jobs or ocr.workers()
    with (contextlib.nullcontext(str(workdir)) if workdir is not None
          else tempfile.TemporaryDirectory(prefix="onestop-scan-")) as tmp:
        # Up to ``jobs`` pages prepared ahead: engines tend to finish together, and each one freed
        # must find its next page ready (one page ahead left a gap of a page's preparation).
        pool = ThreadPoolExecutor(max_workers=2 * jobs)
        encoder = ThreadPoolExecutor(max_workers=jobs)
        engines = None
        try:
            # The engine check (tesseract and its 'vie' data) runs while the first pages are decoded;
            # no engine starts before it has passed, and its error is the scan's error.
            checked = encoder.submit(ocr.check_engine) if any(s.pdf_text is None for s in sources) else None
            slots = _EngineSlots(jobs, checked)
            # The engines load while the first pages are prepared (ocr_worker.py).
            if checked is not None:
                n = min(jobs, sum(s.pdf_text is None for s in sources))
                engines = ocr.take_early(n) or ocr.EnginePool(n)
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
                                        engine_slots=slots, encoder=encoder, prepared=prepared, engines=engines)
                finally:
                    prepared()

            futs = [pool.submit(page, s, i + 1) for i, s in enumerate(sources)]
            if checked is not None:
                checked.result()
            results = []
            for f in futs:
                results.append(f.result())
                if not done and any(s.pdf_text is not None for s in sources):
                    import pypdf  # noqa: F401  (build_pdf's import, done while the engines still run)
                done += 1
                if progress:
                    progress(done, total)
            return results
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            encoder.shutdown(wait=True, cancel_futures=True)
            if engines is not None:
                engines.close()


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
    """One PDF/A-2b file (pdfa.py): each page's image under its invisible text layer; embedded-text
    pages copied as is (only pages that keep the file PDF/A, see imaging._probe_pdf).

    The scanned pages are always written by pdfwriter.py (a scan of images only, the usual case, never
    imports pypdf). Pages of a citizen's electronic PDF are then merged in order with pypdf."""
    seed = hashlib.md5(usedforsecurity=False)  # the document ID comes from the content
    pages = []
    sources: dict[Path, bytes] = {}
    for r in results:
        if r.embedded:
            path, idx = r.embedded
            if path not in sources:
                sources[path] = hashlib.sha256(path.read_bytes()).digest()
            seed.update(sources[path] + b"%d" % idx)
            continue
        seed.update(r.image.data)
        seed.update(r.text_layer)
        pages.append((r.image, placement(r.image.width, r.image.height, r.rotated, r.deskew, *r.page_size),
                      r.text_layer, r.page_size))
    producer = "onestop (tesseract OCR)"
    scanned = pdfa.scanned(pages, title=title, author=author, producer=producer, seed=seed.digest(),
                           font_parts=(ocr.GLYPHLESS_TTF, ocr.TO_UNICODE, _CID_TO_GID)) if pages else None
    if len(pages) == len(results):
        return scanned
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    readers: dict[Path, PdfReader] = {}
    scan_pages = iter(PdfReader(io.BytesIO(scanned)).pages if scanned else ())
    for r in results:
        if r.embedded:
            path, idx = r.embedded
            if path not in readers:
                readers[path] = PdfReader(path)
            pdfa.prune_fonts(writer.add_page(readers[path].pages[idx]))
        else:
            writer.add_page(next(scan_pages))  # its image, text layer and the one shared font come along
    for page in writer.pages:
        page.compress_content_streams()
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    pdfa.finish(writer, title=title, author=author, producer=producer, seed=seed.digest())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Every code (a UTF-16 unit) drawn with glyph 1 of the glyph-less font, as tesseract maps it.
_CID_TO_GID = b"\x00\x01" * 65536


# ---------------------------------------------------------------- storing

def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "x"


def component_code(comp: dict) -> str:
    return _safe(comp.get("code") or "") if comp.get("code") else f"TP{int(comp['n']):02d}"


def shared_root(cfg: Config) -> Path:
    """The archive folder, resolved. In an office it is the shared folder (``[archive] root`` of the
    office settings) and, outside this desk's data home, must already be there: an unmounted share is not
    silently replaced by a local folder that no other desk and no nightly sync would see."""
    root = cfg.archive_dir.resolve()
    home = cfg.home.resolve()
    if cfg.in_office and not root.is_dir() and home != root and home not in root.parents:
        raise StorageError(
            f"Không thấy thư mục lưu trữ chung của văn phòng {root} trên máy này. Gắn (mount) thư mục chung "
            f"đúng đường dẫn đó (docs/office.md, mục 3) rồi làm lại; chưa có gì được lưu.",
            f"The office's shared archive folder {root} is not there on this desk. Mount the shared folder "
            f"at that path (docs/office.md, section 3) and do it again; nothing was stored.")
    if root.exists() and not root.is_dir():
        raise StorageError(
            f"Thư mục lưu trữ {root} ([archive] root) là một tệp, không phải thư mục. Sửa [archive] root (hoặc "
            "'onestop office set archive.root' trong văn phòng) hoặc dời tệp đó đi; chưa có gì được lưu.",
            f"The archive folder {root} ([archive] root) is a file, not a folder. Fix [archive] root (or "
            "'onestop office set archive.root' in an office) or move that file away; nothing was stored.")
    return root


def _write_new(path: Path, data: bytes) -> None:
    """Write a new archive PDF crash-safely, never over an existing file (FileExistsError then);
    any other failure is a StorageError that says nothing was stored."""
    from onestop.common.files import write_new

    ensure_private_dir(path.parent)
    try:
        write_new(path, data)
    except FileExistsError:
        raise
    except OSError as e:
        raise StorageError(
            f"Không ghi được tệp lưu trữ {path}: {e.strerror or e}. Kiểm tra dung lượng/quyền thư mục rồi quét lại; "
            f"chưa có gì được lưu, tệp trong hộp thư quét vẫn giữ nguyên.",
            f"Cannot write the archive file {path}: {e}. Check disk space and permissions, then scan again; "
            f"nothing was stored and inbox files are untouched.") from e


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


# ---------------------------------------------------------------- inbox, claims and work folders
#
# A scan's own folders are locked (flock on ``.lock``) for as long as the scan runs. A scan that was
# killed (kill -9, power cut) leaves its folder unlocked: the next scan cleans it up (``recover``)
# and ``check`` reports it meanwhile. Folders are born as ``.new-*`` and renamed once locked, so a
# folder with a run's name always has a lock.

LOCK = ".lock"
CLAIMS = ".claims"   # in the inbox: one ``run-*`` folder per scan holding the inbox files it took


def inbox_dir(cfg: Config) -> Path:
    p = cfg.get("scan.inbox") or ""
    return (Path(os.path.expanduser(p)) if p else cfg.home / "inbox").resolve()


def work_root(cfg: Config) -> Path:
    """Where scans keep page images and OCR text while they run (personal data: the data home, 0700)."""
    return cfg.home / "work"


def inbox_files(cfg: Config, *, settle: float | None = None) -> list[Path]:
    """Entries a network scanner dropped in the inbox, oldest first, once they have stopped growing.

    Links and other non-regular entries are listed too (never followed): ``scan`` refuses them."""
    box = inbox_dir(cfg)
    if not box.is_dir():
        return []
    settle = float(cfg.get("scan.settle_seconds", 1.0) if settle is None else settle)

    def listing():
        out = {}
        for e in os.scandir(box):
            if e.name.startswith(".") or Path(e.name).suffix.lower() not in imaging.ALLOWED_SUFFIXES:
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    continue
                st = e.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # taken by another scan meanwhile
            out[Path(e.path)] = (st.st_size, st.st_mtime)
        return out

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


@contextlib.contextmanager
def _run_folder(parent: Path, prefix: str, *, remove_contents: bool):
    """A new private folder ``parent/<prefix>…``, locked while the block runs, then removed
    (with what it holds only when ``remove_contents``: a claim folder is removed only once empty)."""
    import fcntl

    ensure_private_dir(parent)
    for _ in range(5):
        new = Path(tempfile.mkdtemp(prefix=".new-", dir=parent))  # mode 0700
        try:
            fd = os.open(new / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            continue  # removed by another scan's clean-up before it was locked: start again
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            folder = parent / (prefix + new.name[len(".new-"):])
            os.rename(new, folder)
            break
        except FileNotFoundError:
            os.close(fd)
    else:
        raise StorageError(f"Không tạo được thư mục làm việc trong {parent}. Kiểm tra quyền thư mục rồi thử lại.",
                           f"Cannot create a work folder in {parent}. Check the folder's permissions and try again.")
    try:
        yield folder
    finally:
        try:
            if remove_contents:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                (folder / LOCK).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    folder.rmdir()  # not empty: files could not be moved out; the next scan returns them
        finally:
            os.close(fd)


def work_folder(cfg: Config):
    """A private work folder for one scan inside the data home, removed when the scan ends."""
    return _run_folder(work_root(cfg), "scan-", remove_contents=True)


def _stale(parent: Path, prefix: str, *, hold: bool):
    """Folders under ``parent`` left by runs that ended without cleaning up (their lock is free).
    With ``hold`` each is yielded while its lock is held, so its owner cannot be alive meanwhile."""
    import fcntl

    if not parent.is_dir():
        return
    for d in sorted(parent.iterdir()):
        if not (d.name.startswith(prefix) or d.name.startswith(".new-")) or d.is_symlink() or not d.is_dir():
            continue
        try:
            fd = os.open(d / LOCK, os.O_RDWR)
        except FileNotFoundError:
            fd = None  # only a folder whose run was killed before it locked it
        except OSError:
            continue
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its scan is running
                if not hold:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            yield d
        finally:
            if fd is not None:
                os.close(fd)


def _claimed_entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name != LOCK)


def recover(cfg: Config) -> dict:
    """Clean up after scans that were killed: remove their work folders (page images and OCR text),
    and return the inbox files they had claimed to the inbox. Returns what was done."""
    from onestop.common.files import move_new

    removed, returned = [], []
    for d in _stale(work_root(cfg), "scan-", hold=True):
        shutil.rmtree(d, ignore_errors=True)
        removed.append(str(d))
    box = inbox_dir(cfg)
    for d in _stale(box / CLAIMS, "run-", hold=True):
        for f in _claimed_entries(d):
            with contextlib.suppress(OSError):
                returned.append(str(move_new(f, box)))
        (d / LOCK).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            d.rmdir()
    return {"removed_work": removed, "returned": returned}


def _in_folder(f: Path, folder: Path) -> bool:
    """Whether the entry ``f`` itself (a link is not followed) lies directly in ``folder``."""
    try:
        return Path(os.path.abspath(f)).parent.resolve() == folder.resolve()
    except OSError:
        return False


class _Claim:
    """The inbox files one scan took: each renamed into the scan's own claim folder, so no other
    scan can take it; returned to the inbox on failure, moved to ``done/`` after the commit."""

    def __init__(self, box: Path, folder: Path):
        self.box, self.folder = box, folder
        self.files: dict[Path, Path] = {}  # inbox path -> claimed path

    def take(self, paths: list[Path], code: str) -> None:
        import fcntl
        import stat

        # One claimer at a time: a scan takes all of its files or none (two scans never split a batch).
        lock = os.open(self.box / CLAIMS / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for f in paths:
                if f in self.files:
                    continue
                dest = self.folder / f.name
                try:
                    os.rename(f, dest)  # atomic: the file is ours, or it was gone already
                except FileNotFoundError:
                    raise ScanConflict(
                        f"Tệp {f.name} không còn trong hộp thư quét {self.box}: một lần quét khác chạy cùng lúc đã "
                        f"nhận nó. Lần quét hồ sơ {code} này không lưu gì và đã trả lại các tệp nó đã nhận. Xem tệp đó "
                        f"được lưu vào hồ sơ nào ('onestop check', thư mục done/), rồi quét lại nếu cần.",
                        f"{f.name} is no longer in the scan inbox {self.box}: another scan running at the same time "
                        f"took it. This scan of {code} stored nothing and returned the files it had taken. See which "
                        f"dossier got it (inbox done/ folder), then scan again if needed.") from None
                self.files[f] = dest
                mode = os.lstat(dest).st_mode
                if not stat.S_ISREG(mode):
                    raise _not_regular(f.name, dest, mode)
        finally:
            os.close(lock)

    def release(self) -> None:
        """Return every claimed file to the inbox (under its own name unless a new file took it)."""
        from onestop.common.files import move_new

        for f, claimed in self.files.items():
            with contextlib.suppress(OSError):  # left in the claim folder: the next scan returns it
                move_new(claimed, self.box, f.name)

    def done(self) -> list[str]:
        from onestop.common.files import move_new

        done = ensure_private_dir(self.box / "done")
        moved = []
        for claimed in self.files.values():
            try:
                moved.append(str(move_new(claimed, done)))
            except OSError:
                pass  # the scan is committed; the next scan returns the file to the inbox and `check` shows it
        return moved


def _not_regular(name: str, entry: Path, mode: int) -> ScanRejected:
    import stat

    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(entry)
        except OSError:
            target = "?"
        what_vi, what_en = f"là một liên kết (symlink) tới {target}", f"is a symbolic link to {target}"
    else:
        what_vi, what_en = "không phải tệp thông thường (thư mục, FIFO, thiết bị…)", "is not a regular file"
    return ScanRejected(
        f"{name} trong hộp thư quét {what_vi}. onestop không đi theo liên kết và chỉ nhận tệp ảnh/PDF thật: "
        f"xóa nó khỏi hộp thư quét, chép bản quét thật vào rồi quét lại. Chưa có gì được lưu.",
        f"{name} in the scan inbox {what_en}. onestop does not follow links and only takes real image/PDF "
        f"files: remove it from the inbox, copy the real scan there and scan again. Nothing was stored.")


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
    without it a mismatch is refused. Files in the inbox are claimed first (``_Claim``), so two
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
    before = _current(db, d["id"], comp["n"])
    if before and not (replace or add):
        shown = ", ".join(r["path"] for r in before)
        raise ScanConflict(
            f"Thành phần {comp['n']} của hồ sơ {code} đã được số hóa ({shown}). Dùng --replace để quét lại và thay "
            f"thế, hoặc --add để lưu thêm một tệp cho thành phần này. Chưa có gì được lưu.",
            f"Component {comp['n']} of dossier {code} is already digitized ({shown}). Use --replace to rescan it, "
            f"or --add to store one more file for it. Nothing was stored.")
    files = imaging.expand([Path(os.path.abspath(f)) for f in files])
    box = inbox_dir(cfg)
    mine = [f for f in files if _in_folder(f, box)]
    _refuse_archive_inputs(cfg, [f for f in files if f not in mine])  # inbox entries: links refused at the claim
    if not mine:
        return dict(_store(db, cfg, d, comp, files, before, yes=yes, allow_low_dpi=allow_low_dpi,
                           force_ocr=force_ocr, replace=replace, add=add, confirm=confirm, progress=progress),
                    moved=[])
    with _run_folder(box / CLAIMS, "run-", remove_contents=False) as folder:
        claim = _Claim(box, folder)
        try:
            claim.take(mine, code)
            res = _store(db, cfg, d, comp, [claim.files.get(f, f) for f in files], before, yes=yes,
                         allow_low_dpi=allow_low_dpi, force_ocr=force_ocr, replace=replace, add=add,
                         confirm=confirm, progress=progress)
        except BaseException:
            claim.release()  # a failed or interrupted scan gives its inbox files back
            raise
        res["moved"] = claim.done()
    return res


def _current(db: Database, dossier_id: int, n: int) -> list[dict]:
    return store.current_files(db, dossier_id, n)


def _intact(row: dict) -> bool:
    p = Path(row["path"])
    try:
        return p.is_file() and p.stat().st_size == row["size"] and _sha256(p) == row["sha256"]
    except OSError:
        return False


def _store(db: Database, cfg: Config, d: dict, comp: dict, files: list[Path], before: list[dict], *, yes: bool,
           allow_low_dpi: bool, force_ocr: bool, replace: bool, add: bool, confirm, progress) -> dict:
    """Check, OCR, write the PDF under a new name and commit; the body of ``scan``."""
    from onestop.archive import digitization, search
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
    copy = copy_path = None
    if signed:  # the signed file is the archive file, unchanged; the PDF/A with its text layer goes beside it
        copy, pdf = pdf, original
    sha = hashlib.sha256(pdf).hexdigest()
    folder = shared_root(cfg) / _safe(code)
    path, created = _place(db, folder / f"{_safe(code)}_{component_code(comp)}_{stamp:%Y%m%d}.pdf", pdf, sha)
    if copy is not None:
        try:
            copy_path, copy_created = _place(db, path.with_name(f"{path.stem}.ocr.pdf"), copy,
                                             hashlib.sha256(copy).hexdigest())
        except BaseException:
            if created:
                _discard(db, path)
            raise
    if os.environ.get(FAULT_ENV) == "scan-after-rename":
        os._exit(70)
    # A replaced file that is already missing or damaged is marked 'lost', so that `check` (which
    # advised this rescan) stops reporting it; an intact one stays checked as 'replaced'.
    old_state = {r["id"]: ("replaced" if _intact(r) else "lost") for r in before} if replace else {}
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
    what = f"kết quả {comp['result']}" if comp.get("result") else f"thành phần {comp['n']}"
    try:
        with transaction(db):
            # No other scan commits or discards these files until this transaction ends (SQLite: the
            # write lock; PostgreSQL: a lock per path). One that discarded a file taken over here
            # before that leaves nothing to point to: then this scan stores nothing.
            for p in (path, copy_path):
                if p is not None:
                    store.lock_path(db, str(p))
                    if not p.is_file():
                        raise ScanConflict(
                            f"Tệp lưu trữ {p} vừa bị một lần quét khác chạy cùng lúc gỡ bỏ. Lần quét này không lưu "
                            f"gì; tệp trong hộp thư quét (nếu có) đã được trả lại. Quét lại thành phần {comp['n']} "
                            f"của hồ sơ {code}.",
                            f"The archive file {p} was just removed by another scan running at the same time. This "
                            f"scan stored nothing; its inbox files (if any) were returned. Scan component "
                            f"{comp['n']} of dossier {code} again.")
            locked = dossiers.lock_for_change(db, d, ())  # two desks changing one dossier take turns
            if comp.get("result"):
                from onestop.archive import results as result_rules

                result_rules.part(db, cfg, locked, comp["result"])  # still a result status (exit 5 otherwise)
            # Checked again under the lock: another scan of this component may have committed
            # while this one was reading its pages. Then this one stores nothing.
            now = _current(db, d["id"], comp["n"])
            if [r["id"] for r in now] != [r["id"] for r in before]:
                won = ", ".join(r["path"] for r in now) or "?"
                raise ScanConflict(
                    f"Trong lúc quét, một lần quét khác đã lưu thành phần {comp['n']} của hồ sơ {code} ({won}). "
                    f"Lần quét này không lưu gì; tệp trong hộp thư quét (nếu có) đã được trả lại. Xem 'onestop show "
                    f"{code}'; nếu vẫn cần quét lại, dùng --replace.",
                    f"While this scan ran, another scan stored component {comp['n']} of dossier {code} ({won}). "
                    f"This scan stored nothing; its inbox files (if any) were returned. See 'onestop show {code}'; "
                    f"to rescan anyway, use --replace.")
            if replace and before:
                search.unindex_pages(db, store.page_ids_of_files(db, [r["id"] for r in before]))
                for fid_old, st in old_state.items():
                    store.set_file_state(db, fid_old, st)
            row["part"] = 1 + max((r["part"] for r in now), default=0) if add else 1
            fid = store.insert_file(db, row)
            for r in results:
                pid = store.insert_page(db, {
                    "file_id": fid, "n": r.n, "text": r.text, "confidence": r.confidence, "rotated": r.rotated,
                    "deskew": r.deskew, "dpi": r.dpi, "colour": int(r.colour), "width": r.width, "height": r.height,
                    "source": r.source})
                search.index_page(db, pid, d["id"], r.text)
            digitization.record(db, fid, d["id"], comp["n"], rv)
            store.mark_digitized(db, d["id"], comp["n"])
            dossiers._event(db, d["id"], dossiers.iso(stamp), officer, cfg.unit, "digitize",
                            f"Số hóa {what}: {len(results)} trang"
                            + (" (thêm tệp)" if add and before else ""),
                            None, None, {**({"result": comp["result"]} if comp.get("result") else
                                            {"component": comp["n"]}), "file_id": fid, "sha256": sha,
                                         **({"replaced": old_state} if old_state else {})})
            dossiers._outbox(db, d["id"], "file", fid, dossiers.iso(stamp))
    except BaseException as e:
        if created:
            _discard(db, path)
        if copy_path is not None and copy_created:
            _discard(db, copy_path, copy=True)
        if store.is_conflict(db, e):
            # The unique indexes (one current file per component part, one row per path) caught a
            # race the check above could not see.
            raise ScanConflict(
                f"Một lần quét khác vừa lưu thành phần {comp['n']} của hồ sơ {code}. Lần quét này không lưu gì. "
                f"Xem 'onestop show {code}'; nếu vẫn cần quét lại, dùng --replace.",
                f"Another scan just stored component {comp['n']} of dossier {code}. This scan stored nothing. "
                f"See 'onestop show {code}'; to rescan anyway, use --replace.") from e
        raise
    pages = [dict(r.public(), quality=rv.pages[r.n].public() if r.n in rv.pages else None) for r in results]
    out = {"code": code, "component": comp["n"], "pdf": str(path), "pages": pages,
           "sha256": sha, "size": len(pdf), "file_id": fid, "warnings": warnings, **digitization.public(rv)}
    if signed:
        out.update(signed=signed, ocr_copy=str(copy_path))
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


def _place(db: Database, path: Path, pdf: bytes, sha: str) -> tuple[Path, bool]:
    """Store ``pdf`` at ``path`` or the first free ``_2``, ``_3``… variant; returns (path, created).

    Archive files are write-once: a name a row uses, or that exists on disk, is never written
    again. The one exception is not a write: a file no row points to that holds exactly this PDF
    (a scan killed between writing and committing, run again) is taken over as it is."""
    i = 1
    while True:
        cand = path if i == 1 else path.with_name(f"{path.stem}_{i}{path.suffix}")
        i += 1
        if store.path_in_use(db, str(cand)):
            continue
        try:
            _write_new(cand, pdf)
            return cand, True
        except FileExistsError:
            if not cand.is_symlink() and cand.is_file() and cand.stat().st_size == len(pdf) and _sha256(cand) == sha:
                return cand, False


def _discard(db: Database, path: Path, *, copy: bool = False) -> None:
    """Remove a PDF this scan wrote and did not commit, unless a committed row points to it
    (checked under the lock of ``store.lock_path``, so no other scan can commit it meanwhile). When in doubt the
    file stays: `check` reports an orphan, which loses nothing. ``copy``: an OCR copy of a signed PDF."""
    from onestop.store import results as results_store

    try:
        with transaction(db):
            store.lock_path(db, str(path))
            if copy:
                if not results_store.ocr_copy_used(db, str(path)):
                    path.unlink(missing_ok=True)
            elif not store.path_in_use(db, str(path)):
                path.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - the scan's own error is the one to report
        pass


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
    shared_root(cfg)  # in an office: every file of every desk is checked against the shared folder
    rows = store.files_to_check(db)
    n = 0
    for r in rows:
        n += 1
        p = Path(r["path"])
        known.add(str(p.resolve()))
        if r["state"] == "lost":
            continue  # found missing or damaged when its component was rescanned (--replace): dealt with
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
    problems += _check_ocr_copies(db, known, verify=verify)
    root = cfg.archive_dir
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if not p.is_file():
                continue
            if p.name.endswith(".tmp"):
                problems.append({"kind": "temp", "path": str(p),
                                 "message": f"Tệp tạm {p} còn lại sau một lần quét bị ngắt. Có thể xóa; quét lại thành phần đó."})
            elif str(p.resolve()) not in known:
                problems.append(_orphan(db, cfg, p))
    for r in store.digitized_without_file(db):
        problems.append({"kind": "no_file", "code": r["code"], "component": r["n"],
                         "message": f"Thành phần {r['n']} của hồ sơ {r['code']} được đánh dấu đã số hóa nhưng không có tệp. "
                                    f"Quét lại: onestop scan {r['code']} --component {r['n']} …"})
    # Left by scans that were killed: page images and OCR text (personal data), inbox files in a claim.
    for d in _stale(work_root(cfg), "scan-", hold=False):
        problems.append({"kind": "stale_work", "path": str(d),
                         "message": f"Thư mục làm việc {d} còn lại sau một lần quét bị dừng đột ngột; nó chứa ảnh trang "
                                    f"và chữ nhận dạng (dữ liệu cá nhân). Lần quét tiếp theo sẽ xóa nó."})
    for d in _stale(inbox_dir(cfg) / CLAIMS, "run-", hold=False):
        names = [q.name for q in _claimed_entries(d)]
        if not names:
            continue
        problems.append({"kind": "stale_claim", "path": str(d), "files": names,
                         "message": f"{len(names)} tệp của hộp thư quét ({', '.join(names)}) còn nằm trong {d} sau một "
                                    f"lần quét bị dừng đột ngột. Lần quét tiếp theo sẽ trả chúng về hộp thư quét."})
    from onestop.archive import digitization

    # Not archive damage (the file is intact), so not a problem for the exit code: work to do
    # (pages to rescan, document numbers for the officer to correct or confirm).
    return {"ok": not problems, "files": n, "problems": problems, "rescan": digitization.rescan_list(db),
            "documents": digitization.document_check_list(db)}


def _orphan(db: Database, cfg: Config, p: Path) -> dict:
    """An archive file no row points to, with advice that fits whose it is (its name carries the dossier
    code and the day it was scanned): a scan cut short before its commit (run the same scan again: it
    takes the file over), or, after a restore, a dossier the database does not hold, or an earlier dossier
    whose code the database now gives another dossier. Never advise scanning a file into a dossier it
    cannot belong to."""
    from onestop.store import dossiers as dossier_store
    from onestop.store import home

    out = {"kind": "orphan", "path": str(p)}
    m = home._code_pattern(cfg.agency_code).search(p.name)
    day = re.search(r"_(\d{8})(?:_\d+)?\.pdf$", p.name)
    code = m.group(0) if m else None
    d = dossier_store.dossier_by_code(db, code) if code else None
    if code and d is None:
        out.update(code=code, dossier=None, message=(
            f"Tệp {p} là của hồ sơ {code}, hồ sơ này không có trong cơ sở dữ liệu (tiếp nhận sau bản sao lưu đã khôi "
            f"phục, hoặc cơ sở dữ liệu đã mất nó). Đừng xóa tệp và đừng quét nó vào hồ sơ khác. Nhập lại hồ sơ từ giấy "
            f"tiếp nhận của công dân ('onestop receive --at …': hồ sơ được mã mới), rồi quét lại giấy tờ vào mã mới; "
            f"giữ tệp này làm chứng cứ."))
    elif d is not None and day and day.group(1) < d["received_at"][:10].replace("-", ""):
        out.update(code=code, dossier=code, message=(
            f"Tệp {p} được quét ngày {day.group(1)}, trước khi hồ sơ {code} hiện có được tiếp nhận "
            f"({d['received_at'][:10]}): nó là của một hồ sơ trước đó mang cùng mã (cấp lại sau khi khôi phục cơ sở "
            f"dữ liệu). Đừng quét nó vào hồ sơ {code} và đừng xóa nó; đối chiếu với giấy tiếp nhận của công dân đó."))
    else:
        out.update(code=code, dossier=code if d is not None else None, message=(
            f"Tệp {p} không thuộc hồ sơ nào trong cơ sở dữ liệu (lần quét bị ngắt trước khi ghi nhận, hoặc cơ sở dữ "
            f"liệu đã mất dữ liệu). Đừng xóa nó. Chạy lại đúng lệnh 'onestop scan"
            + (f" {code}" if d is not None else "") + "' cho thành phần đó (tệp trùng nội dung sẽ được ghi nhận; tệp "
            "lưu trữ không bao giờ bị ghi đè), hoặc khôi phục cơ sở dữ liệu từ bản sao lưu."))
    return out


def _check_ocr_copies(db: Database, known: set, *, verify: bool) -> list[dict]:
    """The OCR copies beside signed PDFs: present and unchanged (their paths join ``known``)."""
    from onestop.store import results as results_store

    out = []
    for r in results_store.ocr_copies(db):
        p = Path(r["path"])
        known.add(str(p.resolve()))
        if r["state"] == "lost":
            continue
        base = {"code": r["code"], "component": r["component_n"], "path": r["path"], "file_id": r["id"]}
        if not p.is_file():
            out.append(dict(base, kind="missing",
                            message=f"Thiếu bản OCR {p} của PDF có chữ ký số (hồ sơ {r['code']}, thành phần "
                                    f"{r['component_n']}). Khôi phục từ bản sao lưu hoặc quét lại với --replace."))
        elif verify and _sha256(p) != r["sha256"]:
            out.append(dict(base, kind="checksum",
                            message=f"Bản OCR {p} đã bị thay đổi (SHA-256 không khớp). Khôi phục từ bản sao lưu "
                                    f"hoặc quét lại thành phần {r['component_n']} với --replace."))
    return out


# ---------------------------------------------------------------- demo

def demo_step(db: Database, cfg: Config, result: dict) -> None:
    """Demo: scan the sample pages of ``scans/`` into the first dossiers, then search them."""
    from onestop.samples.demo import _say
    from onestop.common.i18n import t
    from onestop.archive import search

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


def relocate(db, cfg: Config, new_root: Path, old_root: Path | None = None) -> dict:
    """The archive folder was moved (copied to the office's share, a new disk): point every archive row
    from ``old_root`` (default: the archive folder in use) to the same file under ``new_root``.

    Every file must already be at its new place with its size (nothing is copied or deleted here: the
    move is ``rsync``'s, the rows are onestop's); one missing file and nothing changes (exit 10,
    listed). In an office the shared ``archive.root`` setting changes with the rows, in the same
    transaction (owner or supervisor role); on one desk the config's ``[archive] root`` is the
    officer's to change, and the result says so. Returns old, new, files, setting."""
    from onestop.store import archive as store
    from onestop.store import transaction

    old = (old_root or cfg.archive_dir).expanduser().resolve()
    new = new_root.expanduser().resolve()
    if not new.is_dir():
        raise StorageError(f"Thư mục mới {new} không tồn tại (hoặc không phải thư mục): chép kho lưu trữ sang đó trước "
                           "(rsync -a CŨ/ MỚI/), rồi chạy lại.",
                           f"The new folder {new} does not exist (or is not a folder): copy the archive there first "
                           "(rsync -a OLD/ NEW/), then run again.")
    if new == old:
        raise InvalidInput(f"Kho lưu trữ đã ở {new}.", f"The archive is already at {new}.")
    prefix, target = str(old) + os.sep, str(new) + os.sep
    rows = store.files_under(db, prefix)
    missing = []
    for r in rows:
        for p in filter(None, (r["path"], r["ocr_copy"])):
            if not p.startswith(prefix):
                continue
            moved = Path(target + p[len(prefix):])
            if not moved.is_file() or (p == r["path"] and moved.stat().st_size != r["size"]):
                missing.append(str(moved))
    if missing:
        shown = ", ".join(missing[:5]) + (f" (+{len(missing) - 5})" if len(missing) > 5 else "")
        raise CheckFailed(
            f"{len(missing)} tệp chưa có (hoặc khác kích thước) ở thư mục mới: {shown}. Chép đủ (rsync -a {old}/ "
            f"{new}/) rồi chạy lại; chưa đổi gì.",
            f"{len(missing)} files are not (or not whole) in the new folder: {shown}. Copy them all (rsync -a "
            f"{old}/ {new}/) and run again; nothing was changed.")
    setting = None
    with transaction(db):
        n = store.relocate(db, prefix, target)
        if cfg.in_office:
            from onestop.intake import office

            setting = office.set_value(cfg, db, "archive.root", str(new))
    return {"old": str(old), "new": str(new), "files": n, "office_setting": setting,
            "config_to_change": None if cfg.in_office else "[archive] root"}

"""A scan's pages: each one decoded, turned upright, deskewed and OCRed (``process_pages``), then all
of them put in one PDF/A file (``build_pdf``, ``placement``).

Pages are processed in parallel: one single-threaded tesseract per core (ocr.py, ocr_worker.py), and
as many pages again prepared ahead. Each PDF page is the scanner's image (JPEG data kept as is;
rotation and deskew are applied by the placement matrix) under an invisible text layer built from
tesseract's TSV words in its glyph-less font, as tesseract's ``textonly_pdf`` renderer and OCRmyPDF
write it. The same pages give the same bytes (files.place relies on it after a crash).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from onestop.common import interrupt
from onestop.archive import imaging, ocr, pdfa, prepare

LOW_CONFIDENCE = 75.0   # below this mean word confidence, ask tesseract's OSD whether the page is turned


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
                interrupt.check()  # a Ctrl-C dropped inside that import (or anywhere) stops the scan here
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

"""The tesseract edge: orientation detection and OCR, one process per page.

Tesseract's own OpenMP threading is slower than one single-threaded process per core
(PERFORMANCE.md P2), so every call sets ``OMP_THREAD_LIMIT=1`` and callers run one page per
worker. Each call has a timeout; a page that takes longer fails the scan with a clear message.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from onestop.common import errors
from onestop.common.errors import ScanRejected
from onestop.common.text import nfc

OCR_FAILED = errors.OCR_FAILED  # tesseract missing, crashed or timed out (docs/exit-codes.md)

LANG = "vie"
DEFAULT_TIMEOUT = 120.0


def _env() -> dict:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def workers() -> int:
    """One worker per core (tesseract single-threaded in each)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def check_engine(lang: str = LANG) -> None:
    """Fail early, with the fix, when tesseract or its Vietnamese data is missing."""
    if not shutil.which("tesseract"):
        raise ScanRejected(
            "Không tìm thấy chương trình tesseract. Cài đặt: sudo apt-get install tesseract-ocr tesseract-ocr-vie (hoặc 'make install').",
            "tesseract is not installed. Install it: sudo apt-get install tesseract-ocr tesseract-ocr-vie (or 'make install').",
            exit_code=OCR_FAILED)
    langs = _languages()
    if lang not in langs:
        raise ScanRejected(
            f"Tesseract chưa có dữ liệu tiếng Việt ('{lang}'). Cài đặt: sudo apt-get install tesseract-ocr-{lang}.",
            f"Tesseract has no '{lang}' language data. Install it: sudo apt-get install tesseract-ocr-{lang}.",
            exit_code=OCR_FAILED)


_LANGS: set[str] | None = None


def _languages() -> set[str]:
    global _LANGS
    if _LANGS is None:
        r = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, env=_env())
        _LANGS = {l.strip() for l in (r.stdout + r.stderr).splitlines()[1:] if l.strip()}
    return _LANGS


def _timed_out(source: str, timeout: float) -> ScanRejected:
    return ScanRejected(
        f"Nhận dạng chữ trang {source} quá {timeout:.0f} giây nên đã dừng. Kiểm tra ảnh (quá lớn, quá nhiễu?) "
        f"hoặc tăng [scan] ocr_timeout trong cấu hình, rồi quét lại. Chưa có gì được lưu.",
        f"OCR of page {source} took longer than {timeout:.0f} s and was stopped. Check the image or raise "
        f"[scan] ocr_timeout, then scan again. Nothing was stored.", exit_code=OCR_FAILED)


def _failed(source: str, why: str) -> ScanRejected:
    return ScanRejected(
        f"Tesseract không đọc được trang {source}: {why}. Kiểm tra tệp ảnh rồi quét lại. Chưa có gì được lưu.",
        f"Tesseract failed on page {source}: {why}. Check the image and scan again. Nothing was stored.",
        exit_code=OCR_FAILED)


def _run(args: list[str], source: str, timeout: float) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(args, capture_output=True, env=_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise _timed_out(source, timeout) from None
    if r.returncode != 0:
        err = r.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise _failed(source, err[0])
    return r


class EnginePool:
    """A scan's tesseract engines, loaded once (ocr_worker.py) instead of once per page.

    ``jobs`` worker processes start at once, in parallel with the first pages' preparation; the
    caller runs at most ``jobs`` pages at a time (archive._EngineSlots), so a page always finds an
    idle engine. When the library cannot be loaded (another tesseract version, no libtesseract),
    ``tsv`` returns None and the page goes to the `tesseract` command, as before."""

    def __init__(self, jobs: int, lang: str = LANG):
        import queue
        import sys

        self._idle: "queue.SimpleQueue[_Worker]" = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self.fallback = ""  # why the command is used instead (shown by --debug)
        script = Path(__file__).with_name("ocr_worker.py")
        for _ in range(jobs):
            try:
                w = _Worker(subprocess.Popen([sys.executable, "-I", "-S", str(script), lang], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env()))
            except OSError as e:
                self.fallback = str(e)
                break
            self._all.append(w)
            self._idle.put(w)

    def tsv(self, image: Path, dpi: int, *, source: str, timeout: float) -> bytes | None:
        if self.fallback or not self._all:
            return None
        w = self._idle.get()
        try:
            if not w.ready(timeout):
                self.fallback = w.error or "the engine did not start"
                return None
            return w.ask(image, dpi, source=source, timeout=timeout)
        finally:
            self._idle.put(w)

    def close(self) -> None:
        for w in self._all:
            w.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


_early: EnginePool | None = None


def start_early() -> None:
    """Start the scan's engines now, while the command's own modules load (onestop/entry.py):
    loading the model takes as long as the CLI's start-up. ``take_early`` hands them to the scan."""
    global _early
    import atexit

    _early = EnginePool(workers())
    atexit.register(_early.close)  # a scan that ends before its OCR (bad input) leaves no engine


def take_early(jobs: int) -> EnginePool | None:
    global _early
    pool, _early = _early, None
    if pool is not None and (len(pool._all) < jobs or pool.fallback):
        pool.close()
        return None
    return pool


class _Worker:
    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self._buf = b""
        self._ready: bool | None = None
        self.error = ""

    def _read(self, n: int | None, deadline: float) -> bytes | None:
        """``n`` bytes, or a line when ``n`` is None; None at EOF or past the deadline."""
        import select
        import time

        fd = self.proc.stdout.fileno()
        while (len(self._buf) < n) if n is not None else (b"\n" not in self._buf):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return None
            self._buf += chunk
        if n is None:
            n = self._buf.index(b"\n") + 1
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _answer(self, deadline: float) -> tuple[bytes, bytes] | None:
        head = self._read(None, deadline)
        if head is None:
            return None
        kind, _, n = head.strip().partition(b" ")
        if kind == b"READY":
            return kind, b""
        data = self._read(int(n or 0), deadline)
        return None if data is None else (kind, data)

    def ready(self, timeout: float) -> bool:
        import time

        if self._ready is None:
            a = self._answer(time.monotonic() + max(timeout, 30.0))
            self._ready = a is not None and a[0] == b"READY"
            if not self._ready:
                self.error = a[1].decode("utf-8", "replace") if a else "the engine stopped while loading"
                self.stop()
        return self._ready

    def ask(self, image: Path, dpi: int, *, source: str, timeout: float) -> bytes:
        import time

        try:
            self.proc.stdin.write(b"%d %s\n" % (dpi, os.fsencode(image).hex().encode("ascii")))
            self.proc.stdin.flush()
        except (OSError, ValueError):  # ValueError: stopped already (another page timed out on it)
            raise _failed(source, "the engine stopped") from None
        a = self._answer(time.monotonic() + timeout)
        if a is None:
            alive = self.proc.poll() is None
            self.stop()
            if alive:
                raise _timed_out(source, timeout)
            raise _failed(source, f"the engine stopped ({self.proc.returncode})")
        if a[0] != b"OK":
            raise _failed(source, a[1].decode("utf-8", "replace"))
        return a[1]

    def stop(self) -> None:
        # Killed, not asked to end: it holds nothing to save, and freeing the engine politely
        # (TessBaseAPIEnd, interpreter exit) would add ~0.1 s to the end of every scan.
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


_ROT = re.compile(rb"Rotate:\s*(\d+)")
_CONF = re.compile(rb"Orientation confidence:\s*([\d.]+)")


def detect_orientation(image: Path, dpi: int, *, source: str = "", timeout: float = DEFAULT_TIMEOUT) -> tuple[int, float]:
    """Tesseract OSD: (degrees to turn clockwise to make the page upright, confidence).

    A page with too little text gives (0, 0.0) rather than an error."""
    try:
        r = subprocess.run(["tesseract", str(image), "-", "--psm", "0", "--dpi", str(dpi)],
                           capture_output=True, env=_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        return 0, 0.0
    m, c = _ROT.search(r.stdout), _CONF.search(r.stdout)
    if r.returncode != 0 or not m:
        return 0, 0.0
    return int(m.group(1)) % 360, float(c.group(1)) if c else 0.0


@dataclass
class OcrResult:
    text: str
    confidence: float | None  # mean word confidence, 0-100
    words: int
    vertical: float          # share of text lines taller than wide: the page is probably sideways
    layer: bytes = b""       # PDF content stream: the invisible text layer (font resource /f-0-0, see text_font)
    page_size: tuple[float, float] = (0.0, 0.0)  # the OCRed image in points (the text layer's page)


def recognise(image: Path, dpi: int, *, lang: str = LANG, source: str = "", timeout: float = DEFAULT_TIMEOUT,
              workdir: Path | None = None, name: str | None = None, engines: "EnginePool | None" = None) -> OcrResult:
    """OCR one page image: plain text, mean confidence and the invisible text layer in one tesseract run.

    Only the TSV renderer runs (tesseract's own ``pdf`` renderer costs ~4% more engine time per page):
    the words, their boxes and confidences give the text, the line shapes and the PDF text layer.
    With ``engines`` (a scan's loaded engines) the page goes to one of them; else to the command."""
    tsv = engines.tsv(image, dpi, source=source or image.name, timeout=timeout) if engines is not None else None
    if tsv is not None:
        rows = tsv.decode("utf-8", "replace").splitlines()
    else:
        out = (workdir or image.parent) / ((name or image.stem) + "_ocr")
        _run(["tesseract", str(image), str(out), "-l", lang, "--dpi", str(dpi), "tsv"], source or image.name, timeout)
        tsv_file = out.with_suffix(".tsv")
        try:
            rows = tsv_file.read_text("utf-8", "replace").splitlines()[1:]  # the file has a header line
        finally:
            tsv_file.unlink(missing_ok=True)
    return parse_tsv(rows, image, dpi)


def parse_tsv(rows: list[str], image: Path, dpi: int) -> OcrResult:
    """The OcrResult of tesseract's TSV rows (without the header line)."""
    confs = []
    lines = vertical = 0
    text_lines: list[list[str]] = []
    boxes: list[list[tuple[int, int, int, int, str]]] = []  # per line: (left, top, width, height, word)
    size = (0, 0)
    key = None
    for line in rows:
        f = line.split("\t")
        if len(f) < 12:
            continue
        if f[0] == "1":
            try:
                size = (int(f[8]), int(f[9]))
            except ValueError:
                pass
        elif f[0] == "4":
            lines += 1
            try:
                vertical += int(f[9]) > 1.5 * int(f[8])
            except ValueError:
                pass
        elif f[0] == "5" and f[11].strip():
            if (f[2], f[3], f[4]) != key:
                key = (f[2], f[3], f[4])
                text_lines.append([])
                boxes.append([])
            text_lines[-1].append(f[11])
            try:
                boxes[-1].append((int(f[6]), int(f[7]), int(f[8]), int(f[9]), f[11].strip()))
            except ValueError:
                pass
            try:
                c = float(f[10])
            except ValueError:
                continue
            if c >= 0:
                confs.append(c)
    text = nfc_lines("\n".join(" ".join(w) for w in text_lines))
    if not size[0] or not size[1]:
        from PIL import Image

        with Image.open(image) as im:
            size = im.size
    conf = round(sum(confs) / len(confs), 1) if confs else None
    pt = 72.0 / (dpi or 300)
    return OcrResult(text=text, confidence=conf, words=len(confs), vertical=vertical / lines if lines else 0.0,
                     layer=text_layer(boxes, size[1], dpi), page_size=(round(size[0] * pt, 3), round(size[1] * pt, 3)))


def text_layer(lines: list[list[tuple[int, int, int, int, str]]], height: int, dpi: int) -> bytes:
    """The invisible text (render mode 3) of a page, as tesseract's ``textonly_pdf`` writes it: each word
    at its box, in the glyph-less font ``/f-0-0`` (2-byte codes = UTF-16, each glyph half an em wide),
    stretched to the word's width, followed by a space so that extracted text keeps its word breaks."""
    pt = 72.0 / (dpi or 300)
    out = ["BT 3 Tr"]
    for words in lines:
        if not words:
            continue
        top = min(w[1] for w in words)
        bottom = max(w[1] + w[3] for w in words)
        fs = max(1.0, round((bottom - top) * pt, 1))
        base = (height - bottom) * pt + 0.2 * fs  # the baseline, above the descenders
        out.append(f"/f-0-0 {fs:g} Tf")
        for left, _top, width, _h, word in words:
            word = nfc(word)
            n = len(word.encode("utf-16-be")) // 2
            if not n:
                continue
            tz = max(1.0, 200.0 * width * pt / (fs * n))
            code = (word + " ").encode("utf-16-be").hex().upper()
            out.append(f"1 0 0 1 {left * pt:.2f} {base:.2f} Tm {tz:.1f} Tz <{code}> Tj")
    out.append("ET")
    return "\n".join(out).encode("ascii") + b"\n" if len(out) > 2 else b""


# Tesseract's GlyphLessFont (tessdata/pdf.ttf, Apache-2.0): one invisible glyph, 500 units wide.
GLYPHLESS_TTF = base64.b64decode(
    "AAEAAAAKAIAAAwAgT1MvMlbeyJQAAAEoAAAAYGNtYXAACgA0AAABkAAAAB5nbHlmFSJBJAAAAbgAAAAYaGVhZAt48WUAAACsAAAANmhoZWEMAgQCAAAA5AAAACRobXR4BAAAAAAAAYgAAAAIbG9jYQAMAAAAAAGwAAAABm1heHAABAAFAAABCAAAACBuYW1l8usW2gAAAdAAAABLcG9zdAABAAEAAAIcAAAAIAABAAAAAQAAsJRxEF8PPPUEBwgAAAAAAM+a/G4AAAAA1MOn8gAAAAAEAAgAAAAAEAACAAAAAAAAAAEAAAgA//8AAAQAAAAAAAQAAAEAAAAAAAAAAAAAAAAAAAACAAEAAAACAAQAAQAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAwAAAZAABQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAUAAQABAAAAAAAAAAAAAAAAAAAAAAAAAAAAR09PRwBAAAAAAAAB//8AAAABAAGAAAAAAAAAAAAAAAAAAAABAAAAAAAABAAAAAAAAAIAAQAAAAAAFAADAAAAAAAUAAYACgAAAAAAAAAAAAAAAAAMAAAAAQAAAAAEAAgAAAMAADEhESEEAPwACAAAAAADACoAAAADAAAABQAWAAAAAQAAAAAABQALABYAAwABBAkABQAWAAAAVgBlAHIAcwBpAG8AbgAgADEALgAwVmVyc2lvbiAxLjAAAAEAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAA=")

TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo
<<
  /Registry (Adobe)
  /Ordering (UCS)
  /Supplement 0
>> def
/CMapName /Adobe-Identify-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def nfc_lines(text: str) -> str:
    """NFC each line, drop empty lines and form feeds, keep the line breaks."""
    lines = (nfc(l) for l in text.replace("\f", "\n").splitlines())
    return "\n".join(l for l in lines if l)

"""The tesseract edge: orientation detection and OCR, one process per page.

Tesseract's own OpenMP threading is slower than one single-threaded process per core
(PERFORMANCE.md P2), so every call sets ``OMP_THREAD_LIMIT=1`` and callers run one page per
worker. Each call has a timeout; a page that takes longer fails the scan with a clear message.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from onestop import errors
from onestop.errors import ScanRejected
from onestop.text import nfc

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


def _run(args: list[str], source: str, timeout: float) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(args, capture_output=True, env=_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ScanRejected(
            f"Nhận dạng chữ trang {source} quá {timeout:.0f} giây nên đã dừng. Kiểm tra ảnh (quá lớn, quá nhiễu?) "
            f"hoặc tăng [scan] ocr_timeout trong cấu hình, rồi quét lại. Chưa có gì được lưu.",
            f"OCR of page {source} took longer than {timeout:.0f} s and was stopped. Check the image or raise "
            f"[scan] ocr_timeout, then scan again. Nothing was stored.", exit_code=OCR_FAILED) from None
    if r.returncode != 0:
        err = r.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise ScanRejected(
            f"Tesseract không đọc được trang {source}: {err[0]}. Kiểm tra tệp ảnh rồi quét lại. Chưa có gì được lưu.",
            f"Tesseract failed on page {source}: {err[0]}. Check the image and scan again. Nothing was stored.",
            exit_code=OCR_FAILED)
    return r


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
    pdf: bytes               # a one-page PDF with only the invisible text layer


def recognise(image: Path, dpi: int, *, lang: str = LANG, source: str = "", timeout: float = DEFAULT_TIMEOUT,
              workdir: Path | None = None, name: str | None = None) -> OcrResult:
    """OCR one page image: plain text, mean confidence and a text-only PDF page in one tesseract run."""
    out = (workdir or image.parent) / ((name or image.stem) + "_ocr")
    # Two renderers: the text layer, and TSV for the words, their confidences and line shapes
    # (the plain text is rebuilt from it: a third renderer would cost another ~2%).
    _run(["tesseract", str(image), str(out), "-l", lang, "--dpi", str(dpi), "-c", "textonly_pdf=1",
          "pdf", "tsv"], source or image.name, timeout)
    pdf = out.with_suffix(".pdf").read_bytes()
    confs = []
    lines = vertical = 0
    text_lines: list[list[str]] = []
    key = None
    for line in out.with_suffix(".tsv").read_text("utf-8", "replace").splitlines()[1:]:
        f = line.split("\t")
        if len(f) < 12:
            continue
        if f[0] == "4":
            lines += 1
            try:
                vertical += int(f[9]) > 1.5 * int(f[8])
            except ValueError:
                pass
        elif f[0] == "5" and f[11].strip():
            if (f[2], f[3], f[4]) != key:
                key = (f[2], f[3], f[4])
                text_lines.append([])
            text_lines[-1].append(f[11])
            try:
                c = float(f[10])
            except ValueError:
                continue
            if c >= 0:
                confs.append(c)
    text = nfc_lines("\n".join(" ".join(w) for w in text_lines))
    for suffix in (".pdf", ".tsv"):
        out.with_suffix(suffix).unlink(missing_ok=True)
    conf = round(sum(confs) / len(confs), 1) if confs else None
    return OcrResult(text=text, confidence=conf, words=len(confs), vertical=vertical / lines if lines else 0.0, pdf=pdf)


def nfc_lines(text: str) -> str:
    """NFC each line, drop empty lines and form feeds, keep the line breaks."""
    lines = (nfc(l) for l in text.replace("\f", "\n").splitlines())
    return "\n".join(l for l in lines if l)

"""P2-P5 of PERFORMANCE.md: OCR throughput, quality, memory and archive size, against baselines
measured in the same run (ocrmypdf, raw tesseract). Prints ``RESULT|...`` lines (see run.py).

P2  a 10-page A4 300-dpi grayscale scan (one PDF of JPEG pages, as scanners write it), and the same
    as 10 JPEG files: `onestop scan` pages/min vs `ocrmypdf -l vie --jobs 2 --output-type pdf
    --optimize 0` (target ≥ 3×) and vs raw `tesseract IMG - -l vie` two at a time with
    OMP_THREAD_LIMIT=1 (target ≥ 0.9×).
P3  generated A4 pages (clean, skewed 1-3°, rotated 90°, noisy, JPEG q60): CER vs raw tesseract; and the
    degraded copies of tests/degraded.py (photocopy, carbon, red stamp, 200-dpi office JPEG): CER vs raw
    tesseract (≤ 1% each), the share of OCR time spent preparing pages (≤ 10%, CPU time, so that other
    work on the machine does not skew it), and (P12) the document numbers read exactly (≥ 95%: number,
    date and issuer all equal to the ground truth) and the readable pages wrongly flagged for a rescan.
P4  one 600-dpi A4 colour page: peak RSS of the scanning process and of its largest tesseract.
P5  the P2 scan: archive PDF bytes vs ocrmypdf --optimize 1 output of the same input (≤ 1.0×).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from pages import LINES, SAMPLES, cer, jpeg_bytes, noisy, render, rotate  # noqa: E402
import degraded  # noqa: E402

VOCAB = LINES + [l for ls in SAMPLES.values() for l in ls]
ENV1 = dict(os.environ, OMP_THREAD_LIMIT="1")


def result(pid, what, value, baseline, ratio, target, ok):
    print(f"RESULT|{pid}|{what}|{value}|{baseline}|{ratio}|{target}|{'PASS' if ok else 'FAIL'}", flush=True)


def a4_page(seed: int, dpi: int = 300, colour: bool = False):
    rnd = random.Random(seed)
    lines = [rnd.choice(VOCAB) for _ in range(34)]
    im = render(lines, dpi=dpi, size_mm=(210, 297), pt=11, margin_mm=18, colour_stamp=colour)
    return im, "\n".join(lines)


def scanner_look(im):
    """A little paper texture, as a real scanner gives (keeps JPEG sizes realistic)."""
    from PIL import Image

    g = im.convert("L")
    out = Image.blend(g, Image.effect_noise(g.size, 30), 0.06)
    out.info["dpi"] = im.info.get("dpi")
    return out


def onestop(home: Path, *args, timeout=1800):
    env = dict(os.environ, ONESTOP_HOME=str(home), ONESTOP_OFFICER="bench")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "onestop", *map(str, args)], env=env, capture_output=True, text=True,
                       timeout=timeout)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"onestop {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.stdout, wall, cpu


def new_home(root: Path, name: str) -> tuple[Path, str]:
    home = root / name
    home.mkdir()
    os.environ["ONESTOP_HOME"] = str(home)
    from onestop.intake import catalog, dossiers
    from onestop.common import config
    from onestop.store.sqlite import connect

    cfg = config.load(officer="bench")
    db = connect(cfg.db_path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    req = dossiers.ReceiveRequest(procedure_code="1.003604", applicant=dossiers.Applicant(
        name="Nguyễn Văn An", id_number="001085012345"), components=None)
    return home, dossiers.receive(db, cfg, req, render=False)["code"]


def jpeg_pdf(jpgs: list[Path], out: Path, dpi: int) -> None:
    """The scanner's PDF: the same JPEGs, one per page, not re-encoded (as img2pdf does)."""
    from PIL import Image
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject, StreamObject

    w = PdfWriter()
    for j in jpgs:
        with Image.open(j) as im:
            width, height, mode = im.width, im.height, im.mode
        page = w.add_blank_page(width * 72 / dpi, height * 72 / dpi)
        img = StreamObject()
        img._data = j.read_bytes()
        img.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                    NameObject("/Width"): NumberObject(width), NameObject("/Height"): NumberObject(height),
                    NameObject("/ColorSpace"): NameObject("/DeviceGray" if mode == "L" else "/DeviceRGB"),
                    NameObject("/BitsPerComponent"): NumberObject(8), NameObject("/Filter"): NameObject("/DCTDecode")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(
            {NameObject("/Im0"): w._add_object(img)})})
        c = DecodedStreamObject()
        c.set_data(f"q {width * 72 / dpi:.4f} 0 0 {height * 72 / dpi:.4f} 0 0 cm /Im0 Do Q".encode())
        page[NameObject("/Contents")] = w._add_object(c)
    with open(out, "wb") as f:
        w.write(f)


def p2_p5(root: Path):
    from PIL import Image

    pages = [scanner_look(a4_page(i)[0]) for i in range(10)]
    jpgs = []
    for i, im in enumerate(pages):
        p = root / f"page-{i + 1:02d}.jpg"
        im.save(p, "JPEG", quality=80, dpi=(300, 300))
        jpgs.append(p)
    scan_pdf = root / "scan.pdf"
    jpeg_pdf(jpgs, scan_pdf, 300)
    n = len(pages)
    have_ocrmypdf = shutil.which("ocrmypdf") is not None

    # Other work on the machine skews single runs: alternate ours and the raw baseline, keep the best of 3.
    def raw_run():
        t = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda p: subprocess.run(["tesseract", str(p), "-", "-l", "vie"], capture_output=True,
                                                   env=ENV1), jpgs))
        return time.perf_counter() - t

    raw_t, wall_pdf, wall_jpg, cpu_jpg = [], [], [], []
    for rep in range(3):
        raw_t.append(raw_run())
        home, code = new_home(root, f"home-p2-{rep}")
        out, w, _ = onestop(home, "scan", code, "--component", 1, scan_pdf, "--yes", "--json")
        ours_pdf = Path(json.loads(out)["pdf"])
        wall_pdf.append(w)
        out, w, c = onestop(home, "scan", code, "--component", 2, *jpgs, "--yes", "--json")
        wall_jpg.append(w)
        cpu_jpg.append(c)
    raw_ppm = n / min(raw_t) * 60
    ppm_pdf = n / min(wall_pdf) * 60
    ppm_jpg = n / min(wall_jpg) * 60
    i = wall_jpg.index(min(wall_jpg))
    wall_jpg, cpu_jpg = wall_jpg[i], cpu_jpg[i]
    ncpu = len(os.sched_getaffinity(0))
    if have_ocrmypdf:
        t = time.perf_counter()
        subprocess.run(["ocrmypdf", "-q", "-l", "vie", "--jobs", "2", "--output-type", "pdf", "--optimize", "0",
                        str(scan_pdf), str(root / "ocrmypdf-O0.pdf")], check=True, capture_output=True)
        ocrmypdf_ppm = n / (time.perf_counter() - t) * 60
        r = ppm_pdf / ocrmypdf_ppm
        result("P2", "scan 10-page A4 PDF, pages/min", f"{ppm_pdf:.1f}", f"{ocrmypdf_ppm:.1f} (ocrmypdf --jobs 2)",
               f"{r:.2f}", "≥ 3.0", r >= 3.0)
    else:
        print("P2: ocrmypdf not installed (apt-get install ocrmypdf); PDF baseline skipped", file=sys.stderr)
    r = ppm_jpg / raw_ppm
    result("P2", "scan 10 JPEG files, pages/min", f"{ppm_jpg:.1f}", f"{raw_ppm:.1f} (raw tesseract ×2)", f"{r:.2f}",
           "≥ 0.9", r >= 0.9)
    util = cpu_jpg / wall_jpg / ncpu
    result("P2", f"CPU busy during the JPEG scan ({ncpu} cores)", f"{util:.0%}", "—", "—", "info", True)

    if have_ocrmypdf:
        o1 = root / "ocrmypdf-O1.pdf"
        subprocess.run(["ocrmypdf", "-q", "-l", "vie", "--jobs", "2", "--output-type", "pdf", "--optimize", "1",
                        str(scan_pdf), str(o1)], check=True, capture_output=True)
        a, b = ours_pdf.stat().st_size, o1.stat().st_size
        result("P5", "archive PDF bytes, P2 scan", a, f"{b} (ocrmypdf -O1)", f"{a / b:.3f}", "≤ 1.0", a <= b)


def p3(root: Path):
    from onestop.archive import pages as archive, imaging

    variants = {
        "clean": lambda im: im,
        "skewed 1-3°": None,
        "rotated 90°": lambda im: rotate(im, 90),
        "noisy": lambda im: noisy(im, sigma=40),
        "JPEG q60": "jpeg",
    }
    sums = {}
    for v, make in variants.items():
        ours_c, raw_c = [], []
        for i in range(3):
            im, text = a4_page(100 + i, dpi=300)
            p = root / f"p3-{len(sums)}-{i}.png"
            if make == "jpeg":
                p = p.with_suffix(".jpg")
                p.write_bytes(jpeg_bytes(im, 60))
            else:
                img = rotate(im, (1, -2, 3)[i]) if make is None else make(im)
                img.info["dpi"] = (300, 300)
                img.save(p, dpi=(300, 300))
            raw = subprocess.run(["tesseract", str(p), "-", "-l", "vie"], capture_output=True, text=True, env=ENV1).stdout
            [res] = archive.process_pages(imaging.probe([p]), timeout=120, rotate_threshold=2.0)
            ours_c.append(cer(text, res.text))
            raw_c.append(cer(text, raw))
        sums[v] = (sum(ours_c) / 3, sum(raw_c) / 3)
    for v, (o, r) in sums.items():
        if v in ("skewed 1-3°", "rotated 90°"):
            ok, target = (o < r or o == r == 0) and o <= 0.02, "< raw, ≤ 2%"
        else:
            ok, target = o <= r + 0.002 and o <= 0.02, "≤ raw + 0.2 pt, ≤ 2%"
        result("P3", f"CER {v}", f"{o:.2%}", f"{r:.2%} (raw tesseract)", f"{o - r:+.2%}", target, ok)
    p3_degraded(root)


def p3_degraded(root: Path, per_variant: int = 4):
    """The degraded copies: per-variant CER against raw tesseract on the same files, the preparation's
    share of OCR time (CPU seconds of prepare.measure/prepare vs the raw tesseract runs' CPU seconds)."""
    from PIL import Image

    import tomllib

    from onestop.archive import pages as archive, docnumbers, imaging, prepare, quality

    agencies, extra = docnumbers.agencies_from(tomllib.loads((HERE.parent.parent / "config" / "agencies.toml")
                                                             .read_text("utf-8")))
    numbers_ok = numbers_all = flagged = 0
    misread = []
    prep_cpu = ocr_cpu = 0.0
    for v in degraded.VARIANTS:
        ours_c, raw_c = [], []
        for i in range(per_variant):
            d = degraded.page(v, 1000 + i)
            p = degraded.save(d, root / f"p3d-{v}-{i}")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            raw = subprocess.run(["tesseract", str(p), "-", "-l", "vie"], capture_output=True, text=True,
                                 env=ENV1).stdout
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            ocr_cpu += after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            with Image.open(p) as im:
                im.load()
                t = time.process_time()
                prepare.prepare(im, int(im.info["dpi"][0]))
                prep_cpu += time.process_time() - t
            [res] = archive.process_pages(imaging.probe([p]), timeout=120, rotate_threshold=2.0)
            ours_c.append(cer(d.text, res.text))
            raw_c.append(cer(d.text, raw))
            # P12: the số ký hiệu, date and issuer read exactly; readable pages not flagged for a rescan
            doc = docnumbers.read(res.text, agencies, extra_types=extra)
            numbers_all += 1
            if (doc.number, doc.date, doc.issuer) == (d.number, d.date, d.issuer):
                numbers_ok += 1
            else:
                misread.append(f"{d.number} {d.date} {d.issuer} → {doc.number} {doc.date} {doc.issuer} ({doc.raw!r})")
            flagged += quality.assess(res.text, res.confidence).needs_rescan
        o, r = sum(ours_c) / len(ours_c), sum(raw_c) / len(raw_c)
        result("P3", f"CER {v} ({per_variant} pages)", f"{o:.2%}", f"{r:.2%} (raw tesseract)", f"{o - r:+.2%}",
               "≤ 1%", o <= 0.01)
    rate = numbers_ok / numbers_all
    result("P12", f"document numbers read exactly (number, date, issuer; {numbers_all} degraded pages)", f"{rate:.1%}",
           "—", "—", "≥ 95%", rate >= 0.95)
    for m in misread:
        print(f"P12 misread: {m}", file=sys.stderr)
    result("P12", "readable degraded pages flagged for a rescan", f"{flagged}/{numbers_all}", "—", "—", "0", flagged == 0)
    share = prep_cpu / ocr_cpu
    result("P3", "page preparation, share of OCR time (CPU)", f"{share:.1%}", f"{ocr_cpu:.1f} s tesseract CPU",
           "—", "≤ 10%", share <= 0.10)


def p4(root: Path):
    im, _ = a4_page(7, dpi=600, colour=True)
    p = root / "a4-600dpi-colour.jpg"
    im.convert("RGB").save(p, "JPEG", quality=85, dpi=(600, 600))
    home, code = new_home(root, "home-p4")
    code_py = (
        "import resource, sys, json, os\n"
        "from pathlib import Path\n"
        "from onestop.archive import scan as archive; from onestop.common import config\n"
        "from onestop.store.sqlite import connect\n"
        "cfg = config.load(); db = connect(cfg.db_path)\n"
        f"r = archive.scan(db, cfg, {code!r}, [Path({str(p)!r})], component=1, yes=True)\n"
        "print(json.dumps({'self': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " 'child': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 'pages': len(r['pages'])}))\n")
    out = subprocess.run([sys.executable, "-c", code_py], capture_output=True, text=True,
                         env=dict(os.environ, ONESTOP_HOME=str(home)), timeout=600)
    if out.returncode != 0:
        result("P4", "600-dpi A4 colour page", "crash", "—", "—", "≤ 600 MB", False)
        print(out.stderr, file=sys.stderr)
        return
    m = json.loads(out.stdout.strip().splitlines()[-1])
    mb = max(m["self"], m["child"]) / 1024
    result("P4", "peak RSS per worker, 600-dpi A4 colour", f"{mb:.0f} MB (python {m['self'] / 1024:.0f}, "
           f"tesseract {m['child'] / 1024:.0f})", "—", "—", "≤ 600 MB", mb <= 600)


def main(argv: list[str]):
    parts = {"p2": p2_p5, "p3": p3, "p4": p4}
    root = Path(tempfile.mkdtemp(prefix="onestop-bench-ocr-"))
    try:
        for name, fn in parts.items():
            if not argv or name in argv:
                fn(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])  # e.g. `bench_ocr.py p2` runs P2 and P5 only

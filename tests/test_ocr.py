"""The real tesseract on generated Vietnamese pages: clean, turned, skewed, noisy, JPEG q60.

Bound: character error rate ≤ 2% on every variant (PERFORMANCE.md P3), pages come out upright.
Pages are A6 at 200 dpi with ten lines, so the whole file runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from PIL import Image

from pages import LINES, cer, jpeg_bytes, noisy, render, rotate, save

from onestop.archive import pages as archive, imaging, ocr

EXPECTED = "\n".join(LINES)
CER_BOUND = 0.02

VARIANTS = {
    # name: (make image, expected clockwise turn, expected deskew sign)
    "clean": (lambda im: im, 0, 0),
    "sideways_90": (lambda im: rotate(im, 90), 90, 0),
    "sideways_270": (lambda im: rotate(im, -90), 270, 0),
    "upside_down": (lambda im: rotate(im, 180), 180, 0),
    "skew_1.5": (lambda im: rotate(im, 1.5), 0, -1),
    "skew_-3": (lambda im: rotate(im, -3), 0, 1),
    "noisy": (lambda im: noisy(im), 0, 0),
}


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    d = tmp_path_factory.mktemp("ocr")
    base = render(dpi=200)
    paths = [save(make(base), d / f"{name}.png") for name, (make, _, _) in VARIANTS.items()]
    jp = d / "jpeg_q60_skew2.jpg"
    jp.write_bytes(jpeg_bytes(rotate(base, 2), 60))
    paths.append(jp)
    sources = imaging.probe(paths)
    results = archive.process_pages(sources, timeout=60, rotate_threshold=2.0)
    return dict(zip([p.stem for p in paths], results)), paths


@pytest.mark.parametrize("name", list(VARIANTS) + ["jpeg_q60_skew2"])
def test_variant_is_read_upright(processed, name):
    results, _ = processed
    r = results[name]
    assert cer(EXPECTED, r.text) <= CER_BOUND, r.text
    if name in VARIANTS:
        _, turn, sign = VARIANTS[name]
        assert r.rotated == turn
        if sign:
            assert r.deskew * sign > 0.5
    else:
        assert r.rotated == 0 and -2.5 < r.deskew < -1.5
    assert r.confidence and r.confidence > 80
    assert r.dpi == 200


@pytest.mark.slow
def test_rotated_page_beats_raw_tesseract(processed):
    """P3 in small: raw tesseract cannot read a page fed sideways; the pipeline can."""
    results, paths = processed
    p = next(p for p in paths if p.stem == "sideways_90")
    raw = subprocess.run(["tesseract", str(p), "-", "-l", "vie"], capture_output=True, text=True,
                         env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout
    assert cer(EXPECTED, results["sideways_90"].text) < cer(EXPECTED, raw)


def test_exif_orientation_and_jpeg_kept_as_is(tmp_path):
    """A phone photo stored sideways with EXIF orientation 6: turned by the PDF, JPEG bytes untouched."""
    im = rotate(render(dpi=200), 90)  # pixels sideways (counter-clockwise)
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90° clockwise to display"
    p = tmp_path / "photo.jpg"
    im.save(p, "JPEG", quality=80, dpi=(200, 200), exif=exif.tobytes())
    [src] = imaging.probe([p])
    assert src.rotate == 90 and src.jpeg is not None
    [r] = archive.process_pages([src], timeout=60, rotate_threshold=2.0)
    assert r.rotated == 90 and cer(EXPECTED, r.text) <= CER_BOUND
    data = r.image.data if r.image.filter == "/DCTDecode" else __import__("zlib").decompress(r.image.data)
    assert "/DCTDecode" in r.image.filter and data == p.read_bytes()


def test_colour_kept_only_where_there_is_colour(tmp_path):
    stamp = render(dpi=200, colour_stamp=True)
    plain = render(dpi=200).convert("RGB")
    assert imaging.has_colour(stamp) and not imaging.has_colour(plain)
    a, b = save(stamp, tmp_path / "stamp.png"), save(plain, tmp_path / "plain.png")
    ra, rb = archive.process_pages(imaging.probe([a, b]), timeout=60, rotate_threshold=2.0)
    assert ra.colour and ra.image.colourspace == "/DeviceRGB"
    assert not rb.colour and rb.image.colourspace == "/DeviceGray"


def test_deskew_angle_is_measured():
    g = render(dpi=150)
    for a in (-4, -1.2, 0, 2.5):
        assert abs(imaging.deskew_angle(rotate(g, a)) + a) < 0.3


def test_placement_matrix_turns_and_scales():
    # a 100x200 px image turned 90° clockwise fills a 200x100 pt page
    a, b, c, d, e, f = archive.placement(100, 200, 90, 0, 200, 100)
    # unit square corner (0,1) = image top-left must land at page top-right after a clockwise turn
    assert (round(c + e), round(d + f)) == (200, 100)
    assert (round(e), round(f)) == (0, 100)  # image bottom-left -> page top-left


def test_missing_language_is_reported(monkeypatch):
    monkeypatch.setattr(ocr, "_LANGS", {"eng"})
    from onestop.common.errors import ScanRejected

    with pytest.raises(ScanRejected) as e:
        ocr.check_engine("vie")
    assert e.value.exit_code == ocr.OCR_FAILED and "tesseract-ocr-vie" in e.value.vi


# ---------------------------------------------------------------- the loaded engines (ocr_worker.py)

@pytest.fixture(scope="module")
def page300(tmp_path_factory):
    p = tmp_path_factory.mktemp("engine") / "page.png"
    return save(render(dpi=300), p)


def test_loaded_engine_gives_the_commands_tsv(page300, tmp_path):
    """A scan's loaded engines read a page exactly as `tesseract IMG OUT -l vie --dpi 300 tsv` does."""
    subprocess.run(["tesseract", str(page300), str(tmp_path / "cmd"), "-l", "vie", "--dpi", "300", "tsv"],
                   check=True, capture_output=True, env=dict(os.environ, OMP_THREAD_LIMIT="1"))
    command_rows = (tmp_path / "cmd.tsv").read_text("utf-8").splitlines()[1:]
    with ocr.EnginePool(1) as pool:
        tsv = pool.tsv(page300, 300, source="1", timeout=60)
        assert pool.fallback == ""
        assert tsv is not None and tsv.decode("utf-8").splitlines() == command_rows
        via_pool = ocr.recognise(page300, 300, engines=pool)
    via_command = ocr.recognise(page300, 300, workdir=tmp_path)
    assert via_pool == via_command and cer(EXPECTED, via_pool.text) <= CER_BOUND


def test_engine_that_cannot_load_falls_back_to_the_command(page300, tmp_path):
    with ocr.EnginePool(1, lang="no-such-language") as pool:
        assert pool.tsv(page300, 300, source="1", timeout=60) is None
        assert "no-such-language" in pool.fallback
        r = ocr.recognise(page300, 300, engines=pool, workdir=tmp_path)  # the `tesseract` command reads it
    assert cer(EXPECTED, r.text) <= CER_BOUND


def test_engine_killed_mid_scan_fails_the_page_cleanly(page300):
    """A worker that dies (OOM killer, kill -9) fails the scan with OCR_FAILED, never an unexpected error."""
    import signal

    from onestop.common.errors import ScanRejected

    with ocr.EnginePool(1) as pool:
        assert pool.tsv(page300, 300, source="1", timeout=60)
        [w] = pool._all
        os.kill(w.proc.pid, signal.SIGKILL)
        w.proc.wait()
        for _ in range(2):  # and again: the next page on that engine fails the same way
            with pytest.raises(ScanRejected) as e:
                pool.tsv(page300, 300, source="2", timeout=60)
            assert e.value.exit_code == ocr.OCR_FAILED and "trang 2" in e.value.vi


def test_engine_over_its_time_is_stopped(page300):
    from onestop.common.errors import ScanRejected

    with ocr.EnginePool(1) as pool:
        with pytest.raises(ScanRejected) as e:
            pool.tsv(page300, 300, source="3", timeout=0.05)
        assert e.value.exit_code == ocr.OCR_FAILED and "quá 0 giây" in e.value.vi
        [w] = pool._all
        assert w.proc.poll() is not None  # killed, not left running

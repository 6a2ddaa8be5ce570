"""One tesseract engine kept loaded for a whole scan: a small process around Debian's libtesseract.

Started by ``ocr.EnginePool`` as ``python -I -S ocr_worker.py LANG`` (no site, no onestop import:
it starts in ~10 ms). The `tesseract` command loads the language model (~60 ms of CPU) for every
page; a scan of 10 pages on 2 cores loads it twice instead, and that CPU goes to recognition (P2).
The recognition is the command's own: the same calls (``TessBaseAPI``: automatic page
segmentation, ``user_defined_dpi``, the TSV text) give byte-identical TSV (tests/test_ocr.py).

Protocol, on stdin/stdout: the worker writes ``READY\\n`` once the model is loaded (or
``ERR <n>\\n`` + n bytes of message, then exits). Each request is one line ``<dpi> <path as hex>\\n``;
the answer ``OK <n>\\n`` + n bytes of TSV, or ``ERR <n>\\n`` + a message. EOF on stdin ends it.
"""

import ctypes
import ctypes.util
import os
import sys


def _libs():
    names = [("libtesseract.so.5", "tesseract"), ("liblept.so.5", "lept")]
    out = []
    for soname, short in names:
        try:
            out.append(ctypes.CDLL(soname))
        except OSError:
            found = ctypes.util.find_library(short)
            if not found:
                raise
            out.append(ctypes.CDLL(found))
    return out


def main(lang: str) -> int:
    out = sys.stdout.buffer
    inp = sys.stdin.buffer

    def send(kind: bytes, data: bytes) -> None:
        out.write(kind + b" %d\n" % len(data) + data)
        out.flush()

    try:
        t, lept = _libs()
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        t.TessBaseAPICreate.restype = vp
        t.TessBaseAPIInit3.argtypes = [vp, cp, cp]
        t.TessBaseAPISetPageSegMode.argtypes = [vp, ctypes.c_int]
        t.TessBaseAPISetVariable.argtypes = [vp, cp, cp]
        t.TessBaseAPISetInputName.argtypes = [vp, cp]
        t.TessBaseAPISetImage2.argtypes = [vp, vp]
        t.TessBaseAPIRecognize.argtypes = [vp, vp]
        t.TessBaseAPIGetTsvText.restype = vp
        t.TessBaseAPIGetTsvText.argtypes = [vp, ctypes.c_int]
        t.TessDeleteText.argtypes = [vp]
        t.TessBaseAPIClear.argtypes = [vp]
        t.TessBaseAPIEnd.argtypes = [vp]
        t.TessBaseAPIDelete.argtypes = [vp]
        lept.pixRead.restype = vp
        lept.pixRead.argtypes = [cp]
        lept.pixDestroy.argtypes = [ctypes.POINTER(vp)]
        api = t.TessBaseAPICreate()
        if t.TessBaseAPIInit3(api, None, lang.encode()) != 0:
            raise OSError(f"cannot load the '{lang}' language data")
        t.TessBaseAPISetPageSegMode(api, 3)  # PSM_AUTO, the command's default (the API's is one block)
    except (OSError, AttributeError) as e:
        send(b"ERR", str(e).encode("utf-8", "replace"))
        return 2
    out.write(b"READY\n")
    out.flush()
    try:
        for line in inp:
            dpi, _, hexpath = line.strip().partition(b" ")
            path = bytes.fromhex(hexpath.decode("ascii"))
            pix = vp(lept.pixRead(path))
            if not pix.value:
                send(b"ERR", b"cannot read the image")
                continue
            try:
                t.TessBaseAPISetVariable(api, b"user_defined_dpi", dpi)
                t.TessBaseAPISetInputName(api, path)
                t.TessBaseAPISetImage2(api, pix)
                if t.TessBaseAPIRecognize(api, None) != 0:
                    send(b"ERR", b"recognition failed")
                    continue
                p = t.TessBaseAPIGetTsvText(api, 0)
                tsv = ctypes.string_at(p) if p else b""
                if p:
                    t.TessDeleteText(p)
                send(b"OK", tsv)
            finally:
                lept.pixDestroy(ctypes.byref(pix))
                t.TessBaseAPIClear(api)
    finally:
        t.TessBaseAPIEnd(api)
        t.TessBaseAPIDelete(api)
    return 0


if __name__ == "__main__":
    os.environ["OMP_THREAD_LIMIT"] = "1"
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "vie"))

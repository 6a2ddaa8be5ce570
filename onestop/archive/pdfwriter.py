"""The archive PDF of scanned pages, written byte by byte (the PDF edge for ``pages.build_pdf``).

A scan's pages are an image and an invisible text layer each, plus the PDF/A-2b parts (pdfa.py):
a dozen kinds of objects, always the same. Writing them directly costs a few milliseconds, while
importing pypdf costs 60-180 ms of CPU that the OCR engines need (P2 of PERFORMANCE.md). pypdf is
still used where a PDF is read, or a citizen's electronic page is copied (``pages.build_pdf``).

The output is deterministic: the same pages give the same bytes (``files.place`` relies on it).
"""

from __future__ import annotations

import zlib


def _num(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4f}".rstrip("0").rstrip(".")


def text_string(s: str) -> bytes:
    """A PDF text string: a literal when it is printable ASCII, else UTF-16BE with its BOM (hex)."""
    if all(32 <= ord(c) < 127 for c in s):
        return b"(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii") + b")"
    return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode("ascii") + b">"


class Writer:
    """Objects numbered as they are added; ``finish`` writes the xref table and the trailer.

    Each object is kept as a list of chunks and the file is joined once: a page image is copied
    a single time (a scan's images are megabytes)."""

    def __init__(self):
        self._objects: list[list[bytes] | None] = []

    def reserve(self) -> int:
        self._objects.append(None)
        return len(self._objects)

    def put(self, num: int, *chunks: bytes) -> int:
        self._objects[num - 1] = list(chunks)
        return num

    def add(self, *chunks: bytes) -> int:
        return self.put(self.reserve(), *chunks)

    def stream(self, entries: bytes, data: bytes, *, deflate: bool = False) -> int:
        if deflate:
            data = zlib.compress(data)
            entries += b" /Filter /FlateDecode"
        return self.add(b"<<" + entries + b" /Length %d >>\nstream\n" % len(data), data, b"\nendstream")

    def finish(self, root: int, info: int, ident: bytes) -> bytes:
        # The binary comment after the header: PDF/A asks for four bytes above 127.
        out = [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
        pos = len(out[0])
        offsets = []
        for i, chunks in enumerate(self._objects, 1):
            offsets.append(pos)
            out.append(b"%d 0 obj\n" % i)
            out += chunks
            out.append(b"\nendobj\n")
            pos += len(out[-2 - len(chunks)]) + sum(map(len, chunks)) + 8
        out.append(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        out += [b"%010d 00000 n \n" % o for o in offsets]
        hexid = ident.hex().encode("ascii")
        out.append(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
                   % (len(offsets) + 1, root, info, hexid, hexid, pos))
        return b"".join(out)


def text_font(w: Writer, glyphless_ttf: bytes, to_unicode: bytes, cid_to_gid: bytes) -> int:
    """The Type0 glyph-less font of the text layer (as tesseract's PDF renderer writes it)."""
    ttf = w.stream(b" /Length1 %d" % len(glyphless_ttf), glyphless_ttf, deflate=True)
    descriptor = w.add(b"<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 /FontBBox [0 0 500 1000]"
                       b" /ItalicAngle 0 /Ascent 1000 /Descent -1 /CapHeight 1000 /StemV 80 /FontFile2 %d 0 R >>" % ttf)
    gidmap = w.stream(b"", cid_to_gid, deflate=True)
    cid = w.add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont"
                b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
                b" /FontDescriptor %d 0 R /DW 500 /CIDToGIDMap %d 0 R >>" % (descriptor, gidmap))
    tounicode = w.stream(b"", to_unicode, deflate=True)
    return w.add(b"<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H"
                 b" /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid, tounicode))


def image_entries(enc) -> bytes:
    """The image XObject's dictionary entries for an ``imaging.Encoded``."""
    filt = (b"[" + b" ".join(f.encode() for f in enc.filter) + b"]") if isinstance(enc.filter, tuple) \
        else enc.filter.encode()
    e = (b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent %d /Filter %s"
         % (enc.width, enc.height, enc.colourspace.encode(), enc.bpc, filt))
    if enc.predictor:
        e += (b" /DecodeParms << /Predictor 15 /Colors %d /BitsPerComponent %d /Columns %d >>"
              % (3 if enc.colourspace == "/DeviceRGB" else 1, enc.bpc, enc.width))
    return e


def scanned_pdf(pages: list[tuple], *, info: dict[str, str], xmp: bytes, icc: bytes, icc_name: str,
                font_parts: tuple[bytes, bytes, bytes], seed: bytes) -> bytes:
    """The PDF/A-2b file of ``pages``: (Encoded image, [a b c d e f] placement, text layer, (w, h) points).

    ``info`` is the Info dictionary (its XMP twin is ``xmp``); ``seed`` makes the document ID."""
    w = Writer()
    catalog, pages_obj = w.reserve(), w.reserve()
    font = None
    kids = []
    for enc, cm, layer, (pw, ph) in pages:
        res = b"/XObject << /OnestopScan %d 0 R >>" % w.stream(image_entries(enc), enc.data)
        if layer:
            if font is None:
                font = text_font(w, *font_parts)
            res += b" /Font << /f-0-0 %d 0 R >>" % font
        content = ("q " + " ".join(f"{v:.5f}" for v in cm) + " cm /OnestopScan Do Q\n").encode() + layer
        contents = w.stream(b"", content, deflate=True)
        kids.append(w.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << %s >> /Contents %d 0 R >>"
                          % (pages_obj, _num(pw).encode(), _num(ph).encode(), res, contents)))
    w.put(pages_obj, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(kids), b" ".join(b"%d 0 R" % k for k in kids)))
    meta = w.stream(b" /Type /Metadata /Subtype /XML", xmp)  # PDF/A: the metadata stream is not filtered
    profile = w.stream(b" /N 3", icc, deflate=True)
    name = text_string(icc_name)
    intent = w.add(b"<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier %s"
                   b" /RegistryName (http://www.color.org) /Info %s /DestOutputProfile %d 0 R >>" % (name, name, profile))
    w.put(catalog, b"<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R /OutputIntents [%d 0 R] >>"
          % (pages_obj, meta, intent))
    info_obj = w.add(b"<< " + b" ".join(k.encode() + b" " + text_string(v) for k, v in info.items()) + b" >>")
    return w.finish(catalog, info_obj, seed)

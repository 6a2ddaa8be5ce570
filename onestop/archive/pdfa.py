"""PDF/A-2b for archive PDFs, written directly by ``pages.build_pdf`` (no Ghostscript pass).

What PDF/A-2b (ISO 19005-2, level B) asks of the files onestop writes, and where it is met:
- XMP metadata in the catalog (``/Metadata``, not compressed) naming ``pdfaid:part=2`` and
  ``pdfaid:conformance=B``, whose dc/xmp/pdf properties repeat the Info dictionary exactly;
- an output intent (``/GTS_PDFA1``) with an embedded ICC profile: sRGB (``data/sRGB.icc``), so the
  pages' DeviceRGB and DeviceGray images have a defined colour;
- every font embedded with widths that agree with the font program: the text layer's glyph-less
  font (``pdfwriter.text_font``) is embedded, and its one glyph is 1024/2048 em = 500 wide, the ``/DW``;
- a document ID in the trailer, no encryption, no transparency, no JavaScript or actions.

Pages copied from a citizen's electronic PDF are kept only when they can stay within these rules
(``page_problem``); otherwise ``imaging`` renders and OCRs them like a scanned page. A PDF that carries
a digital signature is never rewritten (``signed_fields``): the archive keeps it byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ICC_PATH = Path(__file__).resolve().parents[1] / "data" / "sRGB.icc"
ICC_NAME = "sRGB IEC61966-2.1"
PART, CONFORMANCE = 2, "B"
CREATOR = "onestop"

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(s: str) -> str:
    # (xml.sax.saxutils.escape would import urllib.request and http.client: ~20 ms at every scan)
    return _XML_BAD.sub("", s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xmp(*, title: str, author: str, producer: str, creator: str) -> bytes:
    """The XMP packet: the PDF/A identification plus the Info dictionary's entries (only those given)."""
    props = []
    if title:
        props.append(f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_xml(title)}</rdf:li></rdf:Alt></dc:title>')
    if author:
        props.append(f"<dc:creator><rdf:Seq><rdf:li>{_xml(author)}</rdf:li></rdf:Seq></dc:creator>")
    body = "\n".join([
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/">',
        f"<pdfaid:part>{PART}</pdfaid:part>",
        f"<pdfaid:conformance>{CONFORMANCE}</pdfaid:conformance>",
        "<dc:format>application/pdf</dc:format>",
        *props,
        f"<pdf:Producer>{_xml(producer)}</pdf:Producer>",
        f"<xmp:CreatorTool>{_xml(creator)}</xmp:CreatorTool>",
        "</rdf:Description>",
        "</rdf:RDF>",
        "</x:xmpmeta>",
        '<?xpacket end="w"?>',
    ])
    return body.encode("utf-8")


def finish(writer, *, title: str, author: str, producer: str, seed: bytes) -> None:
    """Make ``writer``'s document PDF/A-2b: Info, XMP, sRGB output intent, header, trailer ID.

    The ID is derived from ``seed`` (the pages' content), not from the clock, so the same scan gives
    the same bytes (``files.place`` relies on that after a crash)."""
    from pypdf.generic import (ArrayObject, ByteStringObject, DecodedStreamObject, DictionaryObject, NameObject,
                               NumberObject, TextStringObject)

    info = info_dict(title=title, author=author, producer=producer)
    title, author = info.get("/Title", ""), info.get("/Author", "")
    writer.add_metadata(info)
    meta = DecodedStreamObject()  # not compressed: PDF/A forbids a filter on the metadata stream
    meta.set_data(xmp(title=title, author=author, producer=producer, creator=CREATOR))
    meta.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    icc = DecodedStreamObject()
    icc.set_data(ICC_PATH.read_bytes())
    icc = icc.flate_encode()
    icc[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"), NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject(ICC_NAME),
        NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
        NameObject("/Info"): TextStringObject(ICC_NAME),
        NameObject("/DestOutputProfile"): writer._add_object(icc)})
    root = writer._root_object
    root[NameObject("/Metadata")] = writer._add_object(meta)
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    writer.pdf_header = b"%PDF-1.7"
    ident = ByteStringObject(document_id(seed, title, author))
    writer._ID = ArrayObject([ident, ident])


def info_dict(*, title: str, author: str, producer: str) -> dict[str, str]:
    """The Info dictionary (its entries must equal the XMP's: control characters dropped from both)."""
    title, author = _XML_BAD.sub("", title), _XML_BAD.sub("", author)
    info = {"/Producer": producer, "/Creator": CREATOR}
    if title:
        info["/Title"] = title
    if author:
        info["/Author"] = author
    return info


def document_id(seed: bytes, title: str, author: str) -> bytes:
    return hashlib.md5(seed + title.encode() + author.encode(), usedforsecurity=False).digest()


def scanned(pages: list[tuple], *, title: str, author: str, producer: str, seed: bytes,
            font_parts: tuple[bytes, bytes, bytes]) -> bytes:
    """A PDF/A-2b file of scanned pages written without pypdf (pdfwriter.py): the same parts as ``finish``."""
    from onestop.archive import pdfwriter

    info = info_dict(title=title, author=author, producer=producer)
    t, a = info.get("/Title", ""), info.get("/Author", "")
    return pdfwriter.scanned_pdf(pages, info=info, xmp=xmp(title=t, author=a, producer=producer, creator=CREATOR),
                                 icc=ICC_PATH.read_bytes(), icc_name=ICC_NAME, font_parts=font_parts,
                                 seed=document_id(seed, t, a))


# ---------------------------------------------------------------- pages from electronic PDFs

def _resolve(x):
    return x.get_object() if x is not None and hasattr(x, "get_object") else x


def _font_embedded(font) -> bool:
    font = _resolve(font)
    sub = font.get("/Subtype")
    if sub == "/Type3":
        return True  # its glyphs are content streams in the file
    if sub == "/Type0":
        desc = _resolve(font.get("/DescendantFonts"))
        if not desc:
            return False
        font = _resolve(desc[0])
    fd = _resolve(font.get("/FontDescriptor"))
    return bool(fd) and any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3"))


_CMYK_OPS = re.compile(rb"(?:^|\s)(?:[-+.\d]+\s+){4}[kK](?=\s|$)")


def page_problem(page) -> str | None:
    """Why a page of an electronic PDF cannot be copied as it is into a PDF/A-2b archive file
    (a font not embedded, annotations or actions, device CMYK colour), or None."""
    if "/Annots" in page and _resolve(page["/Annots"]):
        return "annotations"
    if "/AA" in page:
        return "actions"
    seen: set[int] = set()

    def walk(res, depth: int) -> str | None:
        res = _resolve(res)
        if not res or depth > 8 or id(res) in seen:
            return None
        seen.add(id(res))
        for f in (_resolve(res.get("/Font")) or {}).values():
            if not _font_embedded(f):
                return "font not embedded: " + str(_resolve(f).get("/BaseFont", "?"))
        for cs in (_resolve(res.get("/ColorSpace")) or {}).values():
            if "DeviceCMYK" in str(_resolve(cs)):
                return "CMYK colour"
        for x in (_resolve(res.get("/XObject")) or {}).values():
            x = _resolve(x)
            if x.get("/ColorSpace") == "/DeviceCMYK":
                return "CMYK image"
            if x.get("/Subtype") == "/Form":
                why = walk(x.get("/Resources"), depth + 1) or _content_problem(x.get_data())
                if why:
                    return why
        return None

    try:
        res = _resolve(page.get("/Resources")) or {}
        fonts = _resolve(res.get("/Font")) or {}
        for name in used_fonts(page):  # a font only named in the resources is dropped (prune_fonts)
            if name in fonts and not _font_embedded(fonts[name]):
                return "font not embedded: " + str(_resolve(fonts[name]).get("/BaseFont", "?"))
        seen.add(id(fonts))
        why = walk({k: v for k, v in res.items() if k != "/Font"}, 0)
        if why:
            return why
        contents = page.get_contents()
        return _content_problem(contents.get_data()) if contents is not None else None
    except Exception as e:  # noqa: BLE001 - a page pypdf cannot walk is not copied as it is
        return f"unreadable ({type(e).__name__})"


_SHOW = {b"Tj", b"TJ", b"'", b'"'}


def used_fonts(page) -> set[str]:
    """Resource names of the fonts a page's content draws text with (a ``Tf`` followed by text shown)."""
    from pypdf.generic import ContentStream

    contents = page.get_contents()
    if contents is None:
        return set()
    used, current = set(), None
    for operands, op in ContentStream(contents, page.pdf).operations:
        if op == b"Tf" and operands:
            current = str(operands[0])
        elif op in _SHOW and current:
            used.add(current)
    return used


def prune_fonts(page) -> None:
    """Drop the fonts a copied page names but never draws with (reportlab names Helvetica on every
    page): an unused, unembedded font would still break PDF/A. The page gets its own resources."""
    from pypdf.generic import DictionaryObject, NameObject

    res = _resolve(page.get("/Resources"))
    fonts = _resolve(res.get("/Font")) if res else None
    if not fonts:
        return
    keep = used_fonts(page)
    if set(fonts) <= keep:
        return
    res = DictionaryObject(res)
    res[NameObject("/Font")] = DictionaryObject({k: v for k, v in fonts.items() if k in keep})
    page[NameObject("/Resources")] = res


def _content_problem(data: bytes) -> str | None:
    return "CMYK colour" if _CMYK_OPS.search(data) else None


# ---------------------------------------------------------------- signatures

def signed_fields(data: bytes) -> list[str]:
    """Names of the signed signature fields of a PDF's bytes (a /Sig field holding a value), [] if none.

    Such a file is an electronic document whose signature covers its bytes: rewriting it (as
    PDF/A, or with a text layer) would break the signature, so the archive keeps it unchanged."""
    import io

    from pypdf import PdfReader

    if not data.startswith(b"%PDF-"):
        return []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        form = _resolve(reader.trailer["/Root"].get("/AcroForm"))
    except Exception:  # noqa: BLE001 - imaging.probe reports a damaged file
        return []
    names: list[str] = []

    def walk(fields, depth: int):
        for f in _resolve(fields) or []:
            f = _resolve(f)
            if depth > 16 or f is None:
                continue
            if f.get("/FT") == "/Sig" and _resolve(f.get("/V")) is not None:
                names.append(str(f.get("/T", "?")))
            if "/Kids" in f:
                walk(f["/Kids"], depth + 1)

    if form:
        walk(form.get("/Fields"), 0)
    return names

"""PDF/A-2b checks on a file, one per requirement onestop meets (ISO 19005-2 level B).

No real validator can be installed from the package registries this project uses (veraPDF is a
Java application published on Maven, not on PyPI, npm or Debian), so ``problems(path)`` checks each
requirement with pypdf and the raw bytes. It returns a list of problems; [] means conformant as far
as these checks go. What is checked:

1. header ``%PDF-1.n`` at byte 0, then a comment of 4 bytes above 127; ``%%EOF`` at the end;
2. the trailer has an ``/ID`` of two strings and no ``/Encrypt``;
3. the catalog's ``/Metadata`` is an unfiltered XML stream, an xpacket without ``bytes``/``encoding``,
   with ``pdfaid:part`` 2 and ``pdfaid:conformance`` B;
4. every Info entry (Title, Author, Subject, Keywords, Creator, Producer, dates) equals its XMP property;
5. an output intent ``/GTS_PDFA1`` with an embedded ICC profile (N matches the profile's colour space,
   version 2 or 4), one profile for all PDF/A intents;
6. every font embedded; a CIDFontType2 has a CIDToGIDMap, and its widths (/DW, /W) equal the advance
   widths in the embedded TrueType program for every glyph the map uses;
7. images: no /Interpolate true, no /Alternates or /OPI, no JPX or LZW, no soft mask (transparency),
   no CMYK (the intent is RGB); pages: no transparency group, no actions, no annotations but a signature's visible stamp (printed,
   /AP /N only, fonts embedded);
8. the catalog has no actions, JavaScript or embedded files; no stream refers to an external file.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

NS = {
    "x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/", "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/", "xmp": "http://ns.adobe.com/xap/1.0/",
}


def _o(x):
    return x.get_object() if isinstance(x, IndirectObject) else x


def _xmp_value(root: ET.Element, prop: str) -> str | None:
    """A simple, Alt (x-default) or Seq/Bag (first item) XMP property, as an element or attribute."""
    prefix, local = prop.split(":")
    tag = f"{{{NS[prefix]}}}{local}"
    for desc in root.iter(f"{{{NS['rdf']}}}Description"):
        if tag in desc.attrib:
            return desc.attrib[tag]
        el = desc.find(tag)
        if el is None:
            continue
        li = el.find(".//rdf:li", NS)
        if li is not None:
            return li.text or ""
        return el.text or ""
    return None


def _ttf_widths(data: bytes) -> dict[int, float]:
    """GID → advance width in 1/1000 em from a TrueType program's head/hhea/hmtx tables."""
    n = struct.unpack(">H", data[4:6])[0]
    tables = {}
    for i in range(n):
        tag, _cs, off, ln = struct.unpack(">4sIII", data[12 + 16 * i:28 + 16 * i])
        tables[tag] = (off, ln)
    upem = struct.unpack(">H", data[tables[b"head"][0] + 18:tables[b"head"][0] + 20])[0]
    hmetrics = struct.unpack(">H", data[tables[b"hhea"][0] + 34:tables[b"hhea"][0] + 36])[0]
    glyphs = struct.unpack(">H", data[tables[b"maxp"][0] + 4:tables[b"maxp"][0] + 6])[0]
    off = tables[b"hmtx"][0]
    adv = [struct.unpack(">H", data[off + 4 * i:off + 4 * i + 2])[0] for i in range(hmetrics)]
    return {g: 1000.0 * adv[min(g, hmetrics - 1)] / upem for g in range(glyphs)}


def _cid_widths(cid: DictionaryObject) -> tuple[float, dict[int, float]]:
    dw = float(cid.get("/DW", 1000))
    w: dict[int, float] = {}
    arr = list(_o(cid.get("/W")) or [])
    i = 0
    while i < len(arr):
        first = int(arr[i])
        nxt = _o(arr[i + 1])
        if isinstance(nxt, ArrayObject):
            for k, v in enumerate(nxt):
                w[first + k] = float(v)
            i += 2
        else:
            for c in range(first, int(nxt) + 1):
                w[c] = float(arr[i + 2])
            i += 3
    return dw, w


def _check_font(font, out: list[str], where: str) -> None:
    font = _o(font)
    sub = font.get("/Subtype")
    if sub == "/Type3":
        return
    name = font.get("/BaseFont")
    if sub == "/Type0":
        cid = _o(_o(font["/DescendantFonts"])[0])
        fd = _o(cid.get("/FontDescriptor"))
        if not fd or not any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            out.append(f"{where}: font {name} not embedded")
            return
        if cid.get("/Subtype") == "/CIDFontType2":
            gidmap = _o(cid.get("/CIDToGIDMap"))
            if gidmap is None:
                out.append(f"{where}: CIDFontType2 {name} without CIDToGIDMap")
                return
            if "/FontFile2" not in fd:
                return
            widths = _ttf_widths(_o(fd["/FontFile2"]).get_data())
            dw, w = _cid_widths(cid)
            if isinstance(gidmap, StreamObject):
                raw = gidmap.get_data()
                pairs = {(c, struct.unpack(">H", raw[2 * c:2 * c + 2])[0]) for c in range(len(raw) // 2)}
            else:  # /Identity
                pairs = {(g, g) for g in widths}
            # A subset that keeps the font's glyph numbers (pyHanko's stamp fonts) holds empty
            # zero-width placeholders for the glyphs it dropped: never shown, so never given a width.
            placeholders = {g for g in widths if widths[g] == 0 and g not in w} if not isinstance(gidmap, StreamObject) else set()
            bad = {(c, g) for c, g in pairs if g in widths and g != 0 and g not in placeholders
                   and abs(w.get(c, dw) - widths[g]) > 1}
            missing = {g for _c, g in pairs if g not in widths}
            if bad:
                c, g = min(bad)
                out.append(f"{where}: font {name} width of CID {c} is {w.get(c, dw)}, glyph {g} is {widths[g]}")
            if missing:
                out.append(f"{where}: font {name} maps CIDs to glyphs it lacks: {sorted(missing)[:5]}")
        return
    fd = _o(font.get("/FontDescriptor"))
    if not fd or not any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")):
        out.append(f"{where}: font {name} not embedded")


def _check_resources(res, out: list[str], where: str, seen: set) -> None:
    res = _o(res)
    if not res or id(res) in seen:
        return
    seen.add(id(res))
    for f in (_o(res.get("/Font")) or {}).values():
        _check_font(f, out, where)
    for gs in (_o(res.get("/ExtGState")) or {}).values():
        gs = _o(gs)
        if _o(gs.get("/SMask")) not in (None, "/None") or float(gs.get("/CA", 1)) != 1 or float(gs.get("/ca", 1)) != 1:
            out.append(f"{where}: transparency in ExtGState")
    for cs in (_o(res.get("/ColorSpace")) or {}).values():
        if "DeviceCMYK" in str(_o(cs)):
            out.append(f"{where}: CMYK colour space")
    for name, x in (_o(res.get("/XObject")) or {}).items():
        x = _o(x)
        if x.get("/Subtype") == "/Image":
            if x.get("/Interpolate") is True or str(x.get("/Interpolate")) == "true":
                out.append(f"{where}: image {name} with /Interpolate true")
            for k in ("/Alternates", "/OPI", "/SMask"):
                if k in x:
                    out.append(f"{where}: image {name} with {k}")
            filters = x.get("/Filter")
            filters = [str(f) for f in (filters if isinstance(filters, ArrayObject) else [filters] if filters else [])]
            if "/JPXDecode" in filters or "/LZWDecode" in filters:
                out.append(f"{where}: image {name} with filter {filters}")
            if x.get("/ColorSpace") == "/DeviceCMYK":
                out.append(f"{where}: image {name} in DeviceCMYK")
        elif x.get("/Subtype") == "/Form":
            if "/Group" in x:
                out.append(f"{where}: form {name} with a transparency group")
            _check_resources(x.get("/Resources"), out, f"{where} form {name}", seen)


def problems(path: Path) -> list[str]:
    """Every PDF/A-2b requirement above that the file at ``path`` fails."""
    data = Path(path).read_bytes()
    out: list[str] = []
    head = re.match(rb"%PDF-1\.[0-7](\r\n|\r|\n)%(....)", data, re.S)
    if not head or not all(b > 127 for b in head.group(2)):
        out.append("header: %PDF-1.n then a binary comment line is required")
    if not data.rstrip().endswith(b"%%EOF"):
        out.append("no %%EOF at the end")
    reader = PdfReader(path, strict=True)
    trailer = reader.trailer
    if "/Encrypt" in trailer:
        out.append("encrypted")
    ident = _o(trailer.get("/ID"))
    if not ident or len(ident) != 2:
        out.append("no /ID in the trailer")
    root = _o(trailer["/Root"])
    for k in ("/AA", "/OpenAction"):
        if k in root:
            out.append(f"catalog has {k}")
    names = _o(root.get("/Names")) or {}
    for k in ("/JavaScript", "/EmbeddedFiles"):
        if k in names:
            out.append(f"catalog names {k}")
    # 3. XMP
    meta = _o(root.get("/Metadata"))
    xmp_root = None
    if meta is None:
        out.append("no XMP metadata in the catalog")
    else:
        if meta.get("/Type") != "/Metadata" or meta.get("/Subtype") != "/XML":
            out.append("metadata stream is not /Type /Metadata /Subtype /XML")
        if "/Filter" in meta:
            out.append("metadata stream has a /Filter")
        raw = meta.get_data()
        m = re.search(rb"<\?xpacket begin=[^?]*\?>", raw)
        if not m or b"bytes=" in m.group(0) or b"encoding=" in m.group(0):
            out.append("xpacket header missing or with bytes/encoding attributes")
        try:
            xmp_root = ET.fromstring(re.sub(rb"<\?xpacket[^?]*\?>", b"", raw))
        except ET.ParseError as e:
            out.append(f"XMP is not well-formed XML: {e}")
    if xmp_root is not None:
        if _xmp_value(xmp_root, "pdfaid:part") != "2":
            out.append(f"pdfaid:part is {_xmp_value(xmp_root, 'pdfaid:part')!r}, not 2")
        if _xmp_value(xmp_root, "pdfaid:conformance") != "B":
            out.append(f"pdfaid:conformance is {_xmp_value(xmp_root, 'pdfaid:conformance')!r}, not B")
        # 4. Info ↔ XMP
        info = _o(trailer.get("/Info")) or {}
        pairs = {"/Title": "dc:title", "/Author": "dc:creator", "/Subject": "dc:description",
                 "/Keywords": "pdf:Keywords", "/Creator": "xmp:CreatorTool", "/Producer": "pdf:Producer",
                 "/CreationDate": "xmp:CreateDate", "/ModDate": "xmp:ModifyDate"}
        for key, prop in pairs.items():
            if key not in info:
                continue
            got = _xmp_value(xmp_root, prop)
            if key.endswith("Date"):
                if got is None:
                    out.append(f"Info {key} without XMP {prop}")
                continue
            if got != str(info[key]):
                out.append(f"Info {key} = {str(info[key])!r} but XMP {prop} = {got!r}")
    # 5. output intent
    intents = [_o(i) for i in (_o(root.get("/OutputIntents")) or [])]
    pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if not pdfa:
        out.append("no /GTS_PDFA1 output intent")
    profiles = {id(_o(i.get("/DestOutputProfile"))) for i in pdfa}
    if len(profiles) > 1:
        out.append("PDF/A output intents with different profiles")
    for i in pdfa:
        prof = _o(i.get("/DestOutputProfile"))
        if prof is None:
            out.append("output intent without an embedded ICC profile")
            continue
        icc = prof.get_data()
        space = icc[16:20]
        n = {b"RGB ": 3, b"GRAY": 1, b"CMYK": 4}.get(space)
        if n is None or int(prof.get("/N", 0)) != n:
            out.append(f"ICC profile /N {prof.get('/N')} does not match its colour space {space!r}")
        if icc[8] not in (2, 4) or icc[36:40] != b"acsp":
            out.append(f"not an ICC profile of version 2 or 4 (version {icc[8]})")
        if space != b"RGB ":
            out.append("the output intent is not RGB (the pages use DeviceRGB)")
    # 6-7. pages
    seen: set = set()
    for n, page in enumerate(reader.pages, 1):
        where = f"page {n}"
        if "/Group" in page:
            out.append(f"{where}: transparency group")
        if "/AA" in page:
            out.append(f"{where}: actions")
        for a in (_o(a) for a in (_o(page.get("/Annots")) or [])):
            # Only a signature's visible stamp (issue 22): a printed, visible widget whose normal
            # appearance is its only one, with its fonts embedded (ISO 19005-2 6.3.2, 6.3.3).
            flags = int(a.get("/F", 0))
            ap = _o(a.get("/AP")) or {}
            if a.get("/Subtype") != "/Widget" or _o(a.get("/FT", _o(a.get("/Parent") or {}).get("/FT"))) != "/Sig":
                out.append(f"{where}: annotations other than a signature's stamp")
            elif not flags & 4 or flags & (1 | 2 | 32):
                out.append(f"{where}: signature stamp not printed or hidden (/F {flags})")
            elif set(ap) != {"/N"}:
                out.append(f"{where}: signature stamp appearance is not /N only ({sorted(ap)})")
            else:
                n = _o(ap["/N"])
                if "/Group" in n:
                    out.append(f"{where}: signature stamp with a transparency group")
                _check_resources(n.get("/Resources"), out, f"{where} stamp", seen)
        _check_resources(page.get("/Resources"), out, where, seen)
    # 8. streams referring to external files
    nums = {num for objs in reader.xref.values() for num in objs} | set(reader.xref_objStm)
    for num in sorted(nums):
        try:
            obj = reader.get_object(num)
        except Exception:  # noqa: BLE001 - free or missing numbers
            continue
        if isinstance(obj, StreamObject) and any(k in obj for k in ("/F", "/FFilter", "/FDecodeParms")):
            out.append(f"object {num}: stream refers to an external file")
    return out

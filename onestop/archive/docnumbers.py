"""Document numbers (số ký hiệu), dates and issuers read from a component's first page (pure).

Shapes (NĐ 30/2020/NĐ-CP Art. 15, Law on legal documents): ``1205/QĐ-BKHCN`` (number/TYPE-ISSUER),
``28/2023/NĐ-CP`` (number/year/TYPE-ISSUER), ``318/BTTTT-KSTT`` (công văn: number/ISSUER-UNIT).

OCR misreads them in known ways (DOMAIN.md §10): Đ (U+0110) read as Ð (U+00D0) or doubled, T read as
I (``BTTTT`` → ``BTTTI``), O/0 and I/l/1 swapped, spaces around ``/`` and ``-``. Each part is corrected
against a closed list: the document-type abbreviations of NĐ 30/2020 Phụ lục III (plus the legal
document types and the configured specialised ones) and the configured agency abbreviations valid
at the document's date (config/agencies.toml). When two entries of a list are equally close the
number is *not* guessed: ``DocNumber.candidates`` lists them for the officer.

An issuer is corrected only when the reading is impossible as read and one correction is clearly
meant: an agency's own prefix is never rewritten into another's (``SKHCN``, a provincial department,
never becomes ``BKHCN``, a ministry). A reading of a local family's shape (``LOCAL_PREFIXES``: S… for
the departments of provinces, UBND…, HĐND…, BQL…, BHXH…; configurable, ``[issuers] local``) is a real word: kept as
read (corrected only for OCR look-alikes towards an entry of its own family) and flagged when the table
does not know it. Other readings (the ministries, B…: a closed national list) are corrected within
their first letter, or across it only for a look-alike (``8KHCN`` → ``BKHCN``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

# NĐ 30/2020/NĐ-CP, Phụ lục III (as transcribed in DOMAIN.md §10; Công báo not at hand, see docs/digitization.md).
ADMIN_TYPES = {
    "NQ": "Nghị quyết (cá biệt)", "QĐ": "Quyết định (cá biệt)", "CT": "Chỉ thị", "QC": "Quy chế",
    "QyĐ": "Quy định", "TC": "Thông cáo", "TB": "Thông báo", "HD": "Hướng dẫn", "CTr": "Chương trình",
    "KH": "Kế hoạch", "PA": "Phương án", "ĐA": "Đề án", "DA": "Dự án", "BC": "Báo cáo", "BB": "Biên bản",
    "TTr": "Tờ trình", "HĐ": "Hợp đồng", "CĐ": "Công điện", "BGN": "Bản ghi nhớ", "BTT": "Bản thỏa thuận",
    "GUQ": "Giấy ủy quyền", "GM": "Giấy mời", "GGT": "Giấy giới thiệu", "GNP": "Giấy nghỉ phép",
    "PG": "Phiếu gửi", "PC": "Phiếu chuyển", "PB": "Phiếu báo",
    # copies (bản sao)
    "SY": "Bản sao y", "TrS": "Bản trích sao", "SL": "Bản sao lục",
}
# Legal normative documents (Luật Ban hành văn bản quy phạm pháp luật): number/year/TYPE-ISSUER.
LEGAL_TYPES = {"NĐ": "Nghị định", "TT": "Thông tư", "TTLT": "Thông tư liên tịch", "NQ": "Nghị quyết",
               "QĐ": "Quyết định", "L": "Luật", "PL": "Pháp lệnh", "NQLT": "Nghị quyết liên tịch"}

# OCR look-alikes (upper case): substituting one for the other costs less than another letter.
_LOOKALIKE = {frozenset(p) for p in ("TI", "IL", "I1", "L1", "O0", "OD", "QO", "DĐ", "CG", "B8", "S5", "Z2", "TY",
                                     "HN", "EF", "PR", "UV", "G6")}
LOOKALIKE_COST = 0.4
MAX_COST = 1.0        # a part further than this from every entry is not corrected
MARGIN = 0.5          # the best entry must be this much closer than the next one, else: ambiguous
# Families of agencies, open-ended (every province, zone or project has its own): Sở (SKHCN, STP, SGDĐT…),
# UBND, HĐND, Ban quản lý (BQL, BQLDA…; never the ministry BQP), Bảo hiểm xã hội (BHXH).
LOCAL_PREFIXES = ("S", "UBND", "HĐND", "BQL", "BHXH")
_ABBR = re.compile(r"[A-ZĐ]+")  # an agency abbreviation as printed: capitals only


@dataclass(frozen=True)
class Agency:
    abbr: str
    name: str = ""
    valid_from: date | None = None
    valid_until: date | None = None   # last day (merged into another agency the next day)

    def valid_on(self, day: date | None) -> bool:
        if day is None:
            return True
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_until is None or day <= self.valid_until)


@dataclass
class DocNumber:
    number: str | None = None      # corrected, canonical spelling; None when not found or ambiguous
    date: str | None = None        # ISO date of the document
    issuer: str | None = None      # the issuing agency's abbreviation
    raw: str = ""                  # the number as OCR read it
    candidates: list[str] = field(default_factory=list)  # ambiguous: the readings the officer chooses from
    notes: list[str] = field(default_factory=list)        # corrections made, doubts (codes, see NOTES)

    @property
    def needs_check(self) -> bool:
        return bool(self.candidates) or any(n.startswith(("unknown", "invalid", "ambiguous")) for n in self.notes)

    def public(self) -> dict:
        return {"document_number": self.number, "document_date": self.date, "issuer": self.issuer,
                "raw": self.raw, "candidates": self.candidates, "notes": self.notes, "needs_check": self.needs_check}


# ---------------------------------------------------------------- normalisation

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad"), "-")
_SLASHES = dict.fromkeys(map(ord, "\u2044\u2215\uff0f"), "/")


def clean(text: str) -> str:
    """NFC, the Icelandic eth and its look-alikes as Vietnamese Đ/đ, one kind of dash and slash."""
    s = unicodedata.normalize("NFC", text or "")
    s = s.replace("\u00d0", "Đ").replace("\u0189", "Đ").replace("\u00f0", "đ")
    return s.translate(_DASHES).translate(_SLASHES)


def key(number: str) -> str:
    """The search key of a number: no spaces, upper case, đ/Đ as D and no diacritics (``1205/QD-BKHCN``)."""
    s = clean(number).replace("Đ", "D").replace("đ", "d")
    s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return re.sub(r"\s+", "", s).upper()


def _up(s: str) -> str:
    return s.replace("đ", "Đ").upper()


# ---------------------------------------------------------------- matching a part against a list

def _doubled(ch: str) -> float:
    return LOOKALIKE_COST if ch == "Đ" else 0.6


def _cost(a: str, b: str) -> float:
    """Edit distance where OCR look-alikes and a doubled letter cost ``LOOKALIKE_COST``."""
    a, b = _up(a), _up(b)
    prev = [j * 1.0 for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        cur = [i * 1.0] + [0.0] * len(b)
        for j in range(1, len(b) + 1):
            x, y = a[i - 1], b[j - 1]
            sub = 0.0 if x == y else (LOOKALIKE_COST if frozenset((x, y)) in _LOOKALIKE else 1.0)
            # a letter read twice (ĐĐ) or once for twice: cheap, cheapest for Đ (its bar read as a second letter)
            dele = _doubled(x) if i >= 2 and a[i - 2] == x else 1.0
            ins = _doubled(y) if j >= 2 and b[j - 2] == y else 1.0
            cur[j] = min(prev[j - 1] + sub, prev[j] + dele, cur[j - 1] + ins)
        prev = cur
    return prev[-1]


def match(part: str, entries: list[str]) -> tuple[str | None, list[str], float]:
    """(the entry meant, [] ) or (None, the equally close entries) or (None, [], cost) when none is close."""
    if not part:
        return None, [], 99.0
    for e in entries:
        if e == part:
            return e, [], 0.0
    exact_ci = [e for e in entries if _up(e) == _up(part)]
    if len(exact_ci) == 1:
        return exact_ci[0], [], 0.0
    if len(part) < 2:
        return None, [], 99.0
    scored = sorted((_cost(part, e), e) for e in set(entries) if len(e) >= 2)
    if not scored or scored[0][0] > MAX_COST:
        return None, [], scored[0][0] if scored else 99.0
    best = scored[0][0]
    close = [e for c, e in scored if c - best < MARGIN]
    if len(close) == 1:
        return close[0], [], best
    return None, close, best


def local_family(part: str, local=LOCAL_PREFIXES) -> str | None:
    """The local family prefix a reading has the shape of (``SKHCN`` → ``S``), else None."""
    part = _up(part)  # typed in lower case (58/gcn-skhcn): capitals as printed
    if not _ABBR.fullmatch(part):
        return None
    for pre in sorted(local, key=len, reverse=True):
        if part.startswith(pre) and len(part) >= max(3, len(pre)):
            return pre
    return None


def match_issuer(part: str, entries: list[str], local=LOCAL_PREFIXES) -> tuple[str | None, list[str], float]:
    """``match`` for an agency: never into another family (see the module's docstring)."""
    for e in entries:
        if e == part:
            return e, [], 0.0
    pre = local_family(part, local)
    if pre is not None:
        # A real word of a local family: only a look-alike misreading of an entry of the same family.
        e, close, cost = match(part, [x for x in entries if local_family(x, local) == pre])
        return (e, [], cost) if e and cost < 1.0 else (None, [], 99.0)
    head = _up(part[:1])
    same = [x for x in entries if _up(x[:1]) == head or frozenset((head, _up(x[:1]))) in _LOOKALIKE]
    return match(part, same)


# ---------------------------------------------------------------- reading the page

_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "i": "1"})
_NUM = r"[0-9OoIl|]*[0-9][0-9OoIl|]*"
_PART = r"[^\W_]*[^\W\d_][^\W_]*"  # letters, maybe digits (never a date's "02")
_NUMBER = re.compile(rf"(?<![\w/])(?P<n>{_NUM})[ ]*/[ ]*(?:(?P<y>(?:19|20|2O|l9|I9)[0-9OoIl]{{2}})[ ]*/[ ]*)?"
                     rf"(?P<parts>{_PART}(?:[ ]*-[ ]*{_PART})*)")
# "Số:" (folded, as OCR may read it: Sô, Só, S0) at the line's start, or anywhere with its colon (a
# two-column heading read as one line); "Nghị định số 30/2020/NĐ-CP" in the body has no colon.
_LABEL = re.compile(r"(?:^\W*s[o06]\s*[:;.,]?|\bs[o06]\s*[:;.,])\s*$")
_DATE = re.compile(r"ngay\s*(?P<d>[0-9OoIl]{1,2})\s*thang\s*(?P<m>[0-9OoIl]{1,2})\s*nam\s*(?P<y>[0-9OoIl]{4})")
HEAD_LINES = 12  # the number and date sit in the page's heading


def _fold(s: str) -> str:
    s = s.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)).lower()


def find_date(lines: list[str]) -> str | None:
    """``ngày 22 tháng 02 năm 2026`` (diacritics as OCR read them) as an ISO date."""
    for line in lines:
        m = _DATE.search(_fold(line))
        if not m:
            continue
        try:
            return date(int(m["y"].translate(_DIGITS)), int(m["m"].translate(_DIGITS)),
                        int(m["d"].translate(_DIGITS))).isoformat()
        except ValueError:
            continue
    return None


def _candidates(lines: list[str]):
    """Number-shaped readings in the heading after a ``Số:`` label (a number cited in the body is not the page's)."""
    labelled = []
    for line in lines:
        for m in _NUMBER.finditer(line):
            if _LABEL.search(_fold(line[:m.start()])):
                labelled.append((m, line))
    return labelled


def read(text: str, agencies: list[Agency], *, extra_types: list[str] = (), local=LOCAL_PREFIXES) -> DocNumber:
    """The document number, date and issuer on a first page's OCR text (empty DocNumber when none)."""
    lines = [clean(l) for l in (text or "").splitlines() if l.strip()][:HEAD_LINES]
    out = DocNumber(date=find_date(lines))
    found = _candidates(lines)
    if not found:
        return out
    m, line = found[0]
    out.raw = m.group(0).strip()
    day = date.fromisoformat(out.date) if out.date else None
    _correct(out, m, line, agencies, list(extra_types), day, local)
    return out


def parse(number: str, agencies: list[Agency], *, extra_types: list[str] = (), day: date | None = None,
          local=LOCAL_PREFIXES) -> DocNumber | None:
    """A number as the officer typed it (``1205/QD-BKHCN``), corrected against the same lists as an
    OCR reading (``1205/QĐ-BKHCN``); None when it is not number-shaped at all."""
    s = clean(number).strip()
    m = _NUMBER.fullmatch(s)
    if not m:
        return None
    out = DocNumber(date=day.isoformat() if day else None, raw=s)
    _correct(out, m, s, agencies, list(extra_types), day, local)
    return out


def _join_split(parts: list[str], line: str, end: int, known: list[str]) -> list[str]:
    """``QĐ-BKH CN``: a space inside the last part, when joining it gives a known abbreviation."""
    nxt = re.match(r"[ ]+([^\W\d_]{1,4})(?![\w])", line[end:])
    if nxt and parts:
        joined = parts[-1] + nxt.group(1)
        if any(_up(joined) == _up(k) for k in known) and not any(_up(parts[-1]) == _up(k) for k in known):
            return parts[:-1] + [joined]
    return parts


def _correct(out: DocNumber, m: re.Match, line: str, agencies: list[Agency], extra: list[str], day: date | None,
             local=LOCAL_PREFIXES):
    n = m["n"].translate(_DIGITS).lstrip("0") or "0"
    year = m["y"].translate(_DIGITS) if m["y"] else None
    parts = [re.sub(r"Đ{2,}", "Đ", p.strip()) for p in m["parts"].split("-")]
    valid = [a.abbr for a in agencies if a.valid_on(day)]
    every = [a.abbr for a in agencies]
    types = list(dict.fromkeys([*ADMIN_TYPES, *(LEGAL_TYPES if year else {}), *extra]))
    parts = _join_split(parts, line, m.end(), every + types)
    fixed: list[str] = []
    first, rest = parts[0], parts[1:]
    t, t_close, t_cost = match(first, types) if rest else (None, [], 99.0)
    if t_cost and local_family(first, local):
        t, t_close, t_cost = None, [], 99.0  # a local agency's công văn (318/STC-VP): never a type (TC)
    a, a_close, a_cost = match_issuer(first, valid, local)
    if t_cost and a_cost:
        known, _, k_cost = match(first, every)
        if known and k_cost == 0:  # printed as is, by an agency that no longer exists at that date
            a, a_close, a_cost = known, [], 0.0
    if t and (not a or t_cost <= a_cost):
        kind = "typed"
        fixed.append(t)
    elif a and (not t or a_cost < t_cost):
        kind = "letter"  # công văn: ISSUER-UNIT
        fixed.append(a)
    elif not t_close and rest and local_family(first, local):
        kind = "letter"  # công văn of a local agency the table does not know: kept as read
        fixed.append(_up(first))
        out.notes.append("unknown_issuer")
    elif t_close or a_close:
        # Either list has several entries equally close: the officer chooses.
        kind = "ambiguous"
        fixed.append(first)
        out.candidates = [_compose(n, year, [c, *rest]) for c in t_close + a_close]
    else:
        kind = "unknown"
        fixed.append(first)
        out.notes.append("unknown_type")
    issuer = fixed[0] if kind == "letter" else None
    for i, p in enumerate(rest):
        if kind == "typed" and i == 0:
            a, close, _ = match_issuer(p, valid, local)
            if a is None and not close:
                a_any, close_any, _ = match_issuer(p, every, local)  # a known agency, but not at this date
                if a_any:
                    out.notes.append("invalid_issuer_date")
                    a = a_any
                else:
                    close = close_any
            if a:
                fixed.append(a)
                issuer = a
            elif close:
                out.candidates = [_compose(n, year, [fixed[0], c, *rest[1:]]) for c in close]
                fixed.append(p)
            else:
                out.notes.append("unknown_issuer")
                p = _up(p) if _ABBR.fullmatch(_up(p)) else p  # abbreviations are printed in capitals
                fixed.append(p)
                issuer = p
        else:
            fixed.append(p)  # a drafting unit (KSTT, VP…): no list to check it against
    if kind == "letter" and day is not None and any(x.abbr == issuer for x in agencies) \
            and not any(x.abbr == issuer and x.valid_on(day) for x in agencies):
        out.notes.append("invalid_issuer_date")
    if kind == "typed" and not rest:
        out.notes.append("unknown_issuer")
    number = _compose(n, year, fixed)
    if _up(number.replace(" ", "")) != _up(out.raw.replace(" ", "")):
        out.notes.append("corrected")
    if out.candidates:
        out.candidates = list(dict.fromkeys(out.candidates))
        out.notes.append("ambiguous")
        return
    out.number = number
    out.issuer = issuer


def _compose(n: str, year: str | None, parts: list[str]) -> str:
    return f"{n}/{year + '/' if year else ''}{'-'.join(parts)}"


# ---------------------------------------------------------------- configuration

def local_from(data: dict) -> tuple[str, ...]:
    """``[issuers] local`` of a parsed config/agencies.toml: the local families' prefixes (default LOCAL_PREFIXES)."""
    got = data.get("issuers", {}).get("local")
    if got is None:
        return LOCAL_PREFIXES
    if not isinstance(got, list) or not all(isinstance(x, str) and x.strip() for x in got):
        raise ValueError("[issuers] local must be a list of prefixes, e.g. [\"S\", \"UBND\"]")
    return tuple(_up(clean(x.strip())) for x in got)


def agencies_from(data: dict) -> tuple[list[Agency], list[str]]:
    """The agencies and extra document types of a parsed config/agencies.toml (ValueError when invalid)."""
    out = []
    for row in data.get("agency", []):
        abbr = str(row.get("abbr", "")).strip()
        if not abbr:
            raise ValueError("an [[agency]] entry has no abbr")

        def day(k):
            v = row.get(k)
            if v in (None, ""):
                return None
            return v if isinstance(v, date) else date.fromisoformat(str(v))
        out.append(Agency(clean(abbr), str(row.get("name", "")), day("from"), day("until")))
    extra = [clean(str(x)) for x in data.get("types", {}).get("extra", [])]
    return out, extra

"""The local procedure catalog (CSDL quốc gia về TTHC): import and diacritics-free search.

The import reads the national portal's ``LayThuTuc`` answer (DOMAIN.md §5): the
``{"error_code": 0, "result": [...]}`` wrapper or a bare list, numbers as strings or numbers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from onestop.common.errors import InvalidInput, NotFound
from onestop.store import catalog as store
from onestop.store import transaction
from onestop.common.text import fold, nfc, tokens
from onestop.domain.workdays import normalize_unit

if TYPE_CHECKING:  # the SQLite module imports sqlite3, which an office command does not need
    from onestop.store.sqlite import Database

PROCEDURE_CODE = re.compile(r"^\d\.\d{6}$")

# Abbreviations officers type for long phrases; matched on folded text.
ABBREVIATIONS = {
    "khoa hoc va cong nghe": "khcn",
    "khoa hoc cong nghe": "khcn",
    "giay chung nhan": "gcn",
    "uy ban nhan dan": "ubnd",
    "so huu tri tue": "shtt",
    "tieu chuan do luong chat luong": "tdc",
    "an toan buc xa": "atbx",
    "chuyen giao cong nghe": "cgcn",
    "doanh nghiep": "dn",
    "thu tuc hanh chinh": "tthc",
}


@dataclass
class Component:
    n: int
    name: str
    code: str = ""
    case_name: str = ""
    originals: int = 1
    copies: int = 0
    form_name: str = ""
    form_url: str = ""
    required: bool = True

    @property
    def conditional(self) -> bool:
        """A paper needed only in some situations ("nếu có", "trường hợp bị mất", BATBUOC=0):
        not required for completeness unless the officer marks that it applies."""
        return not self.required or _conditional_name(self.name)


# How the catalog words papers that only some applicants bring (matched on folded names).
_CONDITIONAL = re.compile(r"\bneu co\b|\(\s*(?:truong hop|neu|doi voi)\b|\b(?:trong|doi voi) truong hop\b")


@lru_cache(maxsize=4096)
def _conditional_name(name: str) -> bool:
    # Cached: completeness asks this of every component of every dossier (P6 bulk intake spent
    # three quarters of its time folding the same few catalog names).
    return bool(_CONDITIONAL.search(fold(name)))


@dataclass
class Procedure:
    code: str
    name: str
    field_code: str = ""
    field_name: str = ""
    level: str = ""
    publisher: str = ""
    limits: dict = field(default_factory=dict)  # channel -> {"value", "unit", "description"}
    fees: list = field(default_factory=list)
    results: list = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    next_day_after_cutoff: bool = False
    status: str = ""
    sample: bool = False

    def cases(self) -> list[str]:
        """The catalog's cases (TRUONGHOP) in order; case N of `procedures show` is ``cases()[N-1]``."""
        out: list[str] = []
        for c in self.components:
            if c.case_name not in out:
                out.append(c.case_name)
        return out

    def case_components(self, case: str) -> list[Component]:
        return [c for c in self.components if c.case_name == case]

    def case_of(self, numbers) -> str | None:
        """The one case holding every component number in ``numbers``; None if they span cases or are unknown."""
        found = {c.case_name for c in self.components if c.n in set(numbers)}
        known = {c.n for c in self.components}
        return found.pop() if len(found) == 1 and set(numbers) <= known else None

    def fees_for(self, channel: str = "1") -> list[dict]:
        """The fees of ``channel`` (each catalog item carries its channel); a channel that lists no fee
        takes the counter's (catalogs often give them once). Rows imported before issue 20 carry no
        channel: one list for all."""
        ch = str(channel)
        if not any("channel" in f for f in self.fees):
            return list(self.fees)
        mine = [f for f in self.fees if f.get("channel") == ch]
        return mine or [f for f in self.fees if f.get("channel") == "1"]

    def limit_for(self, channel: str = "1") -> tuple[float, str]:
        lim = self.limits.get(str(channel)) or self.limits.get("1") or next(iter(self.limits.values()), None)
        if not lim:
            raise InvalidInput(
                f"Thủ tục {self.code} chưa có thời hạn giải quyết trong danh mục. Cập nhật danh mục rồi thử lại.",
                f"Procedure {self.code} has no time limit in the catalog. Update the catalog and try again.",
            )
        return float(lim["value"]), lim["unit"]


def _num(v, default=0.0) -> float:
    if v is None or v == "":
        return default
    try:
        return float(str(v).replace(",", ".").strip())
    except ValueError:
        return default


def _fee(f: dict, channel: str) -> dict:
    """A catalog fee (PHILEPHI item) of one channel: its amount in whole đồng, or None with the
    catalog's words when it is left open ("theo quy định", a range)."""
    from onestop.domain.fees import parse_amount

    amount = parse_amount(f.get("SOTIEN"))
    item = {"code": str(f.get("MAPHILEPHI", "")), "name": nfc(f.get("MOTA", "")) or "Lệ phí", "amount": amount,
            "unit": f.get("DONVI", "VNĐ"), "channel": channel}
    if amount is None:
        item["amount_text"] = nfc(str(f.get("SOTIEN") or ""))
    return item


def _int(v, default: int) -> int:
    return int(_num(v, default))


def search_text(code: str, name: str, field_name: str, field_code: str) -> str:
    """The folded text a procedure is found by, with abbreviations of long phrases."""
    base = " ".join(tokens(f"{code} {name} {field_code} {field_name}"))
    extra = [abbr for phrase, abbr in ABBREVIATIONS.items() if phrase in base]
    return " ".join([base, *extra])


def parse_lay_thu_tuc(doc) -> list[Procedure]:
    """Procedures from a ``LayThuTuc`` answer (wrapper or bare list); InvalidInput if malformed."""
    if isinstance(doc, dict):
        if str(doc.get("error_code", 0)) not in ("0", ""):
            raise InvalidInput(
                f"Tệp danh mục báo lỗi error_code={doc.get('error_code')}: {doc.get('message', '')}",
                f"The catalog file reports error_code={doc.get('error_code')}: {doc.get('message', '')}",
            )
        items = doc.get("result", doc.get("data"))
        if items is None and "MATTHC" in doc:
            items = [doc]
    else:
        items = doc
    if not isinstance(items, list):
        raise InvalidInput(
            "Tệp danh mục không đúng dạng LayThuTuc (cần danh sách thủ tục hoặc {\"result\": [...]}).",
            'The catalog file is not in the LayThuTuc shape (a list of procedures or {"result": [...]}).',
        )
    out = []
    for i, p in enumerate(items, 1):
        code = str(p.get("MATTHC", "")).strip()
        name = nfc(p.get("TENTTHC", ""))
        if not PROCEDURE_CODE.match(code) or not name:
            raise InvalidInput(
                f"Thủ tục thứ {i} trong tệp thiếu MATTHC dạng N.NNNNNN hoặc TENTTHC (MATTHC='{code}').",
                f"Procedure #{i} in the file lacks a MATTHC of the form N.NNNNNN or a TENTTHC (MATTHC='{code}').",
            )
        fields = p.get("LINHVUCTHUCHIEN") or [{}]
        limits, fees = {}, []
        for way in p.get("CACHTHUCTHUCHIEN") or []:
            kenh = str(way.get("KENH", "1")).strip() or "1"
            times = way.get("THOIGIAN") or []
            if not times:
                continue
            t0 = times[0]
            try:
                unit = normalize_unit(str(t0.get("DONVITINH", "Ngày làm việc")))
            except ValueError:
                raise InvalidInput(
                    f"Thủ tục {code}: đơn vị thời gian '{t0.get('DONVITINH')}' không hỗ trợ.",
                    f"Procedure {code}: time unit '{t0.get('DONVITINH')}' is not supported.",
                )
            limits.setdefault(kenh, {"value": _num(t0.get("THOIGIANGIAIQUYET")), "unit": unit,
                                     "description": nfc(t0.get("MOTA", ""))})
            if not any(f["channel"] == kenh for f in fees):  # each channel's own fees (issue 20)
                fees += [_fee(f, kenh) for f in (t0.get("PHILEPHI") or [])]
        comps, n = [], 0
        for case in p.get("THANHPHANHOSO") or []:
            for g in case.get("GIAYTO") or []:
                n += 1
                comps.append(Component(
                    n=n, name=nfc(g.get("TENGIAYTO", "")), code=str(g.get("MAGIAYTO", "")),
                    case_name=nfc(case.get("TRUONGHOP", "")),
                    originals=_int(g.get("SOBANCHINH"), 1), copies=_int(g.get("SOBANSAO"), 0),
                    form_name=nfc(g.get("TENMAUDON", "")), form_url=g.get("URL", "") or "",
                    required=str(g.get("BATBUOC", "1")) not in ("0", "False", "false"),
                ))
        extra = p.get("onestop") or {}
        out.append(Procedure(
            code=code, name=name,
            field_code=str(fields[0].get("MALINHVUC", "")), field_name=nfc(fields[0].get("TENLINHVUC", "")),
            level=str(p.get("CAPTHUCHIEN", "")), publisher=str(p.get("MACOQUANCONGBO", "")),
            limits=limits, fees=fees,
            results=[{"code": str(r.get("MAKETQUA", "")), "name": nfc(r.get("TENKETQUA", ""))}
                     for r in p.get("KETQUATHUCHIEN") or []],
            components=comps, status=str(p.get("TRANGTHAI", "")),
            next_day_after_cutoff=bool(extra.get("next_day_after_cutoff")),
            sample=bool(extra.get("sample")),
        ))
    return out


def import_file(db: Database, path: Path, *, source: str | None = None) -> int:
    """Upsert the procedures of a LayThuTuc JSON file; returns how many were imported."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise NotFound(f"Không tìm thấy tệp danh mục {path}.", f"Catalog file {path} not found.")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(
            f"Tệp {path} không phải JSON hợp lệ ({e}). Hãy xuất lại danh mục từ Cổng DVCQG.",
            f"File {path} is not valid JSON ({e}). Export the catalog again from the portal.",
        )
    procs = parse_lay_thu_tuc(doc)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with transaction(db):
        store.lock_for_import(db)
        for p in procs:
            store.replace_procedure(db, {
                "code": p.code, "name": p.name,
                "search_text": search_text(p.code, p.name, p.field_name, p.field_code),
                "field_code": p.field_code, "field_name": p.field_name, "level": p.level,
                "publisher": p.publisher, "limits": json.dumps(p.limits, ensure_ascii=False),
                "fees": json.dumps(p.fees, ensure_ascii=False),
                "results": json.dumps(p.results, ensure_ascii=False),
                "next_day_after_cutoff": int(p.next_day_after_cutoff), "status": p.status,
                "sample": int(p.sample), "source": source or str(path), "updated_at": now,
            }, [{"procedure_code": p.code, "n": c.n, "code": c.code, "name": c.name,
                 "case_name": c.case_name, "originals": c.originals, "copies": c.copies,
                 "form_name": c.form_name, "form_url": c.form_url, "required": int(c.required)}
                for c in p.components])
    return len(procs)


def ensure_loaded(db: Database, catalog_file: Path) -> None:
    """Load the configured catalog into an empty database (first run)."""
    if not store.has_procedures(db) and catalog_file.exists():
        import_file(db, catalog_file)


def _row_to_procedure(row: dict, comps: list[dict]) -> Procedure:
    return Procedure(
        code=row["code"], name=row["name"], field_code=row["field_code"], field_name=row["field_name"],
        level=row["level"], publisher=row["publisher"], limits=json.loads(row["limits"]),
        fees=json.loads(row["fees"]), results=json.loads(row["results"]),
        components=[Component(n=c["n"], name=c["name"], code=c["code"], case_name=c["case_name"],
                              originals=c["originals"], copies=c["copies"], form_name=c["form_name"],
                              form_url=c["form_url"], required=bool(c["required"])) for c in comps],
        next_day_after_cutoff=bool(row["next_day_after_cutoff"]), status=row["status"],
        sample=bool(row["sample"]),
    )


def get(db: Database, code: str) -> Procedure:
    """The procedure with this code; NotFound suggests close matches."""
    code = (code or "").strip()
    row = store.procedure_row(db, code)
    if row is None:
        hits = search(db, code, limit=3) if code else []
        hint_vi = (" Có phải: " + "; ".join(f"{h['code']} {h['name']}" for h in hits) + "?") if hits else ""
        hint_en = (" Did you mean: " + "; ".join(f"{h['code']} {h['name']}" for h in hits) + "?") if hits else ""
        raise NotFound(
            f"Không có thủ tục mã '{code}' trong danh mục.{hint_vi} Xem 'onestop procedures list'.",
            f"No procedure '{code}' in the catalog.{hint_en} See 'onestop procedures list'.",
        )
    return _row_to_procedure(row, store.components_of(db, code))


_TELEX_TONES = re.compile(r"(?<=[a-z])[sfrxj]$")


def _variants(tok: str) -> set[str]:
    """What a token may have meant when typed with a half-working input method:
    Telex residue (ddawng kys -> dang ky) and VNI digits (da8ng ky1 -> dang ky)."""
    v = {tok}
    if re.search(r"[a-z]\d|\d[a-z]", tok):
        v.add(re.sub(r"\d", "", tok))
    t = tok.replace("dd", "d").replace("aw", "a").replace("aa", "a").replace("ee", "e")
    t = t.replace("oo", "o").replace("ow", "o").replace("uw", "u")
    t2 = _TELEX_TONES.sub("", t) if len(t) > 2 else t
    v.update({t, t2, t2.replace("w", "")})
    return {x for x in v if x}


def _score(query_tokens: list[set[str]], text_tokens: list[str], fuzzy: bool) -> float:
    total = 0.0
    for variants in query_tokens:
        best = 0.0
        for w in text_tokens:
            for q in variants:
                if w == q:
                    best = 1.0
                elif len(q) >= 3 and w.startswith(q):
                    best = max(best, 0.9)
                elif fuzzy and len(q) >= 3 and abs(len(w) - len(q)) <= 2:
                    from difflib import SequenceMatcher  # only on the rare fuzzy pass

                    r = SequenceMatcher(None, q, w).ratio()
                    if r >= 0.75:
                        best = max(best, r * 0.9)
            if best == 1.0:
                break
        if best == 0.0:
            return 0.0
        total += best
    return total / len(query_tokens)


def _ranked(db: Database, query: str, field: str | None = None) -> list[tuple[float, float, dict]]:
    """(score, match, row) best first: ``match`` is how well the words match (0-1), ``score`` adds the
    tie-breakers (words in order at the start of the name, shorter names)."""
    # i/y are interchangeable in Vietnamese spelling (ký/kí): compare with y folded to i.
    qt = [{v.replace("y", "i") for v in _variants(t)} for t in tokens(query)]
    rows = store.search_rows(db, field, fold(field) if field else "")
    if not qt:
        return [(0.0, 0.0, r) for r in rows]
    for fuzzy in (False, True):
        scored = []
        phrase = " ".join(tokens(query))
        for r in rows:
            m = _score(qt, r["search_text"].replace("y", "i").split(), fuzzy)
            if m > 0:
                # Ties: prefer the words typed in order at the start of the name, then shorter names.
                name = fold(r["name"])
                s = m + 0.02 * name.startswith(phrase.split(" ")[0]) + 0.02 * (phrase in name) - len(name) / 1e5
                scored.append((s, m, r))
        if scored:
            scored.sort(key=lambda x: (-x[0], x[2]["code"]))
            return scored
    return []


def search(db: Database, query: str, *, limit: int = 20, field: str | None = None) -> list[dict]:
    """Procedures matching every word of ``query`` (no diacritics needed, typos forgiven), best first."""
    ranked = _ranked(db, query, field)
    if not tokens(query):
        rows = [r for _s, _m, r in ranked]
        return rows[:limit] if limit else rows
    return [dict(r, score=round(s, 3)) for s, _m, r in (ranked[:limit] if limit else ranked)]


# How much better the words must match the best procedure than any other for a script to take it
# (one word of three typed in full rather than as a prefix is 0.033; the tie-breakers never count).
SINGLE_OUT_MARGIN = 0.1


def single_out(db: Database, query: str, *, margin: float = SINGLE_OUT_MARGIN) -> str | None:
    """The code of the one procedure ``query``'s words single out; None when nothing matches at all.

    Singled out: the only match, a name typed in full (folded), or a match of the words clearly
    better than every other one (by ``margin``). Otherwise AmbiguousCode listing the close matches:
    a script never gets one of several close procedures picked for it (the ranking's tie-breakers
    help a person choosing from a list, not a script).
    """
    from onestop.common.errors import AmbiguousCode

    ranked = _ranked(db, query)
    if not ranked or not tokens(query):
        return None
    if len(ranked) == 1:
        return ranked[0][2]["code"]
    phrase = " ".join(tokens(query))
    named = [r for _s, _m, r in ranked if " ".join(tokens(r["name"])) == phrase]
    if len(named) == 1:
        return named[0]["code"]
    best = max(m for _s, m, _r in ranked)
    close = [r for _s, m, r in ranked if best - m < margin]
    if len(close) == 1:
        return close[0]["code"]
    shown = close[:9]
    listing = "; ".join(f"{r['code']} {r['name']}" for r in shown) + ("; …" if len(close) > len(shown) else "")
    raise AmbiguousCode(
        f"Từ khóa '{query}' khớp {len(close)} thủ tục gần như nhau: {listing}. Dùng mã thủ tục "
        f"(vd. -p {shown[0]['code']}), hoặc thêm từ khóa; hoặc chạy lệnh tại terminal để chọn.",
        f"The words '{query}' match {len(close)} procedures about equally: {listing}. Use the procedure code "
        f"(e.g. -p {shown[0]['code']}), or more words; or run the command at a terminal to choose.",
        candidates=[r["code"] for r in close])

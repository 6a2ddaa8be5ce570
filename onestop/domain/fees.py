"""Money rules of the fee ledger (issue 20): pure, no store, clock or config.

Amounts are integers in đồng, never floats. A dossier's *dues* are one item per fee (``n``, ``code``,
``name``, ``kind`` "phi" | "le_phi", ``amount`` due, ``catalog_amount``, ``exempt_reason``); its
*entries* are the ledger lines (``fee_n``, ``entry`` "payment" | "refund", ``method``, ``amount`` > 0).
What is paid, outstanding and refunded is always computed from the entries, never stored.
"""

from __future__ import annotations

import re

from onestop.common.errors import InvalidInput

# method -> (Vietnamese, English, HinhThucThu code sent to the ministry; docs/sync.md: uncertain)
METHODS = {
    "tien-mat": ("Tiền mặt", "Cash", "1"),
    "chuyen-khoan": ("Chuyển khoản", "Bank transfer", "2"),
    "truc-tuyen": ("Trực tuyến", "Online", "3"),
}
KINDS = {"phi": ("Phí", "Fee"), "le_phi": ("Lệ phí", "Charge")}
COLLECT = ("truoc", "sau")  # [fees] collect: before processing (status 6 until paid) or at result time

_THOUSANDS = re.compile(r"^\d{1,3}(?:[.,\s]\d{3})+$")
_DECIMAL = re.compile(r"^(\d+)[.,](\d{1,2})$")  # "500000.0" as a float was once written
_MAX = 10**13  # ten thousand billion đồng: more is a typing error


def parse_amount(value) -> int | None:
    """A catalog amount (``SOTIEN``) in đồng; None when the catalog leaves it open ("theo quy định",
    a range "50.000 - 100.000", empty)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(round(value)) if value >= 0 and value == int(value) else None
    text = re.sub(r"(?i)\s*(đồng|vnđ|vnd|đ)\s*$", "", str(value or "").strip())
    if text.isdigit():
        return int(text)
    if _THOUSANDS.match(text):
        return int(re.sub(r"[.,\s]", "", text))
    m = _DECIMAL.match(text)
    if m and int(m.group(2)) == 0:
        return int(m.group(1))
    return None


# A catalog amount that is only a floor or an example: the description sets the fee by a rate, a
# minimum and a maximum, or per item ("0,1% tổng giá trị hợp đồng, tối thiểu 3.000.000 đồng").
_VARIES = re.compile(r"%|tối thiểu|tối đa|\bmỗi\b|\btừ\b.*\bđến\b|theo giá trị", re.IGNORECASE)


def varies(fee: dict) -> bool:
    """True when ``fee`` has a catalog amount but its description makes the real amount depend on the
    dossier (a rate, a floor and a ceiling, per item): the officer confirms or gives it."""
    return parse_amount(fee.get("amount")) is not None and bool(_VARIES.search(str(fee.get("name") or "")))


def money_input(text: str, what_vi: str = "Số tiền", what_en: str = "The amount") -> int:
    """An amount the officer typed ("1.500.000", "1500000", "1 500 000 đ"): InvalidInput when it is
    not a whole number of đồng."""
    amount = parse_amount(str(text).strip()) if str(text).strip() else None
    if amount is None or amount > _MAX:
        raise InvalidInput(
            f"{what_vi} '{text}' không hợp lệ: nhập số đồng nguyên, vd. 1500000 hoặc 1.500.000.",
            f"{what_en} '{text}' is invalid: give whole đồng, e.g. 1500000 or 1.500.000.")
    return amount


def fee_kind(name: str, code: str = "") -> str:
    """phí or lệ phí, from the catalog's words (LoaiPhiLePhi "1" / "2")."""
    n = (name or "").strip().lower()
    if n.startswith("lệ phí") or (code or "").upper().startswith("LEPHI"):
        return "le_phi"
    return "phi"


def kind_code(kind: str) -> str:
    """``LoaiPhiLePhi``: "1" phí, "2" lệ phí."""
    return "2" if kind == "le_phi" else "1"


def check_method(method: str) -> str:
    m = (method or "").strip().lower().replace("_", "-")
    if m not in METHODS:
        raise InvalidInput(f"Hình thức thu '{method}' không hợp lệ. Dùng: {', '.join(METHODS)}.",
                           f"Payment method '{method}' is invalid. Use: {', '.join(METHODS)}.")
    return m


def parse_receipt(text: str) -> tuple[str, str, str]:
    """``"mẫu số/ký hiệu/số"`` of an official receipt -> (series, number, as printed). The series is the
    form number and symbol (upper case, no spaces); the number loses its leading zeros, so "0000123"
    and "123" of one book are the same receipt."""
    printed = " ".join(str(text or "").split())
    parts = [p.strip() for p in printed.split("/")]
    if len(parts) < 3 or not all(parts) or not parts[-1].isdigit() or int(parts[-1]) == 0 or len(printed) > 80:
        raise InvalidInput(
            f"Số biên lai '{printed}' không đúng dạng \"mẫu số/ký hiệu/số\" (vd. \"01BLP2-001/AA-26P/0000123\").",
            f"Receipt '{printed}' is not in the form \"form number/symbol/number\" (e.g. \"01BLP2-001/AA-26P/0000123\").")
    series = "/".join(p.replace(" ", "").upper() for p in parts[:-1])
    return series, str(int(parts[-1])), printed


def fee_state(dues: list[dict], entries: list[dict]) -> list[dict]:
    """Each due with ``paid`` (payments minus refunds), ``refunded``, ``outstanding``, and the
    ``methods`` and ``receipts`` of its payments, in due order."""
    out = []
    for f in dues:
        mine = [e for e in entries if e["fee_n"] == f["n"]]
        paid = sum(e["amount"] for e in mine if e["entry"] == "payment")
        refunded = sum(e["amount"] for e in mine if e["entry"] == "refund")
        out.append(dict(f, paid=paid - refunded, refunded=refunded, outstanding=max(f["amount"] - (paid - refunded), 0),
                        methods=sorted({e["method"] for e in mine if e["entry"] == "payment"}),
                        receipts=[e["receipt"] for e in mine if e["entry"] == "payment" and e.get("receipt")]))
    return out


class Refused(Exception):
    """A payment or refund the rules refuse: ``why`` is "overpay", "paid", "refund_too_large", "nothing_paid"."""

    def __init__(self, why: str, limit: int):
        self.why, self.limit = why, limit
        super().__init__(why)


def _allocate(state: list[dict], amount: int | None, fee_n: int | None, *, key: str, last_first: bool,
              none: str, too_much: str, positive: InvalidInput) -> list[tuple[int, int]]:
    """Split ``amount`` over the fees' ``key`` (what is outstanding, or what was paid) in order, or
    the last fee first: [(n, part)]. None takes it all."""
    fees = [f for f in state if fee_n is None or f["n"] == fee_n]
    room = sum(f[key] for f in fees)
    if room == 0:
        raise Refused(none, 0)
    if amount is None:
        amount = room
    if amount <= 0:
        raise positive
    if amount > room:
        raise Refused(too_much, room)
    out = []
    for f in reversed(fees) if last_first else fees:
        part = min(f[key], amount)
        if part:
            out.append((f["n"], part))
            amount -= part
    return out


def allocate_payment(state: list[dict], amount: int | None, fee_n: int | None = None) -> list[tuple[int, int]]:
    """Split a payment over the fees still outstanding, in order (or onto fee ``fee_n``):
    [(n, part)]. ``amount`` None pays everything outstanding. Refused: nothing outstanding ("paid"),
    more than outstanding ("overpay")."""
    return _allocate(state, amount, fee_n, key="outstanding", last_first=False, none="paid", too_much="overpay",
                     positive=InvalidInput("Số tiền phải lớn hơn 0.", "The amount must be greater than 0."))


def allocate_refund(state: list[dict], amount: int | None, fee_n: int | None = None) -> list[tuple[int, int]]:
    """Split a refund over what was paid, the last fee first: [(n, part)]. None refunds all paid.
    Refused: nothing paid ("nothing_paid"), more than paid ("refund_too_large")."""
    return _allocate(state, amount, fee_n, key="paid", last_first=True, none="nothing_paid",
                     too_much="refund_too_large",
                     positive=InvalidInput("Số tiền hoàn phải lớn hơn 0.", "The refund must be greater than 0."))


def online_flag(entries: list[dict]) -> str:
    """``DuocThanhToanTrucTuyen``: "1" paid on the national portal, "2" through the ministry's payment
    gateway (an online payment taken at the counter counts here), "3" not paid online."""
    online = [e.get("online") or "2" for e in entries if e["entry"] == "payment" and e["method"] == "truc-tuyen"]
    if "1" in online:
        return "1"
    return "2" if online else "3"


def ministry_items(dues: list[dict], entries: list[dict], codes: dict[str, str] | None = None) -> list[dict]:
    """``DanhSachLePhi``: one item per fee, ``Gia`` the amount due in whole đồng as a string ("0" when
    exempt), ``HinhThucThu`` the method of its payments ("" while unpaid; docs/sync.md). ``codes``:
    the ministry's code per method where it differs from METHODS' (``[sync] payment_codes``)."""
    out = []
    for f in fee_state(dues, entries):
        methods = f["methods"]
        method = "" if not methods else "truc-tuyen" if "truc-tuyen" in methods else methods[0]
        how = "" if not method else (codes or {}).get(method) or METHODS[method][2]
        out.append({"TenPhiLePhi": f["name"], "MaPhiLePhi": f["code"], "HinhThucThu": how,
                    "Gia": str(int(f["amount"])), "LoaiPhiLePhi": kind_code(f["kind"])})
    return out

"""Phone numbers: the Vietnamese numbering (mobile prefixes, landline area codes, +84) and the
number as stored (``parse_phone``, ``normalize_phone``). Pure: no I/O, no clock.

A rejection raises :class:`~onestop.domain.identifiers.InvalidId` with what is wrong and an example.
"""

from __future__ import annotations

import re
import unicodedata

from onestop.domain.identifiers import InvalidId, ascii_digits

__all__ = ["LANDLINE_PREFIX", "MOBILE_PREFIXES", "normalize_phone", "parse_phone"]


def normalize_phone(raw: str | None) -> str:
    """A phone number as stored: ASCII digits (full-width and other scripts' digits converted)
    and a leading "+"; spaces, dots, dashes and brackets dropped."""
    s = ascii_digits(unicodedata.normalize("NFKC", raw or "")).strip()
    digits = "".join(ch for ch in s if "0" <= ch <= "9")
    return ("+" + digits) if s.startswith("+") else digits


# Vietnamese numbering (QĐ 798/QĐ-BTTTT, 2018: mobiles moved to 10 digits; landlines to 0 + 2x area
# codes, 11 digits, in 2017). Mobile numbers start with one of these prefixes (operators' ranges
# 032-039, 052-059, 070-079, 081-089, 090-099); a new range opened by the ministry is added here.
MOBILE_PREFIXES = ("03", "05", "07", "08", "09")
LANDLINE_PREFIX = "02"      # 0 + area code 2x (024 Hà Nội, 028 TP HCM, 0221 Hưng Yên…)
MOBILE_DIGITS, LANDLINE_DIGITS = 10, 11


def parse_phone(raw: str | None, *, mobile_prefixes: tuple[str, ...] = MOBILE_PREFIXES) -> str:
    """A phone number checked against the Vietnamese numbering and normalised; "" when empty.

    Mobiles: 10 digits with a mobile prefix (``0912345678``); landlines: 11 digits starting with an
    area code 02x (``02213567890``); ``+84``/``0084`` + the number without its 0 is the same number
    (stored as ``0912345678``); a foreign number keeps ``+`` and its country code (8-15 digits, E.164).
    InvalidId with what is wrong and an example otherwise.
    """
    s = normalize_phone(raw)
    text = (raw or "").strip()
    if not s:
        if text:
            raise _phone_error(text, "không có chữ số nào", "has no digits")
        return ""
    folded = ascii_digits(unicodedata.normalize("NFKC", text))
    if re.search(r"[^0-9\s.\-()+]", folded) or "+" in folded.lstrip("+ "):
        raise _phone_error(text, "có ký tự không phải chữ số", "holds characters that are not digits")
    if s.startswith("00") and s[2:3] not in ("", "0"):  # the international call prefix typed instead of +
        s = "+" + s[2:]
    if s.startswith("+84"):
        s = "0" + s[3:]
    elif s.startswith("+"):
        if 8 <= len(s) - 1 <= 15 and s[1] != "0":
            return s
        raise _phone_error(text, f"số nước ngoài có {len(s) - 1} chữ số (cần 8 đến 15, gồm mã quốc gia)",
                           f"a foreign number has {len(s) - 1} digits (8 to 15 needed, country code included)")
    if not s.startswith("0"):
        raise _phone_error(text, "không bắt đầu bằng 0 (hoặc +84, + mã quốc gia)",
                           "does not start with 0 (or +84, + a country code)")
    if s.startswith(LANDLINE_PREFIX):
        if len(s) == LANDLINE_DIGITS:
            return s
        raise _phone_error(text, f"số cố định có {len(s)} chữ số (cần {LANDLINE_DIGITS}, gồm mã vùng 02x)",
                           f"a landline has {len(s)} digits ({LANDLINE_DIGITS} needed, area code 02x included)")
    if s.startswith(tuple(mobile_prefixes)):
        if len(s) == MOBILE_DIGITS:
            return s
        raise _phone_error(text, f"số di động có {len(s)} chữ số (cần {MOBILE_DIGITS})",
                           f"a mobile number has {len(s)} digits ({MOBILE_DIGITS} needed)")
    raise _phone_error(text, f"đầu số {s[:3]} không phải đầu số di động ({', '.join(mobile_prefixes)}) hay mã vùng 02x",
                       f"prefix {s[:3]} is neither a mobile prefix ({', '.join(mobile_prefixes)}) nor an area code 02x")


def _phone_error(shown: str, why_vi: str, why_en: str) -> InvalidId:
    shown = "".join(ch if ch.isprintable() else "?" for ch in shown)
    return InvalidId(
        f"Số điện thoại '{shown}' không hợp lệ: {why_vi}. Số di động: 10 chữ số (vd. 0912 345 678); số cố định: "
        f"11 chữ số với mã vùng (vd. 024 3825 1234); số nước ngoài: + và mã quốc gia (vd. +33 1 23 45 67 89).",
        f"Phone number '{shown}' is invalid: {why_en}. Mobile: 10 digits (e.g. 0912 345 678); landline: 11 digits "
        f"with the area code (e.g. 024 3825 1234); foreign: + and the country code (e.g. +33 1 23 45 67 89).")

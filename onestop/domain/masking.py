"""Masking of ID and phone numbers for output and logs (``mask_id``, ``mask_phone``), and of every
such number inside free text (``mask_numbers_in_text``: search snippets, sync logs, server messages).
Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata

from onestop.domain.identifiers import ascii_digits, compact

__all__ = ["mask_id", "mask_numbers_in_text", "mask_phone"]


def mask_id(number: str) -> str:
    """Mask an ID for logs and supervisor output: only the last 3 characters stay.

    Separators are dropped first; a value of 3 characters or fewer is fully masked.
    """
    s = compact(number or "")
    if len(s) <= 3:
        return "*" * len(s)
    return "*" * (len(s) - 3) + s[-3:]


def mask_phone(phone: str) -> str:
    """Mask a phone number: first 3 and last 2 characters stay ("090*****67")."""
    s = re.sub(r"[\s.\-()]+", "", ascii_digits(unicodedata.normalize("NFKC", phone or "")))
    if len(s) <= 5:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


# An ID or phone number inside free text (OCR pages, the ministry's messages, logs): 9 to 12 digits,
# optionally "+84", optionally grouped by single spaces, dots or dashes ("0966 555 444", "0966-555-444",
# "001-085-066-666"). Not inside a longer run of letters/digits (sha256, yyyyMMddHHmmss dates stay), nor
# after a dash (a dossier code's "-261122-0007" tail), nor a host in a URL ("//192.168.100.200:8443/"):
# a log must still say where it sent.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.+/@-])(\+?\d(?:[ .-]?\d){8,11})(?![\w]|[.-]\d|:\d)")


def _mask_found(m: re.Match) -> str:
    raw = m.group(1)
    digits = re.sub(r"\D", "", raw)
    phone = (digits.startswith("0") and len(digits) in (10, 11)) or (raw.startswith("+84") or (
        digits.startswith("84") and len(digits) == 11))
    return mask_phone(raw) if phone else mask_id(digits)


def mask_numbers_in_text(text) -> str:
    """``text`` with every ID-like or phone-like number masked as ``mask_id``/``mask_phone`` do
    (digits normalised first). The one masker of free text: search snippets, sync logs and errors."""
    s = unicodedata.normalize("NFKC", str(text if text is not None else ""))
    return _NUMBER_IN_TEXT.sub(_mask_found, s)

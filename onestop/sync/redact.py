"""Mask ID and phone numbers in free text before it reaches a log, the database or the screen.

The ministry's messages may quote the citizen ("CCCD 001085066666, ĐT 0966555444"); sync.log,
``outbox.last_error`` and the run summary keep only the masked form (docs/sync.md, personal data).
"""

from __future__ import annotations

import logging
import re
import unicodedata

# 9 to 12 digits, optionally "+84", optionally grouped by single spaces or dots ("0966 555 444").
# Not inside a longer run of letters/digits (sha256, dossier codes, yyyyMMddHHmmss dates stay),
# nor a host in a URL ("//192.168.100.200:8443/"): the log must still say where it sent.
_NUMBER = re.compile(r"(?<![\w.+/@])(\+?\d(?:[ .]?\d){8,11})(?![\w]|\.\d|:\d)")


def _mask(m: re.Match) -> str:
    from onestop.identifiers import mask_id, mask_phone

    raw = m.group(1)
    digits = re.sub(r"\D", "", raw)
    phone = (digits.startswith("0") and len(digits) in (10, 11)) or (raw.startswith("+84") or (
        digits.startswith("84") and len(digits) == 11))
    return mask_phone(raw) if phone else mask_id(digits)


def redact(text) -> str:
    """``text`` with every ID-like or phone-like number masked (digits normalised first)."""
    s = unicodedata.normalize("NFKC", str(text if text is not None else ""))
    return _NUMBER.sub(_mask, s)


class RedactFilter(logging.Filter):
    """A log filter that masks the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a bad format string: keep the record, masked as text
            msg = f"{record.msg} {record.args}"
        record.msg, record.args = redact(msg), None
        return True

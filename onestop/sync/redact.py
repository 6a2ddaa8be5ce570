"""Mask ID and phone numbers in free text before it reaches a log, the database or the screen.

The ministry's messages may quote the citizen ("CCCD 001085066666, ĐT 0966555444"); sync.log,
``outbox.last_error`` and the run summary keep only the masked form (docs/sync.md, personal data).
"""

from __future__ import annotations

import logging


def redact(text) -> str:
    """``text`` with every ID-like or phone-like number masked (domain/masking.py)."""
    from onestop.domain.masking import mask_numbers_in_text

    return mask_numbers_in_text(text)


class RedactFilter(logging.Filter):
    """A log filter that masks the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a bad format string: keep the record, masked as text
            msg = f"{record.msg} {record.args}"
        record.msg, record.args = redact(msg), None
        return True

"""The chip ID card's QR line as a hand scanner types it (``parse_chip_qr``):
``CCCD|old CMND|full name|birth ddMMyyyy|sex|address|issue ddMMyyyy``, checked against the CCCD
number it carries. Pure: no I/O, no clock (the current year comes in as ``today_year``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from onestop.domain.identifiers import InvalidId, compact, is_digits, parse_id

__all__ = ["ChipCardQR", "InvalidId", "parse_chip_qr"]  # InvalidId: what parse_chip_qr raises


@dataclass(frozen=True)
class ChipCardQR:
    cccd: str
    old_cmnd: str  # "" when the card carries none
    name: str
    birth_date: date | None
    sex: str  # "M" / "F"
    address: str
    issue_date: date | None


_QR_FIELDS = 7

_SEX_WORDS = {
    "nam": "M",
    "m": "M",
    "male": "M",
    "nữ": "F",
    "nu": "F",
    "f": "F",
    "female": "F",
}


def _qr_error(vi: str, en: str) -> InvalidId:
    return InvalidId(f"Mã QR trên thẻ CCCD: {vi}", f"Chip ID card QR: {en}")


def _parse_qr_date(field: str, label_vi: str, label_en: str) -> date | None:
    s = re.sub(r"[\s/.\-]", "", field)
    if not s:
        return None
    if re.fullmatch(r"[0-9]{4}", s):
        return None  # year only: people whose day/month of birth is unknown
    if not re.fullmatch(r"[0-9]{8}", s):
        raise _qr_error(
            f"{label_vi} '{field}' phải có dạng ngày-tháng-năm ddMMyyyy; hãy quét lại mã QR.",
            f"{label_en} '{field}' must be ddMMyyyy; scan the QR code again.",
        )
    day, month, year = int(s[:2]), int(s[2:4]), int(s[4:])
    if day == 0 or month == 0:
        return None  # day/month unknown on the record
    try:
        return date(year, month, day)
    except ValueError:
        raise _qr_error(
            f"{label_vi} '{field}' không phải ngày có thật; hãy quét lại mã QR.",
            f"{label_en} '{field}' is not a real date; scan the QR code again.",
        ) from None


def parse_chip_qr(line: str, *, today_year: int | None = None) -> ChipCardQR:
    """Parse the chip ID card QR as a hand scanner types it.

    ``CCCD|old CMND|full name|birth ddMMyyyy|sex|address|issue ddMMyyyy``; text is
    NFC-normalized, a trailing newline and extra trailing fields are ignored, the
    old CMND may be empty. Sex comes back as "M"/"F". The CCCD is checked with
    :func:`parse_id` and must agree with the birth date and sex fields.
    Raises :class:`InvalidId`.
    """
    text = unicodedata.normalize("NFC", line or "").strip().lstrip("\ufeff").strip()
    fields = [f.strip() for f in text.split("|")]
    if not text or len(fields) < _QR_FIELDS:
        raise _qr_error(
            f"cần {_QR_FIELDS} trường ngăn cách bởi dấu '|' (số CCCD|CMND cũ|họ tên|"
            f"ngày sinh|giới tính|địa chỉ|ngày cấp), chỉ đọc được {len(fields) if text else 0}; "
            "hãy quét lại mã QR hoặc nhập tay.",
            f"expected {_QR_FIELDS} fields separated by '|' (CCCD|old CMND|name|birth date|"
            f"sex|address|issue date), got {len(fields) if text else 0}; scan the QR code "
            "again or type the data in.",
        )
    raw_cccd, raw_cmnd, raw_name, raw_birth, raw_sex, address, raw_issue = fields[:_QR_FIELDS]

    try:
        applicant = parse_id(raw_cccd, "cccd", today_year=today_year)
    except InvalidId as exc:
        raise _qr_error(exc.message_vi, exc.message_en) from None

    old_cmnd = compact(raw_cmnd)
    if old_cmnd and not (is_digits(old_cmnd) and len(old_cmnd) in (9, 12)):
        raise _qr_error(
            f"số CMND cũ '{raw_cmnd}' phải gồm 9 (hoặc 12) chữ số; hãy quét lại mã QR.",
            f"old CMND '{raw_cmnd}' must be 9 (or 12) digits; scan the QR code again.",
        )

    name = " ".join(raw_name.split())
    if not name:
        raise _qr_error(
            "thiếu họ tên; hãy quét lại mã QR hoặc nhập tay.",
            "the full name is missing; scan the QR code again or type it in.",
        )

    birth_date = _parse_qr_date(raw_birth, "ngày sinh", "birth date")
    birth_digits = re.sub(r"[^0-9]", "", raw_birth)
    birth_year = int(birth_digits[-4:]) if len(birth_digits) in (4, 8) else None
    if birth_year is not None and birth_year != applicant.birth_year:
        raise _qr_error(
            f"năm sinh {birth_year} không khớp với số CCCD (mã hóa năm {applicant.birth_year}); "
            "mã QR bị đọc sai, hãy quét lại.",
            f"birth year {birth_year} does not match the CCCD number (which encodes "
            f"{applicant.birth_year}); the QR was misread, scan it again.",
        )

    if raw_sex:
        sex = _SEX_WORDS.get(raw_sex.lower())
        if sex is None:
            raise _qr_error(
                f"giới tính '{raw_sex}' không rõ (phải là 'Nam' hoặc 'Nữ'); hãy quét lại mã QR.",
                f"sex '{raw_sex}' is not 'Nam' or 'Nữ'; scan the QR code again.",
            )
        if sex != applicant.sex:
            raise _qr_error(
                f"giới tính '{raw_sex}' không khớp với chữ số thứ 4 của số CCCD; "
                "mã QR bị đọc sai, hãy quét lại.",
                f"sex '{raw_sex}' does not match the 4th digit of the CCCD number; "
                "the QR was misread, scan it again.",
            )
    else:
        sex = applicant.sex or ""

    issue_date = _parse_qr_date(raw_issue, "ngày cấp", "issue date")
    if issue_date is not None and birth_date is not None and issue_date < birth_date:
        raise _qr_error(
            f"ngày cấp {issue_date:%d/%m/%Y} trước ngày sinh {birth_date:%d/%m/%Y}; "
            "hãy quét lại mã QR.",
            f"issue date {issue_date:%d/%m/%Y} is before birth date "
            f"{birth_date:%d/%m/%Y}; scan the QR code again.",
        )

    return ChipCardQR(
        cccd=applicant.number,
        old_cmnd=old_cmnd,
        name=name,
        birth_date=birth_date,
        sex=sex,
        address=" ".join(address.split()),
        issue_date=issue_date,
    )

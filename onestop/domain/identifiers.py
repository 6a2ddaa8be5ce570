"""Applicant identifiers: CCCD, old CMND, business/tax code (MST), passport (``parse_id``).

Pure functions over strings (no I/O, no clock): the current year comes in as
``today_year``. See DOMAIN.md §7 for the rules. Beside it in onestop/domain/: phone numbers
(``phones.py``), the chip card's QR line (``chip_qr.py``), masking for output and logs
(``masking.py``).

Every rejection raises :class:`InvalidId` carrying a Vietnamese and an English
sentence that names the problem and says what to do next.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "ID_TYPES",
    "PROVINCE_CODES",
    "ApplicantId",
    "InvalidId",
    "ascii_digits",
    "compact",
    "mst_check_digit",
    "parse_id",
]

ID_TYPES = ("cccd", "cmnd", "mst", "passport")

# 3-digit birth-registration province codes of the personal ID number
# (TT 07/2016/TT-BCA list; unchanged by the 2025 province mergers, so the names
# are the pre-merger ones the code was issued under).
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "TP Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

_MST_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)

_DIGITS = re.compile(r"[0-9]+")
_PASSPORT = re.compile(r"[A-Z0-9]+")
# Separators a clerk or a printed card may put inside a number.
_SEPARATORS = re.compile(r"[\s.]+")


class InvalidId(ValueError):
    """An identifier that cannot be accepted.

    ``message_vi`` / ``message_en`` say what is wrong and what to do; ``str()``
    gives the Vietnamese text (what the counter clerk reads).
    """

    def __init__(self, message_vi: str, message_en: str):
        super().__init__(message_vi)
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True)
class ApplicantId:
    id_type: str  # one of ID_TYPES
    number: str  # normalized form
    applicant_type: str  # "1" citizen, "2" business
    province: str | None = None  # cccd only
    birth_year: int | None = None  # cccd only
    sex: str | None = None  # cccd only: "M" / "F"


# --------------------------------------------------------------------------
# helpers


def ascii_digits(text: str) -> str:
    """Decimal digits of any script (Arabic-Indic ٠١٢, Devanagari…) as ASCII 0-9; the meaning is
    certain, and a number stored in another script would not match, mask or sync."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None else ch for ch in text)


def compact(raw: str) -> str:
    """An ID number as typed, made comparable: NFKC, ASCII digits, spaces and dots dropped."""
    # NFKC folds full-width digits/letters an IME may produce into ASCII.
    text = ascii_digits(unicodedata.normalize("NFKC", raw))
    return _SEPARATORS.sub("", text)


def is_digits(s: str) -> bool:
    """Only ASCII digits 0-9 (at least one)."""
    return _DIGITS.fullmatch(s) is not None


def mst_check_digit(first9: str) -> int | None:
    """Check digit for the first 9 digits of an MST; None if no digit can be valid."""
    total = sum(w * int(d) for w, d in zip(_MST_WEIGHTS, first9, strict=True))
    check = 10 - total % 11
    return None if check == 10 else check


# --------------------------------------------------------------------------
# per-type parsers (input already compacted)


def _parse_cccd(s: str, today_year: int | None) -> ApplicantId:
    if not is_digits(s):
        raise InvalidId(
            f"Số CCCD/định danh cá nhân '{s}' chỉ được gồm chữ số (0-9); "
            "hãy nhập lại đúng 12 chữ số in trên thẻ.",
            f"CCCD number '{s}' must contain digits 0-9 only; "
            "re-enter the 12 digits printed on the card.",
        )
    if len(s) != 12:
        hint_vi = hint_en = ""
        if len(s) == 9:
            hint_vi = " Nếu là CMND cũ 9 số, hãy chọn --id-type cmnd."
            hint_en = " If this is an old 9-digit CMND, use --id-type cmnd."
        raise InvalidId(
            f"Số CCCD phải có đúng 12 chữ số, số đã nhập có {len(s)} chữ số; "
            f"hãy kiểm tra lại trên thẻ.{hint_vi}",
            f"A CCCD number has exactly 12 digits, this one has {len(s)}; "
            f"check it against the card.{hint_en}",
        )
    code = s[:3]
    province = PROVINCE_CODES.get(code)
    if province is None:
        raise InvalidId(
            f"Mã tỉnh nơi đăng ký khai sinh '{code}' (3 số đầu của CCCD) không tồn tại; "
            "hãy kiểm tra lại 3 chữ số đầu trên thẻ.",
            f"Province code '{code}' (first 3 digits of the CCCD) does not exist; "
            "check the first 3 digits on the card.",
        )
    century_digit = int(s[3])
    if century_digit > 5:
        raise InvalidId(
            f"Chữ số thứ 4 của CCCD (mã thế kỷ và giới tính) là {century_digit}, "
            "chỉ được từ 0 đến 5; hãy kiểm tra lại số trên thẻ.",
            f"The 4th digit of the CCCD (century and sex code) is {century_digit}, "
            "it must be 0 to 5; check the number on the card.",
        )
    birth_year = 1900 + 100 * (century_digit // 2) + int(s[4:6])
    if today_year is not None and birth_year > today_year:
        raise InvalidId(
            f"Năm sinh suy ra từ CCCD là {birth_year}, sau năm hiện tại {today_year}; "
            "hãy kiểm tra lại chữ số thứ 4 đến thứ 6 trên thẻ.",
            f"The CCCD gives birth year {birth_year}, which is after the current year "
            f"{today_year}; check digits 4 to 6 on the card.",
        )
    return ApplicantId(
        id_type="cccd",
        number=s,
        applicant_type="1",
        province=province,
        birth_year=birth_year,
        sex="M" if century_digit % 2 == 0 else "F",
    )


def _parse_cmnd(s: str) -> ApplicantId:
    if not is_digits(s):
        raise InvalidId(
            f"Số CMND '{s}' chỉ được gồm chữ số (0-9); hãy nhập lại đúng 9 chữ số trên giấy CMND.",
            f"CMND number '{s}' must contain digits 0-9 only; "
            "re-enter the 9 digits on the ID card.",
        )
    if len(s) != 9:
        hint_vi = hint_en = ""
        if len(s) == 12:
            hint_vi = " Nếu là CCCD 12 số, hãy chọn --id-type cccd."
            hint_en = " If this is a 12-digit CCCD, use --id-type cccd."
        raise InvalidId(
            f"Số CMND phải có đúng 9 chữ số, số đã nhập có {len(s)} chữ số; "
            f"hãy kiểm tra lại trên giấy CMND.{hint_vi}",
            f"A CMND number has exactly 9 digits, this one has {len(s)}; "
            f"check it against the ID card.{hint_en}",
        )
    return ApplicantId(id_type="cmnd", number=s, applicant_type="1")


def _parse_mst(s: str) -> ApplicantId:
    digits = s.replace("-", "")
    if not is_digits(digits):
        raise InvalidId(
            f"Mã số doanh nghiệp/thuế '{s}' chỉ được gồm chữ số và một dấu '-' trước "
            "mã chi nhánh; hãy nhập dạng 0100233488 hoặc 0100233488-001.",
            f"Business/tax code '{s}' may contain only digits and one '-' before the "
            "branch number; enter it as 0100233488 or 0100233488-001.",
        )
    if len(digits) not in (10, 13):
        raise InvalidId(
            f"Mã số doanh nghiệp/thuế phải có 10 chữ số (hoặc 13 chữ số với chi nhánh, "
            f"dạng 0100233488-001), số đã nhập có {len(digits)} chữ số; "
            "hãy kiểm tra lại trên giấy chứng nhận đăng ký doanh nghiệp.",
            f"A business/tax code has 10 digits (13 for a branch, as 0100233488-001), "
            f"this one has {len(digits)}; check it against the business registration "
            "certificate.",
        )
    if digits[2:9] == "0000000":
        raise InvalidId(
            f"Mã số doanh nghiệp/thuế '{s}' không hợp lệ: số thứ tự (chữ số 3 đến 9) "
            "không thể toàn là 0; hãy kiểm tra lại trên giấy chứng nhận.",
            f"Business/tax code '{s}' is invalid: the serial part (digits 3 to 9) "
            "cannot be all zeros; check it against the certificate.",
        )
    if len(digits) == 13 and digits[10:] == "000":
        raise InvalidId(
            f"Mã chi nhánh '000' trong mã số '{s}' không hợp lệ (chi nhánh đánh số "
            "từ 001 đến 999); nếu là trụ sở chính, chỉ nhập 10 chữ số đầu.",
            f"Branch number '000' in '{s}' is invalid (branches are numbered 001 to "
            "999); for the head office enter only the first 10 digits.",
        )
    if mst_check_digit(digits[:9]) != int(digits[9]):
        # Do not reveal the expected digit: "fixing" the last digit would hide a
        # typo elsewhere in the number.
        raise InvalidId(
            f"Mã số doanh nghiệp/thuế '{s}' sai chữ số kiểm tra (chữ số thứ 10): "
            "có chữ số bị nhập nhầm; hãy đối chiếu lại từng chữ số với giấy chứng nhận.",
            f"Business/tax code '{s}' fails its check digit (10th digit): a digit was "
            "mistyped; compare every digit with the certificate.",
        )
    number = digits if len(digits) == 10 else f"{digits[:10]}-{digits[10:]}"
    return ApplicantId(id_type="mst", number=number, applicant_type="2")


def _parse_passport(s: str) -> ApplicantId:
    s = s.upper()
    if _PASSPORT.fullmatch(s) is None:
        raise InvalidId(
            f"Số hộ chiếu '{s}' chỉ được gồm chữ cái Latinh không dấu (A-Z) và chữ số; "
            "hãy nhập lại đúng như trên trang thông tin của hộ chiếu.",
            f"Passport number '{s}' may contain only letters A-Z and digits; "
            "re-enter it exactly as on the passport data page.",
        )
    if not 6 <= len(s) <= 9:
        raise InvalidId(
            f"Số hộ chiếu phải có từ 6 đến 9 ký tự (hộ chiếu Việt Nam: 1 chữ cái và "
            f"7 chữ số, ví dụ C1234567), số đã nhập có {len(s)} ký tự; hãy kiểm tra lại.",
            f"A passport number has 6 to 9 characters (Vietnamese passports: 1 letter "
            f"and 7 digits, e.g. C1234567), this one has {len(s)}; check it again.",
        )
    if not any(c.isdigit() for c in s):
        raise InvalidId(
            f"Số hộ chiếu '{s}' không có chữ số nào; hãy nhập lại đúng như trên hộ chiếu.",
            f"Passport number '{s}' contains no digit; re-enter it as on the passport.",
        )
    return ApplicantId(id_type="passport", number=s, applicant_type="1")


def _detect_type(s: str) -> str:
    if re.fullmatch(r"[0-9]{12}", s):
        return "cccd"
    if re.fullmatch(r"[0-9]{9}", s):
        return "cmnd"
    if re.fullmatch(r"[0-9]{10}(-[0-9]{3})?", s):
        return "mst"
    if re.fullmatch(r"[0-9]{13}", s):
        # Ambiguous: a branch MST typed without its dash, or a CCCD with an extra digit.
        raise InvalidId(
            f"Không xác định được loại giấy tờ của số '{s}' (13 chữ số): CCCD có 12 chữ số; "
            "nếu là mã số thuế chi nhánh, hãy nhập dạng 0100233488-001 hoặc chọn --id-type mst.",
            f"Cannot tell the ID type of '{s}' (13 digits): a CCCD has 12 digits; for a "
            "branch tax code enter it as 0100233488-001 or use --id-type mst.",
        )
    if is_digits(s):
        raise InvalidId(
            f"Số giấy tờ '{s}' có {len(s)} chữ số, không đúng độ dài nào: CCCD 12 số, "
            "CMND 9 số, mã số thuế 10 số (chi nhánh 0100233488-001); hãy kiểm tra lại, "
            "hoặc chọn --id-type passport nếu là hộ chiếu.",
            f"ID number '{s}' has {len(s)} digits, which fits no ID type: CCCD 12, CMND 9, "
            "tax code 10 (branch 0100233488-001); check it, or use --id-type passport "
            "for a passport.",
        )
    raise InvalidId(
        f"Số '{s}' không phải CCCD, CMND hay mã số thuế; nếu là hộ chiếu, "
        "hãy chọn --id-type passport.",
        f"'{s}' is not a CCCD, CMND or tax code; for a passport use --id-type passport.",
    )


# --------------------------------------------------------------------------
# public API


def parse_id(raw: str, id_type: str | None = None, *, today_year: int | None = None) -> ApplicantId:
    """Validate and normalize an applicant identifier.

    ``id_type`` None auto-detects: 12 digits -> cccd, 9 -> cmnd, 10 or
    NNNNNNNNNN-NNN -> mst; a passport must be asked for explicitly. Spaces and
    dots are ignored. ``today_year`` enables the "birth year in the future" check.
    Raises :class:`InvalidId`.
    """
    s = compact(raw or "")
    if not s:
        raise InvalidId(
            "Chưa nhập số giấy tờ tùy thân; hãy nhập số CCCD, CMND, mã số thuế hoặc hộ chiếu.",
            "No ID number was given; enter a CCCD, CMND, tax code or passport number.",
        )
    if id_type is None:
        kind = _detect_type(s)
    else:
        kind = id_type.strip().lower()
        if kind not in ID_TYPES:
            allowed = ", ".join(ID_TYPES)
            raise InvalidId(
                f"Loại giấy tờ '{id_type}' không hợp lệ; hãy chọn một trong: {allowed}.",
                f"Unknown ID type '{id_type}'; choose one of: {allowed}.",
            )
    if kind == "cccd":
        return _parse_cccd(s, today_year)
    if kind == "cmnd":
        return _parse_cmnd(s)
    if kind == "mst":
        return _parse_mst(s)
    return _parse_passport(s)

"""Values as the forms print them: Vietnam local times, Vietnamese numbers, time limits, fees,
the agency and procedure lines, and the dots left to fill by hand when a value is missing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from onestop.common.text import nfc
from onestop.intake.forms import FormContext

# Vietnam has had no daylight saving time since 1975: a fixed offset is exact.
VN_TZ = timezone(timedelta(hours=7))

LIMIT_UNITS = {
    "working_days": "ngày làm việc",
    "days": "ngày",
    "hours": "giờ",
    "months": "tháng",
}
_DOTS = "……"  # a value missing: dots to fill in by hand


def _s(d: dict, key: str) -> str:
    value = d.get(key)
    if value is None:
        return ""
    return nfc(str(value))


def _parse_dt(value: Any) -> datetime | None:
    """An ISO 8601 time as Vietnam local time; naive times are taken as local already."""
    if isinstance(value, datetime):
        dt = value
    elif not value:
        return None
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=VN_TZ)
    return dt.astimezone(VN_TZ)


def _fmt_time_day(value: Any) -> str:
    """``09 giờ 15 phút, ngày 23/11/2026`` (dots to fill by hand if the time is unknown)."""
    dt = _parse_dt(value)
    if dt is None:
        return f"{_DOTS} giờ {_DOTS} phút, ngày {_DOTS}/{_DOTS}/{_DOTS}"
    return f"{dt:%H} giờ {dt:%M} phút, ngày {dt:%d/%m/%Y}"


def _fmt_place_date(place: str, value: Any) -> str:
    """``Hà Nội, ngày 23 tháng 11 năm 2026``."""
    dt = _parse_dt(value)
    if dt is None:
        date = f"ngày {_DOTS} tháng {_DOTS} năm {_DOTS}"
    else:
        date = f"ngày {dt:%d} tháng {dt:%m} năm {dt:%Y}"
    place = nfc(place)
    return f"{place}, {date}" if place else date[0].upper() + date[1:]


def _compact_time(value: Any) -> str:
    dt = _parse_dt(value)
    return f"{dt:%Y%m%d%H%M%S}" if dt else ""


def _fmt_number(value: Any) -> str:
    """Vietnamese number: ``1.500.000``, ``0,5``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return nfc(str(value)) if value not in (None, "") else ""
    if number == int(number):
        return f"{int(number):,}".replace(",", ".")
    whole, frac = f"{number:.2f}".rstrip("0").split(".")
    return f"{int(whole):,}".replace(",", ".") + "," + frac


def _fmt_limit(dossier: dict) -> str:
    value = dossier.get("limit_value")
    if value in (None, ""):
        return _DOTS
    unit = str(dossier.get("limit_unit") or "working_days")
    if float(value or 0) == 0:  # same day: the catalog's words ("Trong ngày làm việc"), never "0 ngày"
        from onestop.common.output import zero_limit_text

        return zero_limit_text(unit, _s(dossier, "limit_description"), lang="vi")
    return f"{_fmt_number(value)} {LIMIT_UNITS.get(unit, nfc(unit))}"


def _fmt_fees(fees: Any) -> str:
    """``Lệ phí: 1.500.000 đồng; Phí thẩm định: 200.000 đồng/hồ sơ`` or ``Không``."""
    parts = []
    for fee in fees or []:
        if fee.get("exempt_reason"):  # exempted at receive (docs/fees.md): 0 đồng and why
            parts.append(f"{_s(fee, 'name')}: miễn ({_s(fee, 'exempt_reason')})")
            continue
        try:
            amount = int(float(fee.get("amount") or 0))  # whole đồng (issue 20; float only in old rows)
        except (TypeError, ValueError):
            amount = 0
        if amount <= 0:
            continue
        text = f"{_fmt_number(amount)} đồng"
        unit = _s(fee, "unit")
        if unit and unit.lower() not in ("vnd", "vnđ", "đồng", "đ"):
            text += f"/{unit}"
        name = _s(fee, "name")
        parts.append(f"{name}: {text}" if name else text)
    return "; ".join(parts) if parts else "Không"


def _agency_label(dossier: dict, ctx: FormContext) -> str:
    # dossier["agency"] may hold the agency's electronic code (no spaces) rather than its name.
    agency = _s(dossier, "agency")
    return agency if " " in agency else nfc(ctx.agency_name)


def _procedure_text(dossier: dict) -> str:
    name = _s(dossier, "procedure_name") or _DOTS
    code = _s(dossier, "procedure_code")
    text = f"{name} (Mã TTHC: {code})" if code else name
    case = _s(dossier, "case_name")  # set only when the procedure has several cases (TRUONGHOP)
    return f"{text} — {case}" if case else text


def _issued_at(dossier: dict, issued_at: Any = None) -> Any:
    """Date of a notice (Mẫu 02-05): the time of the action it records, passed in by the caller
    (never the wall clock: a move entered with ``--at`` prints that day). None prints dots."""
    return issued_at or dossier.get("issued_at")
